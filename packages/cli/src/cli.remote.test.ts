import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  commitTree,
  type GitHttpServer,
  type GitHubRestServer,
  type HttpTestServer,
  initBareRepo,
  startGitHttp,
  startGitHubRest,
  startPythonHttp,
  startRcloneServe,
} from "@ws/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ws } from "../test/run-ws.js";

// The http, https, github and github-tree schemes of `ws`, as child processes against real local
// servers: python's http.server (an HTML index), rclone serve webdav with Basic auth (read-write),
// git http-backend and the REST server over the same bare repository, both requiring a token.

const TOKEN = "ghp_cliTestTokenNeverPrinted0123456789";
const DAV = { username: "agent", password: "dav-Pa55word-never-printed" };
let work: string;
let python: HttpTestServer;
let dav: HttpTestServer;
let gitHttp: GitHttpServer;
let rest: GitHubRestServer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ws-cli-remote-"));
  const projectRoot = join(work, "git");
  const repo = join(projectRoot, "acme/tiny.git");
  await initBareRepo(repo);
  await commitTree(repo, {
    "README.md": { type: "file", bytes: Buffer.from("# tiny\n") },
    "bin/hello": { type: "file", bytes: Buffer.from("#!/bin/sh\necho hello from git\n"), mode: 0o755 },
    "docs/guide.md": { type: "file", bytes: Buffer.from("guide\n") },
  });
  [python, dav, gitHttp, rest] = await Promise.all([
    startPythonHttp(),
    startRcloneServe({ protocol: "webdav", credentials: DAV }),
    startGitHttp({ projectRoot, token: TOKEN }),
    startGitHubRest({ projectRoot, token: TOKEN }),
  ]);
  mkdirSync(join(python.dataDir, "sub"), { recursive: true });
  writeFileSync(join(python.dataDir, "a.txt"), "alpha\n");
  writeFileSync(join(python.dataDir, "sub/b.txt"), "beta\n");
}, 120_000);

afterAll(async () => {
  await Promise.all([python?.stop(), dav?.stop(), gitHttp?.stop(), rest?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("http(s):// sources", () => {
  it("ls, cat and run over an HTML index (python http.server), read-only", async () => {
    const ls = await ws(["ls", python.url]);
    expect(ls.stderr).toBe("");
    expect(ls.stdout.toString()).toBe("a.txt\nsub/b.txt\n");
    const cat = await ws(["cat", python.url, "sub/b.txt"]);
    expect(cat.stdout.toString()).toBe("beta\n");
    const run = await ws(
      [
        "run",
        "-q",
        "--sandbox",
        "none",
        "-m",
        `${python.url}:/site`,
        "--",
        "sh",
        "-c",
        "cat a.txt sub/b.txt",
      ],
      { cwd: work },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toBe("alpha\nbeta\n");
  });

  it("writes back over WebDAV with :rw, credentials from the environment, never printed", async () => {
    writeFileSync(join(dav.dataDir, "in.txt"), "in\n");
    const env = { WS_HTTP_USER: DAV.username, WS_HTTP_PASSWORD: DAV.password };
    const run = await ws(
      [
        "run",
        "--sandbox",
        "none",
        "-m",
        `type=http,src=${dav.url},dst=/dav,rw,listing=webdav`,
        "--",
        "sh",
        "-c",
        "mkdir -p out && cat in.txt > out/copy.txt",
      ],
      { cwd: work, env },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(dav.dataDir, "out/copy.txt"), "utf8")).toBe("in\n");
    expect(run.stderr).toMatch(/\/dav <- http:\/\/127\.0\.0\.1:\d+\/ \(http, read-write\)/);
    // A wrong password: one line, exit 125, the password nowhere (not even with -v).
    const wrong = await ws(["ls", "-v", dav.url], {
      env: { WS_HTTP_USER: DAV.username, WS_HTTP_PASSWORD: `${DAV.password}-wrong` },
    });
    expect(wrong.code).toBe(125);
    expect(wrong.stderr).toMatch(/EACCES|401|refused|denied/i);
    expect(wrong.stderr).not.toContain(DAV.password);
  });

  it("refuses credentials in the URL and an unknown listing, one line each", async () => {
    const inUrl = await ws(["ls", "http://me:secret@127.0.0.1:9/"]);
    expect(inUrl.code).toBe(125);
    expect(inUrl.stderr.trim().split("\n")).toHaveLength(1);
    expect(inUrl.stderr).toMatch(/WS_HTTP_TOKEN/);
    expect(inUrl.stderr).not.toContain("secret");
    const listing = await ws(["ls", `type=http,src=${python.url},listing=ftp`]);
    expect(listing.code).toBe(125);
    expect(listing.stderr).toMatch(/listing=ftp is not one of auto, manifest, webdav/);
  });
});

describe("github: and github-tree: sources", () => {
  const env = (): Record<string, string> => ({
    GITHUB_TOKEN: TOKEN,
    GITHUB_SERVER_URL: gitHttp.url,
    GITHUB_API_URL: rest.url,
  });

  it("github: clones (git http-backend) and runs over it, modes kept; SRC@REF and SRC/PATH", async () => {
    const ls = await ws(["ls", "-l", "github:acme/tiny@main"], { env: env() });
    expect(ls.stderr).toBe("");
    expect(ls.stdout.toString()).toMatch(
      /^0644 +7 \S+ README\.md\n0755 +\d+ \S+ bin\/hello\n0644 +6 \S+ docs\/guide\.md\n$/,
    );
    const run = await ws(
      ["run", "-q", "--sandbox", "none", "-m", "github:acme/tiny:/repo", "--", "./bin/hello"],
      { cwd: work, env: env() },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.toString()).toBe("hello from git\n");
    const sub = await ws(["cat", "github:acme/tiny/docs@main", "guide.md"], { env: env() });
    expect(sub.stdout.toString()).toBe("guide\n");
  });

  it("github-tree: lists over the REST API and reads one blob", async () => {
    const ls = await ws(["ls", "github-tree:acme/tiny@main"], { env: env() });
    expect(ls.stderr).toBe("");
    expect(ls.stdout.toString()).toBe("README.md\nbin/hello\ndocs/guide.md\n");
    const cat = await ws(["cat", "type=github-tree,src=github-tree:acme/tiny,prefix=docs", "guide.md"], {
      env: env(),
    });
    expect(cat.stdout.toString()).toBe("guide\n");
  });

  it("a wrong token is one line, exit 125, and no token is ever printed (-v, --json, --dry-run)", async () => {
    const bad = { ...env(), GITHUB_TOKEN: `${TOKEN}x` };
    for (const src of ["github:acme/tiny", "github-tree:acme/tiny"]) {
      const r = await ws(["ls", src], { env: bad });
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/EACCES|401|credentials|denied/i);
      const verbose = await ws(
        ["run", "-v", "--json", "--sandbox", "none", "-m", `${src}:/r`, "--", "true"],
        {
          env: bad,
        },
      );
      expect(verbose.code).toBe(125);
      expect(verbose.stderr).not.toContain(TOKEN);
    }
    const dry = await ws(["run", "--dry-run", "-v", "-m", "github:acme/tiny:/r", "--", "true"], {
      env: env(),
    });
    expect(dry.code).toBe(0);
    expect(dry.stderr).not.toContain(TOKEN);
  });

  it("an unknown repository and a malformed source are one line each", async () => {
    const missing = await ws(["ls", "github-tree:acme/nope"], { env: env() });
    expect(missing.code).toBe(125);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    const bad = await ws(["ls", "github:just-a-name"], { env: env() });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/write github:OWNER\/REPO\[\/PATH\]\[@REF\]/);
  });
});

describe("--help", () => {
  it("lists the http, github and github-tree providers with their options", async () => {
    const help = (await ws(["--help"])).stdout.toString();
    expect(help).toMatch(/http +https:\/\/host\/path\/ +an HTTP\(S\) tree/);
    expect(help).toMatch(/github +github:owner\/repo@ref +a GitHub repository, shallow-cloned/);
    expect(help).toMatch(/github-tree +github-tree:owner\/repo@ref +a GitHub repository read file by file/);
    expect(help).toMatch(/listing +how to list: auto, manifest, webdav/);
  });
});
