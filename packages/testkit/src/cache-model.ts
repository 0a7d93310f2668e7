import type { Mount, MountFactory } from "@ws/core";
import { Workspace } from "@ws/workspace";
import { check, checkBytes, fail } from "./assert.js";
import { randomBytes } from "./bytes.js";

/** mulberry32: a small seeded PRNG, so a failing run replays from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CacheModelOptions {
  /** Replays the same operations for the same seed. */
  readonly seed: number;
  /** Operations (default 400). */
  readonly ops?: number | undefined;
  /** `cache.maxBytes` of the workspace under test (default 48 KiB). */
  readonly budget?: number | undefined;
  /** Files seeded (default 24), each 1 byte to `maxFileBytes` (default 16 KiB). */
  readonly files?: number | undefined;
  readonly maxFileBytes?: number | undefined;
  /**
   * Stores `files` in the backend with its own client and returns a function that makes a fresh
   * read-write mount over them (`writeBack: "manual"`), called once for the workspace under test
   * and once for the workspace that reads everything back at the end.
   */
  setup(files: Readonly<Record<string, Uint8Array>>): Promise<() => Mount | MountFactory>;
}

export interface CacheModelResult {
  readonly reads: number;
  readonly rangedReads: number;
  readonly writes: number;
  readonly evictions: number;
  /** Fetches beyond the first of each path: files read again after an eviction. */
  readonly refetches: number;
  /** The most `ws.cache.residentBytes` seen after an operation settled. */
  readonly peakResident: number;
}

const ROOT = "/model";

/**
 * The content budget's model check: random reads (whole, ranged through `ws.fs.open`, several at
 * once), writes, appends and flushes on a read-write mount under a small `cache.maxBytes`, each
 * checked against a model of what the workspace must show. Throws on the first difference:
 *
 * - every byte read equals the model (upstream, or the local write not yet acknowledged);
 * - a file with a local change is never evicted (its `"evict"` event would name it);
 * - after each operation, the bytes the budget holds are at most the budget plus the largest file;
 * - the run evicted and read evicted files again (so the check was not vacuous);
 * - after `close()`, a new workspace without a budget reads every file as the model says.
 */
export async function cacheBudgetModel(options: CacheModelOptions): Promise<CacheModelResult> {
  const random = seededRandom(options.seed);
  const ops = options.ops ?? 400;
  const budget = options.budget ?? 48 * 1024;
  const count = options.files ?? 24;
  const maxFile = options.maxFileBytes ?? 16 * 1024;
  const int = (n: number): number => Math.floor(random() * n);
  const initial: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) {
    initial[`d${i % 3}/f${String(i).padStart(2, "0")}.bin`] = randomBytes(
      1 + int(maxFile),
      options.seed * 1000 + i,
    );
  }
  const fresh = await options.setup(initial);
  const model = new Map(Object.entries(initial));
  const paths = [...model.keys()];
  const dirty = new Set<string>();
  let largest = Math.max(...[...model.values()].map((b) => b.length));
  const fetched = new Map<string, number>();
  const problems: string[] = [];
  const mount = fresh();
  const ws = new Workspace({
    mounts: { [ROOT]: typeof mount === "function" ? mount : () => mount },
    cache: { maxBytes: budget },
  });
  ws.on("evict", (e) => {
    const rel = e.path.slice(ROOT.length + 1);
    if (dirty.has(rel)) problems.push(`${e.path} was evicted with a local change`);
  });
  ws.on("fetch", (e) => fetched.set(e.path, (fetched.get(e.path) ?? 0) + 1));
  let reads = 0;
  let rangedReads = 0;
  let writes = 0;
  let peakResident = 0;
  const readWhole = async (rel: string, op: number): Promise<void> => {
    const got = await ws.fs.readFile(`${ROOT}/${rel}`);
    checkBytes(new Uint8Array(got), model.get(rel)!, `op ${op}: readFile ${rel}`);
    reads++;
  };
  try {
    for (let op = 0; op < ops; op++) {
      const rel = paths[int(paths.length)]!;
      const dice = random();
      if (dice < 0.45) await readWhole(rel, op);
      else if (dice < 0.6) {
        const want = model.get(rel)!;
        const start = int(want.length + 2);
        const length = int(8192);
        const handle = await ws.fs.open(`${ROOT}/${rel}`);
        try {
          const buffer = new Uint8Array(length);
          const { bytesRead } = await handle.read(buffer, 0, length, start);
          checkBytes(
            buffer.subarray(0, bytesRead),
            want.subarray(Math.min(start, want.length), Math.min(start + length, want.length)),
            `op ${op}: read ${rel} [${start}, ${start + length})`,
          );
        } finally {
          await handle.close();
        }
        rangedReads++;
      } else if (dice < 0.7) {
        const burst = Array.from({ length: 4 }, () => paths[int(paths.length)]!);
        await Promise.all(burst.map((p) => readWhole(p, op)));
      } else if (dice < 0.82) {
        const bytes = randomBytes(1 + int(maxFile), options.seed * 7919 + op);
        dirty.add(rel);
        model.set(rel, bytes);
        largest = Math.max(largest, bytes.length);
        await ws.fs.writeFile(`${ROOT}/${rel}`, bytes);
        writes++;
      } else if (dice < 0.9) {
        const extra = randomBytes(1 + int(512), options.seed * 104729 + op);
        dirty.add(rel);
        const next = new Uint8Array(model.get(rel)!.length + extra.length);
        next.set(model.get(rel)!);
        next.set(extra, model.get(rel)!.length);
        model.set(rel, next);
        largest = Math.max(largest, next.length);
        await ws.fs.appendFile(`${ROOT}/${rel}`, extra);
        writes++;
      } else {
        await ws.flushMounts();
      }
      const resident = ws.cache.residentBytes;
      peakResident = Math.max(peakResident, resident);
      check(
        resident <= budget + largest,
        `op ${op}: ${resident} bytes held, over the budget ${budget} + the largest file ${largest}`,
      );
      if (problems.length > 0) fail(`op ${op}: ${problems.join("; ")}`);
    }
  } finally {
    await ws.close();
  }
  const evictions = ws.stats.evictions;
  let refetches = 0;
  for (const n of fetched.values()) refetches += Math.max(0, n - 1);
  check(evictions > 0, `no eviction in ${ops} operations: the budget ${budget} was never exceeded`);
  check(refetches > 0, `no file was read again after its eviction in ${ops} operations`);
  // Everything the model says is upstream now: a new workspace without a budget reads it back.
  const after = fresh();
  const check2 = new Workspace({ mounts: { [ROOT]: typeof after === "function" ? after : () => after } });
  try {
    for (const [rel, want] of model) {
      checkBytes(new Uint8Array(await check2.fs.readFile(`${ROOT}/${rel}`)), want, `after close: ${rel}`);
    }
  } finally {
    await check2.close();
  }
  return { reads, rangedReads, writes, evictions, refetches, peakResident };
}
