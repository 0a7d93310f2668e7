import { ancestorsOf, type MountDiagnostic, MountError } from "@ws/core";
import type { InflateBudget } from "./bundle-limits.js";
import { normalizeEntryName, quoteName } from "./entry-name.js";

/** What an archive reader hands over for each member, content already inflated and checked. */
export type MemberType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "character-device"
  | "block-device"
  | "fifo"
  | "socket"
  | "unknown";

export interface ArchiveMember {
  /** The name exactly as stored (after the format's own long-name records). */
  readonly name: string;
  readonly type: MemberType;
  /** Permission bits as stored, including setuid/setgid/sticky; `undefined` when the format has none. */
  readonly mode: number | undefined;
  /** Symlink target or hard-link target, as stored. */
  readonly linkname?: string | undefined;
  /** Content of a regular file (or a zip symlink's target bytes, already decoded into `linkname`). */
  readonly data?: Uint8Array | undefined;
  /**
   * `data` is a fresh array that the reader holds nowhere else and that is no view into a larger
   * buffer: it can be handed to the host for good (`adoptFile`), without a copy.
   */
  readonly owned?: boolean | undefined;
  /** The format's own name for an unknown type (a tar typeflag), for messages. */
  readonly rawType?: string | undefined;
}

/** What to do with members the workspace cannot or should not hold. */
export interface MemberPolicy {
  /** `"strip"` (default): setuid/setgid bits are removed and reported; `"refuse"`: `EPERM`. */
  readonly setuid: "strip" | "refuse";
  /** `"refuse"` (default): device files, FIFOs and sockets fail with `ENOTSUP`; `"skip"`: reported and left out. */
  readonly specialFiles: "refuse" | "skip";
  /** `"refuse"` (default): a symlink leaving the mount fails with `EINVAL`; `"skip"`: reported and left out. */
  readonly outsideLinks: "refuse" | "skip";
  /** Leading path segments removed from every member name (as `tar --strip-components`). */
  readonly stripComponents: number;
  /** Only members under this archive directory are mounted, relative to it (`""`: everything). */
  readonly prefix: string;
}

type Node =
  | {
      readonly kind: "file";
      readonly bytes: Uint8Array;
      readonly mode: number | undefined;
      layer: number;
      /** The bytes may go to the host without a copy: owned by the tree, at no other path. */
      adoptable: boolean;
    }
  | { readonly kind: "directory"; mode: number | undefined; layer: number }
  | { readonly kind: "symlink"; readonly target: string; layer: number };

const S_SETID = 0o6000;
const MAX_LINK_HOPS = 40;
const LOOP = "too many levels of symbolic links (a loop)";

/**
 * The staged tree of one bundle. Members are added as the readers produce them; nothing reaches the
 * workspace until `finish()` has checked the whole tree (no path through a file or a symlink, every
 * link inside the mount) and `write()` is called: a refused bundle writes nothing.
 *
 * Layers (OCI images) are applied in order: a later layer replaces what a lower one had at a path,
 * and its whiteouts (`.wh.name`, `.wh..wh..opq`) delete from lower layers only.
 */
export class BundleTree {
  readonly #nodes = new Map<string, Node>();
  /** Regular files of the current layer by archive name (before strip/prefix), for hard links. */
  #byArchiveName = new Map<string, Node & { kind: "file" }>();
  #layer = 0;
  #whiteouts = false;
  readonly #policy: MemberPolicy;
  readonly #budget: InflateBudget;
  readonly #diagnose: (d: MountDiagnostic) => void;
  readonly #root: string | undefined;

  constructor(
    policy: MemberPolicy,
    budget: InflateBudget,
    diagnose: ((d: MountDiagnostic) => void) | undefined,
    root: string | undefined,
  ) {
    this.#policy = policy;
    this.#budget = budget;
    this.#root = root;
    this.#diagnose = diagnose ?? (() => {});
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** Starts the next layer of an image; `whiteouts` turns on `.wh.` handling for it. */
  beginLayer(whiteouts: boolean): void {
    this.#layer++;
    this.#whiteouts = whiteouts;
    this.#byArchiveName = new Map();
  }

  #error(code: MountError["code"], message: string, path: string): MountError {
    return new MountError(code, message, {
      path: this.#root ? `${this.#root}/${path}` : path,
      root: this.#root,
    });
  }

  #report(key: string, message: string): void {
    this.#diagnose({ code: "invalid-path", key, message, root: this.#root });
  }

  /**
   * Maps a member through stripComponents and prefix; undefined when it is left out. Components
   * are counted on the name as stored, as GNU tar counts them: `./pkg/file` with
   * `stripComponents: 1` is `pkg/file`.
   */
  #place(archivePath: string, raw?: string): string | undefined {
    let path = archivePath;
    const strip = this.#policy.stripComponents;
    if (strip > 0) {
      const segments = (raw ?? archivePath).replace(/\/$/, "").split("/");
      if (segments.length <= strip) return undefined;
      path = segments
        .slice(strip)
        .filter((segment) => segment !== ".")
        .join("/");
      if (path === "") return undefined;
    }
    const prefix = this.#policy.prefix;
    if (prefix !== "") {
      if (path === prefix) return "";
      if (!path.startsWith(`${prefix}/`)) return undefined;
      path = path.slice(prefix.length + 1);
    }
    return path;
  }

  add(member: ArchiveMember): void {
    const archivePath = normalizeEntryName(member.name);
    const isDir = member.type === "directory";
    this.#budget.addEntry(isDir, member.name);
    let mode = member.mode;
    if (mode !== undefined && (mode & S_SETID) !== 0) {
      if (this.#policy.setuid === "refuse") {
        throw this.#error(
          "EPERM",
          `archive entry ${quoteName(member.name)} has the setuid/setgid bit (mode ${(mode & 0o7777).toString(8)}); pass setuid: "strip" to mount it without`,
          archivePath,
        );
      }
      this.#report(member.name, `setuid/setgid bits stripped from mode ${(mode & 0o7777).toString(8)}`);
    }
    if (mode !== undefined) mode &= 0o777;
    switch (member.type) {
      case "character-device":
      case "block-device":
      case "fifo":
      case "socket":
      case "unknown": {
        const what =
          member.type === "unknown" ? `of unsupported type ${member.rawType ?? "?"}` : `a ${member.type}`;
        if (this.#policy.specialFiles === "skip" && member.type !== "unknown") {
          this.#report(member.name, `skipped: ${what}`);
          return;
        }
        throw this.#error(
          "ENOTSUP",
          `archive entry ${quoteName(member.name)} is ${what}; a workspace holds files, directories and symlinks only${member.type === "unknown" ? "" : ' (pass specialFiles: "skip" to leave such entries out)'}`,
          archivePath,
        );
      }
      default:
        break;
    }
    let node: Node;
    if (member.type === "file") {
      node = {
        kind: "file",
        bytes: member.data ?? new Uint8Array(0),
        mode,
        layer: this.#layer,
        adoptable: member.owned === true,
      };
      if (archivePath !== "") this.#byArchiveName.set(archivePath, node);
    } else if (member.type === "directory") {
      node = { kind: "directory", mode, layer: this.#layer };
    } else if (member.type === "symlink") {
      const target = member.linkname ?? "";
      node = { kind: "symlink", target, layer: this.#layer };
    } else {
      // A hard link names an earlier member of the same archive; it becomes a copy of that file.
      const raw = member.linkname ?? "";
      const targetPath = normalizeEntryName(raw, `hard link target of ${quoteName(member.name)}:`);
      const target = this.#byArchiveName.get(targetPath);
      if (!target) {
        throw this.#error(
          "EINVAL",
          `hard link ${quoteName(member.name)} -> ${quoteName(raw)} is refused: the target is not a regular file earlier in the archive`,
          archivePath,
        );
      }
      this.#budget.addBytes(target.bytes.length, member.name);
      // Both paths share one array, so neither may give it away: each is written as a copy.
      target.adoptable = false;
      node = {
        kind: "file",
        bytes: target.bytes,
        mode: mode ?? target.mode,
        layer: this.#layer,
        adoptable: false,
      };
      this.#byArchiveName.set(archivePath, node);
    }
    if (archivePath === "") {
      if (node.kind !== "directory")
        throw this.#error(
          "EINVAL",
          `archive entry ${quoteName(member.name)} is the archive root but not a directory`,
          "",
        );
      return;
    }
    if (this.#whiteouts && this.#whiteout(archivePath, member.name)) return;
    const path = this.#place(archivePath, member.name);
    if (path === undefined) return;
    if (path === "") {
      if (node.kind !== "directory")
        throw this.#error(
          "EINVAL",
          `archive entry ${quoteName(member.name)} is the mount root but not a directory`,
          "",
        );
      return;
    }
    const old = this.#nodes.get(path);
    if (old) {
      if (old.layer === this.#layer) {
        if (old.kind === "directory" && node.kind === "directory") {
          // The same directory twice (tar --append, incremental archives) is harmless: last mode wins.
          old.mode = node.mode ?? old.mode;
          return;
        }
        if (old.kind === "directory" || node.kind === "directory") {
          throw this.#error(
            "ENOTDIR",
            `archive entry ${quoteName(member.name)} makes ${path} both a file and a directory`,
            path,
          );
        }
        throw this.#error(
          "EEXIST",
          `archive entry ${quoteName(member.name)} is a duplicate: ${path} appears twice in the archive (tar would silently keep the last one)`,
          path,
        );
      }
      // A lower layer's entry is replaced; a directory replaced by a non-directory takes its subtree along.
      if (old.kind === "directory" && node.kind !== "directory") this.#removeBelow(path, this.#layer);
      if (old.kind === "directory" && node.kind === "directory") {
        old.mode = node.mode ?? old.mode;
        old.layer = this.#layer;
        return;
      }
    }
    this.#nodes.set(path, node);
  }

  /** OCI whiteouts: true when the member was one (and was applied). */
  #whiteout(archivePath: string, raw: string): boolean {
    const slash = archivePath.lastIndexOf("/");
    const base = archivePath.slice(slash + 1);
    if (!base.startsWith(".wh.")) return false;
    const dirArchive = slash < 0 ? "" : archivePath.slice(0, slash);
    const dir = this.#place(dirArchive);
    if (base === ".wh..wh..opq") {
      if (dir !== undefined) this.#removeBelow(dir, this.#layer);
      return true;
    }
    const name = base.slice(4);
    if (name === "" || name === "." || name === "..")
      throw this.#error("EINVAL", `whiteout ${quoteName(raw)} names no entry`, archivePath);
    if (dir === undefined) return true;
    const path = dir === "" ? name : `${dir}/${name}`;
    const old = this.#nodes.get(path);
    if (old && old.layer < this.#layer) this.#nodes.delete(path);
    this.#removeBelow(path, this.#layer);
    return true;
  }

  /** Deletes lower-layer entries strictly below `dir` (`""`: the whole tree). */
  #removeBelow(dir: string, layer: number): void {
    const prefix = dir === "" ? "" : `${dir}/`;
    for (const [path, node] of this.#nodes) {
      if (node.layer < layer && path.startsWith(prefix)) this.#nodes.delete(path);
    }
  }

  /**
   * Checks the whole tree: no entry below a file (ENOTDIR) or below a symlink (EINVAL: a member
   * written through a link), and every symlink resolving inside the mount, following the links it
   * passes through, so `a -> .` plus `b -> a/..` is caught although each looks harmless.
   */
  finish(): void {
    // Directories known to have no file or symlink at or above them: a parent shared by thousands
    // of members is looked at once.
    const clear = new Set<string>();
    for (const path of this.#nodes.keys()) {
      const slash = path.lastIndexOf("/");
      if (slash < 0 || clear.has(path.slice(0, slash))) continue;
      for (const ancestor of ancestorsOf(path)) {
        const above = this.#nodes.get(ancestor);
        if (above?.kind === "file") {
          throw this.#error(
            "ENOTDIR",
            `archive entry ${path} lies below the file ${ancestor}: a path cannot be both`,
            path,
          );
        }
        if (above?.kind === "symlink") {
          throw this.#error(
            "EINVAL",
            `archive entry ${path} would be written through the symlink ${ancestor} -> ${above.target}; refused (extracting tools follow it, possibly out of the target directory)`,
            path,
          );
        }
        clear.add(ancestor);
      }
    }
    const links: Array<[string, Node & { kind: "symlink" }]> = [];
    for (const [path, node] of this.#nodes) if (node.kind === "symlink") links.push([path, node]);
    for (const [path, node] of links) {
      const problem = this.#linkProblem(path, node.target);
      if (problem === undefined) continue;
      if (this.#policy.outsideLinks === "skip") {
        this.#nodes.delete(path);
        this.#report(path, `symlink skipped: ${problem}`);
        continue;
      }
      throw this.#error(
        problem === LOOP ? "ELOOP" : "EINVAL",
        `symlink ${path} -> ${quoteName(node.target)} is refused: ${problem}`,
        path,
      );
    }
  }

  /** Why the link at `path` does not stay inside the mount, or undefined when it does. */
  #linkProblem(path: string, target: string): string | undefined {
    if (target === "") return "the target is empty";
    for (let i = 0; i < target.length; i++) {
      const c = target.charCodeAt(i);
      if (c < 0x20 || c === 0x7f) return "the target contains a control character";
    }
    if (target.startsWith("/")) return "the target is absolute, outside the mount";
    let hops = 0;
    const resolve = (base: string[], link: string): string[] | string => {
      const stack = [...base];
      const parts = link.split("/");
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] as string;
        if (part === "" || part === ".") continue;
        if (part === "..") {
          if (stack.length === 0) return "it leaves the mount root";
          stack.pop();
          continue;
        }
        stack.push(part);
        const node = this.#nodes.get(stack.join("/"));
        if (node?.kind === "symlink") {
          if (++hops > MAX_LINK_HOPS) return LOOP;
          if (node.target.startsWith("/")) return `it passes through ${stack.join("/")}, which is absolute`;
          stack.pop();
          const through = resolve(stack, node.target);
          if (typeof through === "string") return through;
          stack.length = 0;
          stack.push(...through);
        }
      }
      return stack;
    };
    const parent = path.split("/").slice(0, -1);
    const result = resolve(parent, target);
    return typeof result === "string" ? result : undefined;
  }

  /**
   * Writes the checked tree through a writer taking paths relative to the mount root; call after
   * `finish()`, once: it empties the tree. Each file leaves the tree as soon as the host has it
   * (the host keeps its own copy), so the inflated bundle is not held twice until the end.
   */
  write(writer: TreeWriter): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    // No sorting: the host creates parents as needed and commits the staged tree at once.
    const entries = this.#nodes;
    this.#byArchiveName = new Map();
    for (const [path, node] of entries) if (node.kind === "directory") writer.mkdir(path, node.mode);
    for (const [path, node] of entries) {
      if (node.kind !== "file") continue;
      if (node.adoptable) writer.adoptFile(path, node.bytes, node.mode);
      else writer.writeFile(path, node.bytes, node.mode);
      entries.delete(path);
      files++;
      bytes += node.bytes.length;
    }
    const symlink = writer.symlink;
    for (const [path, node] of entries) {
      if (node.kind !== "symlink") continue;
      if (symlink) symlink(path, node.target);
      else this.#report(path, "symlink skipped: this workspace cannot hold symbolic links");
    }
    return { files, bytes };
  }
}

/** Paths relative to the mount root (the shape of the provider kit's eager writer). */
export interface TreeWriter {
  writeFile(relPath: string, bytes: Uint8Array, mode?: number): void;
  /** `writeFile` of an array the tree gives up (the provider kit's `EagerWriter.adoptFile`). */
  adoptFile(relPath: string, bytes: Uint8Array, mode?: number): void;
  mkdir(relPath: string, mode?: number): void;
  readonly symlink: ((relPath: string, target: string) => void) | undefined;
}
