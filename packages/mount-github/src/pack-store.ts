import { createHash } from "node:crypto";
import { inflateSync } from "node:zlib";
import { MountError } from "@ws/core";

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

interface Resolved {
  readonly type: number;
  readonly bytes: Uint8Array;
}

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

/**
 * The objects of one git pack, kept as the pack itself plus a small index (object id → offset,
 * type, size), read on demand.
 *
 * Why not isomorphic-git's object store: it indexes the pack in JavaScript with pako, allocating
 * a fresh inflate state (tens of KiB) per object, keeps inflated delta bases while reading, and
 * copies the pack on every `fs.read`: its clone alone peaked at 32x the pack on the benchmark's
 * 3,000-file repository. Here every object is inflated once by node:zlib to learn its id (so a
 * damaged pack fails before anything is written), each later read inflates only that object (and
 * its delta bases), and bases are kept in a cache bounded in bytes.
 */
export class PackStore {
  readonly #pack: Uint8Array;
  readonly #objects = new Map<string, PackEntry>();
  readonly #byOffset = new Map<number, PackEntry>();
  readonly #cache = new Map<number, Resolved>();
  /** Offsets of the objects some delta is made against: the only ones worth caching. */
  readonly #bases = new Set<number>();
  #indexing = true;
  #cacheBytes = 0;
  readonly #cacheLimit: number;

  private constructor(pack: Uint8Array) {
    this.#pack = pack;
    // Enough for the delta bases in use at once; never more than the pack itself.
    this.#cacheLimit = Math.max(256 * 1024, Math.min(16 * 1024 * 1024, pack.length >>> 1));
  }

  /** Bytes of the pack. */
  get packBytes(): number {
    return this.#pack.length;
  }

  /** Number of objects. */
  get size(): number {
    return this.#objects.size;
  }

  /**
   * Checks the pack (signature, version, trailing SHA-1) and indexes it: every object is inflated,
   * its deltas resolved and its id computed, so a damaged pack fails here, before anything is written.
   */
  static index(pack: Uint8Array): PackStore {
    if (pack.length < 32) throw damaged(`${pack.length} bytes`);
    const view = new DataView(pack.buffer, pack.byteOffset, pack.byteLength);
    if (view.getUint32(0) !== 0x5041434b) throw damaged("no PACK signature");
    const version = view.getUint32(4);
    if (version !== 2 && version !== 3) throw damaged(`version ${version}`);
    const trailer = Buffer.from(pack.buffer, pack.byteOffset + pack.length - 20, 20).toString("hex");
    const sum = createHash("sha1")
      .update(pack.subarray(0, pack.length - 20))
      .digest("hex");
    if (sum !== trailer) throw damaged("its SHA-1 does not match its trailer");
    const count = view.getUint32(8);
    const store = new PackStore(pack);
    const deferred: { offset: number; header: Header; end: number }[] = [];
    let pos = 12;
    for (let i = 0; i < count; i++) {
      const offset = pos;
      const header = store.#header(offset);
      const { data, end } = store.#inflate(header, undefined);
      pos = end;
      if (header.type === REF_DELTA && header.baseOid !== undefined && !store.#objects.has(header.baseOid)) {
        // Its base comes later in the pack: resolved once the pass is over.
        deferred.push({ offset, header, end });
        continue;
      }
      store.#add(offset, end, store.#resolveData(offset, header, data));
    }
    if (pos !== pack.length - 20) throw damaged(`${pack.length - 20 - pos} bytes after the last object`);
    for (let progress = true; deferred.length > 0 && progress; ) {
      progress = false;
      for (let i = 0; i < deferred.length; i++) {
        const d = deferred[i];
        if (!d || (d.header.baseOid !== undefined && !store.#objects.has(d.header.baseOid))) continue;
        const { data } = store.#inflate(d.header, d.end);
        store.#add(d.offset, d.end, store.#resolveData(d.offset, d.header, data));
        deferred.splice(i--, 1);
        progress = true;
      }
    }
    if (deferred.length > 0) {
      throw damaged(`${deferred.length} deltas against objects the pack does not hold`);
    }
    store.#indexing = false;
    store.trim();
    return store;
  }

  #add(offset: number, end: number, resolved: Resolved): void {
    const oid = objectId(resolved.type, resolved.bytes);
    const entry: PackEntry = { offset, end, type: resolved.type, size: resolved.bytes.length };
    this.#objects.set(oid, entry);
    this.#byOffset.set(offset, entry);
    // While indexing, any object may be the base of a later delta.
    this.#remember(offset, resolved);
  }

  #header(offset: number): Header {
    const pack = this.#pack;
    let pos = offset;
    const byte = (): number => {
      const b = pack[pos++];
      if (b === undefined) throw damaged(`an entry at ${offset} runs past the end`);
      return b;
    };
    let c = byte();
    const type = (c >> 4) & 7;
    let size = c & 15;
    let shift = 4;
    while (c & 0x80) {
      c = byte();
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (type === OFS_DELTA) {
      c = byte();
      let distance = c & 0x7f;
      while (c & 0x80) {
        c = byte();
        distance = (distance + 1) * 128 + (c & 0x7f);
      }
      if (distance <= 0 || distance > offset) throw damaged(`a delta at ${offset} points outside the pack`);
      return { type, size, dataStart: pos, baseOffset: offset - distance };
    }
    if (type === REF_DELTA) {
      if (pos + 20 > pack.length) throw damaged(`an entry at ${offset} runs past the end`);
      const baseOid = Buffer.from(pack.buffer, pack.byteOffset + pos, 20).toString("hex");
      return { type, size, dataStart: pos + 20, baseOid };
    }
    if (!TYPE_NAMES[type]) throw damaged(`unknown object type ${type} at ${offset}`);
    return { type, size, dataStart: pos };
  }

  /** Inflates an entry's own data; `end` (when known) bounds the input exactly. */
  #inflate(header: Header, end: number | undefined): { data: Uint8Array; end: number } {
    const input = this.#pack.subarray(header.dataStart, end ?? this.#pack.length - 20);
    let result: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      // One output chunk of the known size: no intermediate buffers, and no more than stated.
      result = inflateSync(input, {
        info: true,
        chunkSize: Math.max(64, header.size + 1),
        maxOutputLength: Math.max(1, header.size),
      }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    } catch (error) {
      throw damaged(`an object at ${header.dataStart} does not inflate: ${(error as Error).message}`);
    }
    if (result.buffer.length !== header.size) {
      throw damaged(
        `an object at ${header.dataStart} inflates to ${result.buffer.length} bytes, not ${header.size}`,
      );
    }
    return { data: result.buffer, end: header.dataStart + result.engine.bytesWritten };
  }

  #resolveData(offset: number, header: Header, data: Uint8Array): Resolved {
    if (header.type !== OFS_DELTA && header.type !== REF_DELTA) return { type: header.type, bytes: data };
    const baseOffset =
      header.baseOffset ??
      (header.baseOid === undefined ? undefined : this.#objects.get(header.baseOid)?.offset);
    if (baseOffset === undefined) throw damaged(`the base of the delta at ${offset} is missing`);
    this.#bases.add(baseOffset);
    const base = this.#at(baseOffset);
    return { type: base.type, bytes: applyDelta(base.bytes, data, offset) };
  }

  /** The resolved object whose entry starts at `offset`. */
  #at(offset: number): Resolved {
    const cached = this.#cache.get(offset);
    if (cached) {
      // Most recently used last.
      this.#cache.delete(offset);
      this.#cache.set(offset, cached);
      return cached;
    }
    const entry = this.#byOffset.get(offset);
    const header = this.#header(offset);
    const { data } = this.#inflate(header, entry?.end);
    const resolved = this.#resolveData(offset, header, data);
    if (this.#indexing || this.#bases.has(offset)) this.#remember(offset, resolved);
    return resolved;
  }

  #remember(offset: number, resolved: Resolved): void {
    const size = resolved.bytes.length;
    if (size > this.#cacheLimit / 4) return;
    this.#cache.set(offset, resolved);
    this.#cacheBytes += size;
    for (const [key, old] of this.#cache) {
      if (this.#cacheBytes <= this.#cacheLimit) break;
      this.#cache.delete(key);
      this.#cacheBytes -= old.bytes.length;
    }
  }

  /** Drops the delta bases kept for reading (the pack and its index stay). */
  trim(): void {
    this.#cache.clear();
    this.#cacheBytes = 0;
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

  /** An object's bytes, possibly shared with the store's cache: read them, do not keep or change them. */
  read(oid: string, expected?: GitObjectType): Uint8Array {
    const entry = this.#objects.get(oid);
    if (!entry) throw damaged(`object ${oid} is not in the pack`);
    const name = TYPE_NAMES[entry.type];
    if (expected && name !== expected) throw damaged(`object ${oid} is a ${name}, not a ${expected}`);
    return this.#at(entry.offset).bytes;
  }

  /** An object's bytes, the caller's own (a copy only when the store keeps them as a delta base). */
  readOwned(oid: string, expected?: GitObjectType): Uint8Array {
    const bytes = this.read(oid, expected);
    const entry = this.#objects.get(oid);
    return entry && this.#cache.get(entry.offset)?.bytes === bytes ? bytes.slice() : bytes;
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
    const items: GitTreeItem[] = [];
    const decoder = new TextDecoder();
    let pos = 0;
    while (pos < bytes.length) {
      const space = bytes.indexOf(0x20, pos);
      const nul = space < 0 ? -1 : bytes.indexOf(0, space + 1);
      if (space < 0 || nul < 0 || nul + 21 > bytes.length) throw damaged(`tree ${oid} is malformed`);
      const mode = decoder.decode(bytes.subarray(pos, space));
      const name = decoder.decode(bytes.subarray(space + 1, nul));
      const id = Buffer.from(bytes.buffer, bytes.byteOffset + nul + 1, 20).toString("hex");
      items.push({ name, mode: mode.padStart(6, "0"), oid: id });
      pos = nul + 21;
    }
    return items;
  }
}

/** Git's object id: SHA-1 over `<type> <size>\0` and the bytes. */
function objectId(type: number, bytes: Uint8Array): string {
  return createHash("sha1").update(`${TYPE_NAMES[type]} ${bytes.length}\0`).update(bytes).digest("hex");
}

/** Applies a git delta (copy and insert instructions) to its base. */
function applyDelta(base: Uint8Array, delta: Uint8Array, at: number): Uint8Array {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    let c: number;
    do {
      c = delta[pos++] ?? 0;
      value += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80 && pos < delta.length);
    return value;
  };
  const baseSize = varint();
  if (baseSize !== base.length) throw damaged(`the delta at ${at} expects a base of ${baseSize} bytes`);
  const size = varint();
  const out = new Uint8Array(size);
  let written = 0;
  while (pos < delta.length) {
    const op = delta[pos++] ?? 0;
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      if (op & 0x01) offset |= delta[pos++] ?? 0;
      if (op & 0x02) offset |= (delta[pos++] ?? 0) << 8;
      if (op & 0x04) offset |= (delta[pos++] ?? 0) << 16;
      if (op & 0x08) offset = (offset | ((delta[pos++] ?? 0) << 24)) >>> 0;
      if (op & 0x10) length |= delta[pos++] ?? 0;
      if (op & 0x20) length |= (delta[pos++] ?? 0) << 8;
      if (op & 0x40) length |= (delta[pos++] ?? 0) << 16;
      if (length === 0) length = 0x10000;
      if (offset + length > base.length || written + length > size) {
        throw damaged(`the delta at ${at} copies outside its base`);
      }
      out.set(base.subarray(offset, offset + length), written);
      written += length;
    } else if (op !== 0) {
      if (pos + op > delta.length || written + op > size) throw damaged(`the delta at ${at} is truncated`);
      out.set(delta.subarray(pos, pos + op), written);
      written += op;
      pos += op;
    } else throw damaged(`the delta at ${at} has a reserved instruction`);
  }
  if (written !== size) throw damaged(`the delta at ${at} yields ${written} bytes, not ${size}`);
  return out;
}
