import { SERVERS, wsProject } from "../../vitest.shared.ts";

// moto and Swift start once per test run (test/global-setup.ts); each test file isolates itself
// in its own buckets. Without either on PATH the run stops first with one message saying so.
export default wsProject(
  "mount-s3",
  { globalSetup: ["./test/global-setup.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
  { servers: [SERVERS.moto, SERVERS.swift] },
);
