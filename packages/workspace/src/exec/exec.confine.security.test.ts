import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spyMount, stored } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

const outsides: string[] = [];
function outside(): string {
  const d = mkdtempSync(join(tmpdir(), "ws-outside-"));
  outsides.push(d);
  return d;
}
afterEach(() => {
  for (const d of outsides.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("exec stays inside its directory (issue 9.2)", () => {
  it("a parent of a mount root swapped for a symlink: the next exec writes nothing outside", async () => {
    const out = outside();
    const m = spyMount({ mode: "read-write", files: { "a.txt": "a" } });
    const ws = new Workspace({ mounts: { "/w/m": m } });
    await ws.exec("sh", ["-c", `mv "$WS_ROOT/w" "$WS_ROOT/x" && ln -s ${out} "$WS_ROOT/w"`]);
    const next = await ws.exec("sh", ["-c", 'echo b > "$WS_ROOT/w/m/b.txt"'], { hydrate: true });
    expect(next.exitCode).toBe(0);
    expect(readdirSync(out)).toEqual([]);
    expect(stored(m, "b.txt")).toBe("b\n");
    await ws.close();
  });

  it("a symlink left at a plain path is never followed by a later exec's cwd", async () => {
    const out = outside();
    const ws = new Workspace({ mounts: { "/m": spyMount({ mode: "read-write" }) } });
    const made = await ws.exec("sh", ["-c", `ln -s ${out} "$WS_ROOT/p"`]);
    expect(made.changes.added).toEqual(["/p"]);
    await expect(ws.exec("sh", ["-c", "echo x > f"], { cwd: "/p/sub" })).rejects.toMatchObject({
      code: "ELOOP",
    });
    expect(readdirSync(out)).toEqual([]);
    await ws.close();
  });
});

describe("exec and special files (issue 9.3)", () => {
  it("a FIFO is skipped and reported, never read; the rest of the pull goes on", async () => {
    const m = spyMount({ mode: "read-write" });
    const ws = new Workspace({ mounts: { "/m": m } });
    const r = await ws.exec("sh", ["-c", 'mkfifo "$WS_ROOT/m/pipe" && echo ok > "$WS_ROOT/m/after.txt"'], {
      timeoutMs: 20_000,
    });
    expect(r.changes.skipped).toEqual([{ path: "/m/pipe", type: "fifo" }]);
    expect(r.changes.added).toEqual(["/m/after.txt"]);
    expect(stored(m, "after.txt")).toBe("ok\n");
    expect(stored(m, "pipe")).toBeUndefined();
    await ws.close();
  }, 30_000);

  it("a unix socket is skipped and reported; the other changes land", async () => {
    const m = spyMount({ mode: "read-write" });
    const ws = new Workspace({ mounts: { "/m": m } });
    const script =
      'import socket,os,sys; s=socket.socket(socket.AF_UNIX); s.bind(os.path.join(sys.argv[1],"m","sock")); open(os.path.join(sys.argv[1],"m","k.txt"),"w").write("k")';
    const r = await ws.exec("sh", ["-c", `python3 -c '${script}' "$WS_ROOT"`]);
    expect(r.exitCode).toBe(0);
    expect(r.changes.skipped).toEqual([{ path: "/m/sock", type: "socket" }]);
    expect(r.changes.errors).toEqual([]);
    expect(stored(m, "k.txt")).toBe("k");
    await ws.close();
  }, 30_000);

  it("a stored file replaced by a FIFO keeps its stored bytes and is reported", async () => {
    const m = spyMount({ mode: "read-write", files: { "f.txt": "stored" } });
    const ws = new Workspace({ mounts: { "/m": m } });
    const r = await ws.exec("sh", ["-c", 'rm "$WS_ROOT/m/f.txt" && mkfifo "$WS_ROOT/m/f.txt"'], {
      hydrate: true,
    });
    expect(r.changes.skipped).toEqual([{ path: "/m/f.txt", type: "fifo" }]);
    expect(r.changes.deleted).toEqual([]);
    expect(stored(m, "f.txt")).toBe("stored");
    await ws.close();
  });
});
