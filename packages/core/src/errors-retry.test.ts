import { describe, expect, it } from "vitest";
import {
  fsError,
  isTransient,
  MountError,
  markPersistent,
  toMountError,
  withErrorContext,
} from "./errors.js";
import { redactError } from "./redact.js";

describe("MountError transient / attempts", () => {
  it("is persistent by default and transient when asked", () => {
    expect(new MountError("EIO", "x").transient).toBe(false);
    expect(new MountError("EIO", "x").attempts).toBeUndefined();
    const t = new MountError("EAGAIN", "slow down", { transient: true, retryAfterMs: 2000 });
    expect(t.transient).toBe(true);
    expect(t.errno).toBe(-11);
    expect(t.retryAfterMs).toBe(2000);
    expect(isTransient(t)).toBe(true);
    expect(isTransient(new MountError("EIO", "x"))).toBe(false);
    expect(isTransient(Object.assign(new Error("x"), { transient: true }))).toBe(false);
  });

  it("markPersistent copies with transient false, attempts set and a message saying so", () => {
    const cause = new Error("socket hang up");
    const t = new MountError("EIO", "put s3://b/k failed", { transient: true, path: "k", root: "/m", cause });
    const p = markPersistent(t, 4);
    expect(p).not.toBe(t);
    expect(p).toMatchObject({ code: "EIO", transient: false, attempts: 4, path: "k", root: "/m" });
    expect(p.cause).toBe(cause);
    expect(p.message).toBe("EIO: put s3://b/k failed (gave up after 4 attempts)");
    expect(isTransient(p)).toBe(false);
    expect(t.transient).toBe(true);
  });

  it("withErrorContext fills only what is missing", () => {
    const e = new MountError("ENOENT", "gone", { path: "a" });
    const c = withErrorContext(e, { path: "b", root: "/r", syscall: "open" });
    expect(c).toMatchObject({ path: "a", root: "/r", syscall: "open", message: "ENOENT: gone" });
    expect(withErrorContext(c, { root: "/other" })).toBe(c);
  });
});

describe("fsError / toMountError", () => {
  it("words errors like node:fs", () => {
    expect(fsError("ENOENT", "open", "/w/a").message).toBe("ENOENT: no such file or directory, open '/w/a'");
    expect(fsError("EISDIR", "rm", "/w", "use recursive").message).toBe(
      "EISDIR: illegal operation on a directory, rm '/w': use recursive",
    );
  });

  it("turns Node-style and unknown errors into MountErrors", () => {
    const node = Object.assign(new Error("ENOENT: no such file"), {
      code: "ENOENT",
      syscall: "open",
      path: "/x",
    });
    const m = toMountError(node);
    expect(MountError.isInstance(m)).toBe(true);
    expect(m).toMatchObject({ code: "ENOENT", syscall: "open", path: "/x" });
    expect(m.cause).toBe(node);
    const other = toMountError(new Error("boom"), { path: "/y", syscall: "read" });
    expect(other).toMatchObject({ code: "EIO", path: "/y", syscall: "read" });
    const same = new MountError("EROFS", "no", { path: "/z", syscall: "write" });
    expect(toMountError(same)).toBe(same);
  });
});

describe("redactError", () => {
  it("scrubs message, stack and the cause chain", () => {
    const inner = new Error("token=SECRET-123 refused");
    const outer = new MountError("EACCES", "denied with SECRET-123", { cause: inner });
    redactError(outer, ["SECRET-123"]);
    expect(outer.message).not.toContain("SECRET-123");
    expect(outer.stack).not.toContain("SECRET-123");
    expect((outer.cause as Error).message).toBe("token=[redacted] refused");
    expect((outer.cause as Error).stack).not.toContain("SECRET-123");
  });
});
