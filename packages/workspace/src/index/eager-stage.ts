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
  writeFile(abs: string, bytes: Uint8Array, mode: number | undefined): void;
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
    if (rel !== "" && record.ignore(rel)) return undefined;
    return rel;
  };
  const guard = <A extends unknown[]>(fn: (...args: A) => void) => {
    return (...args: A): void => {
      try {
        fn(...args);
      } catch (error) {
        failure ??= error;
        throw error;
      }
    };
  };
  const api = {
    root,
    writeFile: guard((absPath: string, bytes: Uint8Array, mode?: number) => {
      const rel = relOf(absPath, record.type === "file");
      if (rel === undefined) return;
      if (!(bytes instanceof Uint8Array))
        throw new MountError(
          "EINVAL",
          `materialize wrote ${absPath} with ${typeof bytes}; api.writeFile takes a Uint8Array`,
          { path: absPath, root },
        );
      const old = files.get(rel);
      if (old) counter.replace(old.bytes.length, bytes.length, absPath);
      else counter.add(bytes.length, absPath);
      files.set(rel, { bytes: new Uint8Array(bytes), mode });
    }),
    mkdir: guard((absPath: string, mode?: number) => {
      const rel = relOf(absPath, true);
      if (rel === undefined || rel === "") return;
      dirs.set(rel, mode);
    }),
    symlink: guard((absPath: string, target: string) => {
      const rel = relOf(absPath, false);
      if (rel === undefined) return;
      resolveLinkWithinRoot(root, normalizeAbsolutePath(absPath), target);
      links.set(rel, target);
    }),
  };
  await mount.materialize(api);
  if (failure) throw failure;
  // Reject trees memfs could not hold (a file that is also a directory) before touching the VFS.
  const isFile = (rel: string): boolean => files.has(rel) || links.has(rel);
  for (const rel of [...files.keys(), ...dirs.keys(), ...links.keys()]) {
    if (rel !== "") validateRelativePath(rel, root);
    for (const a of ancestorsOf(rel)) {
      if (isFile(a)) {
        throw new MountError(
          "EINVAL",
          `materialize wrote ${root}/${rel} below the file ${root}/${a}; a path cannot be both a file and a directory`,
          { path: `${root}/${rel}`, root },
        );
      }
    }
    if (dirs.has(rel) && isFile(rel)) {
      throw new MountError(
        "EINVAL",
        `materialize made ${root}/${rel} both a file and a directory; write it as one or the other`,
        { path: `${root}/${rel}`, root },
      );
    }
  }
  return { files, dirs, links, bytes: counter.bytes };
}

/** Writes a staged tree under its root, all at once (directories, then files, then links). */
export function commitStage(record: MountRecord, tree: StagedTree, target: StageTarget): void {
  const root = record.root;
  const abs = (rel: string): string => (rel === "" ? root : `${root}/${rel}`);
  target.mkdirp(record.type === "file" ? parentPath(root) : root);
  for (const [rel, mode] of [...tree.dirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    target.mkdir(abs(rel), mode);
  }
  for (const [rel, file] of tree.files) target.writeFile(abs(rel), file.bytes, file.mode);
  for (const [rel, linkTarget] of tree.links) {
    target.mkdirp(parentPath(abs(rel)));
    target.symlink(linkTarget, abs(rel));
  }
}
