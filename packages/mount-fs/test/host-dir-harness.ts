import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "@ws/testkit";
import { HostDir } from "../src/host-dir.js";

/**
 * The conformance harness for HostDir: each case gets its own temporary directory, seeded and read
 * back with node:fs directly, never through the mount.
 */
export function hostDirHarness(): ConformanceHarness {
  let base = "";
  let counter = 0;
  return {
    async beforeAll() {
      base = await mkdtemp(join(tmpdir(), "ws-mount-fs-conf-"));
    },
    async afterAll() {
      await rm(base, { recursive: true, force: true });
    },
    async setup(caseId: string): Promise<HarnessContext> {
      const root = join(base, `${caseId}-${++counter}`);
      await mkdir(root, { recursive: true });
      return {
        async seed(files, options = {}) {
          for (const [key, bytes] of Object.entries(files)) {
            const path = join(root, key);
            await mkdir(dirname(path), { recursive: true });
            await writeFile(path, bytes);
            const mode = options.modes?.[key];
            if (mode !== undefined) await chmod(path, mode);
          }
          for (const [key, target] of Object.entries(options.symlinks ?? {})) {
            const path = join(root, key);
            await mkdir(dirname(path), { recursive: true });
            await symlink(target, path);
          }
        },
        createMount(mountOptions: HarnessMountOptions = {}) {
          const { prefix, ...rest } = mountOptions;
          return HostDir(prefix ? join(root, prefix) : root, rest);
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
          const walk = async (rel: string): Promise<void> => {
            for (const d of await readdir(join(root, rel), { withFileTypes: true })) {
              const child = rel ? `${rel}/${d.name}` : d.name;
              if (d.isDirectory()) await walk(child);
              else if ((await lstat(join(root, child))).isFile()) out.push(child);
            }
          };
          await walk("");
          return out.sort();
        },
        async cleanup() {
          await rm(root, { recursive: true, force: true });
        },
      };
    },
  };
}
