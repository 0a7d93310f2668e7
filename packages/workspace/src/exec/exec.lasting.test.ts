import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryMount, MemoryStore } from "@ws/core";
import { describe, expect, it } from "vitest";
import {
  apiAppendDuringCommand,
  cmakeAcrossCommands,
  flockCounter,
  makeRebuilds,
  pycNotRewritten,
  unseenNeverOverwrites,
  venvAcrossCommands,
} from "../../test/exec-scenarios.js";
import { spyMount, stored } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

/** A fresh MemoryMount over one store each call (what a new workspace over the same bucket would see). */
function memory() {
  const store = new MemoryStore();
  return () => MemoryMount({ mode: "read-write", store, symlinks: true, directoryMarkers: true });
}

describe("one lasting exec directory per workspace (issue 18.1)", { timeout: 60_000 }, () => {
  it("is created at the first exec, the same for every command, and removed at close()", async () => {
    const ws = new Workspace({ mounts: { "/m": spyMount({ mode: "read-write" }) } });
    expect(ws.execDir).toBeUndefined();
    const a = await ws.exec("sh", ["-c", 'echo "$WS_ROOT"']);
    const b = await ws.exec("sh", ["-c", 'echo "$WS_ROOT"']);
    expect(a.stdout).toBe(b.stdout);
    expect(a.dir).toBe(a.stdout.trim());
    expect(ws.execDir).toBe(a.dir);
    expect(existsSync(a.dir!)).toBe(true);
    await ws.close();
    expect(existsSync(a.dir!)).toBe(false);
  });

  it("execDir chooses it; keepExecDir leaves it; a non-empty execDir is refused", async () => {
    const parent = mkdtempSync(join(tmpdir(), "ws-execdir-test-"));
    try {
      const path = join(parent, "exec");
      const ws = new Workspace({
        mounts: { "/m": spyMount({ mode: "read-write" }) },
        execDir: path,
        keepExecDir: true,
      });
      await ws.fs.writeFile("/m/a.txt", "a");
      const r = await ws.exec("cat", ["m/a.txt"]);
      expect([r.stdout, r.dir]).toEqual(["a", path]);
      await ws.close();
      expect(existsSync(join(path, "m/a.txt"))).toBe(true);
      mkdirSync(join(parent, "busy"));
      writeFileSync(join(parent, "busy", "x"), "x");
      const busy = new Workspace({ execDir: join(parent, "busy") });
      await expect(busy.exec("true")).rejects.toMatchObject({ code: "EEXIST" });
      await busy.close();
      writeFileSync(join(parent, "file"), "f");
      const file = new Workspace({ execDir: join(parent, "file", "exec") });
      await expect(file.exec("true")).rejects.toMatchObject({ code: "ENOTDIR" });
      await file.close();
      expect(existsSync(join(parent, "busy", "x"))).toBe(true);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("before a command only what changed in the VFS is written; after it only what the command changed is pulled", async () => {
    const m = spyMount({ mode: "read-write" });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/a.txt", "a");
    await ws.fs.writeFile("/m/b.txt", "b");
    await ws.flushMounts();
    // The command moves a's mtime without changing its bytes: not a change (nothing pulled), and a
    // file the VFS did not change is not written again, so the host keeps that mtime.
    const touched = await ws.exec("sh", ["-c", "touch -d 2001-01-01T00:00:00Z m/a.txt"]);
    expect(touched.changes.modified).toEqual([]);
    await ws.fs.writeFile("/m/b.txt", "b2");
    const puts = m.calls.put;
    const r = await ws.exec("sh", ["-c", "stat -c %Y m/a.txt; cat m/b.txt; echo c > m/c.txt"]);
    expect(r.stdout).toBe("978307200\nb2");
    expect(r.changes.added).toEqual(["/m/c.txt"]);
    expect(r.changes.modified).toEqual([]);
    await ws.flushMounts();
    expect(m.calls.put - puts).toBe(2); // b.txt (the API write) and c.txt
    expect(stored(m, "c.txt")).toBe("c\n");
    await ws.close();
  });

  it("files carry their VFS mtime and exact mode on the command's side (issue 18.2)", async () => {
    const ws = new Workspace({ mounts: { "/m": spyMount({ mode: "read-write" }) } });
    await ws.fs.writeFile("/m/key", "k", { mode: 0o600 });
    await ws.fs.utimes("/m/key", 1_000_000_000, 1_000_000_000);
    await ws.fs.writeFile("/m/run.sh", "#!/bin/sh\n");
    await ws.fs.chmod("/m/run.sh", 0o750);
    const r = await ws.exec("stat", ["-c", "%a %Y %n", "m/key", "m/run.sh"]);
    const [key, run] = r.stdout.split("\n");
    expect(key).toBe("600 1000000000 m/key");
    expect(run).toMatch(/^750 \d+ m\/run\.sh$/);
    // A chmod through the API reaches the directory; the mtime it carries stays the VFS's.
    await ws.fs.chmod("/m/key", 0o640);
    const mtime = Math.floor((await ws.fs.stat("/m/key")).mtimeMs / 1000);
    const again = await ws.exec("stat", ["-c", "%a %Y", "m/key"]);
    expect(again.stdout).toBe(`640 ${mtime}\n`);
    await ws.close();
  });

  it("a change the VFS did not take (keep-local) is replaced by the VFS's version in the directory", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual", files: { "data.txt": "d" } });
    const ws = new Workspace({ mounts: { "/m": m }, onMountConflict: () => "keep-local" });
    await ws.fs.writeFile("/m/data.txt", "api");
    const r = await ws.exec("sh", ["-c", "printf exec > m/data.txt"]);
    expect(r.changes.conflicts.map((c) => c.resolution)).toEqual(["keep-local"]);
    const next = await ws.exec("cat", ["m/data.txt"]);
    expect(next.stdout).toBe("api");
    expect(next.changes.conflicts).toEqual([]);
    await ws.close();
    expect(stored(m, "data.txt")).toBe("api");
  });

  it("two concurrent commands incrementing a counter 5 times each under flock give 10", async () => {
    await flockCounter(memory());
  });
});

describe("tools across commands (issue 18.1, 18.2)", { timeout: 120_000 }, () => {
  it("a venv made in one command is used by pip in the next", async () => {
    await venvAcrossCommands(memory());
  });

  it("CMake: configure in one command, build in the next, rebuild after an API change", async () => {
    await cmakeAcrossCommands(memory());
  });

  it("make rebuilds exactly after an input changed through the API or a command", async () => {
    await makeRebuilds(memory());
  });

  it("unchanged sources do not make Python rewrite .pyc files (0 puts)", async () => {
    await pycNotRewritten(memory());
  });
});

describe("conflicts through the lasting directory (issue 18.3, 18.4)", { timeout: 60_000 }, () => {
  it("an API append acknowledged during a long command is a conflict through the hook", async () => {
    await apiAppendDuringCommand(memory());
  });

  it("stubs the command could not see are never overwritten (log, README, SQLite, lockfile, mkdir -p)", async () => {
    await unseenNeverOverwrites(memory());
  });
});
