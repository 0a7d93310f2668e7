import { describeMountConformance } from "@ws/testkit/vitest";
import { afterAll, beforeAll, expect } from "vitest";
import { type GitEnv, startGitEnv } from "../test/git-env.js";
import { gitHarness, TEST_TOKEN } from "../test/git-harness.js";

let env: GitEnv;
// The server truncates recursive trees above 100 entries (GitHub: 100,000), so the pagination
// case's page boundary is the truncation boundary and the subtree walk is exercised.
beforeAll(async () => {
  env = await startGitEnv({ token: TEST_TOKEN, truncateAt: 100 });
});
afterAll(async () => {
  const violations = env?.rest.violations ?? [];
  await env?.stop();
  expect(violations, "REST responses that do not match GitHub's OpenAPI description").toEqual([]);
});

describeMountConformance(
  "github-tree",
  gitHarness("tree", () => env),
  {
    subPrefix: "supported",
    forbidden: "supported",
    // Found by read.large: a 3 MiB blob is refused as "over the REST API's 100 MB blob limit".
    // XFAIL until fixed; the case turns red (XPASS) the day it passes, and this line goes.
    largeFiles: {
      status: "known-failure",
      reason: "a 3 MiB blob is refused with ENOTSUP (100 MB limit misapplied)",
    },
  },
  { server: "github-rest (real git)", pageSize: 100, timeoutMs: 60_000 },
);
