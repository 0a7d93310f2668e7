import { MemoryMount, MemoryStore } from "@ws/core";
import { describe, expect, it } from "vitest";
import { Workspace } from "../workspace.js";

describe("exec round-trip fidelity (issue 17)", () => {
  it("files in a 0o555 folder and 0o444 files are mirrored, with their modes, never widened", async () => {
    const store = new MemoryStore();
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ mode: "read-write", store }) } });
    const r = await ws.exec("sh", [
      "-c",
      "cd m && mkdir -p ro && echo a > ro/a && chmod 444 ro/a && chmod 555 ro && echo k > key && chmod 600 key",
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.changes.errors).toEqual([]);
    expect(r.changes.notMirrored).toEqual([]);
    expect([...r.changes.mirrored].sort()).toEqual(["/m/key", "/m/ro/a"]);
    expect((await ws.fs.stat("/m/key")).mode & 0o7777).toBe(0o600);
    const side = await ws.exec("sh", ["-c", "stat -c '%a %n' m/key m/ro m/ro/a"]);
    expect(side.stdout).toBe("600 m/key\n555 m/ro\n444 m/ro/a\n");
    await ws.close();
    // A new workspace reads the stored modes back.
    const ws2 = new Workspace({ mounts: { "/m": MemoryMount({ mode: "read-write", store }) } });
    await ws2.fs.readFile("/m/key");
    expect((await ws2.fs.stat("/m/key")).mode & 0o7777).toBe(0o600);
    await ws2.close();
  });

  it("a change that cannot be mirrored is listed in notMirrored (a link under a mount that stores none)", async () => {
    const ws = new Workspace({ mounts: { "/m": MemoryMount({ mode: "read-write" }) } });
    const r = await ws.exec("sh", ["-c", "ln -s /usr/bin/python3 m/python"]);
    expect(r.exitCode).toBe(0);
    expect(r.changes.errors.map((e) => e.path)).toEqual(["/m/python"]);
    await ws.close();
  });

  it("links are stored verbatim under a mount with symlinks: true; hard links are reported", async () => {
    const store = new MemoryStore();
    const mount = () => MemoryMount({ mode: "read-write", store, symlinks: true, directoryMarkers: true });
    const ws = new Workspace({ mounts: { "/m": mount() } });
    const r = await ws.exec("sh", [
      "-c",
      "cd m && ln -s /usr/bin/python3 python && echo x > a && ln a b && mkdir -p empty/inner",
    ]);
    expect(r.changes.errors).toEqual([]);
    expect(r.changes.notMirrored).toEqual([]);
    expect(r.changes.hardLinks).toEqual([["/m/a", "/m/b"]]);
    expect(store.has("python")).toBe(true);
    expect(store.has("empty/inner/")).toBe(true);
    await ws.close();
    const ws2 = new Workspace({ mounts: { "/m": mount() } });
    const back = await ws2.exec("sh", ["-c", "readlink m/python; ls -d m/empty/inner"], { hydrate: true });
    expect(back.stdout).toBe("/usr/bin/python3\nm/empty/inner\n");
    await ws2.close();
  });
});
