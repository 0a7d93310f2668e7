import { promisify } from "node:util";
import { crc32, inflateRawSync } from "node:zlib";
import { MountError, quotaExceeded } from "@ws/core";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { archiveError } from "./archive-error.js";
import type { InflateBudget } from "./bundle-limits.js";
import type { ArchiveMember, BundleTree, MemberType } from "./bundle-tree.js";
import { quoteName } from "./entry-name.js";

const fromBuffer = promisify(yauzl.fromBuffer) as (
  buffer: Buffer,
  options: yauzl.Options,
) => Promise<ZipFile>;

const LOCAL_HEADER = 0x04034b50;
const UNIX = 3;

interface Located {
  readonly entry: Entry;
  readonly start: number;
  readonly dataStart: number;
  readonly end: number;
}

/**
 * Entries up to this compressed size are inflated in one bounded synchronous call (zlib stops at
 * the declared size + 1 byte, so a lying size or a bomb fails while inflating); larger ones stream
 * through yauzl chunk by chunk. Streaming 10,000 small entries costs a thread-pool round trip
 * each, which made a 10,000-file zip 3x slower than unzip.
 */
const STREAM_ABOVE = 1024 * 1024;

function unixType(mode: number): MemberType | undefined {
  switch (mode & 0o170000) {
    case 0o120000:
      return "symlink";
    case 0o040000:
      return "directory";
    case 0o100000:
    case 0:
      return undefined;
    case 0o020000:
      return "character-device";
    case 0o060000:
      return "block-device";
    case 0o010000:
      return "fifo";
    case 0o140000:
      return "socket";
    default:
      return "unknown";
  }
}

/**
 * Reads a zip through `yauzl` (strict file names, validated entry sizes) into the tree. Before any
 * entry is inflated, the central directory is checked against each local header (name, method,
 * sizes, CRC) and entries may not overlap: the two tricks behind non-recursive zip bombs and behind
 * archives that unpack differently in different tools. Declared sizes are checked against the caps
 * first; actual bytes are counted again while inflating, in case the declaration lies.
 */
export async function readZip(
  bytes: Uint8Array,
  tree: BundleTree,
  budget: InflateBudget,
  what: string,
): Promise<void> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const root = budget.root;
  const refuse = (message: string, code: MountError["code"] = "EINVAL"): MountError =>
    new MountError(code, `${what}: ${message}`, { path: root, root });
  let zip: ZipFile;
  try {
    zip = await fromBuffer(buffer, {
      lazyEntries: true,
      autoClose: false,
      strictFileNames: true,
      validateEntrySizes: true,
      decodeStrings: true,
    });
  } catch (error) {
    throw archiveError(error, what, root);
  }
  try {
    if (zip.entryCount > 2 * budget.limits.maxEntries)
      throw quotaExceeded("maxEntries", budget.limits.maxEntries, zip.entryCount, root, what);
    const centralDirectory = (zip as unknown as { readEntryCursor: number }).readEntryCursor;
    const located: Located[] = [];
    let declared = 0;
    try {
      for await (const entry of zip.eachEntry()) {
        declared += entry.uncompressedSize;
        if (declared > budget.limits.maxBytes)
          throw quotaExceeded("maxBytes", budget.limits.maxBytes, declared, root, entry.fileName);
        const limits = budget.limits;
        if (
          entry.uncompressedSize > limits.expansionFloor &&
          entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxExpansion
        ) {
          throw new MountError(
            "EDQUOT",
            `${what}: entry ${quoteName(entry.fileName)} declares ${entry.uncompressedSize} bytes from ${entry.compressedSize} compressed, above maxExpansion ${limits.maxExpansion}:1 (a zip bomb?); raise maxExpansion if the bundle is genuine`,
            { path: root, root },
          );
        }
        located.push(locate(buffer, entry, centralDirectory, refuse));
      }
    } catch (error) {
      throw MountError.isInstance(error) ? error : zipNameError(error, what, root);
    }
    located.sort((a, b) => a.start - b.start);
    for (let i = 1; i < located.length; i++) {
      const prev = located[i - 1] as Located;
      const next = located[i] as Located;
      if (prev.end > next.start) {
        throw refuse(
          `entries ${quoteName(prev.entry.fileName)} and ${quoteName(next.entry.fileName)} overlap in the file (bytes ${next.start}-${prev.end}): a zip bomb's trick, refused`,
        );
      }
    }
    located.sort((a, b) => a.entry.relativeOffsetOfLocalHeader - b.entry.relativeOffsetOfLocalHeader);
    for (const item of located) tree.add(await member(zip, buffer, item, budget, what, refuse));
  } catch (error) {
    throw archiveError(error, what, root);
  } finally {
    zip.close();
  }
}

/** The yauzl name checks (strictFileNames) raise plain errors: they are refusals, not damage. */
function zipNameError(error: unknown, what: string, root: string | undefined): MountError {
  const message = error instanceof Error ? error.message : String(error);
  if (/invalid characters in fileName|absolute path|invalid relative path/.test(message)) {
    return new MountError("EINVAL", `${what}: entry refused: ${message}`, { path: root, root, cause: error });
  }
  return archiveError(error, what, root);
}

function locate(
  buffer: Buffer,
  entry: Entry,
  centralDirectory: number,
  refuse: (message: string) => MountError,
): Located {
  const name = quoteName(entry.fileName);
  const at = entry.relativeOffsetOfLocalHeader;
  if (at + 30 > buffer.length || buffer.readUInt32LE(at) !== LOCAL_HEADER)
    throw refuse(`entry ${name} points at offset ${at}, where there is no local file header`);
  const flags = buffer.readUInt16LE(at + 6);
  const method = buffer.readUInt16LE(at + 8);
  const crc = buffer.readUInt32LE(at + 14);
  const compressed = buffer.readUInt32LE(at + 18);
  const uncompressed = buffer.readUInt32LE(at + 22);
  const nameLength = buffer.readUInt16LE(at + 26);
  const extraLength = buffer.readUInt16LE(at + 28);
  const start = at;
  const dataStart = at + 30 + nameLength + extraLength;
  const end = dataStart + entry.compressedSize;
  const disagree = (field: string, local: string | number, central: string | number): never => {
    throw refuse(
      `entry ${name}: the central directory and the local header disagree on the ${field} (${central} vs ${local}); tools would unpack different things`,
    );
  };
  const localName = buffer.subarray(at + 30, at + 30 + nameLength);
  const centralName = (entry as Entry & { fileNameRaw: Buffer }).fileNameRaw;
  if (!localName.equals(centralName)) disagree("name", quoteName(localName.toString("latin1")), name);
  if (method !== entry.compressionMethod) disagree("compression method", method, entry.compressionMethod);
  if ((flags & 0x8) === 0) {
    // Without a data descriptor the local header carries the real values (0xffffffff: in zip64 extra).
    if (crc !== entry.crc32) disagree("CRC-32", crc, entry.crc32);
    if (compressed !== 0xffffffff && compressed !== entry.compressedSize)
      disagree("compressed size", compressed, entry.compressedSize);
    if (uncompressed !== 0xffffffff && uncompressed !== entry.uncompressedSize)
      disagree("uncompressed size", uncompressed, entry.uncompressedSize);
  }
  if (end > centralDirectory)
    throw refuse(
      `entry ${name}'s data (offset ${dataStart}, ${entry.compressedSize} bytes) runs into the central directory`,
    );
  return { entry, start, dataStart, end };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The array covers its whole, plain ArrayBuffer (no pool slab, no larger chunk behind it). */
function isWhole(data: Uint8Array): boolean {
  return (
    data.byteOffset === 0 && data.buffer instanceof ArrayBuffer && data.byteLength === data.buffer.byteLength
  );
}

function ownedCopy(data: Uint8Array): Uint8Array {
  const out: Uint8Array = Buffer.allocUnsafeSlow(data.length);
  out.set(data);
  return out;
}

/**
 * The entry's name. Without the UTF-8 flag and without a Unicode Path extra field, yauzl decodes
 * names as CP437, as the zip specification says; but Info-ZIP's zip on Linux stores UTF-8 bytes
 * without setting the flag, and unzip writes those bytes as they are. Bytes that are valid UTF-8
 * are therefore read as UTF-8 (what unzip, 7-Zip and macOS do); the others stay CP437.
 */
function entryName(entry: Entry): string {
  if ((entry.generalPurposeBitFlag & 0x800) !== 0) return entry.fileName;
  if (entry.extraFields.some((f) => f.id === 0x7075)) return entry.fileName;
  const raw = (entry as Entry & { fileNameRaw: Buffer }).fileNameRaw;
  if (raw.every((b) => b < 0x80)) return entry.fileName;
  try {
    return utf8.decode(raw);
  } catch {
    return entry.fileName;
  }
}

async function member(
  zip: ZipFile,
  buffer: Buffer,
  { entry, dataStart }: Located,
  budget: InflateBudget,
  what: string,
  refuse: (message: string, code?: MountError["code"]) => MountError,
): Promise<ArchiveMember> {
  const name = entryName(entry);
  const unix = entry.versionMadeBy >> 8 === UNIX;
  const attributes = unix ? entry.externalFileAttributes >>> 16 : 0;
  const mode = unix && attributes !== 0 ? attributes & 0o7777 : undefined;
  let type: MemberType = name.endsWith("/") ? "directory" : (unixType(attributes) ?? "file");
  if (type === "directory" && !name.endsWith("/") && entry.uncompressedSize > 0) type = "unknown";
  if (type !== "file" && type !== "symlink")
    return { name, type, mode, rawType: `unix mode ${attributes.toString(8)}` };
  if (entry.isEncrypted())
    throw refuse(`entry ${quoteName(name)} is encrypted; encrypted zips are not supported`, "ENOTSUP");
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)
    throw refuse(
      `entry ${quoteName(name)} uses compression method ${entry.compressionMethod}; only stored (0) and deflate (8) are supported`,
      "ENOTSUP",
    );
  budget.declare(entry.uncompressedSize, name);
  const lies = (detail: string, cause?: unknown): MountError =>
    new MountError(
      "EIO",
      `${what}: entry ${quoteName(name)} is damaged or its declared size lies: ${detail}`,
      {
        path: budget.root,
        root: budget.root,
        cause,
      },
    );
  let data: Uint8Array;
  // Whether `data` was made here for this entry alone (not a view into the archive).
  let fresh = false;
  if (entry.compressedSize <= STREAM_ABOVE) {
    const raw = buffer.subarray(dataStart, dataStart + entry.compressedSize);
    if (entry.compressionMethod === 0) data = raw;
    else {
      try {
        data = inflateRawSync(raw, {
          // One byte past the declared size is read when there is one: a liar then inflates to
          // a different length and is refused below.
          maxOutputLength: entry.uncompressedSize + 1,
          // One output buffer of exactly the declared size (zlib's default 16 KiB chunks would be
          // allocated and concatenated for every entry). From 4 KiB up it is its own ArrayBuffer,
          // so a truthful entry's result is handed to the host as is, without a copy.
          chunkSize: Math.max(64, entry.uncompressedSize),
        });
        fresh = true;
      } catch (error) {
        const tooLong = (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
        throw lies(
          tooLong
            ? `it inflates to more than the declared ${entry.uncompressedSize} bytes`
            : (error as Error).message,
          error,
        );
      }
    }
    if (data.length !== entry.uncompressedSize)
      throw lies(`${data.length} bytes inflated, ${entry.uncompressedSize} declared`);
    budget.addBytes(data.length, name);
    budget.checkExpansion(data.length, entry.compressedSize, `${what} entry ${quoteName(name)}`);
  } else {
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (error, s) => (error ? reject(error) : resolve(s))),
    );
    const parts: Buffer[] = [];
    let got = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        got += chunk.length;
        budget.addBytes(chunk.length, name);
        budget.checkExpansion(got, entry.compressedSize, `${what} entry ${quoteName(name)}`);
        parts.push(chunk);
      }
    } catch (error) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw MountError.isInstance(error) ? error : lies((error as Error).message, error);
    }
    data = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, got);
    fresh = parts.length > 1;
  }
  const actual = crc32(data) >>> 0;
  if (actual !== entry.crc32) {
    throw new MountError(
      "EIO",
      `${what}: entry ${quoteName(name)} fails its CRC-32 check (stored ${entry.crc32.toString(16)}, computed ${actual.toString(16)}): the archive is damaged`,
      { path: budget.root, root: budget.root },
    );
  }
  if (type === "symlink")
    return { name, type, mode, linkname: new TextDecoder("utf-8", { fatal: false }).decode(data) };
  // The host keeps an owned array as the file's content: it must be exactly the entry's bytes and
  // nobody else's. A stored entry is a view into the archive, a small inflated one a slice of
  // Node's buffer pool: those are copied once into an array of their own.
  return { name, type, mode, data: fresh && isWhole(data) ? data : ownedCopy(data), owned: true };
}
