import { describe, expect, it } from "vitest";
import { spyMount, stored } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";
import type { MountConflict } from "../workspace-options.js";

/** Issue 18.3: a stub the command was not given is never taken as the command's edit of the stored file. */
describe("exec over stubs it could not see (kind: unseen)", () => {
  const setup = () => {
    const m = spyMount({
      mode: "read-write",
      files: { log: "line 1\nline 2\n", "README.md": "# readme\n", out: "data" },
    });
    const seen: MountConflict[] = [];
    const ws = new Workspace({ mounts: { "/m": m }, onMountConflict: (c) => void seen.push(c) });
    return { m, ws, seen };
  };

  it("an append to a log it never saw keeps the stored log; the command's bytes go beside it", async () => {
    const { m, ws, seen } = setup();
    const r = await ws.exec("sh", ["-c", 'echo x >> "$WS_ROOT/m/log"'], { hydrate: false });
    expect(stored(m, "log")).toBe("line 1\nline 2\n");
    expect(stored(m, "log.exec-unseen")).toBe("x\n");
    expect(r.changes.conflicts.map((c) => [c.kind, c.path, c.keptAs, c.resolution])).toEqual([
      ["unseen", "/m/log", "/m/log.exec-unseen", "keep-local"],
    ]);
    expect(seen.map((c) => c.kind)).toEqual(["unseen"]);
    expect(r.changes.modified).toEqual([]);
    expect(await ws.fs.readFile("/m/log", "utf8")).toBe("line 1\nline 2\n");
    await ws.close();
  });

  it("touch README.md does not make the stored README empty", async () => {
    const { m, ws } = setup();
    const r = await ws.exec("sh", ["-c", 'touch "$WS_ROOT/m/README.md"'], { hydrate: false });
    expect(stored(m, "README.md")).toBe("# readme\n");
    expect(r.changes.conflicts.map((c) => [c.kind, c.keptAs])).toEqual([
      ["unseen", "/m/README.md.exec-unseen"],
    ]);
    await ws.close();
  });

  it("mkdir -p over a stored file it never saw: the file stays, the folder is reported", async () => {
    const { m, ws } = setup();
    const r = await ws.exec("sh", ["-c", 'mkdir -p "$WS_ROOT/m/out/logs"'], { hydrate: false });
    expect(stored(m, "out")).toBe("data");
    expect(m.calls.delete).toBe(0);
    expect(r.changes.conflicts.map((c) => [c.kind, c.path])).toEqual([["unseen", "/m/out"]]);
    expect(r.changes.deleted).toEqual([]);
    await ws.close();
  });

  it("with hydrate the same append is an ordinary edit", async () => {
    const { m, ws } = setup();
    const r = await ws.exec("sh", ["-c", 'echo x >> "$WS_ROOT/m/log"'], { hydrate: true });
    expect(stored(m, "log")).toBe("line 1\nline 2\nx\n");
    expect(r.changes.conflicts).toEqual([]);
    await ws.close();
  });
});

describe("rm -rf of a folder whose stored files the command never saw", () => {
  it("deletes nothing and reports the folder (unseen)", async () => {
    const files: Record<string, string> = { "keep.txt": "k" };
    for (let i = 0; i < 20; i++) files[`big/sub/f${i}.txt`] = `${i}`;
    const m = spyMount({ mode: "read-write", files });
    const ws = new Workspace({ mounts: { "/m": m } });
    const r = await ws.exec("sh", ["-c", 'rm -rf "$WS_ROOT/m/big"'], { hydrate: false });
    expect(r.changes.conflicts.map((c) => [c.kind, c.path, c.remote.exists])).toEqual([
      ["unseen", "/m/big", false],
    ]);
    expect(m.calls.delete).toBe(0);
    expect(stored(m, "big/sub/f3.txt")).toBe("3");
    expect(await ws.fs.readFile("/m/big/sub/f3.txt", "utf8")).toBe("3");
    await ws.close();
  });
});
