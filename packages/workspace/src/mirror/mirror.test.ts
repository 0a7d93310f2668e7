import { describe, expect, it } from "vitest";
import { spyMount, stored } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

describe("write-back reads the final local state", () => {
  it("modes never block write-back: a file in a folder without x, and a 0o000 file, still land", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual", files: { "d/a.txt": "old" } });
    const ws = new Workspace({ mounts: { "/m": m }, retry: { retries: 0 } });
    const errors: string[] = [];
    ws.on("error", (e) => errors.push(`${e.op} ${e.path}`));
    await ws.fs.writeFile("/m/d/a.txt", "new");
    await ws.fs.writeFile("/m/d/b.txt", "locked");
    await ws.fs.chmod("/m/d/b.txt", 0o000);
    await ws.fs.chmod("/m/d", 0o644);
    await ws.flushMounts();
    expect(errors).toEqual([]);
    expect(stored(m, "d/a.txt")).toBe("new");
    expect(stored(m, "d/b.txt")).toBe("locked");
    // The modes travel with the bytes, never widened.
    expect((await ws.fs.stat("/m/d/b.txt")).mode & 0o7777).toBe(0o000);
    await ws.close();
  });

  it("a file that is really gone still becomes a delete", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual", files: { "d/a.txt": "old" } });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.writeFile("/m/d/a.txt", "new");
    await ws.fs.rm("/m/d", { recursive: true });
    await ws.flushMounts();
    expect(m.log).toEqual(["delete d/a.txt"]);
    await ws.close();
  });
});
