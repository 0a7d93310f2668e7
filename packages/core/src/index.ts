export {
  type ClassifyContext,
  checkRange,
  type DefinedEagerMount,
  type DefinedLazyMount,
  defineEagerMount,
  defineLazyMount,
  type EagerMountDefinition,
  type EagerWriter,
  fetchWithInfoOf,
  type LazyMountDefinition,
  listenMountDiagnostics,
  type MountOperation,
  type MountTraits,
  mountTraits,
  type OperationContext,
  pairFetch,
  type RawEntry,
  type RetryOwner,
  setMountTraits,
} from "./define-mount.js";
export { type SanitizeResult, sanitizeEntries } from "./entries.js";
export {
  fsError,
  invalid,
  isTransient,
  MountError,
  type MountErrorCode,
  type MountErrorOptions,
  markPersistent,
  mountErrorOptions,
  notFound,
  type QuotaDetails,
  readOnly,
  toMountError,
  withErrorContext,
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
export { type Page, type PaginateOptions, paginate } from "./paginate.js";
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
export { decodePosixMetadata, encodePosixMetadata, type PosixMetadata } from "./posix-metadata.js";
export { bytesSource, checkPutSource, readSource, sourceChunks } from "./put-source.js";
export { checkQuota, QuotaCounter, type QuotaLimits, type QuotaUsage, quotaExceeded } from "./quota.js";
export { redact, redactError } from "./redact.js";
export {
  type EagerMount,
  type FetchResult,
  isEagerMount,
  isLazyMount,
  type LazyMount,
  type MkdirOptions,
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
  type PutResult,
  type PutSource,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  type VFS,
  type WriteBackMode,
} from "./types.js";
