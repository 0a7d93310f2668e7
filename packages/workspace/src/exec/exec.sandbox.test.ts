import { MemoryMount, MemoryStore, MountError } from "@ws/core";
import { afterEach, describe, expect, it } from "vitest";
import { Workspace } from "../workspace.js";
import type { SandboxEvent } from "../workspace-options.js";
import { resetSandboxProbe } from "./sandbox.js";

// exec({ sandbox }) against the real bwrap (Debian bubblewrap). A missing bwrap fails these tests.

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function workspace() {
  const data = new MemoryStore({ "config.json": '{"answer":42}' });
  const out = new MemoryStore();
  const ref = new MemoryStore({ "pinned.txt": "pinned" });
  const ws = new Workspace({
    mounts: {
      "/data": MemoryMount({ store: data }),
      "/output": MemoryMount({ store: out, mode: "read-write", writeBack: "manual" }),
      "/work/ref": MemoryMount({ store: ref }),
    },
  });
  const events: SandboxEvent[] = [];
  ws.on("sandbox", (e) => events.push(e));
  return { ws, data, out, ref, events };
}

afterEach(() => {
  resetSandboxProbe();
});

describe('exec({ sandbox: "bwrap" })', () => {
  it("shows every mount at its own path, refuses writes to read-only ones, pulls back the rest", async () => {
    const { ws, data, out, events } = workspace();
    await ws.fs.writeFile("/work/notes.txt", "plain workspace file");
    const r = await ws.exec(
      "sh",
      [
        "-c",
        [
          "cat /data/config.json",
          "echo",
          "touch /data/newfile 2>/dev/null && echo data=written || echo data=refused",
          "echo x > /work/ref/pinned.txt 2>/dev/null && echo ref=written || echo ref=refused",
          "echo more >> /work/notes.txt && echo work=written",
          "echo '{\"answer\": 42}' > /output/result.json && echo out=written",
          "touch /etc/ws-probe 2>/dev/null && echo etc=written || echo etc=refused",
          'echo "root=$WS_ROOT"',
        ].join("; "),
      ],
      { sandbox: "bwrap", hydrate: true, cwd: "/work" },
    );
    expect(r.stdout).toBe(
      '{"answer":42}\ndata=refused\nref=refused\nwork=written\nout=written\netc=refused\nroot=/\n',
    );
    expect(r.sandbox).toEqual({ use: "bwrap", requested: "bwrap" });
    expect(events).toEqual([{ use: "bwrap", requested: "bwrap" }]);
    expect(r.changes.readOnly).toEqual([]);
    expect(r.changes.added).toEqual(["/output/result.json"]);
    expect(await ws.fs.readFile("/work/notes.txt", "utf8")).toBe("plain workspace filemore\n");
    await ws.flushMounts();
    expect(new TextDecoder().decode(out.get("result.json")?.bytes)).toBe('{"answer": 42}\n');
    expect(data.keys("")).toEqual(["config.json"]);
    await ws.close();
  });

  it('"auto" falls back without bwrap, with an event saying why; "bwrap" refuses to run', async () => {
    const path = process.env["PATH"];
    process.env["PATH"] = "/nonexistent";
    resetSandboxProbe();
    try {
      const { ws, events } = workspace();
      const r = await ws.exec("/bin/sh", ["-c", "touch data/newfile; cat data/config.json"], {
        sandbox: "auto",
        hydrate: true,
        env: { PATH: "/usr/bin:/bin" },
      });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('{"answer":42}');
      expect(r.sandbox?.use).toBe("none");
      expect(events[0]?.reason).toMatch(/bwrap is not installed/);
      // Without the kernel's help, the write is dropped afterwards and reported.
      expect(r.changes.readOnly).toEqual(["/data/newfile"]);
      const refused = await ws.exec("/bin/true", [], { sandbox: "bwrap" }).catch((e: unknown) => e);
      expect(MountError.hasCode(refused, "ENOTSUP")).toBe(true);
      expect((refused as Error).message).toMatch(/"bwrap" was asked for, but bwrap is not installed/);
      await ws.close();
    } finally {
      process.env["PATH"] = path;
    }
  });

  it("passes the exit code through, and a missing command fails like a shell's", async () => {
    const { ws } = workspace();
    expect((await ws.exec("sh", ["-c", "exit 3"], { sandbox: "bwrap" })).exitCode).toBe(3);
    const missing = await ws.exec("no-such-command-ws", [], { sandbox: "bwrap" });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toMatch(/no-such-command-ws/);
    await ws.close();
  });

  it("writes to a mount's file are binary-exact through the sandbox", async () => {
    const { ws, out } = workspace();
    await ws.fs.writeFile("/output/in.bin", text("\u0000\u00ff\u0001"));
    await ws.flushMounts();
    const r = await ws.exec("sh", ["-c", "cp /output/in.bin /output/copy.bin"], {
      sandbox: "bwrap",
      hydrate: true,
    });
    expect(r.exitCode).toBe(0);
    await ws.flushMounts();
    expect(out.get("copy.bin")?.bytes).toEqual(out.get("in.bin")?.bytes);
    await ws.close();
  });
});
