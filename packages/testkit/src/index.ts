export type {
  Capabilities,
  CapabilityDeclaration,
  CapabilityId,
  CapabilityStatus,
  ConformanceHarness,
  ConformanceOptions,
  HarnessContext,
  HarnessMountOptions,
  SeedOptions,
} from "./harness.js";
