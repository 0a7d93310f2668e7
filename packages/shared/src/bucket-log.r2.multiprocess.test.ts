import { inject } from "vitest";
import { r2Prefix } from "../test/env.js";
import { describeScenarios } from "../test/scenarios.js";

// Tier 1 on R2: one Miniflare (workerd's R2 implementation) serves its binding over HTTP on
// 127.0.0.1 (@ws/test-servers' bridge), so each of the real worker processes holds an R2Bucket of
// its own over the same bucket. Each test uses its own key prefix.
describeScenarios("tier 1 (Miniflare R2)", async (label) => {
  const { r2 } = inject("shared");
  return { tier: 1, r2, bucket: r2Prefix(label), pollMs: 100 };
});
