import { Readable } from "node:stream";
import { MountError } from "@ws/core";
import type { FileStats, MemVol } from "../mem-vol.js";
import { fsError } from "../vfs/fs-errors.js";

/**
 * The first window of a ranged reader, and the cap its sequential windows double up to.
 *
 * Why 2 MiB and not larger: the windows held (up to five) are memory of the reader's own. When
 * every window was a fresh buffer, streaming 1 GiB over nginx peaked at 166-178 MiB RSS with
 * 8 MiB windows (two ahead) and 139-147 MiB with 2 MiB windows (four ahead), at the same speed
 * (`npm run bench -- stream`); with reused windows it peaks at 111-114 MiB. Four windows ahead
 * keep five requests in flight, so a high-latency store still streams.
 */
export const FIRST_WINDOW: number = 256 * 1024;
export const MAX_WINDOW: number = 2 * 1024 * 1024;
/** Windows fetched ahead of the one being read, once reads are sequential. */
export const READ_AHEAD: number = 4;

/** Where a handle's bytes come from: a memfs file, or ranges of a stub's upstream object. */
export interface HandleSource {
  readonly path: string;
  readonly stats: FileStats;
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `target` at `offset`; resolves with the count. */
  read(target: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** The bytes `[start, end)` as chunks the caller owns (never views of a buffer that is reused). */
  chunks(start: number, end: number): AsyncGenerator<Uint8Array>;
  close(): void;
}

interface Window {
  readonly start: number;
  readonly end: number;
  readonly bytes: Promise<Uint8Array>;
  /** The pool buffer lent to this window's fetch, until the window is freed. */
  buffer: Uint8Array | undefined;
  /** Reads copying out of the window right now: it is not freed under them. */
  users: number;
  /** No longer held by the reader (read past, jumped away from, closed). */
  dropped: boolean;
  /** Its fetch has settled: nothing writes into its buffer any more. */
  settled: boolean;
}

/** Bytes a stream yields at a time when it copies out of a reused window (see `chunks`). */
export const STREAM_CHUNK: number = 64 * 1024;

/**
 * Ranged reads of one object with read-ahead, after mountpoint-s3's prefetcher: a read fetches a
 * window from its position; while reads stay sequential each next window is twice the last (from
 * 256 KiB up to 2 MiB) and `READ_AHEAD` windows are fetched ahead, so a stream keeps requests in
 * flight; a jump elsewhere drops what was fetched ahead and starts small again. At most
 * `1 + READ_AHEAD` windows are held, so memory stays bounded (10 MiB) whatever the object's size.
 *
 * The windows' buffers are reused: each fetch is offered a free buffer of the reader's own
 * (`fetchRange(..., into)`), and a window's buffer goes back to the pool once the window is read
 * past and its fetch has settled. A provider that writes into it makes no buffer per range, so a
 * long stream leaves no garbage for V8 to collect late (which was what pushed a 1 GiB stream's
 * peak RSS up: `npm run bench -- stream`). A provider that ignores `into` returns fresh arrays,
 * read as before.
 */
export class RangeReader {
  readonly #size: number;
  readonly #fetch: (start: number, end: number, into?: Uint8Array) => Promise<Uint8Array>;
  readonly #maxWindow: number;
  #windows: Window[] = [];
  #next = FIRST_WINDOW;
  #lastEnd = -1;
  readonly #free: Uint8Array[] = [];
  #allocated = 0;
  #closed = false;

  constructor(
    size: number,
    fetch: (start: number, end: number, into?: Uint8Array) => Promise<Uint8Array>,
    maxWindow: number = MAX_WINDOW,
  ) {
    this.#size = size;
    this.#fetch = fetch;
    this.#maxWindow = Math.max(FIRST_WINDOW, maxWindow);
  }

  get size(): number {
    return this.#size;
  }

  /** Ranges requested so far and in flight (for tests): `[start, end)` of each window held. */
  get windows(): ReadonlyArray<readonly [number, number]> {
    return this.#windows.map((w) => [w.start, w.end] as const);
  }

  /** Window buffers allocated so far (for tests): bounded by the windows held at once, not the bytes read. */
  get buffersAllocated(): number {
    return this.#allocated;
  }

  #buffer(): Uint8Array {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    this.#allocated++;
    // A file smaller than a window gets a buffer of its size.
    return new Uint8Array(Math.min(this.#maxWindow, this.#size));
  }

  #release(w: Window): void {
    if (!w.dropped || w.users > 0 || !w.settled || w.buffer === undefined) return;
    if (!this.#closed) this.#free.push(w.buffer);
    w.buffer = undefined;
  }

  #drop(dropped: Window[]): void {
    for (const w of dropped) {
      w.dropped = true;
      this.#release(w);
    }
  }

  #push(start: number): void {
    const end = Math.min(this.#size, start + this.#next);
    const buffer = this.#buffer();
    const bytes = this.#fetch(start, end, buffer);
    const w: Window = { start, end, bytes, buffer, users: 0, dropped: false, settled: false };
    const settle = (): void => {
      w.settled = true;
      this.#release(w);
    };
    // A window fetched ahead and then dropped must not surface as an unhandled rejection.
    bytes.then(settle, settle);
    this.#windows.push(w);
    this.#next = Math.min(this.#next * 2, this.#maxWindow);
  }

  /**
   * The window holding `pos`, fetching it (and reading ahead when sequential) as needed. The
   * caller copies out of it and then calls `done(window)`: until then its buffer is not reused.
   */
  async #at(pos: number): Promise<{ window: Window; start: number; bytes: Uint8Array }> {
    const i = this.#windows.findIndex((w) => pos >= w.start && pos < w.end);
    let sequential = true;
    if (i > 0) this.#drop(this.#windows.splice(0, i));
    else if (i < 0) {
      sequential = pos === 0 || pos === this.#lastEnd;
      this.#drop(this.#windows);
      this.#windows = [];
      if (!sequential) this.#next = FIRST_WINDOW;
      this.#push(pos);
    }
    if (sequential) {
      while (this.#windows.length < 1 + READ_AHEAD) {
        const last = this.#windows[this.#windows.length - 1]!;
        if (last.end >= this.#size) break;
        this.#push(last.end);
      }
    }
    const w = this.#windows[0]!;
    w.users++;
    try {
      return { window: w, start: w.start, bytes: await w.bytes };
    } catch (error) {
      this.#done(w);
      // A failed window is not kept: the next read asks again (the retry layer already retried).
      if (this.#windows.includes(w)) {
        this.#drop(this.#windows);
        this.#windows = [];
        this.#next = FIRST_WINDOW;
      }
      throw error;
    }
  }

  #done(w: Window): void {
    w.users--;
    this.#release(w);
  }

  async read(target: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    let done = 0;
    while (done < length) {
      const pos = position + done;
      if (pos >= this.#size) break;
      const w = await this.#at(pos);
      const from = pos - w.start;
      // Shorter than listed (the object shrank upstream): end of file here.
      if (from >= w.bytes.length) {
        this.#done(w.window);
        break;
      }
      const n = Math.min(length - done, w.bytes.length - from);
      target.set(w.bytes.subarray(from, from + n), offset + done);
      this.#done(w.window);
      done += n;
    }
    this.#lastEnd = position + done;
    return done;
  }

  /**
   * The bytes `[start, end)` as chunks the caller owns. A stream's consumer may keep every chunk
   * (a pipe into a slow socket queues them), so a chunk is never a view of a buffer that is reused:
   * bytes the provider wrote into a pooled window are copied out, `STREAM_CHUNK` at a time, into
   * fresh buffers that die young; a fresh array from a provider that ignored `into` is handed over
   * as it is.
   */
  async *chunks(start: number, end: number): AsyncGenerator<Uint8Array> {
    let pos = start;
    const stop = Math.min(end, this.#size);
    while (pos < stop) {
      const w = await this.#at(pos);
      const from = pos - w.start;
      if (from >= w.bytes.length) {
        this.#done(w.window);
        return;
      }
      const pooled = w.window.buffer !== undefined && w.bytes.buffer === w.window.buffer.buffer;
      const to = Math.min(
        w.bytes.length,
        stop - w.start,
        pooled ? from + STREAM_CHUNK : Number.POSITIVE_INFINITY,
      );
      const chunk = pooled ? w.bytes.slice(from, to) : w.bytes.subarray(from, to);
      this.#done(w.window);
      pos = w.start + to;
      this.#lastEnd = pos;
      yield chunk;
    }
  }

  close(): void {
    this.#closed = true;
    this.#drop(this.#windows);
    this.#windows = [];
    this.#free.length = 0;
  }
}

/** A stub read in ranges through the mount's `fetchRange`, never hydrated. */
export function rangeSource(
  path: string,
  stats: FileStats,
  fetch: (start: number, end: number, into?: Uint8Array) => Promise<Uint8Array>,
): HandleSource {
  const reader = new RangeReader(stats.size, fetch);
  return {
    path,
    stats,
    size: stats.size,
    read: (target, offset, length, position) => reader.read(target, offset, length, position),
    chunks: (start, end) => reader.chunks(start, end),
    close: () => reader.close(),
  };
}

/** Chunk size of a memfs file's stream. */
const MEM_CHUNK = 1024 * 1024;

/**
 * A memfs file through a descriptor of its own: it keeps reading the file it opened even if the
 * path is deleted, renamed or evicted meanwhile (as a POSIX descriptor does).
 */
export function memSource(vol: MemVol, path: string): HandleSource {
  const fd = vol.openSync(path, "r");
  const stats = vol.fstatSync(fd);
  const readAt = (target: Uint8Array, offset: number, length: number, position: number): number => {
    let done = 0;
    while (done < length) {
      const n = vol.readSync(fd, target, offset + done, length - done, position + done);
      if (n <= 0) break;
      done += n;
    }
    return done;
  };
  return {
    path,
    stats,
    size: stats.size,
    read: async (target, offset, length, position) => readAt(target, offset, length, position),
    async *chunks(start, end) {
      for (let pos = start; pos < end; ) {
        const chunk = new Uint8Array(Math.min(MEM_CHUNK, end - pos));
        const n = readAt(chunk, 0, chunk.length, pos);
        if (n <= 0) return;
        pos += n;
        yield n === chunk.length ? chunk : chunk.subarray(0, n);
      }
    },
    close: () => vol.closeSync(fd),
  };
}

function integerIn(name: string, value: unknown, min: number, max: number, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new MountError(
      "EINVAL",
      `${name} must be an integer from ${min} to ${max}, got ${String(value)}, read '${path}'`,
      { path, syscall: "read" },
    );
  }
  return value;
}

export interface ReadStreamOptions {
  /** First byte (default 0). */
  readonly start?: number | undefined;
  /** Last byte, inclusive as in `node:fs` (default: the end of the file). */
  readonly end?: number | undefined;
}

/**
 * A read-only file handle, shaped like `node:fs/promises`' `FileHandle`. A handle on a stub of a
 * mount with `fetchRange` reads only the ranges asked for (with read-ahead for sequential reads)
 * and never hydrates the file: it reads the upstream object as listed when it was opened. A handle
 * on anything else reads the workspace file through a descriptor of its own.
 */
export class WorkspaceFileHandle {
  readonly #source: HandleSource;
  #position = 0;
  #closed = false;

  /** @internal Use `ws.fs.open()`. */
  constructor(source: HandleSource) {
    this.#source = source;
  }

  /** The workspace path the handle was opened on. */
  get path(): string {
    return this.#source.path;
  }

  #check(syscall: string): void {
    if (this.#closed) throw fsError("EBADF", syscall, this.#source.path);
  }

  /**
   * Reads up to `length` bytes into `buffer` at `offset`, from `position` (or, when it is null or
   * -1, from the handle's own position, which then advances). Resolves with fewer bytes only at the
   * end of the file.
   */
  async read<T extends Uint8Array>(
    buffer: T,
    offset = 0,
    length: number = buffer.byteLength - offset,
    position: number | null = null,
  ): Promise<{ bytesRead: number; buffer: T }> {
    this.#check("read");
    const path = this.#source.path;
    if (!(buffer instanceof Uint8Array)) {
      throw new MountError("EINVAL", `read '${path}': buffer must be a Uint8Array`, {
        path,
        syscall: "read",
      });
    }
    integerIn("offset", offset, 0, buffer.byteLength, path);
    integerIn("length", length, 0, buffer.byteLength - offset, path);
    const current = position === null || position === -1;
    const at = current ? this.#position : integerIn("position", position, 0, Number.MAX_SAFE_INTEGER, path);
    const bytesRead = length === 0 ? 0 : await this.#source.read(buffer, offset, length, at);
    if (current) this.#position = at + bytesRead;
    return { bytesRead, buffer };
  }

  /** The file's stats as they were when it was opened. */
  async stat(): Promise<FileStats> {
    this.#check("fstat");
    return this.#source.stats;
  }

  /**
   * The bytes `[start, end]` (end inclusive, as `node:fs`) as a stream. The consumer owns every
   * chunk: bytes in a reused window are copied out 64 KiB at a time (`STREAM_CHUNK`), a fresh
   * array from a provider that ignores `into` is handed on as it is. Reading starts when the
   * stream is first read.
   */
  createReadStream(options: ReadStreamOptions = {}): Readable {
    return Readable.from(this.chunks(options), { objectMode: false });
  }

  /**
   * @internal The chunks `createReadStream` streams, for a caller that wraps them in a stream of
   * its own (`ws.fs.createReadStream`): one Readable, not one around another, each of which would
   * hold a chunk of its own.
   */
  chunks(options: ReadStreamOptions = {}): AsyncGenerator<Uint8Array> {
    this.#check("read");
    const path = this.#source.path;
    const start = integerIn("start", options.start ?? 0, 0, Number.MAX_SAFE_INTEGER, path);
    const last = options.end === undefined ? Number.MAX_SAFE_INTEGER - 1 : options.end;
    const end = integerIn("end", last, start - 1, Number.MAX_SAFE_INTEGER - 1, path) + 1;
    return this.#source.chunks(start, end);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.close();
  }
}
