import { hash } from "node:crypto";
import { MountError } from "@ws/core";
import { Inflater } from "./inflater.js";
import { Sha1 } from "./sha1.js";

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

/**
 * Objects this big or bigger are hashed by node:crypto (fast, but a few hundred bytes of heap per
 * call, next to nothing beside the object); smaller ones by `Sha1` in JavaScript (no allocation).
 */
const NATIVE_HASH_FROM = 4 * 1024;

/** Room kept before an object in the result buffers, for its `<type> <size>\0` header (one-shot hashing). */
const HEADROOM = 32;

function damaged(reason: string): MountError {
  return new MountError("EIO", `the pack is damaged (${reason}); nothing was materialised`, {
    path: "",
    transient: true,
  });
}

/** Options of `PackStore.index` (the defaults suit; tests shrink the cache to reach its edges). */
export interface PackStoreOptions {
  /** Bytes of resolved delta bases kept while reading (default: an eighth of the pack, 256 KiB to 16 MiB). */
  readonly cacheBytes?: number;
  /** Inflate through node:zlib's native handle (default) or `inflateSync` (the fallback). */
  readonly nativeInflate?: boolean;
}

const EMPTY = new Uint8Array(0);
/** The biggest object read (sizes are kept in a Uint32Array: small integers, never boxed by V8). */
const MAX_OBJECT_BYTES = 0xffffffff;

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
  /** The objects in pack order: entry start and end, resolved type and size, id (20 bytes each). */
  readonly #offsets: Uint32Array;
  readonly #ends: Uint32Array;
  readonly #types: Uint8Array;
  readonly #sizes: Uint32Array;
  readonly #ids: Uint8Array;
  /** Open addressing, id → pack-order index + 1 (0: empty). */
  readonly #table: Int32Array;
  #objects = 0;
  /** Entries whose offset is known (all, once the first pass is over): `#offsets` is sorted up to here. */
  #filled = 0;
  /** Objects some delta is made against (by pack-order index): the only ones worth caching. */
  readonly #isBase: Uint8Array;
  /** Kept delta bases: place in the arena (-1: not kept), in a ring queue, oldest first. */
  readonly #cacheStart: Int32Array;
  readonly #cacheLength: Int32Array;
  readonly #queue: Int32Array;
  #queueHead = 0;
  #queueSize = 0;
  #arena: Uint8Array | undefined;
  /** Where the next kept base goes in the arena. */
  #head = 0;
  #indexing = true;
  readonly #cacheLimit: number;
  readonly #results: Uint8Array[] = [EMPTY, EMPTY];
  #deltaBuffer: Uint8Array = EMPTY;
  readonly #inflater: Inflater;
  #deltas = 0;
  /** The last header read (`#header`), in fields rather than an object per call. */
  #hType = 0;
  #hSize = 0;
  #hData = 0;
  /** The delta's base: its offset (OFS_DELTA) or where its id sits in the pack (REF_DELTA); else -1. */
  #hBaseOffset = -1;
  #hBaseId = -1;
  /** The last object resolved (`#resolve`, `#at`): its type and bytes `#rBuf[#rStart, +#rLength)`, entry end. */
  #rType = 0;
  #rBuf: Uint8Array = EMPTY;
  #rStart = 0;
  #rLength = 0;
  #rEnd = 0;
  /** An id given as hex, as bytes (for lookups). */
  readonly #probe = new Uint8Array(20);
  readonly #sha1 = new Sha1();
  readonly #digits = new Uint8Array(20);

  private constructor(pack: Uint8Array, count: number, options: PackStoreOptions) {
    this.#pack = pack;
    this.#offsets = new Uint32Array(count);
    this.#ends = new Uint32Array(count);
    this.#types = new Uint8Array(count);
    this.#sizes = new Uint32Array(count);
    this.#ids = new Uint8Array(count * 20);
    let capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    this.#table = new Int32Array(capacity);
    this.#isBase = new Uint8Array(count);
    this.#cacheStart = new Int32Array(count).fill(-1);
    this.#cacheLength = new Int32Array(count);
    this.#queue = new Int32Array(count);
    // Enough for the delta bases in use at once. git puts a delta close after its base, so a small
    // ring serves: on the benchmark's pack (1,569 deltas in 3,417 objects) reading every file in
    // tree order took 39 ms with 864 KiB (half the pack, the old default) and 43 ms with 64 KiB,
    // and all of the arena is touched memory while the mount is materialised.
    this.#cacheLimit =
      options.cacheBytes ?? Math.max(256 * 1024, Math.min(16 * 1024 * 1024, pack.length >>> 3));
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
    return this.#objects;
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
    // Every entry takes at least 2 bytes (a header byte and some zlib data).
    if (count > (pack.length - 32) / 2) throw damaged(`${count} objects in ${pack.length} bytes`);
    const store = new PackStore(pack, count, options);
    try {
      const deferred: number[] = [];
      let pos = 12;
      for (let i = 0; i < count; i++) {
        store.#offsets[i] = pos;
        store.#filled = i + 1;
        store.#header(pos);
        const type = store.#hType;
        if (type === OFS_DELTA || type === REF_DELTA) store.#deltas++;
        if (type === REF_DELTA && store.#find(pack, store.#hBaseId) < 0) {
          // Its base comes later in the pack: resolved once the pass is over.
          pos = store.#inflate(store.#hData, store.#hSize, store.#room("delta", store.#hSize), 0, undefined);
          store.#ends[i] = pos;
          deferred.push(i);
          continue;
        }
        store.#resolve(i, undefined);
        pos = store.#rEnd;
        store.#ends[i] = pos;
        store.#add(i);
      }
      if (pos !== pack.length - 20) throw damaged(`${pack.length - 20 - pos} bytes after the last object`);
      for (let progress = true; deferred.length > 0 && progress; ) {
        progress = false;
        for (let k = 0; k < deferred.length; k++) {
          const i = deferred[k] as number;
          store.#header(store.#offsets[i] as number);
          if (store.#find(pack, store.#hBaseId) < 0) continue;
          store.#resolve(i, store.#ends[i]);
          store.#add(i);
          deferred.splice(k--, 1);
          progress = true;
        }
      }
      if (deferred.length > 0) {
        throw damaged(`${deferred.length} deltas against objects the pack does not hold`);
      }
    } catch (error) {
      store.trim();
      throw error;
    } finally {
      store.#indexing = false;
    }
    // The buffers and the delta bases read while indexing stay for the first walk of the tree
    // (its reader trims them after): dropping them here made them garbage the walk then
    // allocated again, before any collection had freed the first ones.
    return store;
  }

  /** Records object `i` (just resolved): its id, type and size; while indexing, keeps it as a possible base. */
  #add(i: number): void {
    this.#objectId(i);
    this.#types[i] = this.#rType;
    this.#sizes[i] = this.#rLength;
    const ids = this.#ids;
    const at = i * 20;
    const mask = this.#table.length - 1;
    for (let slot = this.#slot(ids, at) & mask; ; slot = (slot + 1) & mask) {
      const held = this.#table[slot] as number;
      if (held === 0) {
        this.#table[slot] = i + 1;
        this.#objects++;
        break;
      }
      // The same object twice in a pack: the first copy serves.
      if (sameId(ids, (held - 1) * 20, ids, at)) break;
    }
    // While indexing, any object may be the base of a later delta.
    this.#remember(i);
  }

  /** The table slot an id starts from: its first 30 bits (a small integer V8 never boxes). */
  #slot(bytes: Uint8Array, at: number): number {
    return (
      ((bytes[at] as number) << 22) |
      ((bytes[at + 1] as number) << 14) |
      ((bytes[at + 2] as number) << 6) |
      ((bytes[at + 3] as number) >>> 2)
    );
  }

  /** The pack-order index of the object whose 20-byte id is `bytes[at..at+20)`, or -1. */
  #find(bytes: Uint8Array, at: number): number {
    const mask = this.#table.length - 1;
    for (let slot = this.#slot(bytes, at) & mask; ; slot = (slot + 1) & mask) {
      const held = this.#table[slot] as number;
      if (held === 0) return -1;
      if (sameId(this.#ids, (held - 1) * 20, bytes, at)) return held - 1;
    }
  }

  /** The pack-order index of a hex id, or -1. */
  #lookup(oid: string): number {
    if (oid.length !== 40) return -1;
    const probe = this.#probe;
    for (let k = 0; k < 20; k++) {
      const hi = hexValue(oid.charCodeAt(2 * k));
      const lo = hexValue(oid.charCodeAt(2 * k + 1));
      if (hi < 0 || lo < 0) return -1;
      probe[k] = hi * 16 + lo;
    }
    return this.#find(probe, 0);
  }

  /** The pack-order index of the entry at `offset` (the entries are in pack order), or -1. */
  #indexOfOffset(offset: number): number {
    const offsets = this.#offsets;
    let lo = 0;
    let hi = this.#filled - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = offsets[mid] as number;
      if (at === offset) return mid;
      if (at < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * Git's object id of the last resolved object, into `#ids`: SHA-1 over `<type> <size>\0` and the
   * bytes. A small object is hashed by `Sha1`, with no string, view or hash object; a big one by
   * node:crypto in one call over the header written into the room before it (a view and a string).
   */
  #objectId(i: number): void {
    const buf = this.#rBuf;
    const start = this.#rStart;
    const length = this.#rLength;
    const name = TYPE_NAMES[this.#rType] as string;
    // The size in decimal, with integer arithmetic only (no number on the heap, even unoptimised).
    const digits = this.#digits;
    let n = length;
    let count = 0;
    do {
      const digit = n % 10;
      digits[count++] = 0x30 + digit;
      n = (n - digit) / 10;
    } while (n > 0);
    const headLength = name.length + 1 + count + 1;
    if (
      length >= NATIVE_HASH_FROM &&
      start === HEADROOM &&
      headLength <= HEADROOM &&
      (buf === this.#results[0] || buf === this.#results[1])
    ) {
      let w = HEADROOM - headLength;
      for (let k = 0; k < name.length; k++) buf[w++] = name.charCodeAt(k);
      buf[w++] = 0x20;
      while (count > 0) buf[w++] = digits[--count] as number;
      buf[w] = 0;
      const hex = hash(
        "sha1",
        new Uint8Array(buf.buffer, buf.byteOffset + HEADROOM - headLength, headLength + length),
        "hex",
      );
      const ids = this.#ids;
      for (let k = 0, at = i * 20; k < 20; k++, at++) {
        ids[at] = hexValue(hex.charCodeAt(2 * k)) * 16 + hexValue(hex.charCodeAt(2 * k + 1));
      }
      return;
    }
    const sha1 = this.#sha1;
    for (let k = 0; k < name.length; k++) sha1.byte(name.charCodeAt(k));
    sha1.byte(0x20);
    while (count > 0) sha1.byte(digits[--count] as number);
    sha1.byte(0);
    sha1.update(buf, start, length);
    sha1.digestInto(this.#ids, i * 20);
  }

  /** Reads the header of the entry at `offset` into the `#h` fields. */
  #header(offset: number): void {
    const pack = this.#pack;
    // The pack's last 20 bytes are its checksum: no header reaches into them.
    const limit = pack.length - 20;
    let pos = offset;
    if (pos >= limit) throw damaged(`an entry at ${offset} runs past the end`);
    let c = pack[pos++] as number;
    const type = (c >> 4) & 7;
    let size = c & 15;
    // Products of small integers, not `2 ** shift`: V8 boxes a power's result (a heap number per
    // header before this code is optimised), and every sum made from it after.
    let scale = 16;
    while (c & 0x80) {
      if (pos >= limit) throw damaged(`an entry at ${offset} runs past the end`);
      c = pack[pos++] as number;
      size += (c & 0x7f) * scale;
      scale *= 128;
    }
    if (size > MAX_OBJECT_BYTES) {
      throw new MountError(
        "ENOTSUP",
        `the pack holds an object of ${size} bytes; objects over 4 GiB are not supported`,
        { path: "" },
      );
    }
    this.#hType = type;
    this.#hSize = size;
    this.#hBaseOffset = -1;
    this.#hBaseId = -1;
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
      this.#hBaseOffset = offset - distance;
      this.#hData = pos;
      return;
    }
    if (type === REF_DELTA) {
      if (pos + 20 > limit) throw damaged(`an entry at ${offset} runs past the end`);
      this.#hBaseId = pos;
      this.#hData = pos + 20;
      return;
    }
    if (!TYPE_NAMES[type]) throw damaged(`unknown object type ${type} at ${offset}`);
    this.#hData = pos;
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
   * Inflates an entry's data (from `dataStart`, exactly `size` bytes, or the pack is damaged)
   * into `out` from `at` on and returns where the entry ends; `end` (when known) bounds the input.
   */
  #inflate(dataStart: number, size: number, out: Uint8Array, at: number, end: number | undefined): number {
    let written: number;
    try {
      written = this.#inflater.inflateInto(
        this.#pack,
        dataStart,
        end ?? this.#pack.length - 20,
        out,
        at,
        at + size + 1,
      );
    } catch (error) {
      throw damaged(`an object at ${dataStart} does not inflate: ${(error as Error).message}`);
    }
    if (written !== size) {
      const got = written > size ? `more than ${size}` : `${written}`;
      throw damaged(`an object at ${dataStart} inflates to ${got} bytes, not ${size}`);
    }
    return dataStart + this.#inflater.consumed;
  }

  /**
   * Resolves object `i` (its delta chain applied) into a result buffer, into the `#r` fields; the
   * bytes are good until the next read: a delta's result goes to the result buffer its base is not in.
   */
  #resolve(i: number, end: number | undefined): void {
    const offset = this.#offsets[i] as number;
    this.#header(offset);
    const type = this.#hType;
    const size = this.#hSize;
    const data = this.#hData;
    if (type !== OFS_DELTA && type !== REF_DELTA) {
      const out = this.#room(0, size);
      this.#rEnd = this.#inflate(data, size, out, HEADROOM, end);
      this.#rType = type;
      this.#rBuf = out;
      this.#rStart = HEADROOM;
      this.#rLength = size;
      return;
    }
    const base =
      this.#hBaseOffset >= 0 ? this.#indexOfOffset(this.#hBaseOffset) : this.#find(this.#pack, this.#hBaseId);
    if (base < 0) throw damaged(`the base of the delta at ${offset} is missing`);
    this.#isBase[base] = 1;
    // The base first: resolving it uses the delta buffer (and the header fields) too.
    this.#at(base);
    const baseType = this.#rType;
    const baseBuf = this.#rBuf;
    const baseStart = this.#rStart;
    const baseLength = this.#rLength;
    const delta = this.#room("delta", size);
    const dataEnd = this.#inflate(data, size, delta, 0, end);
    const target = baseBuf === this.#results[0] ? 1 : 0;
    this.#rLength = this.#applyDelta(baseBuf, baseStart, baseLength, delta, size, offset, target);
    this.#rType = baseType;
    this.#rBuf = this.#results[target] as Uint8Array;
    this.#rStart = HEADROOM;
    this.#rEnd = dataEnd;
  }

  /** Object `i`, resolved into the `#r` fields (from the cache when kept). */
  #at(i: number): void {
    const start = this.#cacheStart[i] as number;
    if (start >= 0 && this.#arena) {
      this.#rType = this.#types[i] as number;
      this.#rBuf = this.#arena;
      this.#rStart = start;
      this.#rLength = this.#cacheLength[i] as number;
      return;
    }
    const end = this.#ends[i] as number;
    this.#resolve(i, end === 0 ? undefined : end);
    if (this.#indexing || this.#isBase[i]) {
      this.#types[i] = this.#rType;
      this.#remember(i);
    }
  }

  /**
   * Keeps a copy of the last resolved object (object `i`) in the arena, a ring: the new bytes go
   * after the last kept ones (or back at the start), and the kept objects they overwrite, always
   * the oldest, are forgotten first.
   */
  #remember(i: number): void {
    const length = this.#rLength;
    // An empty object costs nothing to inflate again, and a big one would push out all others.
    if (length === 0 || length > this.#cacheLimit / 4 || (this.#cacheStart[i] as number) >= 0) return;
    this.#arena ??= new Uint8Array(this.#cacheLimit);
    const arena = this.#arena;
    const oldHead = this.#head;
    const wrapped = oldHead + length > arena.length;
    const start = wrapped ? 0 : oldHead;
    const queue = this.#queue;
    while (this.#queueSize > 0) {
      const k = queue[this.#queueHead] as number;
      const keptStart = this.#cacheStart[k] as number;
      const skipped = wrapped && keptStart >= oldHead;
      const overlaps = keptStart < start + length && keptStart + (this.#cacheLength[k] as number) > start;
      if (!skipped && !overlaps) break;
      this.#cacheStart[k] = -1;
      this.#queueHead = (this.#queueHead + 1) % queue.length;
      this.#queueSize--;
    }
    if (this.#rBuf === arena) arena.copyWithin(start, this.#rStart, this.#rStart + length);
    else copyBytes(this.#rBuf, this.#rStart, arena, start, length);
    this.#head = start + length;
    this.#cacheStart[i] = start;
    this.#cacheLength[i] = length;
    queue[(this.#queueHead + this.#queueSize) % queue.length] = i;
    this.#queueSize++;
  }

  /** Drops the delta bases and buffers kept for reading (the pack and its index stay). */
  trim(): void {
    this.#cacheStart.fill(-1);
    this.#queueHead = 0;
    this.#queueSize = 0;
    this.#arena = undefined;
    this.#head = 0;
    this.#results[0] = EMPTY;
    this.#results[1] = EMPTY;
    this.#deltaBuffer = EMPTY;
    this.#rBuf = EMPTY;
    this.#inflater.close();
  }

  has(oid: string): boolean {
    return this.#lookup(oid) >= 0;
  }

  /** Type and size of an object, without reading it. */
  stat(oid: string): { type: GitObjectType; size: number; offset: number } | undefined {
    const i = this.#lookup(oid);
    if (i < 0) return undefined;
    return {
      type: TYPE_NAMES[this.#types[i] as number] as GitObjectType,
      size: this.#sizes[i] as number,
      offset: this.#offsets[i] as number,
    };
  }

  /** Reads object `oid` into the `#r` fields, checking its type. */
  #read(oid: string, expected: GitObjectType | undefined): void {
    const i = this.#lookup(oid);
    if (i < 0) throw damaged(`object ${oid} is not in the pack`);
    const name = TYPE_NAMES[this.#types[i] as number];
    if (expected && name !== expected) throw damaged(`object ${oid} is a ${name}, not a ${expected}`);
    this.#at(i);
  }

  /**
   * An object's bytes as a view of the store's buffers, good until the next read: read them at
   * once, do not keep or change them (`readOwned` gives a copy).
   */
  read(oid: string, expected?: GitObjectType): Uint8Array {
    this.#read(oid, expected);
    return this.#rBuf.subarray(this.#rStart, this.#rStart + this.#rLength);
  }

  /** An object's bytes, the caller's own (a copy out of the store's buffers). */
  readOwned(oid: string, expected?: GitObjectType): Uint8Array {
    this.#read(oid, expected);
    return this.#rBuf.slice(this.#rStart, this.#rStart + this.#rLength);
  }

  /** The index of object `oid` (hex), or -1: the `...At` methods read by index, with no id string. */
  indexOf(oid: string): number {
    return this.#lookup(oid);
  }

  /** The index of the object whose 20-byte id is `bytes[at..at+20)` (a tree entry's), or -1. */
  indexAt(bytes: Uint8Array, at: number): number {
    return this.#find(bytes, at);
  }

  typeAt(i: number): GitObjectType {
    return TYPE_NAMES[this.#types[i] as number] as GitObjectType;
  }

  sizeAt(i: number): number {
    return this.#sizes[i] as number;
  }

  /** Object `i`'s bytes, the caller's own. */
  readOwnedAt(i: number): Uint8Array {
    this.#at(i);
    return this.#rBuf.slice(this.#rStart, this.#rStart + this.#rLength);
  }

  /**
   * Copies object `i`'s bytes into `out` from `at` on (room for `sizeAt(i)` bytes): the caller's
   * own array, with no array made here.
   */
  readInto(i: number, out: Uint8Array, at: number): void {
    this.#at(i);
    copyBytes(this.#rBuf, this.#rStart, out, at, this.#rLength);
  }

  /** The tree id of a commit. */
  commitTree(oid: string): string {
    const bytes = this.read(oid, "commit");
    const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 46)).toString("latin1");
    const match = /^tree ([0-9a-f]{40})\n/.exec(head);
    if (!match?.[1]) throw damaged(`commit ${oid} names no tree`);
    return match[1];
  }

  /**
   * Applies a git delta (copy and insert instructions, `delta[0..deltaLength)`) to its base
   * (`base[baseStart, +baseLength)`), into result buffer `target` from HEADROOM on; returns the size.
   */
  #applyDelta(
    base: Uint8Array,
    baseStart: number,
    baseLength: number,
    delta: Uint8Array,
    deltaLength: number,
    at: number,
    target: 0 | 1,
  ): number {
    let pos = 0;
    let baseSize = 0;
    let c: number;
    let scale = 1;
    do {
      c = pos < deltaLength ? (delta[pos++] as number) : 0;
      baseSize += (c & 0x7f) * scale;
      scale *= 128;
    } while (c & 0x80 && pos < deltaLength);
    if (baseSize !== baseLength) throw damaged(`the delta at ${at} expects a base of ${baseSize} bytes`);
    let size = 0;
    scale = 1;
    do {
      c = pos < deltaLength ? (delta[pos++] as number) : 0;
      size += (c & 0x7f) * scale;
      scale *= 128;
    } while (c & 0x80 && pos < deltaLength);
    const out = this.#room(target, size);
    let written = 0;
    while (pos < deltaLength) {
      const op = delta[pos++] as number;
      if (op & 0x80) {
        let offset = 0;
        let length = 0;
        if (op & 0x01) offset |= pos < deltaLength ? (delta[pos++] as number) : 0;
        if (op & 0x02) offset |= (pos < deltaLength ? (delta[pos++] as number) : 0) << 8;
        if (op & 0x04) offset |= (pos < deltaLength ? (delta[pos++] as number) : 0) << 16;
        if (op & 0x08) offset = (offset | ((pos < deltaLength ? (delta[pos++] as number) : 0) << 24)) >>> 0;
        if (op & 0x10) length |= pos < deltaLength ? (delta[pos++] as number) : 0;
        if (op & 0x20) length |= (pos < deltaLength ? (delta[pos++] as number) : 0) << 8;
        if (op & 0x40) length |= (pos < deltaLength ? (delta[pos++] as number) : 0) << 16;
        if (length === 0) length = 0x10000;
        if (offset + length > baseLength || written + length > size) {
          throw damaged(`the delta at ${at} copies outside its base`);
        }
        copyBytes(base, baseStart + offset, out, HEADROOM + written, length);
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
}

/**
 * Walks trees depth first with no copy and no object per tree or entry: a tree entered is read
 * into one stack buffer, above the trees it sits in, and dropped from it when left. The current
 * entry is in fields (its mode, and where its name and id sit in `bytes`); the path of the folder
 * entered is kept as bytes too, so that a file's path is made as one string, and only when asked
 * (a path joined from names was three strings per file, and a rope V8 flattened again later).
 */
export class TreeWalk {
  readonly #store: PackStore;
  /** The trees entered, innermost last. Positions stay valid when it grows; the array does not. */
  bytes: Uint8Array = new Uint8Array(16 * 1024);
  /** Per level (3 numbers): where its tree starts, where its next entry is, where it ends. */
  #levels = new Int32Array(3 * 32);
  /** Per level: the length of the folder path before entering it. */
  #pathLengths = new Int32Array(32);
  #depth = 0;
  #top = 0;
  /**
   * The entered folders' path, `a/b/` (empty at the walk's top), and the same memory as a Buffer
   * for decoding: only Uint8Arrays go through `copyBytes` (a Buffer there made V8 drop its
   * optimised code, and run it unoptimised, boxing numbers, until it optimised it again).
   */
  #path = new Uint8Array(1024);
  #pathText = Buffer.from(this.#path.buffer);
  #pathLength = 0;
  /** The current entry: its mode (0o40000 a folder, 0o100644 a file...), name and id in `bytes`. */
  mode = 0;
  nameStart = 0;
  nameEnd = 0;
  idAt = 0;

  constructor(store: PackStore) {
    this.#store = store;
  }

  /**
   * Enters tree `i`: at the top (depth 0) as the walk's root, else as the current entry's folder,
   * whose name joins the path.
   */
  enter(i: number): void {
    const store = this.#store;
    if (store.typeAt(i) !== "tree") throw damaged(`object ${i} is not a tree`);
    const depth = this.#depth;
    if (3 * (depth + 1) > this.#levels.length) {
      const levels = new Int32Array(this.#levels.length * 2);
      levels.set(this.#levels);
      this.#levels = levels;
      const lengths = new Int32Array(this.#pathLengths.length * 2);
      lengths.set(this.#pathLengths);
      this.#pathLengths = lengths;
    }
    this.#pathLengths[depth] = this.#pathLength;
    if (depth > 0) {
      const nameLength = this.nameEnd - this.nameStart;
      this.#pathRoom(nameLength + 1);
      copyBytes(this.bytes, this.nameStart, this.#path, this.#pathLength, nameLength);
      this.#pathLength += nameLength;
      this.#path[this.#pathLength++] = 0x2f;
    }
    const size = store.sizeAt(i);
    const start = this.#top;
    if (start + size > this.bytes.length) {
      const grown = new Uint8Array(Math.max(2 * this.bytes.length, start + size + (size >>> 2)));
      copyBytes(this.bytes, 0, grown, 0, start);
      this.bytes = grown;
    }
    store.readInto(i, this.bytes, start);
    this.#top = start + size;
    const levels = this.#levels;
    levels[3 * depth] = start;
    levels[3 * depth + 1] = start;
    levels[3 * depth + 2] = start + size;
    this.#depth = depth + 1;
  }

  /** Leaves the innermost tree (its bytes dropped, its name off the path). */
  leave(): void {
    const depth = --this.#depth;
    this.#top = this.#levels[3 * depth] as number;
    this.#pathLength = this.#pathLengths[depth] as number;
  }

  /** Back to no tree entered. */
  reset(): void {
    this.#depth = 0;
    this.#top = 0;
    this.#pathLength = 0;
  }

  /**
   * Depth first through everything entered: the next entry, leaving each tree after its last one
   * (a folder the caller `enter`s is walked before its siblings); false when the outermost tree
   * is done.
   */
  advance(): boolean {
    for (;;) {
      if (this.next()) return true;
      this.leave();
      if (this.#depth === 0) return false;
    }
  }

  /** Moves to the innermost tree's next entry; false after its last. */
  next(): boolean {
    const levels = this.#levels;
    const at = 3 * (this.#depth - 1);
    const pos = levels[at + 1] as number;
    const end = levels[at + 2] as number;
    if (pos >= end) return false;
    const bytes = this.bytes;
    let space = pos;
    while (space < end && bytes[space] !== 0x20) space++;
    let nul = space + 1;
    while (nul < end && bytes[nul] !== 0) nul++;
    if (space >= end || nul + 21 > end) throw damaged("a tree is malformed");
    let mode = 0;
    for (let k = pos; k < space; k++) {
      const digit = (bytes[k] as number) - 0x30;
      if (digit < 0 || digit > 7) throw damaged("a tree entry has a malformed mode");
      mode = mode * 8 + digit;
    }
    this.mode = mode;
    this.nameStart = space + 1;
    this.nameEnd = nul;
    this.idAt = nul + 1;
    levels[at + 1] = nul + 21;
    return true;
  }

  /** The pack's index of the current entry's object, or -1. */
  entryIndex(): number {
    return this.#store.indexAt(this.bytes, this.idAt);
  }

  /** The current entry's name. */
  name(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length).toString(
      "utf8",
      this.nameStart,
      this.nameEnd,
    );
  }

  /** The current entry's path from the walk's root (`a/b/name`), as one string. */
  path(): string {
    const nameLength = this.nameEnd - this.nameStart;
    this.#pathRoom(nameLength);
    copyBytes(this.bytes, this.nameStart, this.#path, this.#pathLength, nameLength);
    return this.#pathText.toString("utf8", 0, this.#pathLength + nameLength);
  }

  /** The current entry's id, as hex (for messages). */
  id(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length).toString(
      "hex",
      this.idAt,
      this.idAt + 20,
    );
  }

  #pathRoom(more: number): void {
    if (this.#pathLength + more <= this.#path.length) return;
    const grown = new Uint8Array(Math.max(2 * this.#path.length, this.#pathLength + more));
    grown.set(this.#path.subarray(0, this.#pathLength));
    this.#path = grown;
    this.#pathText = Buffer.from(grown.buffer);
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function sameId(a: Uint8Array, at: number, b: Uint8Array, bt: number): boolean {
  for (let k = 0; k < 20; k++) if (a[at + k] !== b[bt + k]) return false;
  return true;
}

/**
 * `to.set(from.subarray(...), at)` without the view, up to 16 KiB: a delta is mostly copies of a
 * few dozen bytes, and files and trees are mostly a few KiB; a view per copy (`Buffer#copy` makes
 * one too) was most of what reading a pack allocated on the V8 heap. The loop copies about
 * 600 MB/s here, the native copy ten times that: above 16 KiB the view is the better deal.
 */
function copyBytes(from: Uint8Array, start: number, to: Uint8Array, at: number, length: number): void {
  if (length > 16 * 1024) {
    to.set(from.subarray(start, start + length), at);
    return;
  }
  for (let i = 0; i < length; i++) to[at + i] = from[start + i] as number;
}
