import type { MountEntry } from "@ws/core";

/** What the shared tree knows of one file. */
export interface FileMeta {
  readonly size: number;
  readonly mtime: number;
  readonly etag?: string | undefined;
  /** Where the bytes are in the bucket: the path itself (tier 1) or an object key (tier 2). */
  readonly key: string;
}

/** One applied operation of a log entry, with the metadata every reader needs. */
export type LoggedOp =
  | {
      readonly op: "put";
      readonly path: string;
      readonly size: number;
      readonly mtime: number;
      readonly etag?: string | undefined;
      readonly key?: string | undefined;
    }
  | { readonly op: "delete"; readonly path: string }
  | {
      readonly op: "rename";
      readonly from: string;
      readonly to: string;
      /** Tier 1: the etags of the copies at the new keys, by new path. */
      readonly etags?: Readonly<Record<string, string>> | undefined;
    };

/** One entry of the change log (tier 1's `.ws/log/<seq>.json`, tier 2's `log` row). */
export interface LogEntry {
  readonly v: 1;
  readonly seq: number;
  readonly writer: string;
  readonly time: number;
  /** A protected write or a lock acquisition: entries with a lower token for the same lock are void. */
  readonly fence?: { readonly lock: string; readonly token: number } | undefined;
  readonly ops: readonly LoggedOp[];
}

/** True when `path` is `dir` or lies under it. */
export function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/**
 * The tree every reader holds: the log applied in order. `apply` is synchronous, so an entry is
 * never seen half-applied by code on this event loop.
 */
export class SharedTree {
  readonly files: Map<string, FileMeta> = new Map();
  readonly fences: Map<string, number> = new Map();
  seq = 0;

  /** True when an entry carrying this fence would be accepted now. */
  fenceOk(fence: LogEntry["fence"]): boolean {
    if (!fence) return true;
    return fence.token >= (this.fences.get(fence.lock) ?? 0);
  }

  /** Applies one entry (the next in sequence); returns false when it was void (fenced out). */
  apply(entry: LogEntry): boolean {
    this.seq = entry.seq;
    if (!this.fenceOk(entry.fence)) return false;
    if (entry.fence) this.fences.set(entry.fence.lock, entry.fence.token);
    for (const op of entry.ops) this.applyOp(op, entry.time);
    return true;
  }

  applyOp(op: LoggedOp, time: number): void {
    if (op.op === "put") {
      this.files.set(op.path, {
        size: op.size,
        mtime: op.mtime || time,
        etag: op.etag,
        key: op.key ?? op.path,
      });
    } else if (op.op === "delete") {
      for (const path of this.under(op.path)) this.files.delete(path);
    } else {
      const moved: Array<[string, FileMeta]> = [];
      for (const path of this.under(op.from)) {
        const meta = this.files.get(path)!;
        this.files.delete(path);
        const to = op.to + path.slice(op.from.length);
        const etag = op.etags?.[to];
        moved.push([to, { ...meta, key: meta.key === path ? to : meta.key, ...(etag ? { etag } : {}) }]);
      }
      for (const path of this.under(op.to)) this.files.delete(path);
      for (const [to, meta] of moved) this.files.set(to, meta);
    }
  }

  /** The paths at `path` (a file) or under it (a directory). */
  under(path: string): string[] {
    const out: string[] = [];
    for (const p of this.files.keys()) if (within(p, path)) out.push(p);
    return out;
  }

  entries(): MountEntry[] {
    const out: MountEntry[] = [];
    for (const [path, meta] of this.files) {
      out.push({ path, size: meta.size, mtime: meta.mtime, ...(meta.etag ? { etag: meta.etag } : {}) });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  toJSON(): { seq: number; files: Array<[string, FileMeta]>; fences: Array<[string, number]> } {
    return { seq: this.seq, files: [...this.files], fences: [...this.fences] };
  }

  load(state: { seq: number; files: Array<[string, FileMeta]>; fences: Array<[string, number]> }): void {
    this.files.clear();
    this.fences.clear();
    for (const [p, m] of state.files) this.files.set(p, m);
    for (const [n, t] of state.fences) this.fences.set(n, t);
    this.seq = state.seq;
  }
}
