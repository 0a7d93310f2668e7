import { wsProject } from "../../vitest.shared.ts";

// The OCI tests start Debian's docker-registry per test file (see test/registry.ts).
export default wsProject("mount-artifact", { testTimeout: 60_000, hookTimeout: 60_000 });
