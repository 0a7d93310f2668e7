import {
  type EagerMount,
  type LazyMount,
  MemoryMount,
  type MountEntry,
  MountError,
  type MountFactory,
  type MountWriteApi,
  type PutOptions,
} from "@ws/core";
import type { Capabilities, ConformanceHarness } from "../harness.js";
import { memoryHarness } from "../reference/memory-harness.js";
import { memoryTreeHarness } from "../reference/memory-tree-harness.js";
import { MemoryTreeMount } from "../reference/memory-tree-mount.js";
import { EAGER_CAPABILITIES, LAZY_CAPABILITIES } from "./broken-providers.js";
import { mapHarness } from "./map-mount.js";

/**
 * Positive controls: correct providers that differ from the reference in everything the contract
 * leaves open (order of entries and of writes, latency, page size, optional metadata, how the code
 * is written). Every one must pass every case that applies; a failure here is a false failure of
 * the suite, which would teach outside authors to distrust it.
 */
export interface PositiveControl {
  readonly id: string;
  readonly what: string;
  readonly harness: () => ConformanceHarness;
  readonly capabilities: Capabilities;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function lazyControl(
  change: (base: LazyMount) => Partial<LazyMount>,
  pageSize?: number,
): () => ConformanceHarness {
  return () =>
    memoryHarness({
      createMount: (options) => {
        const base = MemoryMount(pageSize === undefined ? options : { ...options, pageSize });
        return { ...base, ...change(base) } as LazyMount;
      },
    });
}

/** Replays the provider's write calls in another order (files before links, as a host needs). */
function eagerControl(order: <T>(calls: T[]) => T[]): () => ConformanceHarness {
  return () =>
    memoryTreeHarness({
      createMount:
        (options): MountFactory =>
        async (context) => {
          const base = (await MemoryTreeMount(options)(context)) as EagerMount;
          return {
            ...base,
            async materialize(api: MountWriteApi) {
              const writes: (() => void)[] = [];
              const links: (() => void)[] = [];
              const recorder: MountWriteApi = {
                writeFile: (path, bytes, mode) => writes.push(() => api.writeFile(path, bytes, mode)),
                mkdir: (path, mode) => writes.push(() => api.mkdir(path, mode)),
              };
              const symlink = api.symlink;
              if (symlink)
                recorder.symlink = (path, target) => links.push(() => symlink.call(api, path, target));
              await base.materialize(recorder);
              for (const call of [...order(writes), ...order(links)]) call();
            },
          };
        },
    });
}

function bareEntries(entries: MountEntry[]): MountEntry[] {
  return entries.map((e) => ({ path: e.path, size: e.size }));
}

export const POSITIVE_CONTROLS: readonly PositiveControl[] = [
  {
    id: "reverse-order",
    what: "lists entries in reverse key order",
    capabilities: LAZY_CAPABILITIES,
    harness: lazyControl((base) => ({ list: async () => (await base.list()).reverse() })),
  },
  {
    id: "random-order",
    what: "lists entries in a new random order on every call",
    capabilities: LAZY_CAPABILITIES,
    harness: lazyControl((base) => ({ list: async () => shuffle(await base.list()) })),
  },
  {
    id: "slow-one-entry-pages-bare",
    what: "random latency on every call, one-entry list pages, no mtime/etag/mode, conditional puts refused",
    capabilities: {
      ...LAZY_CAPABILITIES,
      listPageSize: { status: "unsupported", reason: "always one-entry pages" },
      conditionalPut: { status: "unsupported", reason: "no etags to compare" },
    },
    harness: lazyControl((base) => {
      const put = base.put!.bind(base);
      const del = base.delete!.bind(base);
      return {
        async list() {
          await sleep(Math.random() * 4);
          return shuffle(bareEntries(await base.list()));
        },
        async fetch(path: string) {
          await sleep(Math.random() * 4);
          return base.fetch(path);
        },
        async put(path: string, bytes: Uint8Array, options: PutOptions = {}) {
          await sleep(Math.random() * 4);
          if (base.writable && (options.ifMatch !== undefined || options.ifNoneMatch !== undefined)) {
            throw new MountError("ENOTSUP", `${path}: conditional puts are not supported`, { path });
          }
          return put(path, bytes);
        },
        async delete(path: string) {
          await sleep(Math.random() * 4);
          return del(path);
        },
      };
    }, 1),
  },
  {
    id: "stranger-map",
    what: "a Map-backed provider written from the seed's interfaces alone, listing in insertion order",
    capabilities: {
      write: "supported",
      delete: "supported",
      conditionalPut: "supported",
    },
    harness: mapHarness,
  },
  {
    id: "eager-reverse-writes",
    what: "an eager mount that writes files and links in reverse order",
    capabilities: EAGER_CAPABILITIES,
    harness: eagerControl((calls) => [...calls].reverse()),
  },
  {
    id: "eager-random-writes",
    what: "an eager mount that writes files and links in random order",
    capabilities: EAGER_CAPABILITIES,
    harness: eagerControl((calls) => shuffle([...calls])),
  },
];
