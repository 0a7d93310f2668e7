import { wsProject } from "../../vitest.shared.ts";

export default wsProject("mount-fs", { testTimeout: 30_000 });
