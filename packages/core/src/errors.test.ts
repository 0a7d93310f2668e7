import { describe, expect, it } from "vitest";
import { invalid, MountError, notFound, readOnly } from "./errors.js";

describe("MountError", () => {
  it("carries code, errno, path, root, syscall and cause", () => {
    const cause = new Error("NoSuchKey");
    const error = new MountError("ENOENT", "no such file", {
      path: "/m/a",
      root: "/m",
      syscall: "open",
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("MountError");
    expect(error.code).toBe("ENOENT");
    expect(error.errno).toBe(-2);
    expect(error.path).toBe("/m/a");
    expect(error.root).toBe("/m");
    expect(error.syscall).toBe("open");
    expect(error.cause).toBe(cause);
    expect(error.message).toBe("ENOENT: no such file");
  });

  it("is recognised across copies of the package through a registered symbol", () => {
    // A second copy of @ws/core would define its own class; all it shares is the registered symbol.
    const foreign = Object.assign(new Error("EIO: x"), { code: "EIO" });
    Object.defineProperty(foreign, Symbol.for("@ws/core/MountError"), { value: true });
    expect(MountError.isInstance(foreign)).toBe(true);
    expect(MountError.isInstance(Object.assign(new Error("x"), { code: "EIO" }))).toBe(false);
    expect(MountError.isInstance(null)).toBe(false);
    expect(MountError.isInstance("EIO")).toBe(false);
    expect(MountError.hasCode(new MountError("EIO", "x"), "EIO")).toBe(true);
    expect(MountError.hasCode(new MountError("EIO", "x"), "ENOENT")).toBe(false);
  });

  it("has no enumerable marker, so it serialises like a plain error", () => {
    const error = new MountError("EIO", "x", { path: "/p" });
    expect(Object.keys(error)).not.toContain(Symbol.for("@ws/core/MountError").toString());
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: "EIO", path: "/p" });
  });

  it("helpers say what to do", () => {
    expect(readOnly("/w/skills/a.md", "/w/skills").message).toBe(
      'EROFS: cannot modify /w/skills/a.md: /w/skills is a read-only mount (mode: "read-only"); pass mode: "read-write" to write through',
    );
    expect(notFound("/m/x", { root: "/m" })).toMatchObject({ code: "ENOENT", path: "/m/x", root: "/m" });
    expect(invalid("bad").code).toBe("EINVAL");
  });
});
