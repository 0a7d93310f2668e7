import { wsProject } from "../../vitest.shared.ts";

// Miniflare starts per test file (its binding cannot cross into another process): see the tests.
// The setup file keeps Miniflare's Node proxy in step under load (a race in miniflare 4.20260426.0).
export default wsProject("mount-r2", {
  testTimeout: 60_000,
  hookTimeout: 60_000,
  setupFiles: ["./test/vitest-setup.ts"],
});
