import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildEdgeRepo,
  buildRealFilesRepo,
  type EdgeRepoInfo,
  type GitHttpServer,
  type GitHubRestServer,
  startGitHttp,
  startGitHubRest,
} from "../../test-servers/src/index.js";

/** The repositories and servers one test file uses; `stop()` removes everything. */
export interface GitEnv {
  readonly projectRoot: string;
  readonly http: GitHttpServer;
  readonly rest: GitHubRestServer;
  readonly edge: EdgeRepoInfo;
  readonly many: { commit: string; files: number; bytes: number } | undefined;
  repoDir(repo: string): string;
  stop(): Promise<void>;
}

export const REPO_ROOT: string = new URL("../../../", import.meta.url).pathname;

/**
 * Builds the edge-case repository (and the few-thousand-file one when asked) under a fresh temp
 * folder and starts git http-backend and the REST server over it. The REST server truncates
 * recursive trees above 1,000 entries, so the edge repo's 1,500-file `wide/` forces the
 * truncation path as GitHub's 100,000 would on a larger tree.
 */
export async function startGitEnv(
  options: { many?: boolean; token?: string; truncateAt?: number; maxBlobBytes?: number } = {},
): Promise<GitEnv> {
  const projectRoot = await mkdtemp(join(tmpdir(), "ws-github-"));
  const repoDir = (repo: string): string => join(projectRoot, `${repo}.git`);
  const edge = await buildEdgeRepo(repoDir("acme/edge"));
  const many = options.many
    ? await buildRealFilesRepo(repoDir("acme/many"), {
        sourceRoots: [join(REPO_ROOT, "node_modules")],
        count: 3000,
      })
    : undefined;
  const http = await startGitHttp({ projectRoot, token: options.token });
  const rest = await startGitHubRest({
    projectRoot,
    token: options.token,
    truncateAt: options.truncateAt ?? 1000,
    // GitHub's own limit unless a test lowers it to reach the too_large path cheaply.
    maxBlobBytes: options.maxBlobBytes,
  });
  return {
    projectRoot,
    http,
    rest,
    edge,
    many,
    repoDir,
    async stop() {
      await Promise.all([http.stop(), rest.stop()]);
      await rm(projectRoot, { recursive: true, force: true });
    },
  };
}
