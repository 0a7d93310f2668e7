import { MemoryMount, type MemoryMountOptions, MemoryStore } from "@ws/core";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "../harness.js";

export interface MemoryHarnessOptions {
  /** Builds the mount under test; defaults to `MemoryMount`. The broken providers plug in here. */
  readonly createMount?:
    | ((options: MemoryMountOptions) => ReturnType<HarnessContext["createMount"]>)
    | undefined;
}

/**
 * The credential the memory harness declares as a secret. A `MemoryStore` has no credentials, so
 * `MemoryMount` never sees it; the broken provider that leaks credentials into its errors does.
 */
export const MEMORY_SECRET = "ws-memory-secret-7f3a9c2e41";

function join(...parts: readonly (string | undefined)[]): string {
  return parts.filter((p) => p !== undefined && p !== "").join("/");
}

/**
 * The harness for `MemoryMount`, and the model for a real one: one backend (a `MemoryStore`)
 * shared by every case, each case under its own key prefix, seeded and read back through the
 * store's own methods, never through the mount.
 */
export function memoryHarness(
  options: MemoryHarnessOptions = {},
): ConformanceHarness & { readonly store: MemoryStore } {
  const store = new MemoryStore();
  let counter = 0;
  const create = options.createMount ?? ((o: MemoryMountOptions) => MemoryMount(o));
  return {
    store,
    async setup(caseId: string): Promise<HarnessContext> {
      const root = `cases/${caseId}-${++counter}`;
      return {
        secrets: [MEMORY_SECRET],
        async seed(files) {
          for (const [key, bytes] of Object.entries(files)) store.put(`${root}/${key}`, bytes);
        },
        createMount(mountOptions: HarnessMountOptions = {}) {
          const { prefix, ...rest } = mountOptions;
          return create({ ...rest, store, prefix: join(root, prefix) });
        },
        async readBackend(relPath) {
          const object = store.get(`${root}/${relPath}`);
          return object ? new Uint8Array(object.bytes) : undefined;
        },
        async listBackend() {
          return store.keys(`${root}/`).map((k) => k.slice(root.length + 1));
        },
        async cleanup() {
          for (const key of store.keys(`${root}/`)) store.delete(key);
        },
        async createForbiddenMount(mountOptions: HarnessMountOptions = {}) {
          const { prefix, ...rest } = mountOptions;
          // A MemoryStore has no permissions; this stands in for a key without access, the way a
          // real harness would hand out credentials that the server rejects.
          return create({ ...rest, store: forbiddenStore(), prefix: join(root, prefix) });
        },
      };
    },
  };
}

function forbiddenStore(): MemoryStore {
  return new Proxy(new MemoryStore(), {
    get() {
      return () => {
        throw Object.assign(new Error("access denied"), { code: "EACCES", path: "(store)" });
      };
    },
  });
}
