import { wsProject } from "../../vitest.shared.ts";

// moto, Swift and PostgreSQL start once per run (test/global-setup.ts); each test file uses its
// own buckets and databases. The multi-process tests fork workers bundled from test/worker.ts.
export default wsProject("shared", {
  globalSetup: ["./test/global-setup.ts"],
  testTimeout: 300_000,
  hookTimeout: 120_000,
  fileParallelism: false,
});
