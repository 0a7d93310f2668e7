// One process sharing the mount: forked by the tests (bundled by test/global-setup.ts), driven over IPC.
import { MountError } from "@ws/core";
import { Workspace } from "@ws/workspace";
import type { CommitOp, SharedLock } from "../src/types.js";
import { type MountConfig, openShared } from "./env.js";

const config = JSON.parse(process.argv[2] ?? "{}") as MountConfig;
const shared = openShared(config);
const locks = new Map<string, SharedLock>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const started = Date.now();
/** Long publish runs report every this many trials (stderr), so a run stopped early still tells. */
const PROGRESS_EVERY = 100;
const progress = (line: string): void => {
  process.stderr.write(`[publish ${process.pid} +${((Date.now() - started) / 1000).toFixed(0)} s] ${line}\n`);
};
/** How many publish trials the readers wait for; set by `publishDone` once the writer has finished. */
let publishTarget = Number.POSITIVE_INFINITY;

function dirsOf(
  paths: string[],
  prefix: string,
  files: number,
): { violations: string[]; complete: Set<string> } {
  const counts = new Map<string, number>();
  for (const p of paths) {
    const top = p.split("/")[0]!;
    if (top.startsWith(`${prefix}-`)) counts.set(top, (counts.get(top) ?? 0) + 1);
  }
  const violations: string[] = [];
  const complete = new Set<string>();
  for (const [dir, n] of counts) {
    if (n === files) complete.add(dir);
    else violations.push(`${dir} had ${n} of ${files}`);
  }
  return { violations, complete };
}

type Args = Record<string, unknown>;
const commands: Record<string, (a: Args) => Promise<unknown>> = {
  async put(a) {
    const op: CommitOp = {
      op: "put",
      path: a["path"] as string,
      bytes: a["data"] as string,
      ...(a["ifMatch"] ? { ifMatch: a["ifMatch"] as string } : {}),
      ...(a["ifNoneMatch"] ? { ifNoneMatch: "*" as const } : {}),
    };
    const r = await shared.commit([op]);
    return { seq: r.seq, etag: shared.versionOf(op.path) };
  },
  async commit(a) {
    const lock = a["lock"] ? locks.get(a["lock"] as string) : undefined;
    return shared.commit(a["ops"] as CommitOp[], lock ? { lock } : {});
  },
  async entries() {
    return shared.entries().map((e) => e.path);
  },
  async read(a) {
    return text(await shared.fetch(a["path"] as string));
  },
  async waitPaths(a) {
    const want = a["paths"] as string[];
    const deadline = Date.now() + ((a["timeoutMs"] as number) ?? 240_000);
    const t0 = Date.now();
    for (;;) {
      const have = new Set(shared.entries().map((e) => e.path));
      if (want.every((p) => have.has(p))) return Date.now() - t0;
      if (Date.now() > deadline) {
        throw new Error(
          `missing after timeout: ${want
            .filter((p) => !have.has(p))
            .slice(0, 5)
            .join(", ")}`,
        );
      }
      await sleep(5);
    }
  },
  async writeOwn(a) {
    const prefix = a["prefix"] as string;
    for (let i = 0; i < (a["count"] as number); i++) {
      await shared.commit([{ op: "put", path: `${prefix}/f${i}.txt`, bytes: `${prefix}:${i}` }]);
    }
    return true;
  },
  async writeHiddenRename(a) {
    const dir = a["dir"] as string;
    const rounds = a["rounds"] as number;
    for (let r = 0; r < rounds; r++) {
      const body = `${"x".repeat(20_000)}|round ${r}|end`;
      await shared.commit([{ op: "put", path: `${dir}/.tmp.result.json`, bytes: body }]);
      await shared.rename(`${dir}/.tmp.result.json`, `${dir}/result.json`);
    }
    return true;
  },
  async readFinal(a) {
    // Reads result.json whenever it is listed, until the last round shows; every read must be whole.
    const path = a["path"] as string;
    const last = `|round ${a["lastRound"] as number}|end`;
    const until = Date.now() + ((a["timeoutMs"] as number) ?? 60_000);
    let reads = 0;
    let bad = 0;
    while (Date.now() < until) {
      if (shared.entries().some((e) => e.path === path)) {
        try {
          const body = text(await shared.fetch(path));
          reads++;
          if (!/^x{20000}\|round \d+\|end$/.test(body)) bad++;
          if (body.endsWith(last)) break;
        } catch (error) {
          // Renamed over between listing and fetch: the old key is gone, the new one is whole.
          if (!(MountError.isInstance(error) && error.code === "ENOENT")) throw error;
        }
      }
      await sleep(2);
    }
    return { reads, bad };
  },
  async publish(a) {
    // Trials until `trials` are done or `seconds` have passed (0: no time limit), at least `minTrials`.
    // `atomic: false` publishes file by file instead (readers must then see folders in part).
    const prefix = a["prefix"] as string;
    const files = a["files"] as number;
    const trials = a["trials"] as number;
    const seconds = (a["seconds"] as number) ?? 0;
    const minTrials = (a["minTrials"] as number) ?? 1;
    const stopAt = seconds > 0 ? Date.now() + seconds * 1000 : Number.POSITIVE_INFINITY;
    let t = 0;
    for (; t < trials && (t < minTrials || Date.now() < stopAt); t++) {
      const hidden = `.tmp-${prefix}-${t}`;
      const ops: CommitOp[] = [];
      for (let i = 0; i < files; i++)
        ops.push({ op: "put", path: `${hidden}/part-${i}.json`, bytes: `{"t":${t},"i":${i}}` });
      // Files land one commit each (as a plain writer would), then the folder is renamed into place.
      for (let i = 0; i < ops.length; i += 10) await shared.commit(ops.slice(i, i + 10));
      if (a["atomic"] !== false) await shared.rename(hidden, `${prefix}-${t}`);
      // The negative control: file by file, each rename its own entry.
      else
        for (let i = 0; i < files; i++)
          await shared.rename(`${hidden}/part-${i}.json`, `${prefix}-${t}/part-${i}.json`);
      if ((t + 1) % PROGRESS_EVERY === 0) progress(`writer: ${t + 1} trials published`);
    }
    return t;
  },
  async publishDone(a) {
    publishTarget = a["count"] as number;
    return true;
  },
  async watchPublish(a) {
    // Checked on every change the feed reports (each applied entry) and every 20 ms: every trial's
    // folder has all of its files or none. A folder seen whole is not checked again until the end
    // (nothing touches it after its publish), so a check costs little even with 1,000 folders.
    const prefix = a["prefix"] as string;
    const files = a["files"] as number;
    const maxTrials = a["maxTrials"] as number;
    const violations: string[] = [];
    let checks = 0;
    const complete = new Set<number>();
    const check = () => {
      checks++;
      // Trials publish in order: past two folders with no file at all there is nothing yet (the
      // final listing below checks every folder, wherever it is).
      let empty = 0;
      for (let t = 0; t < maxTrials && empty < 2; t++) {
        if (complete.has(t)) continue;
        let n = 0;
        for (let i = 0; i < files; i++) if (shared.versionOf(`${prefix}-${t}/part-${i}.json`)) n++;
        if (n === files) {
          complete.add(t);
          if (complete.size % PROGRESS_EVERY === 0) {
            progress(`tree reader: ${complete.size} folders seen whole, ${violations.length} seen in part`);
          }
        } else if (n > 0) violations.push(`${prefix}-${t} had ${n} of ${files}`);
        else empty++;
      }
    };
    const stop = shared.watch!(check);
    const deadline = Date.now() + ((a["timeoutMs"] as number) ?? 100_000);
    while (complete.size < publishTarget && Date.now() < deadline) {
      check();
      await sleep(20);
    }
    stop();
    // The whole tree once more, listed: exactly the published folders, each whole, nothing else.
    const final = dirsOf(
      shared.entries().map((e) => e.path),
      prefix,
      files,
    );
    violations.push(...final.violations);
    return {
      checks,
      violations: violations.slice(0, 10),
      violationCount: violations.length,
      complete: complete.size,
      listedComplete: final.complete.size,
    };
  },
  async workspacePublish(a) {
    // The same check through a Workspace: the mount's change feed is applied by the workspace itself.
    const prefix = a["prefix"] as string;
    const files = a["files"] as number;
    const ws = new Workspace({ mounts: { "/shared": shared } });
    const violations: string[] = [];
    let checks = 0;
    const complete = new Set<string>();
    const deadline = Date.now() + ((a["timeoutMs"] as number) ?? 100_000);
    const pass = async (all: boolean): Promise<void> => {
      const dirs = (await ws.fs.readdir("/shared")).filter((d) => d.startsWith(`${prefix}-`));
      for (const d of dirs) {
        if (!all && complete.has(d)) continue;
        const n = (await ws.fs.readdir(`/shared/${d}`)).length;
        checks++;
        if (n === files) {
          if (!complete.has(d) && (complete.size + 1) % PROGRESS_EVERY === 0) {
            progress(
              `workspace reader: ${complete.size + 1} folders seen whole, ${violations.length} seen in part`,
            );
          }
          complete.add(d);
        } else violations.push(`${d} had ${n} of ${files}`);
      }
    };
    while (complete.size < publishTarget && Date.now() < deadline) {
      await pass(false);
      await sleep(10);
    }
    await pass(true);
    await ws.close();
    return {
      checks,
      violations: violations.slice(0, 10),
      violationCount: violations.length,
      complete: complete.size,
      listedComplete: complete.size,
    };
  },
  async lockLoop(a) {
    const name = a["name"] as string;
    const counter = a["counter"] as string;
    const intervals: Array<[number, number]> = [];
    const tokens: number[] = [];
    for (let r = 0; r < (a["rounds"] as number); r++) {
      const lock = await shared.lock(name, { ttlMs: (a["ttlMs"] as number) ?? 5000, waitMs: 90_000 });
      const t0 = Date.now();
      tokens.push(lock.token);
      let value = 0;
      const etag = shared.versionOf(counter);
      if (etag) value = Number(text(await shared.fetch(counter)));
      await shared.commit(
        [
          {
            op: "put",
            path: counter,
            bytes: String(value + 1),
            ...(etag ? { ifMatch: etag } : { ifNoneMatch: "*" as const }),
          },
        ],
        { lock },
      );
      const t1 = Date.now();
      await lock.release();
      intervals.push([t0, t1]);
    }
    return { intervals, tokens };
  },
  async lockHold(a) {
    const name = a["name"] as string;
    const lock = await shared.lock(name, { ttlMs: a["ttlMs"] as number, waitMs: 30_000 });
    locks.set(name, lock);
    return lock.token;
  },
  async release(a) {
    await locks.get(a["name"] as string)?.release();
    return true;
  },
  async bigCommit(a) {
    const ops: CommitOp[] = [];
    const size = a["size"] as number;
    for (let i = 0; i < (a["count"] as number); i++) {
      ops.push({
        op: "put",
        path: `${a["prefix"] as string}/f${i}.bin`,
        bytes: new Uint8Array(size).fill(65 + (i % 26)),
      });
    }
    process.send!({ event: "committing" });
    return shared.commit(ops);
  },
  async stats() {
    return { ...shared.stats, seq: shared.seq };
  },
  async exit() {
    await shared.dispose();
    setTimeout(() => process.exit(0), 10);
    return true;
  },
};

process.on("message", (message: { id: number; cmd: string; args: Args }) => {
  const fn = commands[message.cmd];
  const run = fn ? fn(message.args ?? {}) : Promise.reject(new Error(`unknown command ${message.cmd}`));
  run.then(
    (value) => process.send!({ id: message.id, ok: true, value }),
    (error: unknown) =>
      process.send!({
        id: message.id,
        ok: false,
        code: MountError.isInstance(error) ? error.code : undefined,
        message: error instanceof Error ? error.message : String(error),
      }),
  );
});

shared.ready().then(
  () => process.send!({ event: "ready" }),
  (error: unknown) => {
    process.send!({ event: "failed", message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);

// The test runner went away (killed, timed out): do not linger.
process.on("disconnect", () => process.exit(0));
