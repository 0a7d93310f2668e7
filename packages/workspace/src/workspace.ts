import { type Mount, MountError, type MountFactory } from "@ws/core";
import { Emitter } from "./emitter.js";
import { runExec } from "./exec-runner.js";
import { Host } from "./host.js";
import { MemoryIndexStore } from "./index-store.js";
import { WorkspaceFs } from "./workspace-fs.js";
import type {
  ExecOptions,
  ExecResult,
  PrefetchOptions,
  PrefetchResult,
  RefreshResult,
  WorkspaceEvents,
  WorkspaceOptions,
  WorkspaceStats,
} from "./workspace-options.js";

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new MountError("EINVAL", `${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new MountError("EINVAL", `${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * A virtual workspace over a memfs volume, with mounts that populate subtrees of it (seed 003).
 *
 * ```ts
 * const ws = new Workspace({
 *   mounts: {
 *     "/workspace/docs": MemoryMount({ files: { "a.md": "# A" } }),
 *     "/workspace/out": MemoryMount({ mode: "read-write" }),
 *   },
 * });
 * await ws.fs.readFile("/workspace/docs/a.md", "utf8");
 * await ws.fs.writeFile("/workspace/out/b.txt", "hi");
 * await ws.close(); // flushes the write, then disposes the mounts
 * ```
 */
export class Workspace extends Emitter<WorkspaceEvents> {
  readonly #host: Host;
  /** The file API (`node:fs/promises` shape). */
  readonly fs: WorkspaceFs;

  constructor(options: WorkspaceOptions = {}) {
    super();
    const retry = options.retry ?? {};
    this.#host = new Host({
      sessionId: options.sessionId ?? "default",
      ignore: options.ignore ?? [],
      indexStore: options.indexStore ?? new MemoryIndexStore(),
      concurrency: positiveInt("concurrency", options.concurrency, 8),
      retries: nonNegative("retry.retries", retry.retries, 5),
      minDelayMs: nonNegative("retry.minDelayMs", retry.minDelayMs, 100),
      maxDelayMs: nonNegative("retry.maxDelayMs", retry.maxDelayMs, 5000),
      onMountConflict: options.onMountConflict,
      emit: (event, payload) => this.emit(event, payload),
    });
    this.fs = new WorkspaceFs(this.#host);
    this.#host.vfs = this.fs;
    for (const [root, mount] of Object.entries(options.mounts ?? {})) this.#host.addMount(root, mount);
  }

  /** Live counters (they only grow). */
  get stats(): Readonly<WorkspaceStats> {
    return this.#host.stats;
  }

  /** Mount roots, sorted. */
  get roots(): string[] {
    return this.#host.tableRoots().sort();
  }

  /**
   * Adds a mount at run time, with the same nesting checks as construction (they throw here).
   * It is indexed by the next `fs`, `exec` or `prefetch` call.
   */
  mount(root: string, mount: Mount | MountFactory): void {
    if (this.#host.closed) throw new MountError("EIO", "the workspace is closed");
    this.#host.addMount(root, mount);
  }

  /** Flushes the mount's pending writes, calls its `dispose()`, and removes its subtree from the VFS. */
  unmount(root: string): Promise<void> {
    return this.#host.unmount(root);
  }

  /** Hydrates every stub of one mount (or of all), `concurrency` fetches at a time. Failures stay stubs. */
  prefetch(root?: string, options: PrefetchOptions = {}): Promise<PrefetchResult> {
    return this.#host.prefetch(root, options);
  }

  /**
   * Mirrors pending writes of one mount (or all) now and resolves once the provider acknowledged
   * every one. Rejects with `EIO` listing the writes that still failed after every retry (they stay
   * pending in the VFS).
   */
  flushMounts(root?: string): Promise<void> {
    return this.#host.flush(root);
  }

  /** Re-lists (or re-materialises) one mount and applies upstream additions, changes and deletions. */
  refreshMount(root: string): Promise<RefreshResult> {
    return this.#host.refresh(root);
  }

  /** Runs a command as a child process over a host copy of the workspace, then pulls its changes back. */
  exec(command: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    return runExec(this.#host, command, args, options);
  }

  /** Flushes everything pending, then calls each mount's `dispose()`. Later calls reject with `EIO`. */
  close(): Promise<void> {
    return this.#host.close();
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#host.closed;
  }
}
