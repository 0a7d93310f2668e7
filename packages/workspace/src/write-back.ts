import { MountError, type WriteBackMode } from "@ws/core";

/** The final local state of a path, read when a write fires (not when it was scheduled). */
export type LocalState = { readonly exists: true; readonly bytes: Uint8Array } | { readonly exists: false };

export interface WriteBackTarget {
  readonly root: string;
  readonly writeBack: WriteBackMode;
  readonly writeBackMs: number;
  readonly retries: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** What the VFS holds for `relPath` now. */
  read(relPath: string): LocalState;
  put(relPath: string, bytes: Uint8Array): Promise<void>;
  delete(relPath: string): Promise<void>;
  onCoalesced(relPath: string): void;
  onRetry(relPath: string, op: "put" | "delete", attempt: number, delayMs: number, error: unknown): void;
  onAck(relPath: string, op: "put" | "delete", bytes: number): void;
  onFailed(relPath: string, op: "put" | "delete", error: unknown): void;
}

interface Pending {
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once every retry failed: the path waits for the next flush. */
  failed: unknown;
}

/** The outcome of one sync of one path. */
export interface SyncOutcome {
  readonly relPath: string;
  readonly op: "put" | "delete";
  readonly ok: boolean;
  readonly error?: unknown;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Mirrors one read-write mount's local writes to its provider, per the seed's table: the VFS was
 * written first; this decides when the provider hears about it.
 *
 * - A path is held for `writeBackMs` after its last mutation; only the final state is mirrored,
 *   so a burst collapses into one put (or one delete). `"manual"` holds it until `flush()`.
 * - Syncs of one path run one after the other (never two puts of a path in flight); a delete
 *   waits for the mount's puts already in flight, so a rename lands as put-new then delete-old.
 * - A failed put or delete is retried with exponential back-off and full jitter. When every retry
 *   fails, the path stays pending (the VFS still holds the local state), `onFailed` reports it, and
 *   the next `flush()` tries again. Nothing is dropped.
 */
export class WriteBack {
  readonly #target: WriteBackTarget;
  readonly #pending = new Map<string, Pending>();
  readonly #chains = new Map<string, Promise<SyncOutcome>>();
  readonly #puts = new Set<Promise<SyncOutcome>>();

  constructor(target: WriteBackTarget) {
    this.#target = target;
  }

  /** Paths waiting for a debounce, a manual flush or a retry after failure. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** True when `relPath` has a local change the provider has not acknowledged. */
  has(relPath: string): boolean {
    return this.#pending.has(relPath) || this.#chains.has(relPath);
  }

  pendingPaths(): string[] {
    return [...this.#pending.keys()];
  }

  /** Records a local mutation of `relPath`. */
  schedule(relPath: string): void {
    const existing = this.#pending.get(relPath);
    if (existing) {
      if (existing.timer !== undefined) clearTimeout(existing.timer);
      this.#pending.delete(relPath);
      this.#target.onCoalesced(relPath);
    }
    const entry: Pending = { timer: undefined, failed: undefined };
    if (this.#target.writeBack === "debounce") {
      entry.timer = setTimeout(() => {
        if (this.#pending.get(relPath) !== entry) return;
        this.#pending.delete(relPath);
        void this.#run(relPath);
      }, this.#target.writeBackMs);
    }
    // Re-inserted at the end, so flush order follows the order of last mutation.
    this.#pending.set(relPath, entry);
  }

  /** Drops a pending (not yet started) sync: another state superseded it. */
  cancel(relPath: string): void {
    const entry = this.#pending.get(relPath);
    if (!entry) return;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.#pending.delete(relPath);
  }

  /** Syncs `relPath` now (skipping its debounce) and resolves with the outcome. */
  syncNow(relPath: string): Promise<SyncOutcome> {
    this.cancel(relPath);
    return this.#run(relPath);
  }

  /**
   * Syncs every pending path (or those `filter` accepts), then waits for syncs in flight. Resolves
   * with the outcomes of the paths that failed after every retry.
   */
  async flush(concurrency: number): Promise<SyncOutcome[]> {
    const paths = this.pendingPaths();
    const failures: SyncOutcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const outcome = await this.syncNow(paths[next++]!);
        if (!outcome.ok) failures.push(outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, paths.length)) }, worker));
    // Syncs started by timers before this flush: wait for them too.
    for (const chain of [...this.#chains.values()]) {
      const outcome = await chain;
      if (!outcome.ok && !failures.some((f) => f.relPath === outcome.relPath)) failures.push(outcome);
    }
    return failures;
  }

  /** Stops every debounce timer (close() flushes first; this is for unmount after failure). */
  stopTimers(): void {
    for (const entry of this.#pending.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  #run(relPath: string): Promise<SyncOutcome> {
    const previous = this.#chains.get(relPath);
    const chain: Promise<SyncOutcome> = (async () => {
      if (previous) await previous;
      return this.#sync(relPath);
    })();
    this.#chains.set(relPath, chain);
    void chain.finally(() => {
      if (this.#chains.get(relPath) === chain) this.#chains.delete(relPath);
    });
    return chain;
  }

  async #sync(relPath: string): Promise<SyncOutcome> {
    const target = this.#target;
    const state = target.read(relPath);
    const op = state.exists ? "put" : "delete";
    let tracked: Promise<SyncOutcome> | undefined;
    if (op === "delete") {
      // Put-new before delete-old: wait for this mount's puts already in flight.
      await Promise.allSettled([...this.#puts]);
    }
    const attempt = async (): Promise<SyncOutcome> => {
      let lastError: unknown;
      for (let i = 0; i <= target.retries; i++) {
        try {
          if (state.exists) await target.put(relPath, state.bytes);
          else await target.delete(relPath);
          target.onAck(relPath, op, state.exists ? state.bytes.length : 0);
          return { relPath, op, ok: true };
        } catch (error) {
          lastError = error;
          if (i === target.retries || !isRetryable(error)) break;
          const cap = Math.min(target.maxDelayMs, target.minDelayMs * 2 ** i);
          const delayMs = Math.round(Math.random() * cap);
          target.onRetry(relPath, op, i + 1, delayMs, error);
          await sleep(delayMs);
        }
      }
      // Keep the path pending (no timer): the next flush retries it.
      if (!this.#pending.has(relPath)) this.#pending.set(relPath, { timer: undefined, failed: lastError });
      target.onFailed(relPath, op, lastError);
      return { relPath, op, ok: false, error: lastError };
    };
    if (op === "put") {
      tracked = attempt();
      this.#puts.add(tracked);
      try {
        return await tracked;
      } finally {
        this.#puts.delete(tracked);
      }
    }
    return attempt();
  }
}

// Errors that no retry can fix: the provider refused the write for a reason that will not change.
const PERMANENT = new Set(["EROFS", "EINVAL", "EDQUOT", "ENOTSUP", "EISDIR", "ENOTDIR", "EACCES", "EPERM"]);

function isRetryable(error: unknown): boolean {
  return !(MountError.isInstance(error) && PERMANENT.has(error.code));
}
