import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostMounts } from "./host-mounts.js";

// Seed 001's examples through the library: `mounts: hostMounts([{ source, target, readonly }])`
// and `exec`, with the bubblewrap sandbox (the seed's behaviour) and without it.

let host: string;

beforeAll(async () => {
  host = await mkdtemp(join(tmpdir(), "ws-seed-001-"));
  for (const d of ["code", "data", "output", "machine-output"]) mkdirSync(join(host, d));
  writeFileSync(join(host, "code/script.py"), "print('hi')\n");
  writeFileSync(join(host, "data/config.json"), '{"answer": 42}\n');
});

afterAll(async () => {
  await rm(host, { recursive: true, force: true });
});

const h = (p: string): string => join(host, p);

describe.each(["bwrap", "none"] as const)("sandbox: %s", (sandbox) => {
  // Under bwrap the command sees the seed's absolute paths; without it, paths under the root.
  const at = (p: string): string => (sandbox === "bwrap" ? p : p.slice(1));
  const opts = { sandbox, hydrate: true, cwd: "/" } as const;

  it("basic mount: cat /workspace/script.py", async () => {
    const ws = new Workspace({ mounts: hostMounts([{ source: h("code"), target: "/workspace" }]) });
    const result = await ws.exec("cat", [at("/workspace/script.py")], opts);
    expect(result.stdout).toBe("print('hi')\n");
    await ws.close();
  });

  it("read-only mount: reading works, writing fails (exit code under bwrap; dropped and reported without)", async () => {
    const ws = new Workspace({
      mounts: hostMounts([{ source: h("data"), target: "/data", readonly: true }]),
    });
    expect((await ws.exec("cat", [at("/data/config.json")], opts)).stdout).toBe('{"answer": 42}\n');
    const write = await ws.exec("touch", [at("/data/newfile")], opts);
    if (sandbox === "bwrap") {
      expect(write.exitCode).not.toBe(0);
    } else {
      expect(write.changes.readOnly).toEqual(["/data/newfile"]);
    }
    await ws.close();
    expect(existsSync(h("data/newfile"))).toBe(false);
  });

  it("multiple mounts and writing files back to the host", async () => {
    const ws = new Workspace({
      mounts: hostMounts([
        { source: h("code"), target: "/workspace" },
        { source: h("data"), target: "/data", readonly: true },
        { source: h("output"), target: "/output" },
      ]),
    });
    const out = `result-${sandbox}.json`;
    const r = await ws.exec(
      "sh",
      [
        "-c",
        `ls ${at("/workspace")} ${at("/data")} > /dev/null && echo '{"answer": 42}' > ${at("/output")}/${out} && chmod 600 ${at("/output")}/${out}`,
      ],
      opts,
    );
    expect(r.exitCode).toBe(0);
    await ws.close(); // flushes the write-back
    expect(readFileSync(h(`output/${out}`), "utf8")).toBe('{"answer": 42}\n');
    expect(statSync(h(`output/${out}`)).mode & 0o777).toBe(0o600);
  });
});
