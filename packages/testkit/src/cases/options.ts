import type { LazyMount, Mount, MountEntry } from "@ws/core";
import { check, checkBytes, checkEqual, fail, sorted } from "../assert.js";
import { text } from "../bytes.js";
import { type CaseContext, type ConformanceCase, NotApplicable } from "../case.js";
import type { HarnessMountOptions } from "../harness.js";

/**
 * The slice of `@ws/workspace`'s public API the options cases use. Typed here and loaded with a
 * dynamic import, so the catalogue does not break while the workspace evolves, and a provider
 * without the workspace installed still runs every other case.
 */
export interface WorkspaceLike {
  readonly fs: {
    readFile(path: string): Promise<Uint8Array>;
    writeFile(path: string, data: Uint8Array | string): Promise<void>;
    readdir(path: string): Promise<string[]>;
    exists(path: string): Promise<boolean>;
    rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void>;
  };
  flushMounts(root?: string): Promise<unknown>;
  close(): Promise<unknown>;
  /** Workspace events (`"error"`, `"fetch"`...); optional so older workspaces still fit. */
  on?(event: string, listener: (payload: unknown) => void): unknown;
}

export type WorkspaceConstructor = new (options: { mounts: Record<string, Mount> }) => WorkspaceLike;

export async function loadWorkspace(): Promise<WorkspaceConstructor> {
  let module: Record<string, unknown>;
  try {
    // A variable specifier keeps bundlers and tsc from requiring the package at build time.
    const specifier = "@ws/workspace";
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new NotApplicable(`@ws/workspace cannot be loaded (${(error as Error).message})`);
  }
  const Workspace = module["Workspace"];
  if (typeof Workspace !== "function") throw new NotApplicable("@ws/workspace does not export Workspace yet");
  return Workspace as WorkspaceConstructor;
}

/** Counts calls into the provider, so a case can prove that nothing was downloaded or written. */
export interface Spy {
  lists: number;
  fetches: number;
  puts: number;
  deletes: number;
}

export function spyOn(mount: LazyMount): { mount: LazyMount; spy: Spy } {
  const spy: Spy = { lists: 0, fetches: 0, puts: 0, deletes: 0 };
  // A prototype-linked wrapper keeps kind, writable, options and strategy as the provider set them.
  const wrapped: LazyMount = Object.create(mount) as LazyMount;
  Object.assign(wrapped, {
    list: async (): Promise<MountEntry[]> => {
      spy.lists++;
      return mount.list();
    },
    fetch: async (relPath: string): Promise<Uint8Array> => {
      spy.fetches++;
      return mount.fetch(relPath);
    },
  });
  if (mount.put) {
    const put = mount.put.bind(mount);
    Object.assign(wrapped, {
      put: async (...args: Parameters<typeof put>) => {
        spy.puts++;
        return put(...args);
      },
    });
  }
  if (mount.delete) {
    const del = mount.delete.bind(mount);
    Object.assign(wrapped, {
      delete: async (relPath: string) => {
        spy.deletes++;
        return del(relPath);
      },
    });
  }
  return { mount: wrapped, spy };
}

/** A Workspace with `mount` at the case root, closed (flushing pending writes) after `body`. */
async function inWorkspace(
  t: CaseContext,
  mount: Mount,
  body: (ws: WorkspaceLike) => Promise<void>,
): Promise<void> {
  const Workspace = await loadWorkspace();
  const ws = new Workspace({ mounts: { [t.root]: mount } });
  try {
    await body(ws);
  } finally {
    await ws.close();
  }
}

/** The lazy mount under test in a Workspace, with a spy counting what reaches the provider. */
async function withWorkspace(
  t: CaseContext,
  options: HarnessMountOptions,
  body: (ws: WorkspaceLike, spy: Spy, root: string) => Promise<void>,
): Promise<void> {
  const { mount, spy } = spyOn(await t.lazy(options));
  await inWorkspace(t, mount, (ws) => body(ws, spy, t.root));
}

/** The eager mount under test in a Workspace, which materialises it on the first call. */
async function withEagerWorkspace(
  t: CaseContext,
  options: HarnessMountOptions,
  body: (ws: WorkspaceLike, root: string) => Promise<void>,
): Promise<void> {
  await inWorkspace(t, await t.eager(options), (ws) => body(ws, t.root));
}

async function expectCode(operation: () => Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await operation();
  } catch (error) {
    const got = (error as { code?: unknown }).code;
    check(got === code, `${what}: expected ${code}, got ${String(got)} (${(error as Error).message})`);
    return;
  }
  fail(`${what}: expected ${code}, but it succeeded`);
}

/** Polls until `probe` is true; the bound is generous because this waits for an event, it does not time one. */
async function eventually(probe: () => Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await probe())) {
    if (Date.now() - start > limitMs) fail(`${what}: still not true after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const FIVE = { "1.txt": "1", "2.txt": "22", "3.txt": "333", "d/4.txt": "4444", "d/5.txt": "55555" };
const FIVE_BYTES = 15;

async function seedFive(t: CaseContext): Promise<void> {
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(FIVE)) files[k] = text(v);
  await t.seed(files);
}

export const optionCases: readonly ConformanceCase[] = [
  {
    id: "options.ignore",
    group: "options",
    strategy: "lazy",
    requires: ["workspace"],
    title: "ignored paths are absent from the workspace and never fetched",
    async run(t) {
      await t.seed({
        "keep.txt": text("keep"),
        "node_modules/pkg/index.js": text("x"),
        "src/.cache/blob": text("x"),
        "src/main.ts": text("main"),
      });
      await withWorkspace(t, { ignore: ["node_modules", ".cache"] }, async (ws, spy, root) => {
        checkEqual(sorted(await ws.fs.readdir(root)), ["keep.txt", "src"], "readdir of the mount root");
        checkEqual(sorted(await ws.fs.readdir(`${root}/src`)), ["main.ts"], "readdir of src");
        check(!(await ws.fs.exists(`${root}/node_modules/pkg/index.js`)), "an ignored file is visible");
        checkEqual(spy.fetches, 0, "fetches of ignored or unread files");
      });
    },
  },
  {
    id: "options.max-entries",
    group: "options",
    strategy: "lazy",
    requires: ["workspace"],
    title: "maxEntries N passes with N files and fails EDQUOT with N+1",
    async run(t) {
      await seedFive(t);
      await withWorkspace(t, { maxEntries: 5 }, async (ws, _spy, root) => {
        checkEqual(
          sorted(await ws.fs.readdir(root)),
          ["1.txt", "2.txt", "3.txt", "d"],
          "readdir at the limit",
        );
      });
      await withWorkspace(t, { maxEntries: 4 }, async (ws, spy, root) => {
        await expectCode(() => ws.fs.readdir(root), "EDQUOT", "readdir with 5 entries over maxEntries 4");
        checkEqual(spy.fetches, 0, "fetches before the quota error");
      });
    },
  },
  {
    id: "options.max-bytes",
    group: "options",
    strategy: "lazy",
    requires: ["workspace"],
    title: "maxBytes at the total passes; one byte less fails EDQUOT before any content is downloaded",
    async run(t) {
      await seedFive(t);
      await withWorkspace(t, { maxBytes: FIVE_BYTES }, async (ws, _spy, root) => {
        checkBytes(await ws.fs.readFile(`${root}/3.txt`), text("333"), "readFile at the limit");
      });
      await withWorkspace(t, { maxBytes: FIVE_BYTES - 1 }, async (ws, spy, root) => {
        await expectCode(
          () => ws.fs.readFile(`${root}/3.txt`),
          "EDQUOT",
          "readFile with 15 bytes over maxBytes 14",
        );
        checkEqual(spy.fetches, 0, "fetches before the quota error");
      });
    },
  },
  {
    id: "options.mode",
    group: "options",
    strategy: "lazy",
    requires: ["workspace"],
    title: "through a workspace, a read-only mount refuses writes with EROFS and the backend is untouched",
    async run(t) {
      await t.seed({ "a.txt": text("a") });
      await withWorkspace(t, { mode: "read-only" }, async (ws, spy, root) => {
        await expectCode(
          () => ws.fs.writeFile(`${root}/a.txt`, "changed"),
          "EROFS",
          "writeFile under a read-only mount",
        );
        await expectCode(() => ws.fs.writeFile(`${root}/new.txt`, "new"), "EROFS", "writeFile of a new file");
        await ws.flushMounts(root);
        checkEqual(spy.puts + spy.deletes, 0, "puts and deletes reaching the provider");
      });
      checkBytes(await t.harness.readBackend("a.txt"), text("a"), "backend a.txt");
      checkEqual(await t.harness.listBackend(), ["a.txt"], "backend keys");
    },
  },
  {
    id: "options.write-back.debounce",
    group: "options",
    strategy: "lazy",
    requires: ["workspace", "write"],
    title:
      "debounced writes collapse to one put of the final state; flushMounts lands it; the debounce also fires alone",
    async run(t) {
      // A window far longer than the case: nothing can land before flushMounts, whatever the machine's speed.
      await withWorkspace(t, { mode: "read-write", writeBackMs: 600_000 }, async (ws, spy, root) => {
        for (const v of ["v1", "v2", "v3-final"]) await ws.fs.writeFile(`${root}/f.txt`, v);
        checkEqual(
          await t.harness.readBackend("f.txt"),
          undefined,
          "backend before the debounce window ends",
        );
        await ws.flushMounts(root);
        checkBytes(await t.harness.readBackend("f.txt"), text("v3-final"), "backend after flushMounts");
        checkEqual(spy.puts, 1, "puts for three writes of one path");
      });
      await withWorkspace(t, { mode: "read-write", writeBackMs: 20 }, async (ws, _spy, root) => {
        await ws.fs.writeFile(`${root}/g.txt`, "g");
        await eventually(
          async () => (await t.harness.readBackend("g.txt")) !== undefined,
          "the debounced put of g.txt",
        );
        checkBytes(await t.harness.readBackend("g.txt"), text("g"), "backend after the debounce");
      });
    },
  },
  {
    id: "options.write-back.manual",
    group: "options",
    strategy: "lazy",
    requires: ["workspace", "write"],
    title: "with writeBack manual, writes land only on flushMounts",
    async run(t) {
      await withWorkspace(
        t,
        { mode: "read-write", writeBack: "manual", writeBackMs: 0 },
        async (ws, spy, root) => {
          await ws.fs.writeFile(`${root}/m.txt`, "manual");
          await new Promise((r) => setTimeout(r, 50));
          checkEqual(await t.harness.readBackend("m.txt"), undefined, "backend before flushMounts");
          checkEqual(spy.puts, 0, "puts before flushMounts");
          await ws.flushMounts(root);
          checkBytes(await t.harness.readBackend("m.txt"), text("manual"), "backend after flushMounts");
        },
      );
    },
  },
  {
    id: "options.eager.ignore",
    group: "options",
    strategy: "eager",
    requires: ["workspace"],
    title: "through a workspace, ignored paths of an eager mount are never materialised",
    async run(t) {
      await t.seed({
        "keep.txt": text("keep"),
        "node_modules/pkg/index.js": text("x"),
        "src/.cache/blob": text("x"),
        "src/main.ts": text("main"),
      });
      await withEagerWorkspace(t, { ignore: ["node_modules", ".cache"] }, async (ws, root) => {
        checkEqual(sorted(await ws.fs.readdir(root)), ["keep.txt", "src"], "readdir of the mount root");
        checkEqual(sorted(await ws.fs.readdir(`${root}/src`)), ["main.ts"], "readdir of src");
        check(!(await ws.fs.exists(`${root}/node_modules/pkg/index.js`)), "an ignored file is visible");
      });
    },
  },
  {
    id: "options.eager.max-entries",
    group: "options",
    strategy: "eager",
    requires: ["workspace"],
    title: "through a workspace, maxEntries N materialises N files; N+1 fails EDQUOT on every call",
    async run(t) {
      await seedFive(t);
      await withEagerWorkspace(t, { maxEntries: 5 }, async (ws, root) => {
        checkEqual(
          sorted(await ws.fs.readdir(root)),
          ["1.txt", "2.txt", "3.txt", "d"],
          "readdir at the limit",
        );
      });
      await withEagerWorkspace(t, { maxEntries: 4 }, async (ws, root) => {
        await expectCode(() => ws.fs.readdir(root), "EDQUOT", "readdir with 5 entries over maxEntries 4");
        await expectCode(
          () => ws.fs.exists(`${root}/1.txt`),
          "EDQUOT",
          "every call reports the failed mount",
        );
      });
    },
  },
  {
    id: "options.eager.max-bytes",
    group: "options",
    strategy: "eager",
    requires: ["workspace"],
    title: "through a workspace, maxBytes at the total materialises; one byte less fails EDQUOT",
    async run(t) {
      await seedFive(t);
      await withEagerWorkspace(t, { maxBytes: FIVE_BYTES }, async (ws, root) => {
        checkBytes(await ws.fs.readFile(`${root}/3.txt`), text("333"), "readFile at the limit");
      });
      await withEagerWorkspace(t, { maxBytes: FIVE_BYTES - 1 }, async (ws, root) => {
        await expectCode(
          () => ws.fs.readFile(`${root}/3.txt`),
          "EDQUOT",
          "readFile with 15 bytes over maxBytes 14",
        );
      });
    },
  },
  {
    id: "options.eager.mode",
    group: "options",
    strategy: "eager",
    requires: ["workspace"],
    title:
      "through a workspace, a read-only eager mount refuses writes with EROFS and the source is untouched",
    async run(t) {
      await t.seed({ "a.txt": text("a") });
      await withEagerWorkspace(t, { mode: "read-only" }, async (ws, root) => {
        await expectCode(() => ws.fs.writeFile(`${root}/a.txt`, "changed"), "EROFS", "writeFile of a.txt");
        await expectCode(() => ws.fs.rm(`${root}/a.txt`), "EROFS", "rm of a.txt");
        checkBytes(await ws.fs.readFile(`${root}/a.txt`), text("a"), "a.txt in the workspace");
      });
      checkBytes(await t.harness.readBackend("a.txt"), text("a"), "source a.txt");
    },
  },
];
