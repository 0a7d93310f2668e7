import { MountError } from "@ws/core";
import { Volume } from "memfs";
import { describe, expect, it } from "vitest";
import { fsError, toFsError } from "./fs-errors.js";

describe("one kind of ws.fs error", () => {
  it("fsError reads like Node's", () => {
    const e = fsError("ENOENT", "open", "/a/b");
    expect(MountError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ code: "ENOENT", errno: -2, path: "/a/b", syscall: "open" });
    expect(e.message).toBe("ENOENT: no such file or directory, open '/a/b'");
    expect(fsError("EBUSY", "rmdir", "/m", "it is a mount root").message).toBe(
      "EBUSY: resource busy or locked, rmdir '/m': it is a mount root",
    );
  });

  it("a memfs error becomes a MountError about the workspace path, the original as cause", () => {
    const vol = new Volume();
    let raw: unknown;
    try {
      vol.readFileSync("/nope");
    } catch (error) {
      raw = error;
    }
    expect(MountError.isInstance(raw)).toBe(false);
    const e = toFsError(raw, "/nope", "open");
    expect(MountError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ code: "ENOENT", errno: -2, path: "/nope", syscall: "open" });
    expect(e.cause).toBe(raw);
  });

  it("a MountError passes through; anything else is EIO", () => {
    const m = new MountError("EROFS", "read-only", { path: "/x", syscall: "open" });
    expect(toFsError(m, "/x", "open")).toBe(m);
    const e = toFsError(new TypeError("boom"), "/y", "open");
    expect(e).toMatchObject({ code: "EIO", path: "/y", syscall: "open" });
    expect(e.message).toContain("boom");
  });
});
