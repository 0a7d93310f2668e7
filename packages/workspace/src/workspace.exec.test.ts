import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { spyMount, stored } from "../test/helpers.js";
import { Workspace } from "./workspace.js";
import type { MountConflict } from "./workspace-options.js";

function setup(onMountConflict?: (c: MountConflict) => "accept" | "keep-local" | "keep-do" | undefined) {
  const ro = spyMount({ files: { "readme.md": "ro", "lib/x.txt": "x" } });
  const rw = spyMount({
    mode: "read-write",
    writeBack: "manual",
    files: { "data.txt": "d", "del.txt": "bye" },
  });
  const ws = new Workspace({
    ignore: ["node_modules"],
    mounts: { "/w/ro": ro, "/w/rw": rw },
    ...(onMountConflict ? { onMountConflict } : {}),
  });
  return { ro, rw, ws };
}

describe("exec", () => {
  it("runs a real process and returns exit code, stdout and stderr", async () => {
    const { ws } = setup();
    const result = await ws.exec("sh", ["-c", "echo out; echo err >&2; exit 3"]);
    expect(result).toMatchObject({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
    expect(ws.stats.execs).toBe(1);
    await ws.close();
  });

  it("stubs are absent on the exec side with hydrate: false; hydrate ships them", async () => {
    const { ws, ro } = setup();
    const cold = await ws.exec("sh", ["-c", "ls w/ro; cat w/ro/readme.md 2>/dev/null || echo missing"], {
      hydrate: false,
    });
    // Folders holding only stubs exist (empty) so a command sees them; the files are absent.
    expect(cold.stdout).toBe("lib\nmissing\n");
    expect(ro.calls.fetch).toBe(0);
    const warm = await ws.exec("cat", ["w/ro/readme.md"], { hydrate: ["/w/ro"] });
    expect(warm.stdout).toBe("ro");
    expect(ro.calls.fetch).toBe(2);
    await ws.close();
  });

  it("by default fetches the stubs under cwd when they fit the budget: an append lands on the stored log", async () => {
    const rw = spyMount({
      mode: "read-write",
      files: { log: "line 1\n", "src/a.txt": "a", "other/b.txt": "b" },
    });
    const ws = new Workspace({ mounts: { "/m": rw } });
    const r = await ws.exec("sh", ["-c", "echo line 2 >> log; cat src/a.txt"], { cwd: "/m" });
    expect([r.exitCode, r.stdout, r.absent, r.changes.conflicts]).toEqual([0, "a", undefined, []]);
    expect(await ws.fs.readFile("/m/log", "utf8")).toBe("line 1\nline 2\n");
    await ws.close();
    expect(stored(rw, "log")).toBe("line 1\nline 2\n");
    // Only what is under cwd: a command in /m/src fetches nothing outside it.
    const other = spyMount({ files: { "src/a.txt": "a", "other/b.txt": "b" } });
    const inSrc = new Workspace({ mounts: { "/m": other } });
    const seen = await inSrc.exec("sh", ["-c", "cat a.txt; cat ../other/b.txt 2>/dev/null || echo absent"], {
      cwd: "/m/src",
    });
    expect([seen.stdout, other.calls.fetch]).toEqual(["aabsent\n", 1]);
    await inSrc.close();
  });

  it("over the hydrate budget nothing is fetched and the result says how many files the command could not see", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`f${i}.txt`] = "0123456789";
    const mount = spyMount({ files });
    const ws = new Workspace({ mounts: { "/m": mount } });
    const byCount = await ws.exec("ls", ["m"], { hydrateBudget: { maxFiles: 4 } });
    expect([byCount.stdout, byCount.absent]).toEqual(["", { under: "/", files: 5, bytes: 50 }]);
    const byBytes = await ws.exec("ls", ["m"], { hydrateBudget: { maxBytes: 49 } });
    expect(byBytes.absent).toEqual({ under: "/", files: 5, bytes: 50 });
    expect(mount.calls.fetch).toBe(0);
    const fits = await ws.exec("ls", ["m"], { hydrateBudget: { maxFiles: 5, maxBytes: 50 } });
    expect([fits.stdout.split("\n").length - 1, fits.absent, mount.calls.fetch]).toEqual([5, undefined, 5]);
    await expect(ws.exec("true", [], { hydrateBudget: { maxFiles: -1 } })).rejects.toMatchObject({
      code: "EINVAL",
    });
    await ws.close();
  });

  it("pulls new, changed and deleted files with their modes and mirrors them to read-write mounts", async () => {
    const { ws, rw } = setup();
    await ws.fs.readFile("/w/rw/data.txt");
    await ws.fs.readFile("/w/rw/del.txt");
    const result = await ws.exec("sh", [
      "-c",
      "cd w/rw && printf new > new.sh && chmod 755 new.sh && printf changed > data.txt && rm del.txt && mkdir -p sub && printf s > sub/s.txt",
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.changes.added.sort()).toEqual(["/w/rw/new.sh", "/w/rw/sub/s.txt"]);
    expect(result.changes.modified).toEqual(["/w/rw/data.txt"]);
    expect(result.changes.deleted).toEqual(["/w/rw/del.txt"]);
    expect(result.changes.mirrored.sort()).toEqual([
      "/w/rw/data.txt",
      "/w/rw/del.txt",
      "/w/rw/new.sh",
      "/w/rw/sub/s.txt",
    ]);
    expect(result.changes.readOnly).toEqual([]);
    expect((await ws.fs.stat("/w/rw/new.sh")).mode & 0o777).toBe(0o755);
    expect(stored(rw, "new.sh")).toBe("new");
    expect(stored(rw, "data.txt")).toBe("changed");
    expect(stored(rw, "sub/s.txt")).toBe("s");
    expect(rw.inner.store.has("del.txt")).toBe(false);
    await ws.close();
  });

  it("a change under a read-only mount stays in the VFS, is never mirrored, and is reported", async () => {
    const seen: MountConflict[] = [];
    const { ws, ro } = setup((c) => {
      seen.push(c);
      return "keep-local"; // moot: nothing under a read-only mount is ever mirrored
    });
    // Hydrated: an edit of a file the command saw (an unseen stub is another case: exec.unseen.test.ts).
    const result = await ws.exec("sh", ["-c", "printf evil > w/ro/readme.md && printf n > w/ro/new.txt"], {
      hydrate: ["/w/ro"],
    });
    expect(result.changes.readOnly.sort()).toEqual(["/w/ro/new.txt", "/w/ro/readme.md"]);
    expect(seen.map((c) => [c.kind, c.path]).sort()).toEqual([
      ["read-only", "/w/ro/new.txt"],
      ["read-only", "/w/ro/readme.md"],
    ]);
    expect(seen.find((c) => c.path === "/w/ro/new.txt")).toMatchObject({
      local: { exists: false },
      remote: { exists: true, size: 1 },
    });
    expect(result.changes.mirrored).toEqual([]);
    expect(await ws.fs.readFile("/w/ro/readme.md", "utf8")).toBe("evil");
    expect(ro.calls.put + ro.calls.delete).toBe(0);
    expect(stored(ro, "readme.md")).toBe("ro");
    expect(ro.inner.store.has("new.txt")).toBe(false);
    // Still read-only for ws.fs.
    await expect(ws.fs.writeFile("/w/ro/readme.md", "x")).rejects.toMatchObject({ code: "EROFS" });
    await ws.close();
  });

  it("skips ignored paths in both directions and unchanged files are not mirrored", async () => {
    const { ws, rw } = setup();
    await ws.fs.readFile("/w/rw/data.txt");
    const result = await ws.exec("sh", [
      "-c",
      "mkdir -p w/rw/node_modules/p && echo x > w/rw/node_modules/p/i.js && touch w/rw/data.txt",
    ]);
    expect(result.changes.added).toEqual([]);
    expect(result.changes.modified).toEqual([]);
    expect(await ws.fs.exists("/w/rw/node_modules")).toBe(false);
    expect(rw.calls.put).toBe(0);
    await ws.close();
  });

  it("conflict with an unflushed ws.fs write: the exec side wins by default", async () => {
    const conflicts: MountConflict[] = [];
    const { ws, rw } = setup((c) => {
      conflicts.push(c);
      return undefined;
    });
    await ws.fs.writeFile("/w/rw/data.txt", "api");
    const result = await ws.exec("sh", ["-c", "printf exec > w/rw/data.txt"]);
    expect(result.changes.conflicts).toMatchObject([
      { kind: "exec", path: "/w/rw/data.txt", resolution: "accept" },
    ]);
    expect(conflicts).toHaveLength(1);
    expect(await ws.fs.readFile("/w/rw/data.txt", "utf8")).toBe("exec");
    expect(stored(rw, "data.txt")).toBe("exec");
    await ws.flushMounts();
    expect(rw.calls.put).toBe(1);
    await ws.close();
  });

  it.each(["keep-local", "keep-do"] as const)(
    "conflict answered %s keeps the API-side write",
    async (answer) => {
      const { ws, rw } = setup(() => answer);
      await ws.fs.writeFile("/w/rw/data.txt", "api");
      const result = await ws.exec("sh", ["-c", "printf exec > w/rw/data.txt"]);
      expect(result.changes.conflicts).toMatchObject([{ resolution: "keep-local" }]);
      expect(result.changes.mirrored).toEqual([]);
      expect(await ws.fs.readFile("/w/rw/data.txt", "utf8")).toBe("api");
      await ws.flushMounts();
      expect(stored(rw, "data.txt")).toBe("api");
      await ws.close();
    },
  );

  it("plain workspace paths round-trip, cwd and input work, and the exec directory is removed at close()", async () => {
    const { ws } = setup();
    await ws.fs.mkdir("/home/u", { recursive: true });
    await ws.fs.writeFile("/home/u/in.txt", "hello");
    const result = await ws.exec("sh", ["-c", 'cat in.txt; cat > out.txt; echo "$WS_ROOT" > root.txt'], {
      cwd: "/home/u",
      input: "from stdin",
    });
    expect(result.stdout).toBe("hello");
    expect(await ws.fs.readFile("/home/u/out.txt", "utf8")).toBe("from stdin");
    const hostRoot = (await ws.fs.readFile("/home/u/root.txt", "utf8")).trim();
    // The lasting exec directory stays for the next command, and goes with the workspace.
    expect(existsSync(hostRoot)).toBe(true);
    await ws.close();
    expect(existsSync(hostRoot)).toBe(false);
  });

  it("a file replaced by a directory at the same path lands as delete-file then put-children", async () => {
    const { ws, rw } = setup();
    await ws.fs.readFile("/w/rw/data.txt");
    const result = await ws.exec(
      "sh",
      ["-c", "cd w/rw && rm data.txt && mkdir data.txt && printf s > data.txt/s.txt && mkdir del.txt"],
      { hydrate: false },
    );
    expect(result.changes.errors).toEqual([]);
    expect((await ws.fs.stat("/w/rw/data.txt")).isDirectory()).toBe(true);
    expect(await ws.fs.readFile("/w/rw/data.txt/s.txt", "utf8")).toBe("s");
    // A directory made over a stub the command never saw is not applied: reported as "unseen".
    expect((await ws.fs.stat("/w/rw/del.txt")).isFile()).toBe(true);
    expect(result.changes.conflicts.map((c) => [c.kind, c.path])).toEqual([["unseen", "/w/rw/del.txt"]]);
    expect(result.changes.deleted.sort()).toEqual(["/w/rw/data.txt"]);
    expect(result.changes.mirrored.sort()).toEqual(["/w/rw/data.txt", "/w/rw/data.txt/s.txt"]);
    expect(rw.inner.store.has("data.txt")).toBe(false);
    expect(rw.inner.store.has("del.txt")).toBe(true);
    expect(stored(rw, "data.txt/s.txt")).toBe("s");
    expect(rw.log.indexOf("delete data.txt")).toBeLessThan(rw.log.indexOf("put data.txt/s.txt"));
    await ws.close();
  });

  it("a directory replaced by a file at the same path lands as delete-children then put-file", async () => {
    const rw = spyMount({
      mode: "read-write",
      writeBack: "manual",
      files: { "d/a.txt": "a", "d/sub/b.txt": "b", "d/cold.txt": "c" },
      maxEntries: 3,
    });
    const ws = new Workspace({ mounts: { "/w/rw": rw } });
    await ws.fs.readFile("/w/rw/d/a.txt");
    await ws.fs.readFile("/w/rw/d/sub/b.txt");
    // d/cold.txt stays a stub: absent on the exec side, but still part of the directory replaced.
    const result = await ws.exec("sh", ["-c", "cd w/rw && rm -r d && printf file > d"], { hydrate: false });
    expect(result.changes.errors).toEqual([]);
    expect(await ws.fs.readFile("/w/rw/d", "utf8")).toBe("file");
    expect(await ws.fs.exists("/w/rw/d/cold.txt")).toBe(false);
    expect(result.changes.deleted.sort()).toEqual(["/w/rw/d/a.txt", "/w/rw/d/cold.txt", "/w/rw/d/sub/b.txt"]);
    expect(result.changes.mirrored.sort()).toEqual([
      "/w/rw/d",
      "/w/rw/d/a.txt",
      "/w/rw/d/cold.txt",
      "/w/rw/d/sub/b.txt",
    ]);
    expect([...rw.inner.store.keys()]).toEqual(["d"]);
    expect(stored(rw, "d")).toBe("file");
    expect(rw.log.at(-1)).toBe("put d");
    expect(rw.calls.fetch).toBe(2);
    // The quota counter followed (one entry now, so two more fit), stubs removed included.
    await ws.fs.writeFile("/w/rw/e", "e");
    await ws.fs.writeFile("/w/rw/f", "f");
    await expect(ws.fs.writeFile("/w/rw/g", "g")).rejects.toMatchObject({ code: "EDQUOT" });
    await ws.close();
  });

  it("a type change under a read-only mount stays local and is reported", async () => {
    const { ws, ro } = setup();
    await ws.fs.readFile("/w/ro/lib/x.txt");
    const result = await ws.exec("sh", ["-c", "cd w/ro && rm -r lib && printf f > lib"]);
    expect(result.changes.errors).toEqual([]);
    expect(await ws.fs.readFile("/w/ro/lib", "utf8")).toBe("f");
    expect(result.changes.readOnly.sort()).toEqual(["/w/ro/lib", "/w/ro/lib/x.txt"]);
    expect(result.changes.mirrored).toEqual([]);
    expect(ro.calls.put + ro.calls.delete).toBe(0);
    expect(stored(ro, "lib/x.txt")).toBe("x");
    await ws.close();
  });

  it("a symlink created under a mount is not pulled back (ENOTSUP in errors); under a plain path it is", async () => {
    const { ws, rw } = setup();
    await ws.fs.mkdir("/home", { recursive: true });
    const result = await ws.exec("sh", ["-c", "ln -s data.txt w/rw/link && ln -s ../w/rw home/link"]);
    expect(result.changes.errors).toMatchObject([{ path: "/w/rw/link", error: { code: "ENOTSUP" } }]);
    expect(await ws.fs.exists("/w/rw/link")).toBe(false);
    expect(rw.calls.put).toBe(0);
    expect(await ws.fs.readlink("/home/link")).toBe("../w/rw");
    await ws.close();
  });

  it("exec quota violations are reported, not applied", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual", maxBytes: 4 });
    const ws = new Workspace({ mounts: { "/q": m } });
    const result = await ws.exec("sh", ["-c", "printf 123456 > q/big.txt"]);
    expect(result.changes.errors).toMatchObject([{ path: "/q/big.txt", error: { code: "EDQUOT" } }]);
    expect(await ws.fs.exists("/q/big.txt")).toBe(false);
    expect(m.calls.put).toBe(0);
    await ws.close();
  });

  it("a command that does not exist rejects", async () => {
    const { ws } = setup();
    await expect(ws.exec("/definitely/not/here")).rejects.toMatchObject({ code: "ENOENT" });
    await ws.close();
  });
});
