import {
  type FetchResult,
  type LazyMount,
  MemoryMount,
  type MemoryMountInstance,
  type MemoryMountOptions,
  type PutOptions,
} from "@ws/core";
import type { Capabilities, ConformanceHarness } from "../harness.js";
import { memoryHarness } from "../reference/memory-harness.js";
import { LAZY_CAPABILITIES } from "./broken-providers.js";

/** MemoryMount as the fidelity reference: modes, mtimes, empty folders and links all kept. */
export function fidelityMemoryMount(options: MemoryMountOptions): MemoryMountInstance {
  return MemoryMount({ ...options, directoryMarkers: true, symlinks: true });
}

/** Everything MemoryMount can do, fidelity included. */
export const FIDELITY_CAPABILITIES: Capabilities = Object.freeze({
  ...LAZY_CAPABILITIES,
  modeRoundTrip: "supported",
  mtimeRoundTrip: "supported",
  emptyDirectories: "supported",
  symlinkRoundTrip: "supported",
});

export interface FidelityBrokenProvider {
  readonly id: string;
  readonly defect: string;
  readonly target: string;
  readonly harness: () => ConformanceHarness;
}

function broken(change: (base: MemoryMountInstance) => Partial<LazyMount>): () => ConformanceHarness {
  return () =>
    memoryHarness({
      createMount: (options) => {
        const base = fidelityMemoryMount(options);
        return Object.assign(Object.create(null) as object, base, change(base)) as LazyMount;
      },
    });
}

const withoutMeta =
  (drop: (info: FetchResult) => FetchResult) =>
  (base: MemoryMountInstance): Partial<LazyMount> => ({
    fetchWithInfo: async (path: string) => drop(await base.fetchWithInfo!(path)),
    list: async () => (await base.list()).map(({ mode: _mode, ...rest }) => rest),
  });

/** One broken provider per fidelity case: each drops exactly what its case checks. */
export const FIDELITY_BROKEN_PROVIDERS: readonly FidelityBrokenProvider[] = [
  {
    id: "mode-dropper",
    defect: "stores no mode: every file comes back 0o644",
    target: "fidelity.mode-round-trip",
    harness: broken(withoutMeta(({ mode: _mode, ...rest }) => ({ ...rest, mode: 0o100644 }))),
  },
  {
    id: "mtime-is-upload-time",
    defect: "ignores put's mtime: the upload time comes back",
    target: "fidelity.mtime-round-trip",
    harness: broken((base) => ({
      put: (path: string, bytes: Uint8Array, options?: PutOptions) => {
        const { mtime: _mtime, ...rest } = options ?? {};
        return base.put(path, bytes, rest);
      },
    })),
  },
  {
    id: "marker-as-file",
    defect: "lists a folder marker as a zero-byte file named after the folder",
    target: "fidelity.empty-directory",
    harness: broken((base) => ({
      list: async () => (await base.list()).map(({ type: _type, ...rest }) => rest),
    })),
  },
  {
    id: "symlink-flattener",
    defect: "stores a link as a plain file holding its target",
    target: "fidelity.symlink-round-trip",
    harness: broken((base) => ({
      put: (path: string, bytes: Uint8Array, options?: PutOptions) => {
        const { symlink: _symlink, ...rest } = options ?? {};
        return base.put(path, bytes, rest);
      },
    })),
  },
];
