import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Mount, MountFactory } from "@ws/core";
import { type ExecResult, Workspace } from "@ws/workspace";

/**
 * Round trips as an agent makes them: one workspace changes a read-write mount through `exec`,
 * closes, and a new workspace over the same store (a fresh mount each time) checks the result.
 * `fresh()` must return a new read-write mount over the same backend (same bucket and prefix).
 * Each scenario resolves with what the second workspace saw; the caller asserts.
 */
export type FreshMount = () => Mount | MountFactory;

/** Where the scenarios mount the store. */
export const AGENT_ROOT = "/repo";

function workspace(fresh: FreshMount): Workspace {
  const mount = fresh();
  return new Workspace({ mounts: { [AGENT_ROOT]: typeof mount === "function" ? mount : () => mount } });
}

async function shell(ws: Workspace, script: string, hydrate: boolean): Promise<ExecResult> {
  return ws.exec("sh", ["-c", `set -e\n${script}`], { cwd: AGENT_ROOT, hydrate });
}

/** What the first workspace's exec and close reported. */
export interface WriteSide {
  readonly exec: ExecResult;
  /** `close()`'s rejection, if it rejected (a write that never landed). */
  readonly closeError: unknown;
}

export interface GitRoundTrip {
  readonly write: WriteSide;
  /** `git log --all --oneline --decorate` (4 lines: two commits on main, one on feature... see the script). */
  readonly log: ExecResult;
  readonly fsck: ExecResult;
  /** `git status --porcelain` (empty when clean). */
  readonly status: ExecResult;
  /** `./run.sh`, committed with mode 0755: prints "ran". */
  readonly script: ExecResult;
  /** `stat -c '%a %n'` of run.sh, key (0600) and the empty folder. */
  readonly modes: ExecResult;
}

/**
 * `git init`, two commits on main, a branch with a third, a tag; a 0755 script, a 0600 file and an
 * empty folder; then from a new workspace `git log --all`, `git fsck --full`, `git status` and the script.
 */
export async function gitRoundTrip(fresh: FreshMount): Promise<GitRoundTrip> {
  const ws1 = workspace(fresh);
  const exec = await shell(
    ws1,
    `git init -q -b main .
git config user.email agent@example.invalid
git config user.name agent
git config commit.gpgsign false
printf '#!/bin/sh\\necho ran\\n' > run.sh
chmod 755 run.sh
printf 'secret\\n' > key
chmod 600 key
mkdir empty
echo one > README.md
git add -A
git commit -q -m one
echo two >> README.md
git commit -q -am two
git checkout -q -b feature
echo three > feature.txt
git add feature.txt
git commit -q -m three
git checkout -q main
git tag v1`,
    false,
  );
  const closeError = await ws1.close().then(
    () => undefined,
    (error: unknown) => error,
  );
  const ws2 = workspace(fresh);
  try {
    const log = await shell(ws2, "git log --all --oneline --decorate", true);
    const fsck = await shell(ws2, "git fsck --full --strict 2>&1", true);
    const status = await shell(ws2, "git status --porcelain --untracked-files=all", true);
    const script = await shell(ws2, "./run.sh", true);
    const modes = await shell(ws2, "stat -c '%a %n' run.sh key empty", true);
    return { write: { exec, closeError }, log, fsck, status, script, modes };
  } finally {
    await ws2.close();
  }
}

export interface NpmRoundTrip {
  readonly write: WriteSide;
  /** `npx --offline hello-bin` in the app: prints "hello from bin". */
  readonly npx: ExecResult;
}

/**
 * `npm pack` of a local package with a `bin`, `npm install` of the tarball (no network) in an app
 * under the mount; then from a new workspace `npx --offline hello-bin` (through the `.bin` link).
 */
export async function npmRoundTrip(fresh: FreshMount): Promise<NpmRoundTrip> {
  const cache = mkdtempSync(join(tmpdir(), "ws-npm-cache-"));
  const env = `export npm_config_cache=${cache} npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false`;
  try {
    const ws1 = workspace(fresh);
    const exec = await shell(
      ws1,
      `${env}
mkdir -p pkg app
cat > pkg/package.json <<'JSON'
{ "name": "hello-bin", "version": "1.0.0", "bin": { "hello-bin": "cli.js" } }
JSON
printf '#!/usr/bin/env node\\nconsole.log("hello from bin")\\n' > pkg/cli.js
(cd pkg && npm pack --silent >/dev/null)
cd app
printf '{ "name": "app", "version": "1.0.0", "private": true }\\n' > package.json
npm install --offline --silent ../pkg/hello-bin-1.0.0.tgz`,
      false,
    );
    const closeError = await ws1.close().then(
      () => undefined,
      (error: unknown) => error,
    );
    const ws2 = workspace(fresh);
    try {
      const npx = await shell(ws2, `${env}\ncd app\nnpx --offline --no-install hello-bin`, true);
      return { write: { exec, closeError }, npx };
    } finally {
      await ws2.close();
    }
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

export interface TarRoundTrip {
  readonly write: WriteSide;
  /** `tar --compare` of the original archive against the tree read back: exit 0, no output. */
  readonly compare: ExecResult;
  /** A listing with modes, sizes, link targets and checksums, from the source tree and read back. */
  readonly listingBefore: string;
  readonly listingAfter: ExecResult;
}

const LISTING = `find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
  if [ -L "$p" ]; then echo "$p link $(readlink "$p")";
  elif [ -d "$p" ]; then echo "$p dir $(stat -c %a "$p")";
  else echo "$p file $(stat -c %a "$p") $(sha256sum < "$p" | cut -c1-16)"; fi
done`;

/**
 * A tree with modes (0755, 0600, 0444), an empty folder, nested folders and in-tree symlinks
 * (relative, to a file and to a folder) and a venv-style link out of the tree, made on the host and archived with `tar`; extracted with
 * `tar -xp` under the mount; then from a new workspace `tar --compare` and a listing with modes.
 * Folders are 0755 unless `folderModes` is set: then the tree also holds a 0700 folder and a
 * 0555 folder with a file in it (for stores that keep folder modes).
 */
export async function tarRoundTrip(
  fresh: FreshMount,
  options: { readonly folderModes?: boolean } = {},
): Promise<TarRoundTrip> {
  const work = mkdtempSync(join(tmpdir(), "ws-tar-"));
  try {
    const { execFileSync } = await import("node:child_process");
    const src = join(work, "src");
    const script = `set -e
mkdir -p ${src}/tree/bin ${src}/tree/empty ${src}/tree/deep/er/est ${src}/tree/private
cd ${src}/tree
printf '#!/bin/sh\\necho tool\\n' > bin/tool; chmod 755 bin/tool
printf 'k\\n' > private/id_ed25519; chmod 600 private/id_ed25519
printf 'read only\\n' > deep/er/est/ro.txt; chmod 444 deep/er/est/ro.txt
head -c 70000 /dev/urandom > deep/blob.bin
ln -s bin/tool tool-link
ln -s ../deep deep/er/up
ln -s /usr/bin/python3 venv-python
echo readme > README
touch -d '2021-02-03 04:05:06' README bin/tool
${
  options.folderModes
    ? `mkdir -p sealed/inside locked
printf 'kept\\n' > locked/file.txt
chmod 700 sealed
chmod 555 locked`
    : ""
}
cd ${src}
tar -cpf ${work}/tree.tar tree
cd tree && ${LISTING}`;
    const listingBefore = execFileSync("sh", ["-c", script], { encoding: "utf8" });
    const ws1 = workspace(fresh);
    const exec = await shell(ws1, `tar -xpf ${work}/tree.tar`, false);
    const closeError = await ws1.close().then(
      () => undefined,
      (error: unknown) => error,
    );
    const ws2 = workspace(fresh);
    try {
      const compare = await shell(ws2, `tar --compare -f ${work}/tree.tar 2>&1`, true);
      const listingAfter = await shell(ws2, `cd tree\n${LISTING}`, true);
      return { write: { exec, closeError }, compare, listingBefore, listingAfter };
    } finally {
      await ws2.close();
    }
  } finally {
    // A 0555 folder's files cannot be removed by a user other than root until it is writable.
    if (options.folderModes) spawnSync("chmod", ["-R", "u+rwX", work]);
    rmSync(work, { recursive: true, force: true });
  }
}
