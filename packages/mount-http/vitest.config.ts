import { SERVERS, wsProject } from "../../vitest.shared.ts";

// nginx (JSON and HTML autoindex), rclone serve http and webdav, and python's http.server start once
// per test run (test/global-setup.ts); each case isolates itself in its own folder of the served tree.
// Without one of them the run stops first with one message naming it and how to install it.
export default wsProject(
  "mount-http",
  { globalSetup: ["./test/global-setup.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
  { servers: [SERVERS.nginx, SERVERS.rclone, SERVERS.python3] },
);
