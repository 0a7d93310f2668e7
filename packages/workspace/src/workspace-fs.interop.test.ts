import fg from "fast-glob";
import git from "isomorphic-git";
import { glob } from "tinyglobby";
import { describe, expect, it } from "vitest";
import { spyMount, stored } from "../test/helpers.js";
import { callbackFs } from "./callback-fs.js";
import { Workspace } from "./workspace.js";

const author = { name: "Test", email: "test@example.invalid", timestamp: 1_700_000_000, timezoneOffset: 0 };

describe("ws.fs as the fs of isomorphic-git", () => {
  it("init, add, commit, status and log in a read-write mount; the repository lands in the provider", async () => {
    const m = spyMount({
      mode: "read-write",
      writeBack: "manual",
      files: { "src/a.ts": "export const a = 1;\n" },
    });
    const ws = new Workspace({ mounts: { "/repo": m } });
    const fs = ws.fs;
    const dir = "/repo";
    await git.init({ fs, dir, defaultBranch: "main" });
    await git.add({ fs, dir, filepath: "src/a.ts" });
    await fs.writeFile("/repo/README.md", "# repo\n");
    await git.add({ fs, dir, filepath: "README.md" });
    const oid = await git.commit({ fs, dir, message: "first", author });
    expect(oid).toMatch(/^[0-9a-f]{40}$/);
    expect(await git.statusMatrix({ fs, dir })).toEqual([
      ["README.md", 1, 1, 1],
      ["src/a.ts", 1, 1, 1],
    ]);
    await fs.writeFile("/repo/src/a.ts", "export const a = 2;\n");
    expect(await git.status({ fs, dir, filepath: "src/a.ts" })).toBe("*modified");
    const log = await git.log({ fs, dir });
    expect(log.map((c) => c.commit.message)).toEqual(["first\n"]);
    await ws.flushMounts();
    expect(stored(m, ".git/HEAD")).toBe("ref: refs/heads/main\n");
    expect(m.inner.store.keys().some((k) => k.startsWith(".git/objects/"))).toBe(true);
    await ws.close();
  });

  it("clones nothing but reads a repository that is only stubs (lazy objects)", async () => {
    // Build a repo in one workspace, then open it through a fresh one where every file is a stub.
    const m = spyMount({ mode: "read-write", writeBack: "manual" });
    const ws1 = new Workspace({ mounts: { "/r": m } });
    await git.init({ fs: ws1.fs, dir: "/r", defaultBranch: "main" });
    await ws1.fs.writeFile("/r/f.txt", "f");
    await git.add({ fs: ws1.fs, dir: "/r", filepath: "f.txt" });
    await git.commit({ fs: ws1.fs, dir: "/r", message: "c", author });
    await ws1.close();
    const ro = spyMount({ store: m.inner.store });
    const ws2 = new Workspace({ mounts: { "/r": ro } });
    const [entry] = await git.log({ fs: ws2.fs, dir: "/r" });
    expect(entry?.commit.message).toBe("c\n");
    expect(ro.calls.fetch).toBeGreaterThan(0);
    expect(ro.calls.fetch).toBeLessThan(ro.inner.store.size);
    await ws2.close();
  });
});

describe("ws.fs as the fs of glob libraries", () => {
  async function setup() {
    const m = spyMount({
      files: { "docs/a.md": "a", "docs/deep/b.md": "b", "src/c.ts": "c", ".hidden/d.md": "d" },
    });
    const ws = new Workspace({ mounts: { "/w/m": m } });
    await ws.fs.mkdir("/w/local", { recursive: true });
    await ws.fs.writeFile("/w/local/e.md", "e");
    return { ws, m };
  }

  it("tinyglobby walks stubs and plain files without fetching", async () => {
    const { ws, m } = await setup();
    const files = await glob("**/*.md", { cwd: "/w", fs: callbackFs(ws.fs) });
    expect(files.sort()).toEqual(["local/e.md", "m/docs/a.md", "m/docs/deep/b.md"]);
    const dotted = await glob("**/*.md", { cwd: "/w", fs: callbackFs(ws.fs), dot: true });
    expect(dotted).toContain("m/.hidden/d.md");
    expect(m.calls.fetch).toBe(0);
    await ws.close();
  });

  it("fast-glob walks stubs and plain files without fetching", async () => {
    const { ws, m } = await setup();
    const files = await fg("**/*.{md,ts}", { cwd: "/w", fs: callbackFs(ws.fs) });
    expect(files.sort()).toEqual(["local/e.md", "m/docs/a.md", "m/docs/deep/b.md", "m/src/c.ts"]);
    const withStats = await fg("m/src/*.ts", { cwd: "/w", fs: callbackFs(ws.fs), stats: true });
    expect(withStats[0]?.stats?.size).toBe(1);
    expect(m.calls.fetch).toBe(0);
    await ws.close();
  });
});
