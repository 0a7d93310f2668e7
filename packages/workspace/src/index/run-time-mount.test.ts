import { MemoryMount } from "@ws/core";
import { describe, expect, it } from "vitest";
import { spyMount } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

describe("a single-file mount added at run time (issue 9 item 8)", () => {
  it("over an outer file already read: the inner file's bytes, fetched once", async () => {
    const outer = MemoryMount({ files: { "config.json": "outer", "other.txt": "o" } });
    const inner = spyMount({ rootType: "file", files: { "config.json": "inner" } });
    const ws = new Workspace({ mounts: { "/w": outer } });
    expect(await ws.fs.readFile("/w/config.json", "utf8")).toBe("outer");
    ws.mount("/w/config.json", inner);
    expect(await ws.fs.readFile("/w/config.json", "utf8")).toBe("inner");
    expect(inner.calls.fetch).toBe(1);
    expect(await ws.fs.readFile("/w/other.txt", "utf8")).toBe("o");
    await ws.close();
  });

  it("over a plain workspace file written before: the local file still wins (a local write)", async () => {
    const inner = spyMount({ rootType: "file", files: { "notes.txt": "upstream" } });
    const ws = new Workspace();
    await ws.fs.writeFile("/notes.txt", "mine");
    ws.mount("/notes.txt", inner);
    expect(await ws.fs.readFile("/notes.txt", "utf8")).toBe("mine");
    await ws.close();
  });
});
