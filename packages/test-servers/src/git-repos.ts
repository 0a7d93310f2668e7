import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { findExecutable, missingServer } from "./process-group.js";

const GIT_INSTALL = "apt-get install -y --no-install-recommends git (Debian package git)";

/** One entry of a commit built by `commitTree`. */
export type GitTreeEntry =
  | { readonly type: "file"; readonly bytes: Uint8Array; readonly mode?: 0o644 | 0o755 | undefined }
  | { readonly type: "symlink"; readonly target: string }
  /** A submodule (gitlink, mode 160000) pointing at a commit of another repository. */
  | { readonly type: "submodule"; readonly commit: string };

export interface GitResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly code: number;
}

// No user or system configuration may change what the test repositories contain.
const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "ws test",
  GIT_AUTHOR_EMAIL: "test@ws.invalid",
  GIT_COMMITTER_NAME: "ws test",
  GIT_COMMITTER_EMAIL: "test@ws.invalid",
  GIT_TERMINAL_PROMPT: "0",
};

let gitBinary: Promise<string> | undefined;

/** The absolute path of `git`, or a clear error naming the Debian package (a failure in CI). */
export function requireGit(): Promise<string> {
  gitBinary ??= findExecutable("git").then((path) => {
    if (!path) throw missingServer("git", "git", GIT_INSTALL);
    return path;
  });
  return gitBinary;
}

/** Runs git with a clean configuration; rejects on a non-zero exit unless `allowFailure`. */
export async function git(
  args: readonly string[],
  options: {
    cwd?: string;
    input?: Uint8Array | string;
    allowFailure?: boolean;
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<GitResult> {
  const binary = await requireGit();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: options.cwd,
      env: { ...process.env, ...GIT_ENV, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const result = { stdout: Buffer.concat(out), stderr: err, code: code ?? -1 };
      if (code !== 0 && !options.allowFailure) {
        reject(new Error(`git ${args.join(" ")} failed (${code}): ${err.trim()}`));
      } else resolve(result);
    });
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

/** Creates an empty bare repository at `dir` whose HEAD points at `branch`. */
export async function initBareRepo(dir: string, branch = "main"): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  await git(["init", "--quiet", "--bare", `--initial-branch=${branch}`, dir]);
  // http-backend serves a repository only when it is exported (GIT_HTTP_EXPORT_ALL does that
  // too); uploadpack.allowAnySHA1InWant lets a client fetch a commit by its id.
  await git(["config", "uploadpack.allowAnySHA1InWant", "true"], { cwd: dir });
}

/** C-style quoting as fast-import reads it: any byte is allowed inside the quotes. */
function quotePath(path: string): string {
  const bytes = Buffer.from(path, "utf8");
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += "\\\\";
    else if (b === 0x0a) out += "\\n";
    else if (b < 0x20 || b === 0x7f) out += `\\${b.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(b);
  }
  return `${out}"`;
}

/**
 * Adds one commit on `branch` of the bare repository `dir` with git's own `fast-import`: the
 * entries are added to (or replace paths in) the branch's current tree, or start a new tree with
 * `replace: true`. Paths are stored byte for byte (unicode, spaces, anything but NUL). Returns the
 * new commit's id.
 */
export async function commitTree(
  dir: string,
  entries: Readonly<Record<string, GitTreeEntry>>,
  options: { branch?: string; message?: string; replace?: boolean; time?: number } = {},
): Promise<string> {
  const branch = options.branch ?? "main";
  const ref = `refs/heads/${branch}`;
  const parent = await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
    cwd: dir,
    allowFailure: true,
  });
  const parentId = parent.code === 0 ? parent.stdout.toString("utf8").trim() : undefined;
  const chunks: Buffer[] = [];
  const push = (s: string | Uint8Array): void => {
    chunks.push(typeof s === "string" ? Buffer.from(s, "latin1") : Buffer.from(s));
  };
  // Paths go through quotePath, which returns a latin1-safe string of UTF-8 bytes.
  let mark = 0;
  const lines: string[] = [];
  for (const [path, entry] of Object.entries(entries)) {
    if (entry.type === "submodule") {
      lines.push(`M 160000 ${entry.commit} ${quotePath(path)}\n`);
      continue;
    }
    const data = entry.type === "file" ? entry.bytes : Buffer.from(entry.target, "utf8");
    mark++;
    push(`blob\nmark :${mark}\ndata ${data.length}\n`);
    push(data);
    push("\n");
    const mode = entry.type === "symlink" ? "120000" : entry.mode === 0o755 ? "100755" : "100644";
    lines.push(`M ${mode} :${mark} ${quotePath(path)}\n`);
  }
  const message = Buffer.from(options.message ?? "ws test commit", "utf8");
  const time = options.time ?? 1_767_225_600; // 2026-01-01, so commits are reproducible
  push(`commit ${ref}\ncommitter ws test <test@ws.invalid> ${time} +0000\ndata ${message.length}\n`);
  push(message);
  push("\n");
  if (parentId) push(`from ${parentId}\n`);
  if (options.replace) push("deleteall\n");
  for (const line of lines) push(line);
  push("\ndone\n");
  await git(["fast-import", "--quiet", "--done", "--force"], { cwd: dir, input: Buffer.concat(chunks) });
  return (await git(["rev-parse", ref], { cwd: dir })).stdout.toString("utf8").trim();
}

/** A deterministic pseudo-random byte generator (xorshift32), so test repositories are reproducible. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Copies up to `count` real text files (sorted, deterministic for one lockfile) from the
 * directories under `sourceRoot` (node_modules of this repository by default) into a new bare
 * repository: source code as a real project has it, for realistic pack sizes and compression.
 */
export async function buildRealFilesRepo(
  dir: string,
  options: { sourceRoots: readonly string[]; count?: number; maxFileBytes?: number },
): Promise<{ commit: string; files: number; bytes: number }> {
  const count = options.count ?? 3000;
  const maxFileBytes = options.maxFileBytes ?? 64 * 1024;
  const picked: [string, string][] = [];
  const walk = async (root: string, current: string): Promise<void> => {
    if (picked.length >= count) return;
    const names = (await readdir(current, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of names) {
      if (picked.length >= count) return;
      const full = join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === ".bin" || entry.name === ".cache") continue;
        await walk(root, full);
      } else if (entry.isFile() && /\.(js|ts|mjs|cjs|json|md|txt|d\.ts)$/.test(entry.name)) {
        const size = (await stat(full)).size;
        if (size > 0 && size <= maxFileBytes) picked.push([full, relative(root, full)]);
      }
    }
  };
  for (const root of options.sourceRoots) await walk(dirname(root), root);
  await initBareRepo(dir);
  const entries: Record<string, GitTreeEntry> = {};
  let bytes = 0;
  for (const [full, rel] of picked) {
    const data = await readFile(full);
    bytes += data.length;
    entries[rel] = { type: "file", bytes: data, mode: /\.(sh|cjs)$/.test(rel) ? 0o755 : 0o644 };
  }
  const commit = await commitTree(dir, entries, { message: "real files" });
  return { commit, files: picked.length, bytes };
}

/** What `buildEdgeRepo` puts where, for the tests. */
export interface EdgeRepoInfo {
  readonly commit: string;
  /** The commit the submodule entry points at (in no repository the server has). */
  readonly submoduleCommit: string;
  /** Number of files under `wide/`, the tree that forces the REST truncation path. */
  readonly wideFiles: number;
  /** Size of `assets/large.bin`. */
  readonly largeBytes: number;
}

const LFS_POINTER =
  "version https://git-lfs.github.com/spec/v1\n" +
  "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n" +
  "size 12345\n";

/**
 * The edge-case repository: executables, symlinks inside and leaving the tree, unicode names
 * (NFC and NFD side by side), an empty file, a large binary, a Git LFS pointer, a submodule entry,
 * and `wide/`, a tree with `wideFiles` files spread over nested folders, to force the REST
 * truncation path of a server that truncates above a lower limit than GitHub's 100,000.
 */
export async function buildEdgeRepo(
  dir: string,
  options: { wideFiles?: number; largeBytes?: number } = {},
): Promise<EdgeRepoInfo> {
  const wideFiles = options.wideFiles ?? 1500;
  const largeBytes = options.largeBytes ?? 3 * 1024 * 1024 + 17;
  const text = (s: string): GitTreeEntry => ({ type: "file", bytes: Buffer.from(s, "utf8") });
  const submoduleCommit = "0123456789abcdef0123456789abcdef01234567";
  const entries: Record<string, GitTreeEntry> = {
    "README.md": text("# edge cases\n"),
    "bin/run.sh": { type: "file", bytes: Buffer.from("#!/bin/sh\necho run\n"), mode: 0o755 },
    "bin/tool": { type: "file", bytes: Buffer.from("#!/usr/bin/env node\n"), mode: 0o755 },
    "docs/guide.md": text("guide\n"),
    "link-to-readme": { type: "symlink", target: "README.md" },
    "docs/up-link": { type: "symlink", target: "../bin/run.sh" },
    "docs/dir-link": { type: "symlink", target: "../bin" },
    "escape-relative": { type: "symlink", target: "../../etc/passwd" },
    "escape-absolute": { type: "symlink", target: "/etc/passwd" },
    "unicode/naïve café.txt": text("café\n"),
    "unicode/\u00e9-nfc.txt": text("nfc\n"),
    "unicode/e\u0301-nfd.txt": text("nfd\n"),
    "unicode/日本語/ファイル.md": text("日本語\n"),
    "unicode/emoji 🎉.txt": text("party\n"),
    "with space/and 'quotes'.txt": text("q\n"),
    "empty.txt": { type: "file", bytes: new Uint8Array(0) },
    "assets/large.bin": { type: "file", bytes: pseudoRandomBytes(largeBytes, 7) },
    "assets/small.bin": { type: "file", bytes: Uint8Array.from([0, 1, 2, 255, 254, 0, 10, 13]) },
    "assets/model.bin": text(LFS_POINTER),
    ".gitattributes": text("assets/model.bin filter=lfs diff=lfs merge=lfs -text\n"),
    ".gitmodules": text(
      '[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = https://example.invalid/lib.git\n',
    ),
    "vendor/lib": { type: "submodule", commit: submoduleCommit },
  };
  for (let i = 0; i < wideFiles; i++) {
    const a = i % 10;
    const b = Math.floor(i / 10) % 10;
    entries[`wide/d${a}/e${b}/f${i}.txt`] = text(`file ${i}\n`);
  }
  await initBareRepo(dir);
  const commit = await commitTree(dir, entries, { message: "edge cases" });
  return { commit, submoduleCommit, wideFiles, largeBytes };
}

/** One entry of `git ls-tree -r` of a commit, as native git reports it. */
export interface NativeTreeEntry {
  readonly mode: string;
  readonly type: "blob" | "commit" | "tree";
  readonly sha: string;
  readonly path: string;
}

/** `git ls-tree -r -z <rev>` parsed: the reference listing for cross-checks. */
export async function nativeLsTree(dir: string, rev: string): Promise<NativeTreeEntry[]> {
  const out = (await git(["ls-tree", "-r", "-z", rev], { cwd: dir })).stdout;
  const entries: NativeTreeEntry[] = [];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== 0) continue;
    const record = out.subarray(start, i);
    start = i + 1;
    const tab = record.indexOf(0x09);
    const [mode, type, sha] = record.subarray(0, tab).toString("utf8").split(" ");
    entries.push({
      mode: mode ?? "",
      type: type as NativeTreeEntry["type"],
      sha: sha ?? "",
      path: record.subarray(tab + 1).toString("utf8"),
    });
  }
  return entries;
}

/** `git cat-file blob <sha>`: the reference bytes for cross-checks. */
export async function nativeCatBlob(dir: string, sha: string): Promise<Buffer> {
  return (await git(["cat-file", "blob", sha], { cwd: dir })).stdout;
}

/** Many blobs at once through one `git cat-file --batch`: the reference bytes for cross-checks. */
export async function nativeCatBlobs(dir: string, shas: readonly string[]): Promise<Map<string, Buffer>> {
  const unique = [...new Set(shas)];
  const out = (await git(["cat-file", "--batch"], { cwd: dir, input: unique.map((s) => `${s}\n`).join("") }))
    .stdout;
  const blobs = new Map<string, Buffer>();
  let offset = 0;
  while (offset < out.length) {
    const newline = out.indexOf(0x0a, offset);
    const [sha = "", , size = "0"] = out.subarray(offset, newline).toString("utf8").split(" ");
    const length = Number(size);
    blobs.set(sha, out.subarray(newline + 1, newline + 1 + length));
    offset = newline + 1 + length + 1;
  }
  return blobs;
}
