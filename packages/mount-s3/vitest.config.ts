import type { UserWorkspaceConfig } from "vitest/config";
import { wsProject } from "../../vitest.shared.ts";

// moto and Swift start once per test run (test/global-setup.ts); each test file isolates itself
// in its own buckets.
const project: UserWorkspaceConfig = wsProject("mount-s3", {
  globalSetup: ["./test/global-setup.ts"],
  testTimeout: 60_000,
  hookTimeout: 120_000,
});

// Vitest hands ssr.resolve.conditions to the worker as `node --conditions`. The shared "module"
// condition then makes Node load the AWS SDK's dist-es builds (extensionless imports, not loadable
// by Node) even from its CommonJS code. vitest.shared.ts now keeps "module" out of
// externalConditions, but still passes it in ssr.resolve.conditions, and without this filter every
// test file fails to import the SDK (checked): drop it here until vitest.shared.ts does.
const conditions = (project.ssr?.resolve?.conditions ?? []).filter((c) => c !== "module");
export default {
  ...project,
  ssr: { ...project.ssr, resolve: { ...project.ssr?.resolve, conditions, externalConditions: conditions } },
} satisfies UserWorkspaceConfig;
