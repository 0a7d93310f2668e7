import {
  ancestorsOf,
  type EagerMount,
  MountError,
  normalizeAbsolutePath,
  parentPath,
  QuotaCounter,
  relativeToRoot,
  resolveLinkWithinRoot,
  validateRelativePath,
} from "@ws/core";
import type { MountRecord } from "../runtime/registry.js";

export interface StagedFile {
  readonly bytes: Uint8Array;
  readonly mode: number | undefined;
}

/** What `materialize(api)` wrote, validated, not yet in the VFS. */
export interface StagedTree {
  readonly files: Map<string, StagedFile>;
  readonly dirs: Map<string, number | undefined>;
  readonly links: Map<string, string>;
  /** Bytes written (after ignore), as the quota counted them. */
  readonly bytes: number;
}

/** Where a staged tree is committed (the VFS, under the mount root). */
export interface StageTarget {
  mkdirp(absDir: string): void;
  mkdir(absDir: string, mode: number | undefined): void;
  /**
   * `abs`'s parent exists. `bytes` is the stager's own (its copy, or the array a provider gave up
   * through `adoptFile`), written to no other path and never touched again: the target may keep it
   * as the file's content instead of copying it.
   */
  writeFile(abs: string, bytes: Uint8Array, mode: number | undefined): void;
  /** `abs`'s parent exists. */
  symlink(target: string, abs: string): void;
}

/**
 * Runs an eager mount's `materialize(api)` into a staging area: ignore and quota apply as it
 * writes; paths outside the root, links leaving it and file/directory clashes are `EINVAL`.
 * Nothing reaches the VFS until `commitStage`.
 */
export async function stageEager(record: MountRecord, mount: EagerMount): Promise<StagedTree> {
  const root = record.root;
  const counter = new QuotaCounter(record.options, root);
  const files = new Map<string, StagedFile>();
  const dirs = new Map<string, number | undefined>();
  const links = new Map<string, string>();
  let failure: unknown;
  const relOf = (absPath: string, allowRoot: boolean): string | undefined => {
    const abs = normalizeAbsolutePath(absPath);
    const rel = relativeToRoot(root, abs);
    if (rel === undefined || (rel === "" && !allowRoot)) {
      throw new MountError("EINVAL", `materialize wrote ${absPath}, outside mount root ${root}`, {
        path: absPath,
        root,
      });
    }
    if (rel === "") return rel;
    if (record.ignore(rel)) return undefined;
    // A path that was canonical already had its segments checked by normalizeAbsolutePath; one it
    // rewrote (`//`, `.`, `..`) is checked once here (a segment too long, for one).
    if (abs !== absPath) validateRelativePath(rel, root);
    return rel;
  };
  // Called once per file: plain functions, no per-call wrapper. The first failure is kept, so a
  // provider that swallows an error still fails the index.
  const stageFile = (absPath: string, bytes: Uint8Array, mode: number | undefined, adopt: boolean): void => {
    try {
      const rel = relOf(absPath, record.type === "file");
      if (rel === undefined) return;
      if (!(bytes instanceof Uint8Array))
        throw new MountError(
          "EINVAL",
          `materialize wrote ${absPath} with ${typeof bytes}; api.${adopt ? "adoptFile" : "writeFile"} takes a Uint8Array`,
          { path: absPath, root },
        );
      const old = files.get(rel);
      if (old) counter.replace(old.bytes.length, bytes.length, absPath);
      else counter.add(bytes.length, absPath);
      // The one copy: with writeFile the provider may keep its buffer (a hard link's bytes written
      // twice, a reused chunk) and change it later, so the stage owns a copy. With adoptFile the
      // provider gave its array up, so that array is the stage's own. Either way the commit hands
      // the stage's array to the VFS as is (see StageTarget.writeFile).
      files.set(rel, { bytes: adopt ? bytes : new Uint8Array(bytes), mode });
    } catch (error) {
      failure ??= error;
      throw error;
    }
  };
  const api = {
    root,
    writeFile(absPath: string, bytes: Uint8Array, mode?: number): void {
      stageFile(absPath, bytes, mode, false);
    },
    adoptFile(absPath: string, bytes: Uint8Array, mode?: number): void {
      stageFile(absPath, bytes, mode, true);
    },
    mkdir(absPath: string, mode?: number): void {
      try {
        const rel = relOf(absPath, true);
        if (rel === undefined || rel === "") return;
        dirs.set(rel, mode);
      } catch (error) {
        failure ??= error;
        throw error;
      }
    },
    symlink(absPath: string, target: string): void {
      try {
        const rel = relOf(absPath, false);
        if (rel === undefined) return;
        resolveLinkWithinRoot(root, normalizeAbsolutePath(absPath), target);
        links.set(rel, target);
      } catch (error) {
        failure ??= error;
        throw error;
      }
    },
  };
  await mount.materialize(api);
  if (failure) throw failure;
  // Reject trees memfs could not hold (a file that is also a directory or a link, a path below a
  // file) before touching the VFS: the commit must not fail half way.
  const isFile = (rel: string): boolean => files.has(rel) || links.has(rel);
  const clash = (rel: string, what: string): MountError =>
    new MountError("EINVAL", `materialize made ${root}/${rel} both ${what}; write it as one or the other`, {
      path: `${root}/${rel}`,
      root,
    });
  // Directories already known to have no file or link at or above them: thousands of files share
  // a few parents, which are checked once.
  const clear = new Set<string>();
  const checkAncestors = (rel: string): void => {
    const slash = rel.lastIndexOf("/");
    if (slash < 0 || clear.has(rel.slice(0, slash))) return;
    for (const a of ancestorsOf(rel)) {
      if (isFile(a)) {
        throw new MountError(
          "EINVAL",
          `materialize wrote ${root}/${rel} below the file ${root}/${a}; a path cannot be both a file and a directory`,
          { path: `${root}/${rel}`, root },
        );
      }
      clear.add(a);
    }
  };
  for (const rel of files.keys()) {
    checkAncestors(rel);
    if (links.has(rel)) throw clash(rel, "a file and a symlink");
  }
  for (const rel of links.keys()) checkAncestors(rel);
  for (const rel of dirs.keys()) {
    checkAncestors(rel);
    if (isFile(rel)) throw clash(rel, "a file and a directory");
  }
  return { files, dirs, links, bytes: counter.bytes };
}

/**
 * Writes a staged tree under its root, all at once (directories, then files, then links). Each
 * directory is made once, not once per file in it: a 10,000-file bundle costs 10,000 file
 * creations, not 10,000 more path walks. The staged bytes go to the target without a copy.
 */
export function commitStage(record: MountRecord, tree: StagedTree, target: StageTarget): void {
  const root = record.root;
  const abs = (rel: string): string => (rel === "" ? root : `${root}/${rel}`);
  const top = record.type === "file" ? parentPath(root) : root;
  target.mkdirp(top);
  const made = new Set<string>([top]);
  const ensureDir = (dir: string): void => {
    if (made.has(dir)) return;
    target.mkdirp(dir);
    for (let d = dir; !made.has(d) && d !== "/"; d = parentPath(d)) made.add(d);
  };
  // Parents first, so that each directory gets its own mode, not a child's.
  for (const [rel, mode] of [...tree.dirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const dir = abs(rel);
    target.mkdir(dir, mode);
    for (let d = dir; !made.has(d) && d !== "/"; d = parentPath(d)) made.add(d);
  }
  for (const [rel, file] of tree.files) {
    const path = abs(rel);
    ensureDir(parentPath(path));
    target.writeFile(path, file.bytes, file.mode);
  }
  for (const [rel, linkTarget] of tree.links) {
    const path = abs(rel);
    ensureDir(parentPath(path));
    target.symlink(linkTarget, path);
  }
}
