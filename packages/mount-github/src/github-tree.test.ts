import { posix } from "node:path";
import { S_IFLNK } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitTree, git, initBareRepo, nativeCatBlobs, nativeLsTree } from "../../test-servers/src/index.js";
import { type GitEnv, startGitEnv } from "../test/git-env.js";
import { TEST_TOKEN } from "../test/git-harness.js";
import { GitHubTree, type GitHubTreeOptions } from "./github-tree.js";

let env: GitEnv;
beforeAll(async () => {
  // Recursive trees truncate above 1,000 entries; blobs above 2 MiB answer 403 too_large.
  env = await startGitEnv({ many: true, token: TEST_TOKEN, truncateAt: 1000, maxBlobBytes: 2 * 1024 * 1024 });
});
afterAll(async () => {
  const violations = env?.rest.violations ?? [];
  await env?.stop();
  expect(violations, "REST responses that do not match GitHub's OpenAPI description").toEqual([]);
});

const tree = (repo: string, options: GitHubTreeOptions = {}) =>
  GitHubTree(repo, { baseUrl: env.rest.url, token: TEST_TOKEN, retries: 0, ...options });

async function codeOf(promise: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code?: unknown }).code, message: String((error as Error).message) };
  }
  throw new Error("expected a rejection");
}

/** Whether a link's target stays inside the mount (worked out here with path.posix, not the mount's own check). */
function staysInside(path: string, target: string): boolean {
  if (target.startsWith("/")) return false;
  return posix.normalize(posix.join("/m", posix.dirname(path), target)).startsWith("/m/");
}

/**
 * Every listed path, size, mode and etag, every fetched byte, and every symbolic link (listed with
 * its target when it stays inside, reported by name when it leaves) equals native git's view.
 */
async function crossCheck(repo: string, tooLarge: readonly string[] = []) {
  const mount = tree(repo);
  const entries = await mount.list();
  const dir = env.repoDir(repo);
  const all = await nativeLsTree(dir, "HEAD");
  const native = all.filter((e) => e.mode === "100644" || e.mode === "100755");
  const links = all.filter((e) => e.mode === "120000");
  const blobs = await nativeCatBlobs(
    dir,
    [...native, ...links].map((e) => e.sha),
  );
  const targetOf = (sha: string): string => blobs.get(sha)?.toString("utf8") ?? "";
  const inside = links.filter((l) => staysInside(l.path, targetOf(l.sha)));
  expect(entries.map((e) => e.path).sort()).toEqual([...native, ...inside].map((e) => e.path).sort());
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const n of native) {
    const entry = byPath.get(n.path);
    expect(entry?.etag, n.path).toBe(n.sha);
    expect(entry?.mode, n.path).toBe(n.mode === "100755" ? 0o755 : 0o644);
    expect(entry?.size, n.path).toBe(blobs.get(n.sha)?.length);
  }
  for (const link of links) {
    const target = targetOf(link.sha);
    if (inside.includes(link)) {
      expect(byPath.get(link.path), link.path).toMatchObject({
        size: Buffer.byteLength(target),
        mode: 0o777,
        etag: link.sha,
      });
      const info = await mount.fetchWithInfo?.(link.path);
      expect(info?.mode, link.path).toBe(S_IFLNK | 0o777);
      expect(new TextDecoder().decode(info?.bytes), link.path).toBe(target);
    } else {
      expect(byPath.has(link.path), link.path).toBe(false);
      expect(mount.diagnostics.find((d) => d.key === link.path)?.code, link.path).toBe(
        "symlink-outside-root",
      );
    }
  }
  // Eight reads at a time, as the workspace's prefetch would: the plugins' queues cost a few ms each.
  const queue = [...native];
  const worker = async (): Promise<void> => {
    for (let n = queue.shift(); n; n = queue.shift()) {
      if (tooLarge.includes(n.path)) {
        const refused = await codeOf(mount.fetch(n.path));
        expect(refused.code).toBe("ENOTSUP");
        expect(refused.message).toMatch(/100 MB.*GitHubRepo/);
        continue;
      }
      const bytes = await mount.fetch(n.path);
      expect(Buffer.from(bytes).equals(blobs.get(n.sha) ?? Buffer.alloc(0)), n.path).toBe(true);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return mount;
}

describe("GitHubTree against the REST server over real git", () => {
  it("lists and reads the edge-case repository exactly as native git has it, through the truncation path", async () => {
    const before = env.rest.requests.length;
    const mount = await crossCheck("acme/edge", ["assets/large.bin"]);
    const sent = env.rest.requests.slice(before).map((r) => r.path);
    // GitHub truncated the recursive tree (1,500 files under wide/): the subtrees were walked.
    expect(sent.some((p) => /\/git\/trees\/[0-9a-f]{40}$/.test(p))).toBe(true);
    const codes = mount.diagnostics.map((d) => `${d.code}:${d.key}`).sort();
    expect(codes).toEqual(
      [
        "submodule:vendor/lib",
        "symlink-outside-root:escape-absolute",
        "symlink-outside-root:escape-relative",
      ].sort(),
    );
  });

  it("links: the mount's root is the boundary, so with a prefix a link into the rest of the repository leaves it", async () => {
    const seen: string[] = [];
    const docs = tree("acme/edge", { prefix: "docs", onDiagnostic: (d) => seen.push(d.key) });
    expect((await docs.list()).map((e) => e.path)).toEqual(["guide.md"]);
    expect(docs.diagnostics.map((d) => `${d.code}:${d.key}`).sort()).toEqual([
      "symlink-outside-root:dir-link",
      "symlink-outside-root:up-link",
    ]);
    expect(seen.sort()).toEqual(["dir-link", "up-link"]);
    expect((await codeOf(docs.fetch("up-link"))).code).toBe("ENOENT");
    // At the top of the repository the same links stay inside: listed, read as links.
    const top = tree("acme/edge");
    const entries = new Map((await top.list()).map((e) => [e.path, e]));
    expect(entries.get("docs/up-link")).toMatchObject({ size: "../bin/run.sh".length, mode: 0o777 });
    expect(new TextDecoder().decode(await top.fetch("docs/dir-link"))).toBe("../bin");
  });

  it("lists and reads the few-thousand-file repository exactly as native git has it", async () => {
    const mount = await crossCheck("acme/many");
    expect(mount.commit).toBe(env.many?.commit);
  });

  it("refresh sends conditional requests: a 304 for an unchanged commit, no tree request", async () => {
    const mount = tree("acme/edge");
    await mount.list();
    const before = env.rest.requests.length;
    const again = await mount.refresh();
    const sent = env.rest.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.status).toBe(304);
    expect(sent[0]?.ifNoneMatch).toMatch(/^"[0-9a-f]+"$/);
    expect(mount.stats.notModified).toBe(1);
    expect(again.length).toBeGreaterThan(1500);
  });

  it("caches blobs by SHA: a second read sends nothing", async () => {
    const mount = tree("acme/edge");
    await mount.list();
    const first = await mount.fetch("README.md");
    const before = env.rest.requests.length;
    const second = await mount.fetch("README.md");
    expect(env.rest.requests.length).toBe(before);
    expect(second).toEqual(first);
    expect(second.buffer).not.toBe(first.buffer);
  });

  it("binary bytes survive (the raw media type, as GitHub's description names it, is not decoded as text)", async () => {
    const mount = tree("acme/edge");
    await mount.list();
    const before = env.rest.requests.length;
    expect([...(await mount.fetch("assets/small.bin"))]).toEqual([0, 1, 2, 255, 254, 0, 10, 13]);
    expect(env.rest.requests.slice(before).map((r) => [r.accept, r.status])).toEqual([
      ["application/vnd.github.raw+json", 200],
    ]);
  });

  it("prefix lists one folder, relative to it; a missing one is ENOENT", async () => {
    const mount = tree("acme/edge", { prefix: "/bin/" });
    expect((await mount.list()).map((e) => e.path).sort()).toEqual(["run.sh", "tool"]);
    expect(new TextDecoder().decode(await mount.fetch("run.sh"))).toContain("echo run");
    expect((await codeOf(tree("acme/edge", { prefix: "nope" }).list())).code).toBe("ENOENT");
  });

  it("a missing repository or ref is ENOENT, saying which", async () => {
    const repo = await codeOf(tree("acme/missing").list());
    expect(repo.code).toBe("ENOENT");
    expect(repo.message).toMatch(/no such repository/);
    const ref = await codeOf(tree("acme/edge", { ref: "no-such-branch" }).list());
    expect(ref.code).toBe("ENOENT");
    expect(ref.message).toMatch(/no commit for ref "no-such-branch"/);
  });

  describe("the first listing asks for the ref's tree and its commit at once", () => {
    let dir = "";
    let first = "";
    beforeAll(async () => {
      dir = env.repoDir("acme/moving");
      await initBareRepo(dir);
      first = await commitTree(dir, { "a.txt": { type: "file", bytes: Buffer.from("a\n") } });
    });
    afterAll(() => env.rest.setBeforeAnswer(undefined));

    /** Answers sent so far for `path`. */
    const answered = (path: string) => env.rest.requests.filter((r) => r.path === path).length;
    const until = async (done: () => boolean): Promise<void> => {
      for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    const TREE = "/repos/acme/moving/git/trees/HEAD?recursive=1";
    const COMMITS = "/repos/acme/moving/commits?per_page=1";

    it("two requests, one round trip, and the commit the listing names", async () => {
      const before = env.rest.requests.length;
      const mount = tree("acme/moving");
      expect((await mount.list()).map((e) => e.path)).toEqual(["a.txt"]);
      expect(
        env.rest.requests
          .slice(before)
          .map((r) => r.path)
          .sort(),
      ).toEqual([COMMITS, TREE].sort());
      expect(mount.commit).toBe(first);
    });

    it("a ref that moves between the two answers is listed at the commit it names", async () => {
      // The tree by ref is answered first (the old tree); the ref moves; then the commit is answered (the new one).
      let moved = "";
      const trees = answered(TREE);
      env.rest.setBeforeAnswer(async ({ path }) => {
        if (path !== COMMITS || moved) return;
        await until(() => answered(TREE) > trees);
        moved = await commitTree(
          dir,
          { "b.txt": { type: "file", bytes: Buffer.from("b\n") } },
          { replace: true },
        );
      });
      const before = env.rest.requests.length;
      const mount = tree("acme/moving");
      const entries = await mount.list();
      env.rest.setBeforeAnswer(undefined);
      expect(moved).toMatch(/^[0-9a-f]{40}$/);
      expect(mount.commit).toBe(moved);
      expect(entries.map((e) => e.path)).toEqual(["b.txt"]);
      expect(new TextDecoder().decode(await mount.fetch("b.txt"))).toBe("b\n");
      const movedTree = (await git(["rev-parse", `${moved}^{tree}`], { cwd: dir })).stdout
        .toString("utf8")
        .trim();
      expect(env.rest.requests.slice(before).map((r) => r.path)).toContain(
        `/repos/acme/moving/git/trees/${movedTree}?recursive=1`,
      );
    });

    it("and the other way round: the commit answered first, the tree after the ref moved", async () => {
      const head = (await git(["rev-parse", "HEAD"], { cwd: dir })).stdout.toString("utf8").trim();
      let moved = "";
      const commits = answered(COMMITS);
      env.rest.setBeforeAnswer(async ({ path }) => {
        if (path !== TREE || moved) return;
        await until(() => answered(COMMITS) > commits);
        moved = await commitTree(
          dir,
          { "c.txt": { type: "file", bytes: Buffer.from("c\n") } },
          { replace: true },
        );
      });
      const mount = tree("acme/moving");
      const entries = await mount.list();
      env.rest.setBeforeAnswer(undefined);
      expect(moved).toMatch(/^[0-9a-f]{40}$/);
      // The commit named is the one before the move, and the listing is its tree, not the newer one.
      expect(mount.commit).toBe(head);
      expect(entries.map((e) => e.path)).toEqual(["b.txt"]);
      // The next refresh sees the move.
      expect((await mount.refresh()).map((e) => e.path)).toEqual(["c.txt"]);
      expect(mount.commit).toBe(moved);
    });
  });

  it("refused credentials are EACCES without the token in the message; the token is sent as a header", async () => {
    const wrong = "ghp_thisIsAWrongTokenThatMustNotLeak000";
    const refused = await codeOf(tree("acme/edge", { token: wrong }).list());
    expect(refused.code).toBe("EACCES");
    expect(refused.message).not.toContain(wrong);
    const before = env.rest.requests.length;
    await GitHubTree("acme/edge", {
      baseUrl: env.rest.url,
      env: { GITHUB_TOKEN: TEST_TOKEN },
      prefix: "bin",
    }).list();
    expect(env.rest.requests[before]?.authorization).toBe(`token ${TEST_TOKEN}`);
  });

  it("a rate limit that resets soon is waited out; a later one is EAGAIN saying when to retry", async () => {
    env.rest.setRateLimit({ remaining: 0, resetInSeconds: 1 });
    try {
      const started = Date.now();
      const entries = await tree("acme/edge", { prefix: "bin", maxRateLimitWaitMs: 10_000 }).list();
      expect(entries).toHaveLength(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    } finally {
      env.rest.setRateLimit(undefined);
    }
    env.rest.setRateLimit({ remaining: 0, resetInSeconds: 3600 });
    try {
      const started = Date.now();
      const limited = await codeOf(tree("acme/edge", { prefix: "bin" }).list());
      expect(limited.code).toBe("EAGAIN");
      expect(limited.message).toMatch(/retry after \d{4}-\d\d-\d\dT/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      env.rest.setRateLimit(undefined);
    }
  });

  it("secondary rate limits: a short retry-after is waited out, a long one is EAGAIN", async () => {
    env.rest.setSecondaryLimit({ count: 1, retryAfterSeconds: 1 });
    expect(await tree("acme/edge", { prefix: "bin" }).list()).toHaveLength(2);
    env.rest.setSecondaryLimit({ count: 5, retryAfterSeconds: 600 });
    try {
      const limited = await codeOf(tree("acme/edge", { prefix: "bin" }).list());
      expect(limited.code).toBe("EAGAIN");
      expect(limited.message).toMatch(/in 60\d s/);
    } finally {
      env.rest.setSecondaryLimit(undefined);
    }
  });

  it("a server that is gone is EIO", async () => {
    const mount = GitHubTree("acme/edge", { baseUrl: "http://127.0.0.1:9", retries: 0 });
    expect((await codeOf(mount.list())).code).toBe("EIO");
  });

  it("rejects bad options with EINVAL naming the option", () => {
    expect(() => GitHubTree("a")).toThrow(/owner\/name/);
    expect(() => GitHubTree("a/b", { cacheBytes: -1 })).toThrow(/cacheBytes/);
    expect(() => GitHubTree("a/b", { baseUrl: "ftp://x" })).toThrow(/baseUrl/);
  });
});
