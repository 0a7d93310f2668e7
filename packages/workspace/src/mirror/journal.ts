import { createHash } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { MountError } from "@ws/core";

/** One write the provider had not acknowledged when it was recorded. */
export interface JournalRecord {
  readonly root: string;
  readonly rel: string;
  /** Grows with every record, across processes sharing the journal. */
  readonly seq: number;
  /** The upstream version (etag) the write was based on, when known: a replay is conditional on it. */
  readonly etag?: string | undefined;
  /** `undefined`: the path was deleted. */
  readonly bytes: Uint8Array | undefined;
}

interface Header {
  readonly v: 1;
  readonly root: string;
  readonly rel: string;
  readonly seq: number;
  readonly exists: boolean;
  readonly size: number;
  readonly etag?: string | undefined;
}

const SUFFIX = ".rec";

/**
 * The durable write-back journal (DESIGN.md "Durability"): a directory on disk with one file per
 * path whose latest local state the provider has not acknowledged. A record is written to a
 * temporary file, fsync'd, renamed over the path's record and the directory fsync'd, all before
 * the `ws.fs` call that caused it resolves; it is removed once the provider acknowledged that
 * state (or a newer one). A workspace opened over the same directory replays what is left.
 *
 * Synchronous on purpose: `record` runs inside the call that changed the VFS, so no event-loop
 * turn separates "the VFS changed" from "the change is on disk".
 */
export class Journal {
  readonly dir: string;
  #seq: number;
  readonly #latest = new Map<string, number>();
  #dirFd: number | undefined;

  constructor(dir: string) {
    if (typeof dir !== "string" || dir === "") {
      throw new MountError("EINVAL", `journal must be a directory path, got ${JSON.stringify(dir)}`);
    }
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    let max = 0;
    for (const name of readdirSync(dir)) {
      if (name.endsWith(".tmp")) {
        // A record torn before its rename: its call never resolved.
        unlinkSync(join(dir, name));
        continue;
      }
      const record = this.#read(name);
      if (record) {
        max = Math.max(max, record.seq);
        this.#latest.set(name, record.seq);
      }
    }
    this.#seq = Math.max(max, Date.now() * 1000);
  }

  static #name(root: string, rel: string): string {
    return createHash("sha256").update(`${root}\0${rel}`).digest("hex").slice(0, 40) + SUFFIX;
  }

  #read(name: string): JournalRecord | undefined {
    if (!name.endsWith(SUFFIX)) return undefined;
    let data: Buffer;
    try {
      data = readFileSync(join(this.dir, name));
    } catch {
      return undefined;
    }
    const nl = data.indexOf(10);
    if (nl < 0) return undefined;
    let header: Header;
    try {
      header = JSON.parse(data.subarray(0, nl).toString("utf8")) as Header;
    } catch {
      return undefined;
    }
    if (header.v !== 1 || typeof header.root !== "string" || typeof header.rel !== "string") return undefined;
    const body = data.subarray(nl + 1);
    if (body.length !== header.size) return undefined;
    return {
      root: header.root,
      rel: header.rel,
      seq: header.seq,
      etag: header.etag,
      bytes: header.exists ? new Uint8Array(body) : undefined,
    };
  }

  /** Records that need replaying, oldest first. */
  pending(): JournalRecord[] {
    const out: JournalRecord[] = [];
    for (const name of this.#latest.keys()) {
      const record = this.#read(name);
      if (record) out.push(record);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Durably records the latest local state of `root`/`rel`; returns its sequence number. */
  record(root: string, rel: string, bytes: Uint8Array | undefined, etag: string | undefined): number {
    const seq = ++this.#seq;
    const name = Journal.#name(root, rel);
    const header: Header = {
      v: 1,
      root,
      rel,
      seq,
      exists: bytes !== undefined,
      size: bytes?.length ?? 0,
      ...(etag === undefined ? {} : { etag }),
    };
    const tmp = join(this.dir, `${name}.${seq}.tmp`);
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(header)}\n`);
      if (bytes && bytes.length > 0) writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, name));
    this.#syncDir();
    this.#latest.set(name, seq);
    return seq;
  }

  /** The provider acknowledged the state recorded as `seq`: forget it, unless a newer one was recorded. */
  settle(root: string, rel: string, seq: number): void {
    const name = Journal.#name(root, rel);
    if (this.#latest.get(name) !== seq) return;
    this.#latest.delete(name);
    try {
      unlinkSync(join(this.dir, name));
    } catch {
      // Already gone: nothing to replay.
    }
  }

  /** Number of records not yet acknowledged. */
  get size(): number {
    return this.#latest.size;
  }

  #syncDir(): void {
    try {
      this.#dirFd ??= openSync(this.dir, "r");
      fsyncSync(this.#dirFd);
    } catch {
      // Some file systems refuse fsync on a directory; the rename is then as durable as they make it.
    }
  }

  close(): void {
    if (this.#dirFd !== undefined) closeSync(this.#dirFd);
    this.#dirFd = undefined;
  }
}
