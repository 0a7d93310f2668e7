import { MemoryMount } from "@ws/core";
import { describe, expect, it } from "vitest";
import { Workspace } from "./workspace.js";

describe("Workspace basics", () => {
  it("shows mount roots and stubs without fetching", async () => {
    const ws = new Workspace({
      mounts: { "/workspace/docs": MemoryMount({ files: { "a.md": "# A", "dir/b.txt": "bee" } }) },
    });
    expect(await ws.fs.readdir("/workspace")).toEqual(["docs"]);
    expect(await ws.fs.readdir("/workspace/docs")).toEqual(["a.md", "dir"]);
    expect((await ws.fs.stat("/workspace/docs/dir/b.txt")).size).toBe(3);
    expect(ws.stats.fetches).toBe(0);
    expect(await ws.fs.readFile("/workspace/docs/dir/b.txt", "utf8")).toBe("bee");
    expect(ws.stats.fetches).toBe(1);
    await ws.close();
  });
});
