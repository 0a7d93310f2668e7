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
    // read.large: blobs of 1 MiB, 1 MiB + 1 and 3 MiB + 7 through the blob endpoint (GitHub serves
    // up to 100 MB there; the server answers as GitHub does).
    largeFiles: "supported",
  },
  { server: "github-rest (real git)", pageSize: 100, timeoutMs: 60_000 },
);
