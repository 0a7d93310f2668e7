import { createServer } from "node:http";
import { MountError } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git, initBareRepo, startGitHttp } from "../../test-servers/src/index.js";
import { type GitEnv, startGitEnv } from "../test/git-env.js";
import { TEST_TOKEN } from "../test/git-harness.js";
import { recordingApi } from "../test/recording.js";
import { GitHubRepo } from "./github-repo.js";
import { GitHubTree } from "./github-tree.js";

let env: GitEnv;
beforeAll(async () => {
  env = await startGitEnv({ token: TEST_TOKEN });
  // A repository no honest client makes: `git mktree` accepts ".." as a name. The servers serve
  // it as they would any other (upload-pack does not fsck).
  const dir = env.repoDir("acme/hostile");
  await initBareRepo(dir);
  const blob = (await git(["hash-object", "-w", "--stdin"], { cwd: dir, input: "evil\n" })).stdout
    .toString()
    .trim();
  const inner = (
    await git(["mktree"], { cwd: dir, input: `100644 blob ${blob}\t..\n100644 blob ${blob}\tinner.txt\n` })
  ).stdout
    .toString()
    .trim();
  const top = (
    await git(["mktree"], {
      cwd: dir,
      input: `100644 blob ${blob}\t..\n100644 blob ${blob}\tok.txt\n040000 tree ${inner}\tsub\n`,
    })
  ).stdout
    .toString()
    .trim();
  const commit = (await git(["commit-tree", top, "-m", "hostile"], { cwd: dir })).stdout.toString().trim();
  await git(["update-ref", "refs/heads/main", commit], { cwd: dir });
});
afterAll(() => env?.stop());

describe("hostile repositories and secrets", () => {
  it("GitHubRepo refuses a tree with names that cannot be paths (EINVAL) and writes nothing", async () => {
    // As git itself refuses to check such a tree out: the whole repository, before any write.
    const mount = GitHubRepo("acme/hostile", { url: `${env.http.url}/acme/hostile.git`, token: TEST_TOKEN });
    const recorded = recordingApi();
    await expect(mount.materialize(recorded.api)).rejects.toMatchObject({ code: "EINVAL" });
    expect(recorded.files.size).toBe(0);
    expect(recorded.links.size).toBe(0);
  });

  it("GitHubRepo checks names byte by byte as git does: `.`, `..`, `.git` in any case and a slash are refused, their neighbours are not", async () => {
    // Trees written byte for byte (`hash-object --literally`: `mktree` refuses some of these), one
    // branch per name, each under a folder. The names are read from the tree's bytes, not strings.
    const dir = env.repoDir("acme/names");
    await initBareRepo(dir);
    const hash = async (type: string, bytes: Uint8Array): Promise<string> =>
      (
        await git(["hash-object", "-t", type, "--literally", "-w", "--stdin"], { cwd: dir, input: bytes })
      ).stdout
        .toString()
        .trim();
    const blob = await hash("blob", Buffer.from("x\n"));
    const entry = (mode: string, name: string, id: string): Buffer =>
      Buffer.concat([
        Buffer.from(`${mode} `),
        Buffer.from(name, "utf8"),
        Buffer.from([0]),
        Buffer.from(id, "hex"),
      ]);
    const branch = async (ref: string, names: readonly string[]): Promise<void> => {
      const inner = await hash("tree", Buffer.concat(names.map((n) => entry("100644", n, blob))));
      const top = await hash("tree", entry("40000", "sub", inner));
      const commit = (await git(["commit-tree", top, "-m", ref], { cwd: dir })).stdout.toString().trim();
      await git(["update-ref", `refs/heads/${ref}`, commit], { cwd: dir });
    };
    const refused = [".", "..", ".git", ".GIT", ".gIt", "a/b"];
    for (const [i, name] of refused.entries()) await branch(`bad${i}`, ["fine.txt", name]);
    const fine = ["...", ".gitignore", ".gi", ".gitt", "git", "x.git", "\u00e9t\u00e9.txt"];
    await branch("good", fine);
    for (const [i, name] of refused.entries()) {
      const recorded = recordingApi();
      const mount = GitHubRepo("acme/names", {
        url: `${env.http.url}/acme/names.git`,
        token: TEST_TOKEN,
        ref: `bad${i}`,
      });
      await expect(mount.materialize(recorded.api), JSON.stringify(name)).rejects.toMatchObject({
        code: "EINVAL",
      });
      expect(recorded.files.size).toBe(0);
    }
    const recorded = recordingApi();
    await GitHubRepo("acme/names", {
      url: `${env.http.url}/acme/names.git`,
      token: TEST_TOKEN,
      ref: "good",
    }).materialize(recorded.api);
    expect([...recorded.files.keys()].sort()).toEqual(fine.map((n) => `sub/${n}`).sort());
  });

  it("GitHubTree drops such names from the listing and refuses them as paths", async () => {
    const seen: string[] = [];
    const mount = GitHubTree("acme/hostile", {
      baseUrl: env.rest.url,
      token: TEST_TOKEN,
      retries: 0,
      onDiagnostic: (d) => seen.push(d.key),
    });
    expect((await mount.list()).map((e) => e.path).sort()).toEqual(["ok.txt", "sub/inner.txt"]);
    expect(seen.sort()).toEqual(["..", "sub/.."]);
    await expect(mount.fetch("..")).rejects.toMatchObject({ code: "EINVAL" });
    await expect(mount.fetch("sub/../ok.txt")).rejects.toMatchObject({ code: "EINVAL" });
  });

  it("GitHubRepo follows a redirect (the base URL moves, as git does), but never takes the token to another origin", async () => {
    // A plain HTTP redirector on another port (another origin) in front of git http-backend.
    const redirector = createServer((req, res) => {
      req.resume();
      res.writeHead(301, { location: `${env.http.url}${req.url ?? "/"}` });
      res.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, "127.0.0.1", resolve));
    const address = redirector.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const before = env.http.requests.length;
      const mount = GitHubRepo("acme/edge", {
        url: `http://127.0.0.1:${port}/acme/edge.git`,
        token: TEST_TOKEN,
      });
      await expect(mount.materialize(recordingApi().api)).rejects.toMatchObject({ code: "EACCES" });
      const reached = env.http.requests.slice(before);
      expect(reached.length).toBeGreaterThan(0);
      expect(reached.every((r) => r.authorization === undefined)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => redirector.close(() => resolve()));
    }
    // Anonymous access through a redirector to an open server: the clone follows it, and the
    // pack request (a POST) goes to the new base URL directly, as git's own client does.
    const open = await startGitHttp({ projectRoot: env.projectRoot });
    const hop = createServer((req, res) => {
      req.resume();
      res.writeHead(301, { location: `${open.url}${req.url ?? "/"}` });
      res.end();
    });
    await new Promise<void>((resolve) => hop.listen(0, "127.0.0.1", resolve));
    const hopAddress = hop.address();
    const hopPort = typeof hopAddress === "object" && hopAddress ? hopAddress.port : 0;
    try {
      const moved = recordingApi();
      await GitHubRepo("acme/edge", {
        url: `http://127.0.0.1:${hopPort}/acme/edge.git`,
        prefix: "bin",
      }).materialize(moved.api);
      expect([...moved.files.keys()].sort()).toEqual(["run.sh", "tool"]);
      expect(open.requests.some((r) => r.method === "POST" && r.url.endsWith("/git-upload-pack"))).toBe(true);
    } finally {
      await new Promise<void>((resolve) => hop.close(() => resolve()));
      await open.stop();
    }
  });

  it("no error of either mount carries the token, even from a dead server", async () => {
    const secret = "ghp_secretThatMustNeverAppear0123456789";
    const failures = [
      GitHubRepo("acme/edge", { url: "http://127.0.0.1:9/acme/edge.git", token: secret }).materialize(
        recordingApi().api,
      ),
      GitHubTree("acme/edge", { baseUrl: "http://127.0.0.1:9", token: secret, retries: 0 }).list(),
      GitHubTree("acme/edge", { baseUrl: env.rest.url, token: secret, retries: 0 }).list(),
    ];
    for (const failure of failures) {
      const error = await failure.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(MountError.isInstance(error)).toBe(true);
      const text = `${String((error as Error).message)} ${String((error as Error).stack)} ${JSON.stringify(error)}`;
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(`x-access-token:${secret}`).toString("base64"));
    }
  });
});
