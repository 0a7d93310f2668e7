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
      /**
       * The file's bytes (base64) when it is small: the change carries its content, so a reader
       * serves the next read without a request. Tier 1 keeps it in the log entry; tier 2 only in
       * the notification.
       */
      readonly data?: string | undefined;
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

/** Files up to this size travel with their change (`LoggedOp.data`). */
export const INLINE_FILE_BYTES: number = 4096;
/** At most this much inline data in one change, all files together. */
export const INLINE_ENTRY_BYTES: number = 64 * 1024;
/** Inline bytes a reader keeps, oldest dropped first. */
const INLINE_CACHE_BYTES = 8 * 1024 * 1024;

/** The base64 of `bytes` for a put op, while the change's inline budget lasts. */
export function inlineData(bytes: Uint8Array, budget: { left: number }): string | undefined {
  if (bytes.length > INLINE_FILE_BYTES || bytes.length > budget.left) return undefined;
  budget.left -= bytes.length;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
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
  /** Bytes that came with their change, by path, for the exact version (object key + etag) they are. */
  readonly #inline = new Map<string, { key: string; etag: string | undefined; bytes: Uint8Array }>();
  #inlineSize = 0;

  /** The bytes of `path` as the tree has it now, when they came with the change; else undefined. */
  cached(path: string): Uint8Array | undefined {
    const meta = this.files.get(path);
    const hit = this.#inline.get(path);
    if (!meta || !hit || hit.key !== meta.key || hit.etag !== meta.etag) return undefined;
    return hit.bytes;
  }

  #remember(path: string, meta: FileMeta, bytes: Uint8Array): void {
    this.#forget(path);
    this.#inline.set(path, { key: meta.key, etag: meta.etag, bytes });
    this.#inlineSize += bytes.length;
    for (const [old, hit] of this.#inline) {
      if (this.#inlineSize <= INLINE_CACHE_BYTES) break;
      this.#inline.delete(old);
      this.#inlineSize -= hit.bytes.length;
    }
  }

  #forget(path: string): void {
    const hit = this.#inline.get(path);
    if (!hit) return;
    this.#inline.delete(path);
    this.#inlineSize -= hit.bytes.length;
  }

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
      const meta: FileMeta = {
        size: op.size,
        mtime: op.mtime || time,
        etag: op.etag,
        key: op.key ?? op.path,
      };
      this.files.set(op.path, meta);
      const bytes = op.data === undefined ? undefined : decodeInline(op.data, op.size);
      if (bytes) this.#remember(op.path, meta, bytes);
      else this.#forget(op.path);
    } else if (op.op === "delete") {
      for (const path of this.under(op.path)) {
        this.files.delete(path);
        this.#forget(path);
      }
    } else {
      const moved: Array<[string, FileMeta, Uint8Array | undefined]> = [];
      for (const path of this.under(op.from)) {
        const bytes = this.cached(path);
        const meta = this.files.get(path)!;
        this.files.delete(path);
        this.#forget(path);
        const to = op.to + path.slice(op.from.length);
        const etag = op.etags?.[to];
        moved.push([
          to,
          { ...meta, key: meta.key === path ? to : meta.key, ...(etag ? { etag } : {}) },
          bytes,
        ]);
      }
      for (const path of this.under(op.to)) {
        this.files.delete(path);
        this.#forget(path);
      }
      // A rename keeps the bytes (tier 1 copies them to the new key under a new etag).
      for (const [to, meta, bytes] of moved) {
        this.files.set(to, meta);
        if (bytes) this.#remember(to, meta, bytes);
      }
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
    this.#inline.clear();
    this.#inlineSize = 0;
    for (const [p, m] of state.files) this.files.set(p, m);
    for (const [n, t] of state.fences) this.fences.set(n, t);
    this.seq = state.seq;
  }
}

/** Inline data back to bytes; undefined (read from the bucket instead) when it does not match the size. */
function decodeInline(data: string, size: number): Uint8Array | undefined {
  const buffer = Buffer.from(data, "base64");
  if (buffer.length !== size) return undefined;
  // A copy: small Buffers are views into a shared pool.
  return new Uint8Array(buffer);
}
