import { inject } from "vitest";
import { createBucket } from "../test/env.js";
import { describeScenarios } from "../test/scenarios.js";

// Tier 1 on moto: the bucket alone, several real processes.
describeScenarios("tier 1 (moto)", async (label) => {
  const { moto } = inject("shared");
  return { tier: 1, s3: moto, bucket: await createBucket(moto, label), pollMs: 100 };
});
