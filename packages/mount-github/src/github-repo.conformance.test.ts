import { describeMountConformance } from "@ws/testkit/vitest";
import { afterAll, beforeAll } from "vitest";
import { type GitEnv, startGitEnv } from "../test/git-env.js";
import { gitHarness, TEST_TOKEN } from "../test/git-harness.js";

let env: GitEnv;
beforeAll(async () => {
  env = await startGitEnv({ token: TEST_TOKEN });
});
afterAll(() => env?.stop());

// A clone is read-only and materialises the whole tree at once: eager, with modes and in-tree
// symlinks; a damaged repository fails the clone before anything is written.
describeMountConformance(
  "github-repo",
  gitHarness("repo", () => env),
  {
    eager: "supported",
    eagerAtomic: "supported",
    modes: "supported",
    symlinks: "supported",
    subPrefix: "supported",
    forbidden: "supported",
    // The harness builds real git repositories: git fast-import refuses "../x" and "/abs" paths.
    hostileNames: { status: "unsupported", reason: "a git tree cannot hold ../ or absolute names" },
  },
  { server: "git-http-backend", timeoutMs: 60_000 },
);
