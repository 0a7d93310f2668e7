import { type EagerMount, MemoryMount, MountError } from "@ws/core";
import { describe, expect, it } from "vitest";
import { spyMount } from "../../test/helpers.js";
import { Workspace } from "../workspace.js";

describe("errors raised while indexing name the mount", () => {
  it("a failing list() rejects with the failing mount's root (of several), in the error and the event", async () => {
    const bad = spyMount({ files: { "a.txt": "a" } });
    bad.failures.list = 1;
    const ws = new Workspace({
      mounts: { "/w/good": MemoryMount({ files: { "x.txt": "x" } }), "/w/bad": bad },
    });
    const events: Array<{ root: string | undefined; error: unknown }> = [];
    ws.on("error", (e) => events.push({ root: e.root, error: e.error }));
    const failure = await ws.fs.readdir("/w").catch((e: unknown) => e);
    expect(MountError.isInstance(failure)).toBe(true);
    expect(failure).toMatchObject({ code: "EIO", root: "/w/bad" });
    expect((failure as Error).message).toContain("/w/bad");
    expect(events).toHaveLength(1);
    expect(events[0]!.root).toBe("/w/bad");
    expect(events[0]!.error).toMatchObject({ root: "/w/bad" });
    // The next call retries and succeeds.
    expect(await ws.fs.readdir("/w/bad")).toEqual(["a.txt"]);
    await ws.close();
  });

  it("a throwing materialize() and a throwing factory name their roots", async () => {
    const eager: EagerMount = {
      kind: "broken-eager",
      strategy: "eager",
      writable: false,
      async materialize() {
        throw new MountError("EACCES", "archive unreadable");
      },
    };
    const ws = new Workspace({ mounts: { "/e": eager } });
    await expect(ws.fs.readdir("/")).rejects.toMatchObject({ code: "EACCES", root: "/e" });
    await ws.close();

    const ws2 = new Workspace({
      mounts: {
        "/f": () => {
          throw new Error("token missing");
        },
      },
    });
    await expect(ws2.fs.readdir("/")).rejects.toMatchObject({ code: "EIO", root: "/f" });
    await ws2.close();
  });

  it("several failing mounts: each error in the aggregate carries its own root", async () => {
    const a = spyMount();
    const b = spyMount();
    a.failures.list = 1;
    b.failures.list = 1;
    const ws = new Workspace({ mounts: { "/a": a, "/b": b } });
    const failure = (await ws.fs.stat("/").catch((e: unknown) => e)) as MountError;
    const roots = ((failure.cause as AggregateError).errors as MountError[]).map((e) => e.root).sort();
    expect(roots).toEqual(["/a", "/b"]);
    await ws.close();
  });

  it("a failing refresh names the mount too", async () => {
    const m = spyMount({ files: { "a.txt": "a" } });
    const ws = new Workspace({ mounts: { "/m": m } });
    await ws.fs.stat("/m/a.txt");
    m.failures.list = 1;
    await expect(ws.refreshMount("/m")).rejects.toMatchObject({ code: "EIO", root: "/m" });
    await ws.close();
  });
});
