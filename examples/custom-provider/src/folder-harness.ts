import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "@ws/testkit";
import { FolderMount } from "./folder-mount.js";

async function walk(folder: string, rel: string, out: string[]): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) await walk(join(folder, entry.name), path, out);
    else out.push(path);
  }
}

/**
 * The conformance harness: every case gets a fresh temporary folder, seeded and read back with
 * node:fs directly (the backend's own client), never through FolderMount.
 */
export function folderHarness(): ConformanceHarness {
  return {
    async setup(caseId: string): Promise<HarnessContext> {
      const root = await mkdtemp(join(tmpdir(), `folder-mount-${caseId}-`));
      return {
        async seed(files) {
          for (const [key, bytes] of Object.entries(files)) {
            await mkdir(dirname(join(root, key)), { recursive: true });
            await writeFile(join(root, key), bytes);
          }
        },
        createMount(options: HarnessMountOptions = {}) {
          return FolderMount(root, options);
        },
        async readBackend(relPath) {
          try {
            return new Uint8Array(await readFile(join(root, relPath)));
          } catch {
            return undefined;
          }
        },
        async listBackend() {
          const out: string[] = [];
          await walk(root, "", out);
          return out;
        },
        async cleanup() {
          await rm(root, { recursive: true, force: true });
        },
      };
    },
  };
}
