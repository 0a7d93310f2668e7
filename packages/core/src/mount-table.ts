import { MountError } from "./errors.js";
import { normalizeAbsolutePath, parentPath, relativeToRoot, validateMountRoot } from "./paths.js";

export type MountRootType = "directory" | "file";

export interface MountTableEntry<T> {
  readonly root: string;
  readonly type: MountRootType;
  readonly value: T;
}

export interface MountOwner<T> extends MountTableEntry<T> {
  /** The path relative to the owning root; `""` for the root itself (always, for a file mount). */
  readonly relPath: string;
}

/**
 * Why `candidate` cannot join `existing`, as a MountError naming both roots, or `undefined`.
 *
 * - the same root twice: `EEXIST`;
 * - a directory mount inside or around another directory mount: `EINVAL`;
 * - anything inside a file mount: `ENOTDIR`;
 * - a file mount inside a directory mount: allowed (it shadows the outer mount's entry).
 */
export function nestingConflict(
  existing: { root: string; type: MountRootType },
  candidate: { root: string; type: MountRootType },
): MountError | undefined {
  const a = existing;
  const b = candidate;
  const roots = { path: b.root, root: a.root };
  if (a.root === b.root) {
    return new MountError(
      "EEXIST",
      `two mounts share the root ${a.root}; give each mount its own root`,
      roots,
    );
  }
  const [outer, inner] = relativeToRoot(a.root, b.root) !== undefined ? [a, b] : [b, a];
  if (relativeToRoot(outer.root, inner.root) === undefined) return undefined;
  if (outer.type === "file") {
    return new MountError(
      "ENOTDIR",
      `mount ${inner.root} would sit inside ${outer.root}, which is a single-file mount; move one of them`,
      roots,
    );
  }
  if (inner.type === "directory") {
    return new MountError(
      "EINVAL",
      `directory mounts may not nest: ${inner.root} is inside ${outer.root}; ` +
        "mount them side by side, or mount a single file if you need to overlay one path",
      roots,
    );
  }
  return undefined;
}

/** Throws the first nesting conflict among `mounts` (see `nestingConflict`). */
export function checkMountNesting(mounts: Iterable<{ root: string; type: MountRootType }>): void {
  const table = new MountTable<null>();
  for (const m of mounts) table.add(m.root, m.type, null);
}

/**
 * The set of mounts of one workspace, answering which mount owns a path. Ownership is by the
 * longest segment-wise prefix, so a file mount inside a directory mount owns its one path.
 */
export class MountTable<T> {
  readonly #byRoot = new Map<string, MountTableEntry<T>>();

  get size(): number {
    return this.#byRoot.size;
  }

  /** Adds a mount after checking the root and the nesting rules; throws and changes nothing on conflict. */
  add(root: string, type: MountRootType, value: T): MountTableEntry<T> {
    validateMountRoot(root);
    if (type !== "directory" && type !== "file") {
      throw new MountError("EINVAL", `mount type must be "directory" or "file", got ${String(type)}`, {
        root,
      });
    }
    const candidate = { root, type };
    // Conflicts can only come from the same root, an ancestor of it, or a descendant of it.
    for (let p = root; p !== "/"; p = parentPath(p)) {
      const hit = this.#byRoot.get(p);
      if (hit) {
        const conflict = nestingConflict(hit, candidate);
        if (conflict) throw conflict;
      }
    }
    for (const other of this.#byRoot.values()) {
      if (relativeToRoot(root, other.root) !== undefined) {
        const conflict = nestingConflict(other, candidate);
        if (conflict) throw conflict;
      }
    }
    const entry = { root, type, value };
    this.#byRoot.set(root, entry);
    return entry;
  }

  remove(root: string): boolean {
    return this.#byRoot.delete(root);
  }

  get(root: string): MountTableEntry<T> | undefined {
    return this.#byRoot.get(root);
  }

  entries(): IterableIterator<MountTableEntry<T>> {
    return this.#byRoot.values();
  }

  /**
   * The mount that owns `absPath` (normalised first), or `undefined` for a plain workspace path.
   * Walks up from the path itself, so the first hit is the longest prefix. O(depth). A file mount
   * owns only its own path.
   */
  owner(absPath: string): MountOwner<T> | undefined {
    const path = normalizeAbsolutePath(absPath);
    for (let p = path; ; p = parentPath(p)) {
      const hit = this.#byRoot.get(p);
      if (hit) {
        // A file mount owns exactly its own path. Paths below it (which cannot exist: it is a
        // file) fall through to the enclosing directory mount, whose shadowed entry makes them ENOTDIR.
        if (hit.type === "file") {
          if (p === path) return { ...hit, relPath: "" };
        } else {
          return { ...hit, relPath: relativeToRoot(p, path) ?? "" };
        }
      }
      if (p === "/") return undefined;
    }
  }

  /**
   * Relative paths of the directory mount at `root` that inner file mounts shadow: these entries
   * are hidden from that mount's index and writes to them go to the file mount.
   */
  shadowedIn(root: string): string[] {
    const outer = this.#byRoot.get(root);
    if (outer?.type !== "directory") return [];
    const out: string[] = [];
    for (const other of this.#byRoot.values()) {
      if (other.type !== "file") continue;
      const rel = relativeToRoot(root, other.root);
      if (rel) out.push(rel);
    }
    return out.sort();
  }

  /** Roots of mounts directly or indirectly below the directory `absDir` (for listing a parent). */
  rootsUnder(absDir: string): string[] {
    const dir = normalizeAbsolutePath(absDir);
    const out: string[] = [];
    for (const root of this.#byRoot.keys()) {
      const rel = relativeToRoot(dir, root);
      if (rel) out.push(root);
    }
    return out.sort();
  }
}
