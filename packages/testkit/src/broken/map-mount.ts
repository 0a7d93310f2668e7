import { type LazyMount, type MountEntry, MountError, type MountOptions, type PutOptions } from "@ws/core";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "../harness.js";

/**
 * A provider written the way a stranger would write one: straight from the seed's interfaces
 * (`LazyMount`, `MountEntry`, `MountError`), over a plain `Map`, without looking at
 * `MemoryMount`. It lists in the Map's insertion order (not sorted), keeps a version counter as
 * its etag, and uses none of core's helpers beyond the error class. It is a positive control:
 * the suite must pass a correct provider however it happens to be written.
 */
export interface MapFile {
  bytes: Uint8Array;
  mtime: number;
  version: number;
}

export function MapMount(
  files: Map<string, MapFile>,
  options: MountOptions & { prefix?: string | undefined } = {},
): LazyMount {
  const writable = options.mode === "read-write";
  const base = options.prefix ? `${options.prefix}/` : "";
  let versions = 0;

  const checkPath = (path: string): string => {
    if (
      path === "" ||
      path.startsWith("/") ||
      path.split("/").some((s) => s === "" || s === "." || s === "..")
    ) {
      throw new MountError("EINVAL", `not a relative path: ${JSON.stringify(path)}`, { path });
    }
    return base + path;
  };
  const refuseReadOnly = (path: string): void => {
    if (!writable) throw new MountError("EROFS", `${path}: this map mount is read-only`, { path });
  };

  return {
    kind: "map",
    writable,
    options,
    async list(): Promise<MountEntry[]> {
      const out: MountEntry[] = [];
      for (const [key, file] of files) {
        if (!key.startsWith(base)) continue;
        out.push({
          path: key.slice(base.length),
          size: file.bytes.length,
          mtime: file.mtime,
          etag: `v${file.version}`,
        });
      }
      return out;
    },
    async fetch(path: string): Promise<Uint8Array> {
      const file = files.get(checkPath(path));
      if (!file) throw new MountError("ENOENT", `${path}: no such file`, { path });
      return file.bytes.slice();
    },
    async put(path: string, bytes: Uint8Array, put: PutOptions = {}): Promise<void> {
      refuseReadOnly(path);
      const key = checkPath(path);
      const current = files.get(key);
      if (put.ifNoneMatch === "*" && current) throw new MountError("EEXIST", `${path} exists`, { path });
      if (put.ifMatch !== undefined && (!current || `v${current.version}` !== put.ifMatch)) {
        throw new MountError("ESTALE", `${path} changed (ifMatch ${put.ifMatch})`, { path });
      }
      files.set(key, { bytes: bytes.slice(), mtime: Date.now(), version: ++versions });
    },
    async delete(path: string): Promise<void> {
      refuseReadOnly(path);
      files.delete(checkPath(path));
    },
  };
}

/** Its harness, as short as a stranger's: one Map, a key prefix per case. */
export function mapHarness(): ConformanceHarness {
  const files = new Map<string, MapFile>();
  let counter = 0;
  return {
    async setup(caseId: string): Promise<HarnessContext> {
      const root = `${caseId}-${++counter}`;
      return {
        async seed(seeded) {
          for (const [key, bytes] of Object.entries(seeded)) {
            files.set(`${root}/${key}`, { bytes: bytes.slice(), mtime: Date.now(), version: 0 });
          }
        },
        createMount({ prefix, ...options }: HarnessMountOptions = {}) {
          return MapMount(files, { ...options, prefix: prefix ? `${root}/${prefix}` : root });
        },
        async readBackend(relPath) {
          return files.get(`${root}/${relPath}`)?.bytes.slice();
        },
        async listBackend() {
          return [...files.keys()]
            .filter((k) => k.startsWith(`${root}/`))
            .map((k) => k.slice(root.length + 1));
        },
        async cleanup() {
          for (const key of [...files.keys()]) if (key.startsWith(`${root}/`)) files.delete(key);
        },
      };
    },
  };
}
