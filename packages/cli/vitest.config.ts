import { SERVERS, wsProject } from "../../vitest.shared.ts";

// The CLI runs as a child process against real servers: moto (s3://), python's http.server and
// rclone serve webdav (http://), git http-backend and the REST server (github:, started in the test
// file). Without one of the first three the run stops first with one message naming it.
export default wsProject(
  "cli",
  {
    testTimeout: 60_000,
    hookTimeout: 240_000,
    globalSetup: ["./test/global-setup.ts"],
  },
  { servers: [SERVERS.moto, SERVERS.python3, SERVERS.rclone] },
);
