import { wsProject } from "../../vitest.shared.ts";

export default wsProject("cli", { testTimeout: 60_000 });
