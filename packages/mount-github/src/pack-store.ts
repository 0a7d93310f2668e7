import { createHash, hash } from "node:crypto";
import { MountError } from "@ws/core";
import { Inflater } from "./inflater.js";

/** Git's object types as a pack numbers them. */
const COMMIT = 1;
const TREE = 2;
const BLOB = 3;
const TAG = 4;
const OFS_DELTA = 6;
const REF_DELTA = 7;
const TYPE_NAMES: Record<number, string> = {
  [COMMIT]: "commit",
  [TREE]: "tree",
  [BLOB]: "blob",
  [TAG]: "tag",
};

export type GitObjectType = "commit" | "tree" | "blob" | "tag";

/** Where one object of the pack is and what it resolves to. */
interface PackEntry {
  /** Offset of the entry's header in the pack. */
  readonly offset: number;
  /** End of the entry's compressed data (exclusive). */
  readonly end: number;
  /** The resolved type (a delta's is its base's). */
  readonly type: number;
  /** The resolved size in bytes (a delta's is its result's). */
  readonly size: number;
}

interface Header {
  readonly type: number;
  /** Inflated size of the entry's own data (for a delta: of the delta instruction stream). */
  readonly size: number;
  readonly dataStart: number;
  readonly baseOffset?: number | undefined;
  readonly baseOid?: string | undefined;
}

/** A resolved object: its type and a view of its bytes (see `#at` for how long the view lives). */
interface Resolved {
  readonly type: number;
  readonly bytes: Uint8Array;
}

/** Where a kept delta base sits in the cache's arena. */
interface Cached {
  readonly type: number;
  readonly start: number;
  readonly length: number;
}

/** Room kept before an object in the result buffers, for its `<type> <size>\0` header (hashing). */
const HEADROOM = 32;

/** One entry of a tree object. */
export interface GitTreeItem {
  readonly name: string;
  readonly mode: string;
  readonly oid: string;
}

function damaged(reason: string): MountError {
  return new MountError("EIO", `the pack is damaged (${reason}); nothing was materialised`, {
    path: "",
    transient: true,
  });
}

/** Options of `PackStore.index` (the defaults suit; tests shrink the cache to reach its edges). */
export interface PackStoreOptions {
  /** Bytes of resolved delta bases kept while reading (default: half the pack, 256 KiB to 16 MiB). */
  readonly cacheBytes?: number;
  /** Inflate through node:zlib's native handle (default) or `inflateSync` (the fallback). */
  readonly nativeInflate?: boolean;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const treeNames = new TextDecoder();

/**
 * The objects of one git pack, kept as the pack itself plus a small index (object id → offset,
 * type, size), read on demand.
 *
 * Why not isomorphic-git's object store: it indexes the pack in JavaScript with pako, allocating
 * a fresh inflate state (tens of KiB) per object, keeps inflated delta bases while reading, and
 * copies the pack on every `fs.read`: its clone alone peaked at 32x the pack on the benchmark's
 * 3,000-file repository. Here every object is inflated once to learn its id (so a damaged pack
 * fails before anything is written), each later read inflates only that object (and its delta
 * bases), and bases are kept in a cache bounded in bytes.
 *
 * Memory: reading allocates nothing per object. Objects are inflated by one zlib state into two
 * result buffers that deltas alternate between (a delta's base in one, its result in the other),
 * the delta instructions into a third, and kept bases are copied into one arena of the cache's
 * size, evicted oldest first. Allocating per object (an output buffer and a hash per object) made
 * garbage outside the V8 heap that lived until the next collection: the index pass alone raised
 * the peak by the inflated size of the whole pack.
 */
export class PackStore {
  readonly #pack: Uint8Array;
  readonly #objects = new Map<string, PackEntry>();
  readonly #byOffset = new Map<number, PackEntry>();
  /** Kept delta bases: entry offset → place in the arena, oldest first. */
  readonly #cache = new Map<number, Cached>();
  #arena: Uint8Array | undefined;
  /** Where the next kept base goes in the arena. */
  #head = 0;
  /** The kept bases' offsets, oldest first from `#oldest` on. */
  readonly #order: number[] = [];
  #oldest = 0;
  /** Offsets of the objects some delta is made against: the only ones worth caching. */
  readonly #bases = new Set<number>();
  #indexing = true;
  readonly #cacheLimit: number;
  readonly #results: Uint8Array[] = [EMPTY, EMPTY];
  #deltaBuffer: Uint8Array = EMPTY;
  readonly #inflater: Inflater;
  #deltas = 0;

  private constructor(pack: Uint8Array, options: PackStoreOptions) {
    this.#pack = pack;
    // Enough for the delta bases in use at once; never more than the pack itself.
    this.#cacheLimit =
      options.cacheBytes ?? Math.max(256 * 1024, Math.min(16 * 1024 * 1024, pack.length >>> 1));
    this.#inflater = new Inflater(
      options.nativeInflate === undefined ? {} : { native: options.nativeInflate },
    );
  }

  /** Bytes of the pack. */
  get packBytes(): number {
    return this.#pack.length;
  }

  /** Number of objects. */
  get size(): number {
    return this.#objects.size;
  }

  /** Number of objects stored as deltas. */
  get deltas(): number {
    return this.#deltas;
  }

  /**
   * Checks the pack (signature, version, trailing SHA-1) and indexes it: every object is inflated,
   * its deltas resolved and its id computed, so a damaged pack fails here, before anything is written.
   */
  static index(pack: Uint8Array, options: PackStoreOptions = {}): PackStore {
    if (pack.length < 32) throw damaged(`${pack.length} bytes`);
    const view = new DataView(pack.buffer, pack.byteOffset, pack.byteLength);
    if (view.getUint32(0) !== 0x5041434b) throw damaged("no PACK signature");
    const version = view.getUint32(4);
    if (version !== 2 && version !== 3) throw damaged(`version ${version}`);
    const trailer = Buffer.from(pack.buffer, pack.byteOffset + pack.length - 20, 20).toString("hex");
    const sum = hash("sha1", pack.subarray(0, pack.length - 20), "hex");
    if (sum !== trailer) throw damaged("its SHA-1 does not match its trailer");
    const count = view.getUint32(8);
    const store = new PackStore(pack, options);
    try {
      const deferred: { offset: number; end: number; baseOid: string }[] = [];
      let pos = 12;
      for (let i = 0; i < count; i++) {
        const offset = pos;
        const header = store.#header(offset);
        if (
          header.type === REF_DELTA &&
          header.baseOid !== undefined &&
          !store.#objects.has(header.baseOid)
        ) {
          // Its base comes later in the pack: resolved once the pass is over.
          pos = store.#inflate(header, store.#room("delta", header.size), 0, undefined);
          deferred.push({ offset, end: pos, baseOid: header.baseOid });
          store.#deltas++;
          continue;
        }
        if (header.type === OFS_DELTA || header.type === REF_DELTA) store.#deltas++;
        const resolved = store.#resolve(offset, header, undefined);
        pos = resolved.end;
        store.#add(offset, resolved.end, resolved);
      }
      if (pos !== pack.length - 20) throw damaged(`${pack.length - 20 - pos} bytes after the last object`);
      for (let progress = true; deferred.length > 0 && progress; ) {
        progress = false;
        for (let i = 0; i < deferred.length; i++) {
          const d = deferred[i];
          if (!d || !store.#objects.has(d.baseOid)) continue;
          store.#add(d.offset, d.end, store.#resolve(d.offset, store.#header(d.offset), d.end));
          deferred.splice(i--, 1);
          progress = true;
        }
      }
      if (deferred.length > 0) {
        throw damaged(`${deferred.length} deltas against objects the pack does not hold`);
      }
    } finally {
      store.#indexing = false;
      store.trim();
    }
    return store;
  }

  #add(offset: number, end: number, resolved: Resolved): void {
    const oid = this.#objectId(resolved);
    const entry: PackEntry = { offset, end, type: resolved.type, size: resolved.bytes.length };
    this.#objects.set(oid, entry);
    this.#byOffset.set(offset, entry);
    // While indexing, any object may be the base of a later delta.
    this.#remember(offset, resolved);
  }

  /**
   * Git's object id: SHA-1 over `<type> <size>\0` and the bytes. An object in a result buffer
   * has room for the header just before it, so the two are hashed in one call, with no hash
   * object (and its native state) left for the collector.
   */
  #objectId(resolved: Resolved): string {
    const { bytes } = resolved;
    const head = `${TYPE_NAMES[resolved.type]} ${bytes.length}\0`;
    if (
      bytes.byteOffset === HEADROOM &&
      head.length <= HEADROOM &&
      this.#results.some((r) => r.buffer === bytes.buffer)
    ) {
      const whole = new Uint8Array(bytes.buffer, HEADROOM - head.length, head.length + bytes.length);
      encoder.encodeInto(head, whole);
      return hash("sha1", whole, "hex");
    }
    return createHash("sha1").update(head).update(bytes).digest("hex");
  }

  #header(offset: number): Header {
    const pack = this.#pack;
    // The pack's last 20 bytes are its checksum: no header reaches into them.
    const limit = pack.length - 20;
    let pos = offset;
    if (pos >= limit) throw damaged(`an entry at ${offset} runs past the end`);
    let c = pack[pos++] as number;
    const type = (c >> 4) & 7;
    let size = c & 15;
    let shift = 4;
    while (c & 0x80) {
      if (pos >= limit) throw damaged(`an entry at ${offset} runs past the end`);
      c = pack[pos++] as number;
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (type === OFS_DELTA) {
      if (pos >= limit) throw damaged(`an entry at ${offset} runs past the end`);
      c = pack[pos++] as number;
      let distance = c & 0x7f;
      while (c & 0x80) {
        if (pos >= limit) throw damaged(`an entry at ${offset} runs past the end`);
        c = pack[pos++] as number;
        distance = (distance + 1) * 128 + (c & 0x7f);
      }
      if (distance <= 0 || distance > offset) throw damaged(`a delta at ${offset} points outside the pack`);
      return { type, size, dataStart: pos, baseOffset: offset - distance };
    }
    if (type === REF_DELTA) {
      if (pos + 20 > limit) throw damaged(`an entry at ${offset} runs past the end`);
      const baseOid = Buffer.from(pack.buffer, pack.byteOffset + pos, 20).toString("hex");
      return { type, size, dataStart: pos + 20, baseOid };
    }
    if (!TYPE_NAMES[type]) throw damaged(`unknown object type ${type} at ${offset}`);
    return { type, size, dataStart: pos };
  }

  /**
   * A buffer with room for `size` bytes and one more (to tell a stream that inflates to more than
   * it should): result buffer 0 or 1 (the bytes go after HEADROOM) or the delta-instruction
   * buffer (from 0). The buffers grow when an object does not fit and are dropped by `trim`.
   */
  #room(which: 0 | 1 | "delta", size: number): Uint8Array {
    const need = (which === "delta" ? 0 : HEADROOM) + size + 1;
    const buffer = which === "delta" ? this.#deltaBuffer : (this.#results[which] as Uint8Array);
    if (buffer.length >= need) return buffer;
    const grown = new Uint8Array(Math.max(64 * 1024, need + (need >>> 2)));
    if (which === "delta") this.#deltaBuffer = grown;
    else this.#results[which] = grown;
    return grown;
  }

  /**
   * Inflates an entry's own data into `out` from `at` on (exactly `header.size` bytes, or the
   * pack is damaged) and returns where the entry ends; `end` (when known) bounds the input exactly.
   */
  #inflate(header: Header, out: Uint8Array, at: number, end: number | undefined): number {
    let written: number;
    try {
      written = this.#inflater.inflateInto(
        this.#pack,
        header.dataStart,
        end ?? this.#pack.length - 20,
        out,
        at,
        at + header.size + 1,
      );
    } catch (error) {
      throw damaged(`an object at ${header.dataStart} does not inflate: ${(error as Error).message}`);
    }
    if (written !== header.size) {
      const got = written > header.size ? `more than ${header.size}` : `${written}`;
      throw damaged(`an object at ${header.dataStart} inflates to ${got} bytes, not ${header.size}`);
    }
    return header.dataStart + this.#inflater.consumed;
  }

  /**
   * Resolves the entry at `offset` (its delta chain applied) into a result buffer. The bytes are
   * a view, good until the next read: a delta's result goes to the result buffer its base is not in.
   */
  #resolve(offset: number, header: Header, end: number | undefined): Resolved & { end: number } {
    if (header.type !== OFS_DELTA && header.type !== REF_DELTA) {
      const out = this.#room(0, header.size);
      const dataEnd = this.#inflate(header, out, HEADROOM, end);
      return { type: header.type, bytes: out.subarray(HEADROOM, HEADROOM + header.size), end: dataEnd };
    }
    const baseOffset =
      header.baseOffset ??
      (header.baseOid === undefined ? undefined : this.#objects.get(header.baseOid)?.offset);
    if (baseOffset === undefined) throw damaged(`the base of the delta at ${offset} is missing`);
    this.#bases.add(baseOffset);
    // The base first: resolving it uses the delta buffer too.
    const base = this.#at(baseOffset);
    const delta = this.#room("delta", header.size);
    const dataEnd = this.#inflate(header, delta, 0, end);
    const target = base.bytes.buffer === this.#results[0]?.buffer ? 1 : 0;
    let out: Uint8Array = EMPTY;
    const size = applyDelta(base.bytes, delta, header.size, offset, (n) => {
      out = this.#room(target, n);
      return out;
    });
    return { type: base.type, bytes: out.subarray(HEADROOM, HEADROOM + size), end: dataEnd };
  }

  /** The resolved object whose entry starts at `offset`: a view, good until the next read. */
  #at(offset: number): Resolved {
    const cached = this.#cache.get(offset);
    if (cached && this.#arena) {
      return { type: cached.type, bytes: this.#arena.subarray(cached.start, cached.start + cached.length) };
    }
    const entry = this.#byOffset.get(offset);
    const resolved = this.#resolve(offset, this.#header(offset), entry?.end);
    if (this.#indexing || this.#bases.has(offset)) this.#remember(offset, resolved);
    return resolved;
  }

  /**
   * Keeps a copy of a resolved object in the arena, a ring: the new bytes go after the last kept
   * ones (or back at the start), and the kept objects they overwrite, always the oldest, are
   * forgotten first.
   */
  #remember(offset: number, resolved: Resolved): void {
    const length = resolved.bytes.length;
    // An empty object costs nothing to inflate again, and a big one would push out all others.
    if (length === 0 || length > this.#cacheLimit / 4 || this.#cache.has(offset)) return;
    this.#arena ??= new Uint8Array(this.#cacheLimit);
    const arena = this.#arena;
    const oldHead = this.#head;
    const wrapped = oldHead + length > arena.length;
    const start = wrapped ? 0 : oldHead;
    const order = this.#order;
    while (this.#oldest < order.length) {
      const key = order[this.#oldest] as number;
      const kept = this.#cache.get(key);
      if (kept) {
        const skipped = wrapped && kept.start >= oldHead;
        const overlaps = kept.start < start + length && kept.start + kept.length > start;
        if (!skipped && !overlaps) break;
        this.#cache.delete(key);
      }
      this.#oldest++;
    }
    if (this.#oldest > 1024 && this.#oldest * 2 > order.length) {
      order.splice(0, this.#oldest);
      this.#oldest = 0;
    }
    arena.set(resolved.bytes, start);
    this.#head = start + length;
    this.#cache.set(offset, { type: resolved.type, start, length });
    order.push(offset);
  }

  /** Drops the delta bases and buffers kept for reading (the pack and its index stay). */
  trim(): void {
    this.#cache.clear();
    this.#order.length = 0;
    this.#oldest = 0;
    this.#arena = undefined;
    this.#head = 0;
    this.#results[0] = EMPTY;
    this.#results[1] = EMPTY;
    this.#deltaBuffer = EMPTY;
    this.#inflater.close();
  }

  has(oid: string): boolean {
    return this.#objects.has(oid);
  }

  /** Type and size of an object, without reading it. */
  stat(oid: string): { type: GitObjectType; size: number; offset: number } | undefined {
    const entry = this.#objects.get(oid);
    if (!entry) return undefined;
    return { type: TYPE_NAMES[entry.type] as GitObjectType, size: entry.size, offset: entry.offset };
  }

  /**
   * An object's bytes as a view of the store's buffers, good until the next read: read them at
   * once, do not keep or change them (`readOwned` gives a copy).
   */
  read(oid: string, expected?: GitObjectType): Uint8Array {
    const entry = this.#objects.get(oid);
    if (!entry) throw damaged(`object ${oid} is not in the pack`);
    const name = TYPE_NAMES[entry.type];
    if (expected && name !== expected) throw damaged(`object ${oid} is a ${name}, not a ${expected}`);
    return this.#at(entry.offset).bytes;
  }

  /** An object's bytes, the caller's own (a copy out of the store's buffers). */
  readOwned(oid: string, expected?: GitObjectType): Uint8Array {
    return this.read(oid, expected).slice();
  }

  /** The tree id of a commit. */
  commitTree(oid: string): string {
    const bytes = this.read(oid, "commit");
    const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 46)).toString("latin1");
    const match = /^tree ([0-9a-f]{40})\n/.exec(head);
    if (!match?.[1]) throw damaged(`commit ${oid} names no tree`);
    return match[1];
  }

  /** The entries of a tree object, in stored order. */
  tree(oid: string): GitTreeItem[] {
    const bytes = this.read(oid, "tree");
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const items: GitTreeItem[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      const space = bytes.indexOf(0x20, pos);
      const nul = space < 0 ? -1 : bytes.indexOf(0, space + 1);
      if (space < 0 || nul < 0 || nul + 21 > bytes.length) throw damaged(`tree ${oid} is malformed`);
      const mode = buffer.toString("latin1", pos, space);
      const name = treeNames.decode(bytes.subarray(space + 1, nul));
      const id = buffer.toString("hex", nul + 1, nul + 21);
      items.push({ name, mode: mode.padStart(6, "0"), oid: id });
      pos = nul + 21;
    }
    return items;
  }
}

/**
 * Applies a git delta (copy and insert instructions, `delta[0..deltaLength)`) to its base, into
 * the buffer `allocate(size)` returns, from HEADROOM on; returns the size.
 */
function applyDelta(
  base: Uint8Array,
  delta: Uint8Array,
  deltaLength: number,
  at: number,
  allocate: (size: number) => Uint8Array,
): number {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    let c: number;
    do {
      c = pos < deltaLength ? (delta[pos++] as number) : 0;
      value += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80 && pos < deltaLength);
    return value;
  };
  const baseSize = varint();
  if (baseSize !== base.length) throw damaged(`the delta at ${at} expects a base of ${baseSize} bytes`);
  const size = varint();
  const out = allocate(size);
  let written = 0;
  const next = (): number => (pos < deltaLength ? (delta[pos++] as number) : 0);
  while (pos < deltaLength) {
    const op = delta[pos++] as number;
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      if (op & 0x01) offset |= next();
      if (op & 0x02) offset |= next() << 8;
      if (op & 0x04) offset |= next() << 16;
      if (op & 0x08) offset = (offset | (next() << 24)) >>> 0;
      if (op & 0x10) length |= next();
      if (op & 0x20) length |= next() << 8;
      if (op & 0x40) length |= next() << 16;
      if (length === 0) length = 0x10000;
      if (offset + length > base.length || written + length > size) {
        throw damaged(`the delta at ${at} copies outside its base`);
      }
      copyBytes(base, offset, out, HEADROOM + written, length);
      written += length;
    } else if (op !== 0) {
      if (pos + op > deltaLength || written + op > size) throw damaged(`the delta at ${at} is truncated`);
      copyBytes(delta, pos, out, HEADROOM + written, op);
      written += op;
      pos += op;
    } else throw damaged(`the delta at ${at} has a reserved instruction`);
  }
  if (written !== size) throw damaged(`the delta at ${at} yields ${written} bytes, not ${size}`);
  return size;
}

/**
 * `to.set(from.subarray(...), at)` without the view: a delta is mostly copies of a few dozen
 * bytes, and a view per copy was most of what reading a pack allocated on the V8 heap.
 */
function copyBytes(from: Uint8Array, start: number, to: Uint8Array, at: number, length: number): void {
  if (length > 256) {
    to.set(from.subarray(start, start + length), at);
    return;
  }
  for (let i = 0; i < length; i++) to[at + i] = from[start + i] as number;
}
