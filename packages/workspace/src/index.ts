export { type CallbackFs, callbackFs } from "./callback-fs.js";
export {
  type BwrapPlan,
  buildBwrapArgs,
  decideSandbox,
  type HostRootEntry,
  probeBwrap,
  probeSandbox,
  readHostRoot,
  resetSandboxProbe,
  type SandboxBind,
  type SandboxDecision,
  type SandboxProbe,
} from "./exec/sandbox.js";
export { type SpawnOutcome, type SpawnSpec, spawnCommand } from "./exec/spawn-command.js";
export { FileIndexStore } from "./file-index-store.js";
export { type ReadStreamOptions, WorkspaceFileHandle } from "./hydrate/file-handle.js";
export { type IndexKey, type IndexStore, MemoryIndexStore, type StoredIndex } from "./index-store.js";
export type { FileStats } from "./mem-vol.js";
export { VirtualStats, WorkspaceDirent } from "./virtual-stats.js";
export { Workspace } from "./workspace.js";
export { type ReadFileOptions, WorkspaceFs, type WriteFileOptions } from "./workspace-fs.js";
export type {
  CacheOptions,
  CacheUsage,
  ConflictKind,
  ConflictResolution,
  ConflictSide,
  ErrorEvent,
  EvictEvent,
  ExecChanges,
  ExecOptions,
  ExecResult,
  FetchEvent,
  IndexEvent,
  MountConflict,
  MountConflictHandler,
  PrefetchOptions,
  PrefetchProgress,
  PrefetchResult,
  RefreshResult,
  RetryEvent,
  RetryOptions,
  SandboxEvent,
  SandboxMode,
  WorkspaceEventName,
  WorkspaceEvents,
  WorkspaceOptions,
  WorkspaceStats,
  WriteEvent,
} from "./workspace-options.js";
