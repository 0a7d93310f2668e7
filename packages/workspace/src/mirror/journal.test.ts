import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemoryMount, MemoryStore } from "@ws/core";
import { build } from "rolldown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dirMount } from "../../test/dir-mount.js";
import { Workspace } from "../workspace.js";
import { Journal } from "./journal.js";

const here = dirname(fileURLToPath(import.meta.url));
let tmp: string;
let child: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ws-journal-"));
  child = join(tmp, "child.mjs");
  // The child runs the TypeScript sources, bundled (Node 20 runs no TypeScript by itself).
  await build({
    input: join(here, "../../test/journal-child.ts"),
    platform: "node",
    resolve: { conditionNames: ["@ws/source", "import", "node", "default"] },
    output: { file: child, format: "esm" },
    logLevel: "silent",
  });
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Spawns the child; resolves once it printed "done" (every writeFile resolved), with the process. */
function run(journal: string, data: string, mode: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [child, journal, data, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("done\n")) resolve(proc);
    });
    proc.on("exit", (code, signal) => {
      if (!out.includes("done\n")) reject(new Error(`child exited early (${code ?? signal})`));
    });
  });
}

const exited = (proc: ChildProcess): Promise<{ code: number | null; signal: string | null }> =>
  proc.exitCode !== null || proc.signalCode !== null
    ? Promise.resolve({ code: proc.exitCode, signal: proc.signalCode })
    : new Promise((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));

async function landed(data: string): Promise<number> {
  let count = 0;
  for (let i = 0; i < 20; i++) {
    const body = await readFile(join(data, `f${i}.txt`), "utf8").catch(() => undefined);
    if (body === `file ${i}\n`) count++;
  }
  return count;
}

/** A new process's workspace over the same journal and the same upstream: close() replays. */
async function reopen(journal: string, data: string): Promise<void> {
  const ws = new Workspace({
    journal,
    mounts: { "/m": dirMount(data, { mode: "read-write", writeBack: "manual" }) },
  });
  await ws.close();
}

describe("the write-back journal (issue 9 item 12)", () => {
  it("SIGKILL 100 ms after 20 resolved writes: 0 lost with a journal", async () => {
    const journal = join(tmp, "j1");
    const data = join(tmp, "d1");
    const proc = await run(journal, data, "journal");
    await new Promise((r) => setTimeout(r, 100));
    proc.kill("SIGKILL");
    expect((await exited(proc)).signal).toBe("SIGKILL");
    expect(await landed(data)).toBe(0);
    await reopen(journal, data);
    expect(await landed(data)).toBe(20);
    expect((await readdir(journal)).filter((n) => n.endsWith(".rec"))).toEqual([]);
  }, 60_000);

  it("without a journal the same kill loses all 20 (what the README says it loses)", async () => {
    const journal = join(tmp, "j2");
    const data = join(tmp, "d2");
    const proc = await run(journal, data, "none");
    await new Promise((r) => setTimeout(r, 100));
    proc.kill("SIGKILL");
    await exited(proc);
    await reopen(journal, data);
    expect(await landed(data)).toBe(0);
  }, 60_000);

  it.each(["SIGTERM", "SIGINT"] as const)(
    "flushOnExit flushes on %s, then the signal ends the process",
    async (signal) => {
      const data = join(tmp, `d-${signal}`);
      const proc = await run(join(tmp, "unused"), data, "flushOnExit");
      proc.kill(signal);
      expect((await exited(proc)).signal).toBe(signal);
      expect(await landed(data)).toBe(20);
    },
    60_000,
  );

  it("flushOnExit flushes when the event loop empties (normal exit)", async () => {
    const data = join(tmp, "d-exit");
    const proc = await run(join(tmp, "unused"), data, "flushOnExit exit0");
    expect(await exited(proc)).toEqual({ code: 0, signal: null });
    expect(await landed(data)).toBe(20);
  }, 60_000);

  it("a replayed write is conditional on the version it was based on: another writer's change is a conflict", async () => {
    const dir = join(tmp, "j-cond");
    const store = new MemoryStore({ "a.txt": "base" });
    const options = { store, mode: "read-write", writeBack: "manual" } as const;
    const first = new Workspace({ journal: dir, mounts: { "/m": MemoryMount(options) } });
    await first.fs.writeFile("/m/a.txt", "local edit");
    // The process dies here: nothing flushed, the journal holds the write and the etag of "base".
    expect(new Journal(dir).size).toBe(1);
    store.put("a.txt", "someone else");
    const kinds: string[] = [];
    const second = new Workspace({ journal: dir, mounts: { "/m": MemoryMount(options) } });
    second.on("conflict", (c) => kinds.push(c.kind));
    await expect(second.close()).rejects.toMatchObject({ code: "EIO" });
    expect(kinds).toEqual(["version"]);
    expect(Buffer.from(store.get("a.txt")!.bytes).toString()).toBe("someone else");
  });

  it("records are removed once acknowledged, kept while the provider fails", async () => {
    const dir = join(tmp, "j-ack");
    const ws = new Workspace({
      journal: dir,
      mounts: { "/m": MemoryMount({ mode: "read-write", writeBack: "manual" }) },
    });
    await ws.fs.writeFile("/m/a", "1");
    await ws.fs.writeFile("/m/b", "2");
    await ws.fs.rm("/m/b");
    expect(new Journal(dir).size).toBe(2);
    await ws.flushMounts();
    expect(new Journal(dir).size).toBe(0);
    await ws.close();
  });
});
