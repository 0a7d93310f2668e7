import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MountError } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildBwrapArgs,
  decideSandbox,
  type HostRootEntry,
  probeBwrap,
  probeSandbox,
  type SandboxProbe,
} from "./sandbox.js";
import { spawnCommand } from "./spawn-command.js";

const HOST: HostRootEntry[] = [
  { name: "bin", type: "symlink", target: "usr/bin" },
  { name: "dev", type: "directory" },
  { name: "etc", type: "directory" },
  { name: "proc", type: "directory" },
  { name: "tmp", type: "directory" },
  { name: "usr", type: "directory" },
  { name: "var", type: "directory" },
  { name: "workspace", type: "directory" },
];

/** The `--x SRC DST` triples of an argument list, in order. */
function binds(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--bind" || a === "--ro-bind" || a === "--symlink")
      out.push(`${a} ${args[i + 1]} ${args[i + 2]}`);
    if (a === "--") break;
  }
  return out;
}

describe("buildBwrapArgs (pure)", () => {
  it("binds the system read-only, then the workspace parents-first, then remounts / read-only", () => {
    const args = buildBwrapArgs({
      hostRoot: HOST,
      exists: () => false,
      binds: [
        { source: "/x/work/ref", target: "/work/ref", readOnly: true },
        { source: "/x/data", target: "/data", readOnly: true },
        { source: "/x/work", target: "/work", readOnly: false },
      ],
      cwd: "/work",
      command: "cat",
      args: ["/data/config.json"],
    });
    expect(binds(args)).toEqual([
      "--symlink usr/bin /bin",
      "--ro-bind /etc /etc",
      "--ro-bind /usr /usr",
      "--ro-bind /var /var",
      "--ro-bind /workspace /workspace",
      "--ro-bind /x/data /data",
      "--bind /x/work /work",
      "--ro-bind /x/work/ref /work/ref",
    ]);
    const tail = args.slice(args.indexOf("--remount-ro"));
    expect(tail).toEqual(["--remount-ro", "/", "--chdir", "/work", "--", "cat", "/data/config.json"]);
    expect(args.indexOf("--tmpfs")).toBeLessThan(args.indexOf("--ro-bind", args.indexOf("--proc")));
  });

  it("gives the workspace priority over a host top-level directory of the same name (seed 001's /workspace)", () => {
    const args = buildBwrapArgs({
      hostRoot: HOST,
      binds: [{ source: "/x/ws", target: "/workspace", readOnly: false }],
      cwd: "/",
      command: "true",
      args: [],
    });
    expect(binds(args)).not.toContain("--ro-bind /workspace /workspace");
    expect(binds(args)).toContain("--bind /x/ws /workspace");
  });

  it("refuses a mount point inside a system directory that does not exist there, with seed 001's advice", () => {
    const build = () =>
      buildBwrapArgs({
        hostRoot: HOST,
        exists: () => false,
        binds: [{ source: "/x/d", target: "/var/data", readOnly: true }],
        cwd: "/",
        command: "true",
        args: [],
      });
    expect(build).toThrow(/\/var is a read-only system directory.*top-level path/);
    // It exists on the host: shown on top of the read-only /var.
    const args = buildBwrapArgs({
      hostRoot: HOST,
      exists: (p) => p === "/var/data",
      binds: [{ source: "/x/d", target: "/var/data", readOnly: true }],
      cwd: "/",
      command: "true",
      args: [],
    });
    const list = binds(args);
    expect(list.indexOf("--ro-bind /var /var")).toBeGreaterThan(-1);
    expect(list.indexOf("--ro-bind /x/d /var/data")).toBeGreaterThan(list.indexOf("--ro-bind /var /var"));
  });

  it("rejects relative, dotted and duplicate targets", () => {
    const plan = { hostRoot: HOST, cwd: "/", command: "true", args: [] as string[] };
    for (const target of ["data", "/a/../b", "/", "/a/./b"]) {
      expect(() => buildBwrapArgs({ ...plan, binds: [{ source: "/s", target, readOnly: true }] })).toThrow(
        MountError,
      );
    }
    expect(() =>
      buildBwrapArgs({
        ...plan,
        binds: [
          { source: "/a", target: "/d", readOnly: true },
          { source: "/b", target: "/d", readOnly: false },
        ],
      }),
    ).toThrow(/two sandbox binds/);
  });
});

describe("decideSandbox", () => {
  const missing = async (): Promise<SandboxProbe> => ({
    available: false,
    bwrap: "bwrap",
    reason: "bwrap is not installed",
  });
  it('"bwrap" refuses to run without it; "auto" falls back with the reason; "none" never probes', async () => {
    const error = await decideSandbox("bwrap", missing).catch((e: unknown) => e);
    expect(MountError.hasCode(error, "ENOTSUP")).toBe(true);
    expect((error as Error).message).toContain("not installed");
    expect(await decideSandbox("auto", missing)).toEqual({ use: "none", reason: "bwrap is not installed" });
    expect(await decideSandbox("none", () => Promise.reject(new Error("probed")))).toEqual({ use: "none" });
    await expect(decideSandbox("maybe" as "auto")).rejects.toThrow(/sandbox must be/);
  });

  it("the probe names a missing executable", async () => {
    const probe = await probeBwrap("/nonexistent/bwrap");
    expect(probe.available).toBe(false);
    expect(probe.reason).toMatch(/not installed/);
  });
});

// These run the real bwrap (Debian bubblewrap, installed by .ci/install-system-packages): a missing
// bwrap is a failure here, not a skip.
describe("under the real bwrap", () => {
  let dir: string;
  beforeAll(async () => {
    const probe = await probeSandbox();
    if (!probe.available) throw new Error(`bubblewrap is required for these tests: ${probe.reason}`);
    dir = await mkdtemp(join(tmpdir(), "ws-sandbox-"));
    for (const d of ["data", "work/ref", "out"]) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, "data/config.json"), '{"answer":42}');
    writeFileSync(join(dir, "work/ref/pinned.txt"), "pinned");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sh = async (script: string) => {
    const probe = await probeSandbox();
    return spawnCommand({
      command: "sh",
      args: ["-c", script],
      cwd: "/",
      env: { PATH: "/usr/bin:/bin" },
      sandbox: {
        bwrap: probe.bwrap,
        cwd: "/work",
        binds: [
          { source: join(dir, "work/ref"), target: "/work/ref", readOnly: true },
          { source: join(dir, "data"), target: "/data", readOnly: true },
          { source: join(dir, "work"), target: "/work", readOnly: false },
          { source: join(dir, "out"), target: "/out", readOnly: false },
        ],
      },
    });
  };

  it("shows every bind at its own path: cat /data/config.json (seed 001)", async () => {
    const r = await sh("cat /data/config.json && pwd");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('{"answer":42}/work\n');
  });

  it("touch /data/newfile fails with a non-zero exit on a read-only bind (seed 001)", async () => {
    const r = await sh("touch /data/newfile");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(existsSync(join(dir, "data/newfile"))).toBe(false);
  });

  it("a read-only bind inside a writable one stays read-only", async () => {
    const r = await sh(
      "echo w > /work/made.txt && (echo x > /work/ref/pinned.txt && echo written || echo refused)",
    );
    expect(r.stdout).toBe("refused\n");
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(readFileSync(join(dir, "work/made.txt"), "utf8")).toBe("w\n");
    expect(readFileSync(join(dir, "work/ref/pinned.txt"), "utf8")).toBe("pinned");
  });

  it("read-write binds write through; the rest of the system is read-only; /tmp is private", async () => {
    const r = await sh(
      "echo 42 > /out/result.txt; touch /etc/ws-probe 2>/dev/null; echo etc=$?; touch /newtop 2>/dev/null; echo top=$?; echo t > /tmp/x && echo tmp=ok",
    );
    expect(r.stdout).toBe("etc=1\ntop=1\ntmp=ok\n");
    expect(readFileSync(join(dir, "out/result.txt"), "utf8")).toBe("42\n");
    expect(existsSync("/etc/ws-probe")).toBe(false);
  });

  it("forwards SIGTERM to the sandboxed command, which can still clean up", async () => {
    const probe = await probeSandbox();
    const running = spawnCommand({
      command: "sh",
      args: [
        "-c",
        "trap 'echo cleaned > /out/cleanup.txt; exit 7' TERM; echo ready > /out/ready.txt; while :; do sleep 0.05; done",
      ],
      cwd: "/",
      env: { PATH: "/usr/bin:/bin" },
      forwardSignals: ["SIGTERM"],
      sandbox: {
        bwrap: probe.bwrap,
        cwd: "/",
        binds: [{ source: join(dir, "out"), target: "/out", readOnly: false }],
      },
    });
    // A handler for the test process itself, so vitest's worker is not the one that dies.
    const keep = (): void => {};
    process.on("SIGTERM", keep);
    try {
      for (let i = 0; i < 100 && !existsSync(join(dir, "out/ready.txt")); i++)
        await new Promise((r) => setTimeout(r, 20));
      process.kill(process.pid, "SIGTERM");
      const r = await running;
      expect(r.exitCode).toBe(7);
      expect(r.forwarded).toEqual(["SIGTERM"]);
      expect(readFileSync(join(dir, "out/cleanup.txt"), "utf8")).toBe("cleaned\n");
    } finally {
      process.off("SIGTERM", keep);
    }
  });
});
