import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { LazyMount, MountEntry, MountOptions } from "@ws/core";

/**
 * A lazy read-write mount over a host directory, so that what a process put survives it (the
 * journal tests open a second process, or a second workspace, over the same directory).
 */
export function dirMount(dir: string, options: MountOptions = { mode: "read-write" }): LazyMount {
  const walk = async (rel: string, out: MountEntry[]): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(join(dir, rel));
    } catch {
      return;
    }
    for (const name of names) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = await stat(join(dir, r));
      if (st.isDirectory()) await walk(r, out);
      else out.push({ path: r, size: st.size, mtime: st.mtimeMs });
    }
  };
  return {
    kind: "dir",
    strategy: "lazy",
    writable: options.mode === "read-write",
    options,
    rootType: "directory",
    async list() {
      const out: MountEntry[] = [];
      await walk("", out);
      return out;
    },
    async fetch(rel) {
      return new Uint8Array(await readFile(join(dir, rel)));
    },
    async put(rel, bytes) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), bytes);
    },
    async delete(rel) {
      await rm(join(dir, rel), { force: true });
    },
  };
}
