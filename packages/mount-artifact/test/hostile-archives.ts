/**
 * Every kind of hostile archive the provider must refuse, each built here from bytes (see
 * archive-builder.ts) with the code it must be refused with. `npx vitest run --project
 * mount-artifact hostile` runs them all; `HOSTILE_OUT=dir` also writes each archive to a file for
 * poking at with other tools.
 */
import type { MountErrorCode } from "@ws/core";
import type { ArtifactBundleOptions } from "../src/index.js";
import { concatBytes, gzip, tar, unicodePathExtra, zeroBomb, zip } from "./archive-builder.js";

export interface HostileCase {
  readonly id: string;
  readonly what: string;
  readonly code: MountErrorCode;
  readonly options?: ArtifactBundleOptions;
  /** `.tar`, `.tar.gz` or `.zip`, for the file written with HOSTILE_OUT. */
  readonly ext: string;
  build(): Uint8Array;
}

const MiB = 1024 * 1024;
const file = (name: string, data = "x") => ({ name, data });

/** Entry B's local record stored as entry A's data: B's bytes lie inside A's (Fifield's overlap). */
function overlappingZip(): Uint8Array {
  const inner = zip([{ name: "b.txt", data: "hello", method: 0 }]);
  const record = inner.subarray(0, 30 + 5 + 5);
  return zip([
    { name: "a.txt", data: record, method: 0 },
    { name: "b.txt", data: "hello", method: 0, centralOnly: true, central: { localHeaderOffset: 30 + 5 } },
  ]);
}

export const HOSTILE: readonly HostileCase[] = [
  // --- names -------------------------------------------------------------------------------
  {
    id: "tar-dotdot",
    what: "a ../ path",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([file("../evil.txt")]),
  },
  {
    id: "tar-nested-dotdot",
    what: "a path climbing out half-way (a/../../x)",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([file("a/../../evil.txt")]),
  },
  {
    id: "tar-absolute",
    what: "an absolute path",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([file("/etc/evil")]),
  },
  {
    id: "tar-backslash",
    what: "backslashes in a name",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([file("a\\..\\..\\evil.txt")]),
  },
  {
    id: "tar-nul",
    what: "a NUL byte in a (pax) name",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "x", data: "x", pax: { path: "safe.txt\0../../evil" } }]),
  },
  {
    id: "tar-newline",
    what: "a newline in a name",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([file("evil\nname.txt")]),
  },
  {
    id: "tar-escape",
    what: "a terminal escape sequence in a name",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([file("\x1b[2Jcleared.txt")]),
  },
  {
    id: "tar-pax-dotdot",
    what: "a pax path that climbs out behind an innocent ustar name",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "innocent.txt", data: "x", pax: { path: "../../evil.txt" } }]),
  },
  {
    id: "tar-long-segment",
    what: "a 300-byte name segment",
    code: "ENAMETOOLONG",
    ext: ".tar",
    build: () => tar([{ name: "x", data: "x", pax: { path: "a".repeat(300) } }]),
  },
  // --- tree shape --------------------------------------------------------------------------
  {
    id: "tar-duplicate",
    what: "the same file twice",
    code: "EEXIST",
    ext: ".tar",
    build: () => tar([file("a.txt", "one"), file("a.txt", "two")]),
  },
  {
    id: "tar-file-and-dir",
    what: "a file and a directory at one path",
    code: "ENOTDIR",
    ext: ".tar",
    build: () => tar([file("a"), { name: "a/", type: "5" }]),
  },
  {
    id: "tar-below-file",
    what: "an entry below a file",
    code: "ENOTDIR",
    ext: ".tar",
    build: () => tar([file("a"), file("a/b")]),
  },
  // --- links -------------------------------------------------------------------------------
  {
    id: "tar-symlink-absolute",
    what: "a symlink to an absolute path",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "passwd", type: "2", linkname: "/etc/passwd" }]),
  },
  {
    id: "tar-symlink-dotdot",
    what: "a symlink climbing out of the root",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "sub/up", type: "2", linkname: "../../etc/passwd" }]),
  },
  {
    id: "tar-symlink-chain",
    what: "two inside-looking links that escape together (s -> ., t -> s/..)",
    code: "EINVAL",
    ext: ".tar",
    build: () =>
      tar([
        { name: "s", type: "2", linkname: "." },
        { name: "t", type: "2", linkname: "s/.." },
      ]),
  },
  {
    id: "tar-symlink-loop",
    what: "a symlink loop",
    code: "ELOOP",
    ext: ".tar",
    build: () =>
      tar([
        { name: "a", type: "2", linkname: "b/x" },
        { name: "b", type: "2", linkname: "a/y" },
      ]),
  },
  {
    id: "tar-write-through-symlink",
    what: "a symlink out of the root, then a file written through it",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "tmp", type: "2", linkname: "/tmp" }, file("tmp/evil.sh", "#!/bin/sh\n")]),
  },
  {
    id: "tar-write-through-inner-symlink",
    what: "a file written through a symlink that stays inside",
    code: "EINVAL",
    ext: ".tar",
    build: () =>
      tar([{ name: "sub/", type: "5" }, { name: "l", type: "2", linkname: "sub" }, file("l/x.txt")]),
  },
  {
    id: "tar-hardlink-dotdot",
    what: "a hard link to ../../etc/passwd",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "h", type: "1", linkname: "../../etc/passwd" }]),
  },
  {
    id: "tar-hardlink-absolute",
    what: "a hard link to /etc/passwd",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "h", type: "1", linkname: "/etc/passwd" }]),
  },
  {
    id: "tar-hardlink-missing",
    what: "a hard link to something not in the archive (a host file by that name)",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "h", type: "1", linkname: "etc/shadow" }]),
  },
  {
    id: "tar-hardlink-forward",
    what: "a hard link to a member that comes later",
    code: "EINVAL",
    ext: ".tar",
    build: () => tar([{ name: "h", type: "1", linkname: "a.txt" }, file("a.txt")]),
  },
  // --- special files and modes ---------------------------------------------------------------
  {
    id: "tar-char-device",
    what: "a character device",
    code: "ENOTSUP",
    ext: ".tar",
    build: () => tar([{ name: "null", type: "3" }]),
  },
  {
    id: "tar-block-device",
    what: "a block device",
    code: "ENOTSUP",
    ext: ".tar",
    build: () => tar([{ name: "sda", type: "4" }]),
  },
  {
    id: "tar-fifo",
    what: "a FIFO",
    code: "ENOTSUP",
    ext: ".tar",
    build: () => tar([{ name: "pipe", type: "6" }]),
  },
  {
    id: "tar-sparse",
    what: "a GNU sparse member (a type the workspace cannot represent)",
    code: "ENOTSUP",
    ext: ".tar",
    build: () => tar([{ name: "sparse", type: "S" }]),
  },
  {
    id: "tar-setuid",
    what: "a setuid executable (setuid: refuse)",
    code: "EPERM",
    options: { setuid: "refuse" },
    ext: ".tar",
    build: () => tar([{ name: "su", mode: 0o4755, data: "x" }]),
  },
  {
    id: "tar-setgid",
    what: "a setgid directory (setuid: refuse)",
    code: "EPERM",
    options: { setuid: "refuse" },
    ext: ".tar",
    build: () => tar([{ name: "d/", type: "5", mode: 0o2775 }]),
  },
  // --- bombs -------------------------------------------------------------------------------
  {
    id: "tar-bytes-cap",
    what: "a member larger than maxBytes (refused from its header, before inflating)",
    code: "EDQUOT",
    options: { maxBytes: 4 * MiB },
    ext: ".tar.gz",
    build: () => zeroBomb(64),
  },
  {
    id: "tar-gz-expansion",
    what: "a tar.gz bomb (1000:1), stopped by maxExpansion while inflating",
    code: "EDQUOT",
    ext: ".tar.gz",
    build: () => zeroBomb(512),
  },
  {
    id: "tar-entry-count",
    what: "more members than maxEntries",
    code: "EDQUOT",
    options: { maxEntries: 100 },
    ext: ".tar.gz",
    build: () => gzip(tar(Array.from({ length: 500 }, (_, i) => file(`f${i}`, "")))),
  },
  {
    id: "tar-dir-count",
    what: "more directories than maxEntries",
    code: "EDQUOT",
    options: { maxEntries: 100 },
    ext: ".tar.gz",
    build: () => gzip(tar(Array.from({ length: 500 }, (_, i) => ({ name: `d${i}/`, type: "5" })))),
  },
  {
    id: "tar-pax-bomb",
    what: "a pax header record claiming 256 MiB (the parser would buffer it whole)",
    code: "EINVAL",
    options: { maxExpansion: 1e9 },
    ext: ".tar.gz",
    build: () => zeroBomb(256, "PaxHeaders/bomb", "x"),
  },
  {
    id: "tar-longname-bomb",
    what: "a GNU long-name record claiming 256 MiB",
    code: "EINVAL",
    options: { maxExpansion: 1e9 },
    ext: ".tar.gz",
    build: () => zeroBomb(256, "././@LongLink", "L"),
  },
  // --- damage and lies -----------------------------------------------------------------------
  {
    id: "tar-truncated",
    what: "a tar cut off inside a member",
    code: "EIO",
    ext: ".tar",
    build: () => tar([file("a.txt", "x".repeat(2000))]).subarray(0, 1024),
  },
  {
    id: "tar-gz-truncated",
    what: "a tar.gz cut off mid-stream",
    code: "EIO",
    ext: ".tar.gz",
    build: () => {
      const g = gzip(tar([file("a.txt", "y".repeat(100_000))]));
      return g.subarray(0, g.length - 20);
    },
  },
  {
    id: "tar-size-too-big",
    what: "a size field larger than the data that follows",
    code: "EIO",
    ext: ".tar",
    build: () => tar([{ name: "a.txt", data: "short", size: 5000 }], { end: false }),
  },
  {
    id: "tar-size-too-small",
    what: "a size field smaller than the data (the rest parses as a bogus header)",
    code: "EIO",
    ext: ".tar",
    build: () => {
      const t = tar([{ name: "a.txt", data: "z".repeat(1500) }]);
      return concatBytes([t.subarray(0, 124), new TextEncoder().encode("00000000010\0"), t.subarray(136)]);
    },
  },
  {
    id: "tar-bad-checksum",
    what: "a header whose checksum is wrong",
    code: "EIO",
    ext: ".tar",
    build: () => tar([{ name: "a.txt", data: "x", badChecksum: true }]),
  },
  // --- zip -----------------------------------------------------------------------------------
  {
    id: "zip-dotdot",
    what: "a ../ path",
    code: "EINVAL",
    ext: ".zip",
    build: () => zip([file("../evil.txt")]),
  },
  {
    id: "zip-absolute",
    what: "an absolute path",
    code: "EINVAL",
    ext: ".zip",
    build: () => zip([file("/etc/evil")]),
  },
  {
    id: "zip-backslash",
    what: "backslashes in a name (strictFileNames)",
    code: "EINVAL",
    ext: ".zip",
    build: () => zip([file("..\\..\\evil.txt")]),
  },
  {
    id: "zip-nul",
    what: "a NUL byte in a name",
    code: "EINVAL",
    ext: ".zip",
    build: () => zip([file("safe.txt\0.exe")]),
  },
  {
    id: "zip-unicode-path",
    what: "an innocent name with a Unicode Path extra field that climbs out",
    code: "EINVAL",
    ext: ".zip",
    build: () =>
      zip([
        { name: "safe.txt", data: "x", central: { extra: unicodePathExtra("../../evil.txt", "safe.txt") } },
      ]),
  },
  {
    id: "zip-duplicate",
    what: "the same name twice",
    code: "EEXIST",
    ext: ".zip",
    build: () => zip([file("a.txt", "one"), file("a.txt", "two")]),
  },
  {
    id: "zip-file-and-dir",
    what: "a file and a directory at one path",
    code: "ENOTDIR",
    ext: ".zip",
    build: () => zip([file("a"), { name: "a/" }]),
  },
  {
    id: "zip-symlink-escape",
    what: "a symlink climbing out of the root",
    code: "EINVAL",
    ext: ".zip",
    build: () => zip([{ name: "l", data: "../../etc/passwd", unixMode: 0o120777 }]),
  },
  {
    id: "zip-write-through-symlink",
    what: "a symlink out of the root, then a file written through it",
    code: "EINVAL",
    ext: ".zip",
    build: () =>
      zip([
        { name: "tmp", data: "/tmp", unixMode: 0o120777 },
        { name: "tmp/evil.sh", data: "#!/bin/sh\n", unixMode: 0o100755 },
      ]),
  },
  {
    id: "zip-fifo",
    what: "a FIFO (unix mode in the external attributes)",
    code: "ENOTSUP",
    ext: ".zip",
    build: () => zip([{ name: "pipe", unixMode: 0o010644 }]),
  },
  {
    id: "zip-char-device",
    what: "a character device",
    code: "ENOTSUP",
    ext: ".zip",
    build: () => zip([{ name: "null", unixMode: 0o020666 }]),
  },
  {
    id: "zip-setuid",
    what: "a setuid executable (setuid: refuse)",
    code: "EPERM",
    options: { setuid: "refuse" },
    ext: ".zip",
    build: () => zip([{ name: "su", data: "x", unixMode: 0o104755 }]),
  },
  {
    id: "zip-bomb-declared",
    what: "an entry declaring a 1000:1 expansion (refused before inflating)",
    code: "EDQUOT",
    ext: ".zip",
    build: () => zip([{ name: "zeros", data: new Uint8Array(64 * MiB) }]),
  },
  {
    id: "zip-bomb-lying",
    what: "an entry declaring 100 bytes that inflates to 64 MiB (stopped at byte 101)",
    code: "EIO",
    ext: ".zip",
    build: () =>
      zip([
        {
          name: "zeros",
          data: new Uint8Array(64 * MiB),
          central: { uncompressedSize: 100 },
          local: { uncompressedSize: 100 },
        },
      ]),
  },
  {
    id: "zip-bytes-cap",
    what: "entries adding up past maxBytes (declared sizes, before inflating)",
    code: "EDQUOT",
    options: { maxBytes: 1000 },
    ext: ".zip",
    build: () => zip([file("a", "a".repeat(600)), file("b", "b".repeat(600))]),
  },
  {
    id: "zip-entry-count",
    what: "more entries than maxEntries",
    code: "EDQUOT",
    options: { maxEntries: 100 },
    ext: ".zip",
    build: () => zip(Array.from({ length: 150 }, (_, i) => file(`f${i}`, ""))),
  },
  {
    id: "zip-truncated",
    what: "a zip cut off (no end of central directory)",
    code: "EIO",
    ext: ".zip",
    build: () => zip([file("a.txt", "hello")], { truncate: 40 }),
  },
  {
    id: "zip-size-lies",
    what: "an uncompressed size that is not the data's",
    code: "EIO",
    ext: ".zip",
    build: () =>
      zip([
        {
          name: "a.txt",
          data: "hello world",
          central: { uncompressedSize: 5 },
          local: { uncompressedSize: 5 },
        },
      ]),
  },
  {
    id: "zip-crc",
    what: "a CRC-32 that does not match the data",
    code: "EIO",
    ext: ".zip",
    build: () => zip([{ name: "a.txt", data: "hello", crc: 1 }]),
  },
  {
    id: "zip-name-disagrees",
    what: "a central directory name that differs from the local header's",
    code: "EINVAL",
    ext: ".zip",
    build: () => zip([{ name: "innocent.txt", data: "x", local: { name: "evil.sh.txt" } }]),
  },
  {
    id: "zip-method-disagrees",
    what: "a compression method that differs between the central directory and the local header",
    code: "EINVAL",
    ext: ".zip",
    build: () => zip([{ name: "a.txt", data: "hello", local: { method: 0 } }]),
  },
  {
    id: "zip-size-disagrees",
    what: "sizes that differ between the central directory and the local header",
    code: "EINVAL",
    ext: ".zip",
    build: () => zip([{ name: "a.txt", data: "hello", local: { uncompressedSize: 4 } }]),
  },
  {
    id: "zip-overlap",
    what: "overlapping entries (one entry's bytes inside another's)",
    code: "EINVAL",
    ext: ".zip",
    build: overlappingZip,
  },
  {
    id: "zip-same-offset",
    what: "two entries sharing one local header",
    code: "EINVAL",
    ext: ".zip",
    build: () =>
      zip([
        file("a.txt", "hello"),
        { name: "a.txt", data: "hello", centralOnly: true, central: { localHeaderOffset: 0 } },
      ]),
  },
  {
    id: "zip-encrypted",
    what: "an encrypted entry",
    code: "ENOTSUP",
    ext: ".zip",
    build: () => zip([{ name: "a.txt", data: "hello", method: 0, flags: 1, raw: new Uint8Array(17) }]),
  },
  {
    id: "zip-method",
    what: "an unsupported compression method (LZMA)",
    code: "ENOTSUP",
    ext: ".zip",
    build: () => zip([{ name: "a.txt", data: "hello", method: 14, raw: new Uint8Array(5) }]),
  },
  // --- the bundle itself -----------------------------------------------------------------------
  {
    id: "bundle-sha256",
    what: "a bundle whose sha256 is not the expected one",
    code: "EIO",
    options: { sha256: "0".repeat(64) },
    ext: ".tar",
    build: () => tar([file("a.txt")]),
  },
  {
    id: "bundle-not-archive",
    what: "bytes that are no archive",
    code: "EINVAL",
    ext: ".bin",
    build: () => new TextEncoder().encode("<html>not found</html>"),
  },
  {
    id: "bundle-format-lies",
    what: "format: zip for a tar.gz",
    code: "EINVAL",
    options: { format: "zip" },
    ext: ".tar.gz",
    build: () => gzip(tar([file("a.txt")])),
  },
];
