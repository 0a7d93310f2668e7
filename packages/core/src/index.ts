export { type SanitizeResult, sanitizeEntries } from "./entries.js";
export {
  invalid,
  MountError,
  type MountErrorCode,
  type MountErrorOptions,
  notFound,
  type QuotaDetails,
  readOnly,
} from "./errors.js";
export { compileIgnore, composeIgnore, type IgnoreMatcher } from "./ignore.js";
export {
  type MemoryFiles,
  MemoryMount,
  type MemoryMountInstance,
  type MemoryMountOptions,
  type MemoryObject,
  MemoryStore,
} from "./memory-mount.js";
export {
  checkMountNesting,
  type MountOwner,
  type MountRootType,
  MountTable,
  type MountTableEntry,
  nestingConflict,
} from "./mount-table.js";
export {
  DEFAULT_MOUNT_OPTIONS,
  pickMountOptions,
  type ResolvedMountOptions,
  resolveMountOptions,
} from "./options.js";
export {
  ancestorsOf,
  baseName,
  isValidRelativePath,
  isWithinRoot,
  joinMountPath,
  MAX_SEGMENT_BYTES,
  normalizeAbsolutePath,
  normalizeKeyPrefix,
  parentPath,
  relativePathProblem,
  relativeToRoot,
  resolveLinkWithinRoot,
  validateMountRoot,
  validateRelativePath,
} from "./paths.js";
export { checkQuota, QuotaCounter, type QuotaLimits, type QuotaUsage, quotaExceeded } from "./quota.js";
export { redact } from "./redact.js";
export {
  type EagerMount,
  isEagerMount,
  isLazyMount,
  type LazyMount,
  type Mount,
  type MountCommon,
  type MountContext,
  type MountDiagnostic,
  type MountEntry,
  type MountFactory,
  type MountMode,
  type MountOptions,
  type MountWriteApi,
  type PutOptions,
  type VFS,
  type WriteBackMode,
} from "./types.js";
