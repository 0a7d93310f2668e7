import { MemoryStore } from "@ws/core";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "../harness.js";
import { MemoryTreeMount, type MemoryTreeMountOptions, readTree, writeTree } from "./memory-tree-mount.js";

export interface MemoryTreeHarnessOptions {
  readonly createMount?:
    | ((options: MemoryTreeMountOptions) => ReturnType<HarnessContext["createMount"]>)
    | undefined;
}

/** The harness for the reference eager provider: seeds a git-like tree, corrupts it by deleting a blob. */
export function memoryTreeHarness(options: MemoryTreeHarnessOptions = {}): ConformanceHarness {
  const store = new MemoryStore();
  let counter = 0;
  const create = options.createMount ?? ((o: MemoryTreeMountOptions) => MemoryTreeMount(o));
  return {
    async setup(caseId: string): Promise<HarnessContext> {
      const root = `trees/${caseId}-${++counter}`;
      return {
        async seed(files, seedOptions = {}) {
          writeTree(store, root, files, seedOptions);
        },
        createMount(mountOptions: HarnessMountOptions = {}) {
          const { prefix, ...rest } = mountOptions;
          if (prefix)
            throw new Error("memory-tree mounts have no sub-prefix (declare subPrefix unsupported)");
          return create({ ...rest, store, prefix: root });
        },
        async readBackend(relPath) {
          const entry = readTree(store, root)[relPath];
          const object = entry?.blob === undefined ? undefined : store.get(`${root}/${entry.blob}`);
          return object ? new Uint8Array(object.bytes) : undefined;
        },
        async listBackend() {
          return Object.keys(readTree(store, root)).sort();
        },
        async cleanup() {
          for (const key of store.keys(`${root}/`)) store.delete(key);
        },
        async corruptSource() {
          const blobs = store.keys(`${root}/blobs/`);
          const victim = blobs[Math.floor(blobs.length / 2)];
          if (victim) store.delete(victim);
        },
      };
    },
  };
}
