import { wsProject } from "../../vitest.shared.ts";

// Miniflare starts per test file (its binding cannot cross into another process): see the tests.
export default wsProject("mount-r2", { testTimeout: 60_000, hookTimeout: 60_000 });
