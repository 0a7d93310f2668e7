import { describe, expect, it } from "vitest";
import { spyMount, stored } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

describe("write-back reads the final local state", () => {
  it("a chmod that makes a pending write unreadable never turns it into a delete", async () => {
    const m = spyMount({ mode: "read-write", writeBack: "manual", files: { "d/a.txt": "old" } });
    const ws = new Workspace({ mounts: { "/m": m }, retry: { retries: 0 } });
    const errors: string[] = [];
    ws.on("error", (e) => errors.push(`${e.op} ${e.path}`));
    await ws.fs.writeFile("/m/d/a.txt", "new");
    await ws.fs.chmod("/m/d", 0o644);
    await expect(ws.flushMounts()).rejects.toMatchObject({ code: "EIO" });
    expect(m.log).toEqual([]);
    expect(stored(m, "d/a.txt")).toBe("old");
    expect(errors).toEqual(["put /m/d/a.txt"]);
    // Readable again: the pending write lands.
    await ws.fs.chmod("/m/d", 0o755);
    await ws.flushMounts();
    expect(m.log).toEqual(["put d/a.txt"]);
    expect(stored(m, "d/a.txt")).toBe("new");
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
