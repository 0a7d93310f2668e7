import { inject } from "vitest";
import { createBucket } from "../test/env.js";
import { describeScenarios } from "../test/scenarios.js";

// Tier 2: PostgreSQL holds the tree, moto the bytes; several real processes.
describeScenarios("tier 2 (PostgreSQL + moto)", async (label) => {
  const { moto, postgres } = inject("shared");
  return {
    tier: 2,
    s3: moto,
    bucket: await createBucket(moto, label),
    postgres,
    table: `t_${label}_${Math.random().toString(16).slice(2, 8)}`,
  };
});
