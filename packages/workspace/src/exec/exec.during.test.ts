import { describe, expect, it } from "vitest";
import { spyMount, stored } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";
import type { MountConflict } from "../workspace-options.js";

/** Issue 18.4: an API write acknowledged while a command runs is compared with what the command started from. */
describe("ws.fs writes during a command", () => {
  it("an API append acknowledged during a long command is reported as a conflict (exec side wins by default)", async () => {
    const m = spyMount({ mode: "read-write", files: { "journal.txt": "a\n" } });
    const seen: MountConflict[] = [];
    const ws = new Workspace({ mounts: { "/m": m }, onMountConflict: (c) => void seen.push(c) });
    const running = ws.exec("sh", ["-c", 'sleep 1.5; echo c >> "$WS_ROOT/m/journal.txt"'], { hydrate: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await ws.fs.appendFile("/m/journal.txt", "b\n");
    await ws.flushMounts();
    expect(stored(m, "journal.txt")).toBe("a\nb\n");
    const r = await running;
    expect(r.changes.conflicts.map((c) => [c.kind, c.path, c.resolution])).toEqual([
      ["exec", "/m/journal.txt", "accept"],
    ]);
    expect(seen.map((c) => c.kind)).toEqual(["exec"]);
    expect(stored(m, "journal.txt")).toBe("a\nc\n");
    await ws.close();
  });

  it("keep-local keeps the acknowledged API write", async () => {
    const m = spyMount({ mode: "read-write", files: { "journal.txt": "a\n" } });
    const ws = new Workspace({ mounts: { "/m": m }, onMountConflict: () => "keep-local" });
    const running = ws.exec("sh", ["-c", 'sleep 1.5; echo c >> "$WS_ROOT/m/journal.txt"'], { hydrate: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await ws.fs.appendFile("/m/journal.txt", "b\n");
    await ws.flushMounts();
    const r = await running;
    expect(r.changes.conflicts.map((c) => c.resolution)).toEqual(["keep-local"]);
    expect(stored(m, "journal.txt")).toBe("a\nb\n");
    expect(await ws.fs.readFile("/m/journal.txt", "utf8")).toBe("a\nb\n");
    await ws.close();
  });

  it("a command alone changing a file: no conflict", async () => {
    const m = spyMount({ mode: "read-write", files: { "journal.txt": "a\n" } });
    const ws = new Workspace({ mounts: { "/m": m } });
    const r = await ws.exec("sh", ["-c", 'echo c >> "$WS_ROOT/m/journal.txt"'], { hydrate: true });
    expect(r.changes.conflicts).toEqual([]);
    expect(stored(m, "journal.txt")).toBe("a\nc\n");
    await ws.close();
  });
});
