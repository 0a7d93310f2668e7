import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MountDiagnostic, MountError, S_IFLNK } from "@ws/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HostDir } from "./host-dir.js";

const enc = new TextEncoder();
let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "ws-mount-fs-sec-"));
  root = join(base, "root");
  outside = join(base, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "secret");
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(MountError.isInstance(error)).toBe(true);
    return (error as MountError).code;
  }
  throw new Error("expected a rejection");
}

/** Every file under `outside`, so a test can prove nothing was written there. */
function outsideFiles(): string[] {
  return readdirSync(outside, { recursive: true }).map(String).sort();
}

describe("list()", () => {
  it("a read-only mount lists links that stay inside the root as links (never followed), and skips the rest with a diagnostic", async () => {
    mkdirSync(join(root, "dir"));
    writeFileSync(join(root, "dir/real.txt"), "real");
    symlinkSync("real.txt", join(root, "dir/inside-link"));
    symlinkSync("../outside/secret.txt", join(root, "leaves"));
    symlinkSync(join(outside, "secret.txt"), join(root, "leaves-absolute"));
    symlinkSync("nowhere", join(root, "dangling"));
    symlinkSync("dir", join(root, "dir-link"));
    symlinkSync("loop", join(root, "loop"));
    execFileSync("mkfifo", [join(root, "fifo")]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, "sock"), resolve));
    const diagnostics: MountDiagnostic[] = [];
    try {
      const mount = HostDir(root, { onDiagnostic: (d) => diagnostics.push(d) });

      const entries = await mount.list();
      expect(entries.map((e) => e.path)).toEqual(["dir-link", "dir/inside-link", "dir/real.txt"]);
      // The link itself: its size is its target's, and fetchWithInfo says it is a link.
      expect(entries[1]).toMatchObject({ path: "dir/inside-link", size: "real.txt".length });
      // walk() says what list() cannot: that this entry is a link, and to what.
      const walked = await mount.walk();
      expect(walked.entries.filter((e) => e.symlink).map((e) => [e.path, e.symlink])).toEqual([
        ["dir-link", "dir"],
        ["dir/inside-link", "real.txt"],
      ]);
      expect(walked.diagnostics).toHaveLength(6);
      const byKey = Object.fromEntries(diagnostics.map((d) => [d.key, d.code]));
      expect(byKey).toEqual({
        leaves: "symlink-skipped",
        "leaves-absolute": "symlink-skipped",
        dangling: "symlink-skipped",
        loop: "symlink-skipped",
        fifo: "special-file",
        sock: "special-file",
      });
      expect(diagnostics.find((d) => d.key === "leaves")?.message).toMatch(/leaves the root/);
      const info = await mount.fetchWithInfo("dir/inside-link");
      expect(info.mode).toBe(S_IFLNK | 0o777);
      expect(new TextDecoder().decode(info.bytes)).toBe("real.txt");
      expect(new TextDecoder().decode(await mount.fetch("dir/inside-link"))).toBe("real.txt");
    } finally {
      server.close();
    }
  });

  it("is lazy: a missing directory fails at list() with ENOENT naming it, not at construction", async () => {
    const mount = HostDir(join(base, "missing"));
    const error = await mount.list().catch((e: unknown) => e as MountError);
    expect((error as MountError).code).toBe("ENOENT");
    expect((error as MountError).message).toContain(join(base, "missing"));
  });
});

describe("fetch()", () => {
  it("reads a link as its target's name, never what it names; refuses a path through a link that leaves the root, and a FIFO (without blocking)", async () => {
    symlinkSync(join(outside, "secret.txt"), join(root, "leaves"));
    symlinkSync(outside, join(root, "outdir"));
    execFileSync("mkfifo", [join(root, "fifo")]);
    const mount = HostDir(root);
    expect(new TextDecoder().decode(await mount.fetch("leaves"))).toBe(join(outside, "secret.txt"));
    expect(await codeOf(mount.fetch("outdir/secret.txt"))).toBe("EACCES");
    expect(await codeOf(mount.fetch("fifo"))).toBe("EACCES");
  });

  it("never reads through a parent swapped for a link after the first read", async () => {
    mkdirSync(join(root, "d"));
    writeFileSync(join(root, "d/secret.txt"), "inside");
    const mount = HostDir(root);
    expect(new TextDecoder().decode(await mount.fetch("d/secret.txt"))).toBe("inside");
    rmSync(join(root, "d"), { recursive: true });
    symlinkSync(outside, join(root, "d"));
    expect(await codeOf(mount.fetch("d/secret.txt"))).toBe("EACCES");
  });
});

describe("put()", () => {
  it("never writes through a parent directory link that leaves the root", async () => {
    symlinkSync(outside, join(root, "out"));
    const mount = HostDir(root, { mode: "read-write" });
    expect(await codeOf(mount.put("out/planted.txt", enc.encode("x")))).toBe("EACCES");
    expect(await codeOf(mount.put("out/new/deeper.txt", enc.encode("x")))).toBe("EACCES");
    expect(outsideFiles()).toEqual(["secret.txt"]);
  });

  it("replaces a planted link at the target itself, never writing to what it points at", async () => {
    symlinkSync(join(outside, "secret.txt"), join(root, "victim.txt"));
    const mount = HostDir(root, { mode: "read-write" });
    await mount.put("victim.txt", enc.encode("mine"));
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret");
    expect(lstatSync(join(root, "victim.txt")).isFile()).toBe(true);
    expect(readFileSync(join(root, "victim.txt"), "utf8")).toBe("mine");
  });

  it("follows an in-root directory link", async () => {
    mkdirSync(join(root, "real"));
    symlinkSync("real", join(root, "alias"));
    const mount = HostDir(root, { mode: "read-write" });
    await mount.put("alias/x.txt", enc.encode("x"));
    expect(readFileSync(join(root, "real/x.txt"), "utf8")).toBe("x");
  });

  it("links planted between writes: a directory swapped for a link out of the root is refused", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    await mount.put("work/a.txt", enc.encode("1"));
    // What a hostile command would do after the first write: move the folder away, plant a link.
    renameSync(join(root, "work"), join(base, "moved"));
    symlinkSync(outside, join(root, "work"));
    expect(await codeOf(mount.put("work/a.txt", enc.encode("2")))).toBe("EACCES");
    expect(await codeOf(mount.delete("work/secret.txt"))).toBe("EACCES");
    expect(outsideFiles()).toEqual(["secret.txt"]);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret");
  });

  it("links planted during the run: a loop swapping a folder and a link never gets a byte outside", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    mkdirSync(join(root, "race"));
    let stop = false;
    let swaps = 0;
    // The attacker: flip root/race between a real folder and a link to `outside`, as fast as it can.
    const attacker = (async () => {
      while (!stop) {
        try {
          rmSync(join(root, "race"), { recursive: true, force: true });
          symlinkSync(outside, join(root, "race"));
          await new Promise((r) => setImmediate(r));
          rmSync(join(root, "race"), { force: true });
          mkdirSync(join(root, "race"));
          swaps++;
        } catch {
          // the writer may have created the folder in between
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const outcomes = { ok: 0, refused: 0 };
    for (let i = 0; i < 300; i++) {
      try {
        // Files and links alike: a link made in the race is made where a file would be, never through one.
        if (i % 2 === 0) await mount.put(`race/f${i}.txt`, enc.encode(String(i)));
        else await mount.put(`race/l${i}`, enc.encode("../outside"), { symlink: "../outside" });
        outcomes.ok++;
      } catch (error) {
        expect(MountError.isInstance(error)).toBe(true);
        outcomes.refused++;
      }
    }
    stop = true;
    await attacker;
    expect(swaps).toBeGreaterThan(10);
    expect(outcomes.refused).toBeGreaterThan(0);
    // Not a file, not a temp file, nothing: the outside folder is exactly as it was.
    expect(outsideFiles()).toEqual(["secret.txt"]);
  });

  it("writes atomically: no temp file left behind, readers never see a partial file", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    const big = new Uint8Array(4 * 1024 * 1024).fill(7);
    await mount.put("big.bin", big);
    const writes = Array.from({ length: 8 }, (_, i) =>
      mount.put("big.bin", new Uint8Array(big.length).fill(i)),
    );
    let reads = 0;
    while (reads < 20) {
      const bytes = readFileSync(join(root, "big.bin"));
      expect(bytes.length).toBe(big.length);
      expect(bytes.every((b) => b === bytes[0])).toBe(true);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    expect(readdirSync(root)).toEqual(["big.bin"]);
  });

  it("keeps an existing file's mode, gives new files fileMode, and honours an explicit mode", async () => {
    writeFileSync(join(root, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    const mount = HostDir(root, { mode: "read-write", fileMode: 0o640 });
    await mount.put("run.sh", enc.encode("#!/bin/sh\necho hi\n"));
    await mount.put("new.txt", enc.encode("n"));
    await mount.put("exact.txt", enc.encode("e"), { mode: 0o600 });
    expect(lstatSync(join(root, "run.sh")).mode & 0o7777).toBe(0o755);
    expect(lstatSync(join(root, "new.txt")).mode & 0o7777).toBe(0o640);
    expect(lstatSync(join(root, "exact.txt")).mode & 0o7777).toBe(0o600);
  });

  it("gives written files and new folders the uid/gid asked for", async () => {
    const mount = HostDir(root, { mode: "read-write", uid: 12345, gid: 23456 });
    await mount.put("owned/file.txt", enc.encode("x"));
    for (const path of ["owned", "owned/file.txt"]) {
      const st = lstatSync(join(root, path));
      expect([st.uid, st.gid]).toEqual([12345, 23456]);
    }
  });

  it("refuses writes and deletes on a read-only mount with EROFS, leaving the disk alone", async () => {
    writeFileSync(join(root, "keep.txt"), "keep");
    const mount = HostDir(root);
    expect(await codeOf(mount.put("keep.txt", enc.encode("x")))).toBe("EROFS");
    expect(await codeOf(mount.delete("keep.txt"))).toBe("EROFS");
    expect(readFileSync(join(root, "keep.txt"), "utf8")).toBe("keep");
  });

  it("refuses paths that are not canonical before touching the disk", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    for (const bad of ["../escape.txt", "/abs", "a/../../b", "a//b", ""]) {
      expect(await codeOf(mount.put(bad, enc.encode("x")))).toBe("EINVAL");
    }
    expect(existsSync(join(base, "escape.txt"))).toBe(false);
  });
});

describe("delete()", () => {
  it("unlinks a planted link itself, never its target", async () => {
    symlinkSync(join(outside, "secret.txt"), join(root, "link"));
    const mount = HostDir(root, { mode: "read-write" });
    await mount.delete("link");
    expect(existsSync(join(root, "link"))).toBe(false);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret");
  });
});

describe("links, folders, modes and mtimes of a read-write mount (the user's own disk)", () => {
  it("stores links verbatim whatever their target, lists them and reads them back as links, never following", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    const links = {
      "venv/bin/python": "/usr/bin/python3",
      "node_modules/.bin/tool": "../tool/cli.js",
      "leaves.txt": "../outside/secret.txt",
      outdir: outside,
      dangling: "nowhere/at/all",
    };
    for (const [path, target] of Object.entries(links)) {
      await mount.put(path, enc.encode(target), { symlink: target });
    }
    for (const [path, target] of Object.entries(links)) {
      expect(lstatSync(join(root, path)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(root, path))).toBe(target);
    }
    const fresh = HostDir(root, { mode: "read-write" });
    const walked = await fresh.walk();
    expect(walked.diagnostics).toEqual([]);
    expect(Object.fromEntries(walked.entries.map((e) => [e.path, e.symlink]))).toEqual(links);
    for (const [path, target] of Object.entries(links)) {
      const info = await fresh.fetchWithInfo(path);
      expect((info.mode ?? 0) & 0o170000).toBe(S_IFLNK);
      expect(new TextDecoder().decode(info.bytes)).toBe(target);
    }
    // Reading the link to the secret gives its target's name, never the secret.
    expect(new TextDecoder().decode(await fresh.fetch("leaves.txt"))).toBe("../outside/secret.txt");
  });

  it("a stored link that leaves the root never makes a later write, mkdir, rmdir or delete escape", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    await mount.put("out", enc.encode(outside), { symlink: outside });
    await mount.put("secret.txt", enc.encode("../outside/secret.txt"), { symlink: "../outside/secret.txt" });
    expect(await codeOf(mount.put("out/planted.txt", enc.encode("x")))).toBe("EACCES");
    expect(await codeOf(mount.put("out/l", enc.encode("x"), { symlink: "x" }))).toBe("EACCES");
    expect(await codeOf(mount.mkdir!("out/new"))).toBe("EACCES");
    expect(await codeOf(mount.delete("out/secret.txt"))).toBe("EACCES");
    expect(await codeOf(mount.rmdir!("out/sub"))).toBe("EACCES");
    await mount.rmdir!("out"); // a link is not a folder: left alone, never what it names
    expect(readlinkSync(join(root, "out"))).toBe(outside);
    // Writing a file over the link replaces the link; the secret it names is untouched.
    await mount.put("secret.txt", enc.encode("mine"));
    expect(lstatSync(join(root, "secret.txt")).isFile()).toBe(true);
    await mount.delete("out");
    expect(existsSync(join(root, "out"))).toBe(false);
    expect(outsideFiles()).toEqual(["secret.txt"]);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret");
  });

  it("a link replaces a file and a file a link, each atomically; a folder in the way is EISDIR", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    await mount.put("x", enc.encode("file"));
    await mount.put("x", enc.encode("target"), { symlink: "target" });
    expect(readlinkSync(join(root, "x"))).toBe("target");
    await mount.put("x", enc.encode("file again"));
    expect(readFileSync(join(root, "x"), "utf8")).toBe("file again");
    mkdirSync(join(root, "d"));
    expect(await codeOf(mount.put("d", enc.encode("t"), { symlink: "t" }))).toBe("EISDIR");
    expect(await codeOf(mount.put("bad", enc.encode(""), { symlink: "" }))).toBe("EINVAL");
    expect(readdirSync(root).sort()).toEqual(["d", "x"]);
  });

  it("keeps empty folders: mkdir makes one, list reports it as a folder, rmdir removes it", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    await mount.mkdir!("a/empty");
    await mount.put("a/file.txt", enc.encode("x"));
    expect(statSync(join(root, "a/empty")).isDirectory()).toBe(true);
    const listed = await HostDir(root).list();
    expect(listed.map((e) => [e.path, e.type ?? "file"])).toEqual([
      ["a/empty", "directory"],
      ["a/file.txt", "file"],
    ]);
    await mount.rmdir!("a/empty");
    expect(existsSync(join(root, "a/empty"))).toBe(false);
    expect((await mount.list()).map((e) => e.path)).toEqual(["a/file.txt"]);
  });

  it("a folder made only to hold a written file goes with it, as on an object store; one made by mkdir or found on disk stays", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    mkdirSync(join(root, "found"));
    await mount.put("tmp/deep/x.txt", enc.encode("x"));
    await mount.put("found/y.txt", enc.encode("y"));
    await mount.mkdir!("made");
    await mount.put("made/z.txt", enc.encode("z"));
    for (const path of ["tmp/deep/x.txt", "found/y.txt", "made/z.txt"]) await mount.delete(path);
    expect(readdirSync(root).sort()).toEqual(["found", "made"]);
  });

  it("a folder removed while it still holds files goes when the last of them is deleted, not before", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    await mount.put("gone/x/1.txt", enc.encode("1"));
    await mount.put("gone/2.txt", enc.encode("2"));
    mkdirSync(join(root, "kept")); // found on disk: stays unless removed
    await mount.put("kept/3.txt", enc.encode("3"));
    // The host sends these in any order: folders first here, the hard case.
    await mount.rmdir!("gone");
    await mount.delete("gone/x"); // a folder at a deleted path (a folder the host never kept)
    expect(existsSync(join(root, "gone/x/1.txt"))).toBe(true);
    await mount.delete("gone/x/1.txt");
    expect(existsSync(join(root, "gone/x"))).toBe(false);
    expect(existsSync(join(root, "gone"))).toBe(true);
    await mount.delete("gone/2.txt");
    expect(existsSync(join(root, "gone"))).toBe(false);
    // A folder written to again is no longer doomed.
    await mount.rmdir!("kept");
    await mount.put("kept/4.txt", enc.encode("4"));
    await mount.delete("kept/3.txt");
    await mount.delete("kept/4.txt");
    expect(statSync(join(root, "kept")).isDirectory()).toBe(true);
  });

  it("keeps folder modes: mkdir's mode is applied (to a folder made or found), and a folder with a mode of its own is listed with it, empty or not", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    await mount.mkdir!("sealed", { mode: 0o700 });
    await mount.put("sealed/f.txt", enc.encode("f"));
    mkdirSync(join(root, "plain"));
    writeFileSync(join(root, "plain/x.txt"), "x");
    await mount.put("plain/y.txt", enc.encode("y"));
    await mount.mkdir!("plain", { mode: 0o750 });
    expect(statSync(join(root, "sealed")).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, "plain")).mode & 0o777).toBe(0o750);
    const folders = (await HostDir(root).list()).filter((e) => e.type === "directory");
    expect(folders.map((e) => [e.path, e.mode])).toEqual([
      ["plain", 0o750],
      ["sealed", 0o700],
    ]);
    // A 0755 folder holding files needs no entry of its own.
    await mount.mkdir!("plain", { mode: 0o755 });
    expect((await HostDir(root).list()).filter((e) => e.type === "directory").map((e) => e.path)).toEqual([
      "sealed",
    ]);
  });

  it("applies the mode and mtime given to put (never widened), and reports them back", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    const mtime = Date.UTC(2021, 1, 3, 4, 5, 6);
    await mount.put("keys/id", enc.encode("k"), { mode: 0o600, mtime });
    await mount.put("bin/tool", enc.encode("#!/bin/sh\n"), { mode: 0o755, mtime });
    await mount.put("link", enc.encode("bin/tool"), { symlink: "bin/tool", mtime });
    expect(statSync(join(root, "keys/id")).mode & 0o7777).toBe(0o600);
    expect(statSync(join(root, "keys/id")).mtimeMs).toBe(mtime);
    expect(statSync(join(root, "bin/tool")).mode & 0o7777).toBe(0o755);
    expect(lstatSync(join(root, "link")).mtimeMs).toBe(mtime);
    const info = await HostDir(root).fetchWithInfo("keys/id");
    expect(info).toMatchObject({ mode: 0o600, mtime });
    const entry = (await HostDir(root).list()).find((e) => e.path === "keys/id");
    expect(entry).toMatchObject({ mode: 0o600, mtime });
  });

  it("a read-only mount lists empty folders too, and only the links that stay inside the root", async () => {
    mkdirSync(join(root, "empty/deeper"), { recursive: true });
    writeFileSync(join(root, "real.txt"), "real");
    symlinkSync("real.txt", join(root, "alias.txt"));
    symlinkSync("/usr/bin/python3", join(root, "python"));
    const entries = await HostDir(root).list();
    expect(entries.map((e) => [e.path, e.type ?? "file", e.size])).toEqual([
      ["alias.txt", "file", "real.txt".length],
      ["empty/deeper", "directory", 0],
      ["real.txt", "file", 4],
    ]);
  });
});

describe("the per-file shortcuts of put and fetch keep every mode, owner and byte", () => {
  const modeOf = (path: string): number => lstatSync(join(root, path)).mode & 0o7777;

  it("modes the umask would narrow, set-ID and sticky bits are kept exactly, whatever the umask", async () => {
    const modes = [0o644, 0o600, 0o666, 0o777, 0o000, 0o4755, 0o2750, 0o1777, 0o444];
    const previous = process.umask(0o077);
    try {
      for (const mask of [0o077, 0o022, 0o000]) {
        process.umask(mask);
        // A fresh mount reads the umask at its first write.
        const mount = HostDir(root, { mode: "read-write" });
        for (const mode of modes) {
          await mount.put(`u${mask.toString(8)}/m${mode.toString(8)}`, enc.encode("x"), { mode });
        }
        for (const mode of modes) {
          expect([mask, modeOf(`u${mask.toString(8)}/m${mode.toString(8)}`)]).toEqual([mask, mode]);
        }
        // No mode given: fileMode, also when the umask would narrow it.
        const wide = HostDir(root, { mode: "read-write", fileMode: 0o666 });
        await wide.put(`u${mask.toString(8)}/default`, enc.encode("x"));
        expect(modeOf(`u${mask.toString(8)}/default`)).toBe(0o666);
      }
    } finally {
      process.umask(previous);
    }
  });

  it("a set-ID mode survives the uid/gid change (the chown comes before the chmod)", async () => {
    const mount = HostDir(root, { mode: "read-write", uid: 12345, gid: 23456 });
    await mount.put("suid", enc.encode("#!/bin/sh\n"), { mode: 0o4755 });
    await mount.put("sgid", enc.encode("#!/bin/sh\n"), { mode: 0o2755 });
    const st = lstatSync(join(root, "suid"));
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([12345, 23456, 0o4755]);
    expect(modeOf("sgid")).toBe(0o2755);
  });

  it("a folder in the way is EISDIR also when a mode is given (no lookup first), and nothing is left behind", async () => {
    mkdirSync(join(root, "d/inner"), { recursive: true });
    mkdirSync(join(root, "empty"));
    const mount = HostDir(root, { mode: "read-write" });
    expect(await codeOf(mount.put("d", enc.encode("t"), { mode: 0o644, mtime: 1e12 }))).toBe("EISDIR");
    expect(await codeOf(mount.put("empty", enc.encode("t"), { mode: 0o600 }))).toBe("EISDIR");
    expect(await codeOf(mount.put("empty", enc.encode("t")))).toBe("EISDIR");
    expect(readdirSync(root).sort()).toEqual(["d", "empty"]);
    expect(readdirSync(join(root, "d"))).toEqual(["inner"]);
    expect(readdirSync(join(root, "empty"))).toEqual([]);
  });

  it("reads a file whose fstat size is 0 (a /proc file) to its end, and an ordinary file in a buffer of its own", async () => {
    // /proc files report size 0 and hold more: read until the end, as readFile does.
    const bytes = await HostDir("/proc/self").fetch("status");
    const text = new TextDecoder().decode(bytes);
    expect(text.startsWith("Name:")).toBe(true);
    expect(text).toMatch(/^Umask:\s+[0-7]+$/m);
    expect(text.endsWith("\n")).toBe(true);
    expect(bytes.byteLength).toBeGreaterThan(256);
    // An ordinary file: exactly its bytes, in a buffer of its own.
    writeFileSync(join(root, "plain.bin"), Buffer.alloc(100_000, 7));
    const plain = await HostDir(root).fetch("plain.bin");
    expect([plain.byteLength, plain.buffer.byteLength, plain.every((b) => b === 7)]).toEqual([
      100_000,
      100_000,
      true,
    ]);
  });

  it("concurrent writes into new folders make each folder once and all land; a delete racing them never fails them", async () => {
    const mount = HostDir(root, { mode: "read-write" });
    const paths = Array.from({ length: 96 }, (_, i) => `new/a${i % 3}/b${i % 2}/f${i}.txt`);
    await Promise.all([
      // A delete under a folder not made yet walks without creating: the writes started after it
      // must not share its walk (they would fail ENOENT), nor it theirs.
      mount.delete("new/a0/b0/missing.txt"),
      mount.delete("new/a1/b1/also-missing.txt"),
      ...paths.map((p) => mount.put(p, enc.encode(p), { mode: 0o640 })),
    ]);
    for (const p of paths) {
      expect(readFileSync(join(root, p), "utf8")).toBe(p);
      expect(modeOf(p)).toBe(0o640);
    }
    expect(readdirSync(join(root, "new")).sort()).toEqual(["a0", "a1", "a2"]);
    // The folders were made only to hold these files: they go with the last of them.
    await Promise.all(paths.map((p) => mount.delete(p)));
    expect(readdirSync(root)).toEqual([]);
  });
});
