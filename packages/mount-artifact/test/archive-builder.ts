/**
 * Byte-level archive builders for the tests: every field is set by hand, so an archive can say
 * exactly the hostile thing a test needs (a lying size, a name with a NUL, a central directory that
 * disagrees with its local headers), which no well-behaved tool would write.
 */
import { crc32, deflateRawSync, gzipSync } from "node:zlib";

const enc = new TextEncoder();

export function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? enc.encode(value) : value;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// ------------------------------------------------------------------------------------------ tar

export interface TarEntry {
  readonly name: string;
  /** Typeflag character: "0" file, "1" hard link, "2" symlink, "3" char, "4" block, "5" dir, "6" fifo, "x" pax, "S" sparse... */
  readonly type?: string;
  readonly mode?: number;
  readonly data?: string | Uint8Array;
  readonly linkname?: string;
  /** The size field, when it should differ from the data's length. */
  readonly size?: number;
  /** Corrupt the header checksum. */
  readonly badChecksum?: boolean;
  /** Pax records written in an "x" header before this entry. */
  readonly pax?: Readonly<Record<string, string>>;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

export function tarHeader(entry: TarEntry, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (offset: number, value: Uint8Array | string, max: number) => {
    const b = bytesOf(value);
    if (b.length > max) throw new Error(`tar field too long: ${b.length} > ${max}`);
    h.set(b, offset);
  };
  put(0, entry.name, 100);
  put(100, octal(entry.mode ?? (entry.type === "5" ? 0o755 : 0o644), 8), 8);
  put(108, octal(0, 8), 8);
  put(116, octal(0, 8), 8);
  put(124, octal(size, 12), 12);
  put(136, octal(1_700_000_000, 12), 12);
  put(156, entry.type ?? "0", 1);
  if (entry.linkname !== undefined) put(157, entry.linkname, 100);
  put(257, "ustar\0", 6);
  put(263, "00", 2);
  put(265, "root", 32);
  put(297, "root", 32);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  if (entry.badChecksum) sum += 1;
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `, 8);
  return h;
}

function padded(data: Uint8Array): Uint8Array {
  const rest = data.length % 512;
  return rest === 0 ? data : concatBytes([data, new Uint8Array(512 - rest)]);
}

function paxRecords(records: Readonly<Record<string, string>>): Uint8Array {
  let out = "";
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    let len = enc.encode(body).length + 1;
    while (String(len).length + enc.encode(body).length !== len) len++;
    out += `${len}${body}`;
  }
  return enc.encode(out);
}

/** The members of one tar, each header plus its padded data; `end: false` leaves off the two zero blocks. */
export function tar(entries: readonly TarEntry[], options: { end?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    if (entry.pax) {
      const body = paxRecords(entry.pax);
      parts.push(tarHeader({ name: "PaxHeaders/x", type: "x" }, body.length), padded(body));
    }
    const data = bytesOf(entry.data ?? "");
    parts.push(tarHeader(entry, entry.size ?? data.length), padded(data));
  }
  if (options.end !== false) parts.push(new Uint8Array(1024));
  return concatBytes(parts);
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes);
}

/**
 * A tar.gz whose one member is `mib` MiB of zeros, as a multi-member gzip: the header, then the
 * same 1 MiB-of-zeros gzip member repeated. About 1 KiB per MiB inflated: a bomb built in
 * milliseconds. `declaredMib` is the size the tar header claims.
 */
export function zeroBomb(mib: number, name = "zeros.bin", type = "0"): Uint8Array {
  const MiB = 1024 * 1024;
  const head = gzipSync(tarHeader({ name, type }, mib * MiB));
  const member = gzipSync(new Uint8Array(MiB), { level: 9 });
  const parts: Uint8Array[] = [head];
  for (let i = 0; i < mib; i++) parts.push(member);
  parts.push(gzipSync(new Uint8Array(1024)));
  return concatBytes(parts);
}

// ------------------------------------------------------------------------------------------ zip

export interface ZipEntry {
  readonly name: string;
  readonly data?: string | Uint8Array;
  /** 0 stored, 8 deflate (default for non-empty data), or anything else as given. */
  readonly method?: number;
  /** Unix mode including the file type bits (0o100644, 0o120777 for a symlink). */
  readonly unixMode?: number;
  readonly flags?: number;
  /** Overrides of what the central directory says. */
  readonly central?: {
    readonly name?: string | Uint8Array;
    readonly crc?: number;
    readonly compressedSize?: number;
    readonly uncompressedSize?: number;
    readonly localHeaderOffset?: number;
    readonly extra?: Uint8Array;
  };
  /** Overrides of what the local header says. */
  readonly local?: {
    readonly name?: string | Uint8Array;
    readonly uncompressedSize?: number;
    readonly method?: number;
  };
  /** Raw compressed bytes to store instead of compressing `data`. */
  readonly raw?: Uint8Array;
  /** A CRC-32 written in both headers instead of the data's. */
  readonly crc?: number;
  /** Only a central-directory record (pointing at `central.localHeaderOffset`), no local record. */
  readonly centralOnly?: boolean;
}

/** A zip with hand-set fields; `extraCentral` adds central-directory records pointing wherever they say. */
export function zip(entries: readonly ZipEntry[], options: { truncate?: number } = {}): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = bytesOf(entry.data ?? "");
    const method = entry.method ?? (data.length > 0 ? 8 : 0);
    const compressed = entry.raw ?? (method === 8 ? deflateRawSync(data) : data);
    const crc = entry.crc ?? crc32(data) >>> 0;
    const flags = (entry.flags ?? 0) | 0x800;
    const localName = bytesOf(entry.local?.name ?? entry.name);
    const local = new Uint8Array(30 + localName.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, entry.local?.method ?? method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, compressed.length, true);
    lv.setUint32(22, entry.local?.uncompressedSize ?? data.length, true);
    lv.setUint16(26, localName.length, true);
    local.set(localName, 30);
    const centralName = bytesOf(entry.central?.name ?? entry.name);
    const extra = entry.central?.extra ?? new Uint8Array(0);
    const central = new Uint8Array(46 + centralName.length + extra.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, entry.unixMode === undefined ? 20 : (3 << 8) | 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, entry.central?.crc ?? crc, true);
    cv.setUint32(20, entry.central?.compressedSize ?? compressed.length, true);
    cv.setUint32(24, entry.central?.uncompressedSize ?? data.length, true);
    cv.setUint16(28, centralName.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(38, entry.unixMode === undefined ? 0 : (entry.unixMode << 16) >>> 0, true);
    cv.setUint32(42, entry.central?.localHeaderOffset ?? offset, true);
    central.set(centralName, 46);
    central.set(extra, 46 + centralName.length);
    centrals.push(central);
    if (entry.centralOnly) continue;
    locals.push(local, compressed);
    offset += local.length + compressed.length;
  }
  const cd = concatBytes(centrals);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, offset, true);
  const out = concatBytes([...locals, cd, eocd]);
  return options.truncate === undefined ? out : out.subarray(0, options.truncate);
}

/** An Info-ZIP Unicode Path extra field (0x7075): readers that honour it use this name instead. */
export function unicodePathExtra(name: string, nameInHeader: string): Uint8Array {
  const n = enc.encode(name);
  const body = new Uint8Array(5 + n.length);
  const v = new DataView(body.buffer);
  body[0] = 1;
  v.setUint32(1, crc32(enc.encode(nameInHeader)) >>> 0, true);
  body.set(n, 5);
  const out = new Uint8Array(4 + body.length);
  const ov = new DataView(out.buffer);
  ov.setUint16(0, 0x7075, true);
  ov.setUint16(2, body.length, true);
  out.set(body, 4);
  return out;
}
