export { type BucketLogOptions, type Lease, lockKey, logKey, META_DIR } from "./bucket-log.js";
export { PostgresMetadata, type PostgresMetadataOptions } from "./postgres-metadata.js";
export { SharedMount, type SharedMountInstance } from "./shared-mount.js";
export type { FileMeta, LogEntry, LoggedOp } from "./tree.js";
export type {
  CommitOp,
  CommitOptions,
  CommitResult,
  Engine,
  EngineContext,
  LockOptions,
  MetadataEngineFactory,
  SharedLock,
  SharedMountOptions,
  SharedStats,
} from "./types.js";
