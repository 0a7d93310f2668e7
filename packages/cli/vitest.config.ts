import { wsProject } from "../../vitest.shared.ts";

export default wsProject("cli", {
  testTimeout: 60_000,
  hookTimeout: 240_000,
  globalSetup: ["./test/global-setup.ts"],
});
