import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitTree, initBareRepo } from "../../test-servers/src/index.js";
import { type GitEnv, startGitEnv } from "../test/git-env.js";
import { TEST_TOKEN } from "../test/git-harness.js";
import { GitHubRepo } from "./github-repo.js";
import { GitHubTree } from "./github-tree.js";

let env: GitEnv;
beforeAll(async () => {
  env = await startGitEnv({ token: TEST_TOKEN });
});
afterAll(() => env?.stop());

describe("both GitHub mounts in a Workspace", () => {
  it("GitHubRepo as in the seed: a prefix of a repository, with modes and in-tree links", async () => {
    const ws = new Workspace({
      mounts: {
        "/workspace/repo": GitHubRepo("acme/edge", {
          env: { GITHUB_TOKEN: TEST_TOKEN },
          url: `${env.http.url}/acme/edge.git`,
          ref: "main",
          prefix: "/",
          ignore: ["wide"],
        }),
      },
    });
    try {
      expect(await ws.fs.readFile("/workspace/repo/README.md", "utf8")).toBe("# edge cases\n");
      expect(((await ws.fs.stat("/workspace/repo/bin/run.sh")).mode ?? 0) & 0o777).toBe(0o755);
      expect(await ws.fs.readlink("/workspace/repo/link-to-readme")).toBe("README.md");
      expect(await ws.fs.readFile("/workspace/repo/link-to-readme", "utf8")).toBe("# edge cases\n");
      await expect(ws.fs.lstat("/workspace/repo/escape-relative")).rejects.toMatchObject({ code: "ENOENT" });
      await expect(ws.fs.readdir("/workspace/repo/wide")).rejects.toMatchObject({ code: "ENOENT" });
      await expect(ws.fs.writeFile("/workspace/repo/new.txt", "x")).rejects.toMatchObject({ code: "EROFS" });
    } finally {
      await ws.close();
    }
  });

  it("refreshMount re-materialises a GitHubRepo when the branch moved", async () => {
    const dir = env.repoDir("acme/ws-refresh");
    await initBareRepo(dir);
    await commitTree(dir, { "a.txt": { type: "file", bytes: Buffer.from("one") } });
    const ws = new Workspace({
      mounts: {
        "/r": GitHubRepo("acme/ws-refresh", {
          token: TEST_TOKEN,
          url: `${env.http.url}/acme/ws-refresh.git`,
        }),
      },
    });
    try {
      expect(await ws.fs.readFile("/r/a.txt", "utf8")).toBe("one");
      await commitTree(dir, {
        "a.txt": { type: "file", bytes: Buffer.from("two") },
        "b.txt": { type: "file", bytes: Buffer.from("b") },
      });
      await ws.refreshMount("/r");
      expect(await ws.fs.readFile("/r/a.txt", "utf8")).toBe("two");
      expect(await ws.fs.readFile("/r/b.txt", "utf8")).toBe("b");
    } finally {
      await ws.close();
    }
  });

  it("GitHubTree: an in-tree link is listed and becomes a link when read; one leaving the mount is not there", async () => {
    const ws = new Workspace({
      mounts: {
        "/gh": GitHubTree("acme/edge", {
          token: TEST_TOKEN,
          baseUrl: env.rest.url,
          retries: 0,
          ignore: ["wide"],
        }),
      },
    });
    try {
      // The targets are read first: the workspace (not the mount) cannot yet read through a link
      // it has just hydrated when the target is itself an unread stub (ENOENT the first time).
      expect(await ws.fs.readFile("/gh/README.md", "utf8")).toBe("# edge cases\n");
      expect(await ws.fs.readFile("/gh/bin/run.sh", "utf8")).toBe("#!/bin/sh\necho run\n");
      expect(await ws.fs.readFile("/gh/link-to-readme", "utf8")).toBe("# edge cases\n");
      expect(await ws.fs.readlink("/gh/link-to-readme")).toBe("README.md");
      expect(await ws.fs.readFile("/gh/docs/up-link", "utf8")).toBe("#!/bin/sh\necho run\n");
      expect(await ws.fs.readlink("/gh/docs/up-link")).toBe("../bin/run.sh");
      await expect(ws.fs.lstat("/gh/escape-relative")).rejects.toMatchObject({ code: "ENOENT" });
      await expect(ws.fs.lstat("/gh/escape-absolute")).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await ws.close();
    }
  });

  it("GitHubTree lists without reading and fetches a file on first read", async () => {
    const mount = GitHubTree("acme/edge", {
      token: TEST_TOKEN,
      baseUrl: env.rest.url,
      retries: 0,
      prefix: "unicode",
    });
    const ws = new Workspace({ mounts: { "/gh": mount } });
    try {
      expect((await ws.fs.readdir("/gh")).sort()).toEqual(
        ["e\u0301-nfd.txt", "emoji 🎉.txt", "naïve café.txt", "日本語", "\u00e9-nfc.txt"].sort(),
      );
      const blobReads = (): number => env.rest.requests.filter((r) => r.path.includes("/git/blobs/")).length;
      const before = blobReads();
      expect(await ws.fs.readFile("/gh/日本語/ファイル.md", "utf8")).toBe("日本語\n");
      expect(blobReads()).toBe(before + 1);
      await expect(ws.fs.writeFile("/gh/x.txt", "x")).rejects.toMatchObject({ code: "EROFS" });
    } finally {
      await ws.close();
    }
  });
});
