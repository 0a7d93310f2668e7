import { wsProject } from "../../vitest.shared.ts";

// The git servers (git http-backend behind Node, the REST server over real git) run in each test
// file's own process: they start in milliseconds and can be given faults per file.
export default wsProject("mount-github", { testTimeout: 60_000, hookTimeout: 120_000 });
