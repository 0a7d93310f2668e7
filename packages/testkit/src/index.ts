export {
  AGENT_ROOT,
  type FreshMount,
  type GitRoundTrip,
  gitRoundTrip,
  type NpmRoundTrip,
  npmRoundTrip,
  type TarRoundTrip,
  tarRoundTrip,
  type WriteSide,
} from "./agent-scenarios.js";
export {
  type CaughtError,
  ConformanceAssertionError,
  check,
  checkBytes,
  checkEqual,
  fail,
  rejects,
  sameBytes,
  sha256,
} from "./assert.js";
export { binaryBytes, randomBytes, text } from "./bytes.js";
export {
  type CacheModelOptions,
  type CacheModelResult,
  cacheBudgetModel,
  seededRandom,
} from "./cache-model.js";
export {
  CAPABILITY_IDS,
  DEFAULT_CAPABILITIES,
  isAvailable,
  type ResolvedCapabilities,
  resolveCapabilities,
} from "./capabilities.js";
export {
  CASE_ROOT,
  type CaseContext,
  type CaseGroup,
  type ConformanceCase,
  createCaseContext,
  NotApplicable,
} from "./case.js";
export { recordingApi, type WriteCall } from "./cases/eager.js";
export { checkNoSecrets, collectStrings } from "./cases/errors.js";
export { CASES } from "./cases/index.js";
export { type Spy, spyOn, type WorkspaceLike } from "./cases/options.js";
export { entryProblem } from "./cases/shape.js";
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
export { MEMORY_SECRET, type MemoryHarnessOptions, memoryHarness } from "./reference/memory-harness.js";
export { type MemoryTreeHarnessOptions, memoryTreeHarness } from "./reference/memory-tree-harness.js";
export {
  MemoryTreeMount,
  type MemoryTreeMountOptions,
  readTree,
  TREE_KEY,
  type TreeEntry,
  writeTree,
} from "./reference/memory-tree-mount.js";
export {
  buildReport,
  type ConformanceReport,
  columnOf,
  type ReportRow,
  renderMarkdown,
  renderSummary,
  writeConformanceReport,
  writeConformanceReportSync,
} from "./report.js";
export {
  type CasePlan,
  type CaseResult,
  type ConformanceRun,
  DEFAULT_PAGE_SIZE,
  executeCase,
  firstLine,
  isRootCauseCase,
  markFollowing,
  type Outcome,
  planCase,
  runConformance,
  selectCases,
  summarizeRun,
  XPassError,
} from "./run.js";
