import { describe, expect, it } from "vitest";
import { spyMount } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

describe("exec never replaces a mount root", () => {
  it("a parent of a mount root replaced by a symlink or a file is refused; the root stays", async () => {
    const m = spyMount({ mode: "read-write", files: { "a.txt": "a" } });
    const ws = new Workspace({ mounts: { "/w/m": m } });
    const link = await ws.exec("sh", ["-c", 'rm -rf "$WS_ROOT/w" && ln -s /tmp "$WS_ROOT/w"']);
    expect(link.changes.errors.map((e) => [e.path, (e.error as { code?: string }).code])).toEqual([
      ["/w", "EBUSY"],
    ]);
    expect((await ws.fs.lstat("/w")).isDirectory()).toBe(true);
    expect((await ws.fs.stat("/w/m")).isDirectory()).toBe(true);
    const file = await ws.exec("sh", ["-c", 'rm -rf "$WS_ROOT/w" && echo x > "$WS_ROOT/w"']);
    expect(file.changes.errors.map((e) => [e.path, (e.error as { code?: string }).code])).toEqual([
      ["/w", "EBUSY"],
    ]);
    expect((await ws.fs.stat("/w/m")).isDirectory()).toBe(true);
    await ws.fs.writeFile("/w/m/b.txt", "b");
    await ws.close();
  });
});
