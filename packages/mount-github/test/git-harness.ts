import { readdir, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { EagerMount, MountFactory, MountWriteApi } from "@ws/core";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "@ws/testkit";
import {
  commitTree,
  type GitTreeEntry,
  git,
  initBareRepo,
  nativeLsTree,
} from "../../test-servers/src/index.js";
import { GitHubRepo } from "../src/github-repo.js";
import { GitHubTree } from "../src/github-tree.js";
import type { GitEnv } from "./git-env.js";

export const TEST_TOKEN = "ghp_wsTestToken0123456789abcdefABCDEF";

/**
 * The workspace's write API says its root (`api.root`), which `defineEagerMount` needs; the
 * testkit's recording API does not (yet), so the harness hands the suite a factory that adds the
 * case's root to whatever API it is given.
 */
function withRoot(mount: EagerMount): MountFactory {
  return (context) => ({
    kind: mount.kind,
    strategy: "eager",
    writable: mount.writable,
    options: mount.options,
    materialize(api: MountWriteApi) {
      const rooted =
        api.root === undefined
          ? Object.assign(Object.create(api) as MountWriteApi, { root: context.root })
          : api;
      return mount.materialize(rooted);
    },
  });
}

function joinPrefix(...parts: ReadonlyArray<string | undefined>): string {
  return parts.filter((p) => p !== undefined && p !== "").join("/");
}

/**
 * The conformance harness for both GitHub mounts: every case gets its own bare repository on the
 * servers of `env()`, seeded with commits made by git's own fast-import, read back with
 * `git cat-file` / `git ls-tree`. The servers check a token; `createForbiddenMount` sends a wrong one.
 */
export function gitHarness(kind: "repo" | "tree", env: () => GitEnv): ConformanceHarness {
  let counter = 0;
  return {
    async setup(caseId: string): Promise<HarnessContext> {
      const e = env();
      const repo = `cases/${caseId.replace(/[^\w.-]/g, "-")}-${++counter}`;
      const dir = e.repoDir(repo);
      await initBareRepo(dir);
      // An empty first commit, so that a case which seeds nothing still mounts an (empty) tree.
      await commitTree(dir, {}, { message: "empty" });
      const mount = (options: HarnessMountOptions, token: string) => {
        const { prefix, ...rest } = options;
        const common = { ...rest, token, prefix: joinPrefix(prefix) };
        return kind === "repo"
          ? withRoot(GitHubRepo(repo, { ...common, url: `${e.http.url}/${repo}.git`, timeoutMs: 20_000 }))
          : GitHubTree(repo, { ...common, baseUrl: e.rest.url, retries: 0 });
      };
      return {
        async seed(files, seedOptions = {}) {
          const entries: Record<string, GitTreeEntry> = {};
          for (const [path, bytes] of Object.entries(files)) {
            const mode = seedOptions.modes?.[path];
            entries[path] = { type: "file", bytes, mode: mode !== undefined && mode & 0o111 ? 0o755 : 0o644 };
          }
          for (const [path, target] of Object.entries(seedOptions.symlinks ?? {})) {
            entries[path] = { type: "symlink", target };
          }
          await commitTree(dir, entries);
        },
        createMount: (options = {}) => mount(options, TEST_TOKEN),
        createForbiddenMount: (options = {}) => mount(options, "ghp_wrongTokenForTheConformanceSuite00"),
        async readBackend(relPath) {
          const result = await git(["cat-file", "blob", `main:${relPath}`], { cwd: dir, allowFailure: true });
          return result.code === 0 ? new Uint8Array(result.stdout) : undefined;
        },
        async listBackend() {
          return (await nativeLsTree(dir, "main")).map((e) => e.path).sort();
        },
        async cleanup() {
          await rm(dir, { recursive: true, force: true });
        },
        async corruptSource() {
          // Unpack every object, then delete one blob the tree points at: upload-pack then fails
          // part-way through the pack, as a damaged repository would.
          const victim = (await nativeLsTree(dir, "main")).filter((x) => x.type === "blob");
          const blob = victim[Math.floor(victim.length / 2)];
          if (!blob) return;
          const packDir = join(dir, "objects", "pack");
          for (const name of await readdir(packDir)) {
            if (!name.endsWith(".pack")) continue;
            const moved = join(dir, name);
            await rename(join(packDir, name), moved);
            await rm(join(packDir, name.replace(/\.pack$/, ".idx")), { force: true });
            await git(["unpack-objects", "-q"], {
              cwd: dir,
              input: await import("node:fs/promises").then((f) => f.readFile(moved)),
            });
            await rm(moved);
          }
          await unlink(join(dir, "objects", blob.sha.slice(0, 2), blob.sha.slice(2)));
        },
      };
    },
  };
}
