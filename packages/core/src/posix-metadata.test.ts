import { describe, expect, it } from "vitest";
import { decodePosixMetadata, encodePosixMetadata } from "./posix-metadata.js";

describe("POSIX metadata in s3fs's convention", () => {
  it("writes mode as the whole st_mode in decimal and mtime in whole seconds", () => {
    expect(encodePosixMetadata({ mode: 0o755, mtime: 1_612_325_106_789 })).toEqual({
      mode: "33261",
      mtime: "1612325106",
    });
    expect(encodePosixMetadata({ symlink: "/usr/bin/python3" })).toEqual({ mode: "41471" });
    // A folder's marker keeps the directory type, as s3fs stores directories (0o040700).
    expect(encodePosixMetadata({ mode: 0o040700 })).toEqual({ mode: "16832" });
    expect(decodePosixMetadata({ mode: "16832" }).mode).toBe(0o040700);
    expect(encodePosixMetadata({})).toEqual({});
  });

  it("reads s3fs (decimal), rclone (octal, RFC 3339, fractional seconds) and ignores garbage", () => {
    expect(decodePosixMetadata({ mode: "33188", mtime: "1612325106" })).toEqual({
      mode: 0o100644,
      mtime: 1_612_325_106_000,
    });
    expect(decodePosixMetadata({ "X-Amz-Meta-Mode": "100600", "x-amz-meta-mtime": "1612325106.5" })).toEqual({
      mode: 0o100600,
      mtime: 1_612_325_106_500,
    });
    expect(decodePosixMetadata({ mode: "755", mtime: "2021-02-03T04:05:06Z" })).toEqual({
      mode: 0o755,
      mtime: Date.UTC(2021, 1, 3, 4, 5, 6),
    });
    expect(decodePosixMetadata({ mode: "41471" })).toEqual({ mode: 0o120777 });
    expect(decodePosixMetadata({ mode: "40755" })).toEqual({ mode: 0o40755 });
    expect(decodePosixMetadata({ mode: "rwx", mtime: "soon" })).toEqual({});
    expect(decodePosixMetadata(undefined)).toEqual({});
  });
});
