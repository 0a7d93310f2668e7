import {
  checkQuota,
  type EagerMount,
  type MemoryStore,
  type MountContext,
  MountError,
  type MountFactory,
  type MountOptions,
  type MountWriteApi,
  relativePathProblem,
  resolveLinkWithinRoot,
  resolveMountOptions,
} from "@ws/core";

/** One entry of a stored tree: a file (blob key and mode) or a symbolic link. */
export interface TreeEntry {
  readonly blob?: string | undefined;
  readonly size?: number | undefined;
  readonly mode?: number | undefined;
  readonly link?: string | undefined;
}

/** The key of the tree object under a prefix; blobs live beside it under `blobs/`. */
export const TREE_KEY = "tree.json";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export function readTree(store: MemoryStore, prefix: string): Record<string, TreeEntry> {
  const object = store.get(`${prefix}/${TREE_KEY}`);
  return object ? (JSON.parse(decoder.decode(object.bytes)) as Record<string, TreeEntry>) : {};
}

/** Adds files and links to the tree under `prefix`, git-style: a tree object pointing at blobs. */
export function writeTree(
  store: MemoryStore,
  prefix: string,
  files: Readonly<Record<string, Uint8Array>>,
  extra: {
    modes?: Readonly<Record<string, number>> | undefined;
    symlinks?: Readonly<Record<string, string>> | undefined;
  } = {},
): void {
  const tree = readTree(store, prefix);
  let n = Object.keys(tree).length;
  for (const [path, bytes] of Object.entries(files)) {
    const blob = `blobs/${n++}`;
    store.put(`${prefix}/${blob}`, bytes);
    tree[path] = { blob, size: bytes.length, mode: extra.modes?.[path] ?? 0o644 };
  }
  for (const [path, target] of Object.entries(extra.symlinks ?? {})) tree[path] = { link: target };
  store.put(`${prefix}/${TREE_KEY}`, encoder.encode(JSON.stringify(tree)));
}

export interface MemoryTreeMountOptions extends MountOptions {
  readonly store: MemoryStore;
  /** Where the tree object and its blobs live in the store. */
  readonly prefix: string;
}

/**
 * The reference eager provider (the positive control for the eager cases): it reads a git-like
 * tree, validates every path and link, checks the quotas, then reads every blob, and only then
 * writes. Staging before the first write is what makes a failure half-way leave nothing behind.
 */
export function MemoryTreeMount(options: MemoryTreeMountOptions): MountFactory {
  const resolved = resolveMountOptions(options);
  return (context: MountContext): EagerMount => ({
    kind: "memory-tree",
    strategy: "eager",
    writable: false,
    options,
    async materialize(api: MountWriteApi): Promise<void> {
      const root = context.root;
      const tree = readTree(options.store, options.prefix);
      const files: [string, TreeEntry][] = [];
      const links: [string, string][] = [];
      for (const [path, entry] of Object.entries(tree)) {
        const problem = relativePathProblem(path);
        if (problem)
          throw new MountError("EINVAL", `tree entry ${JSON.stringify(path)}: ${problem}`, { path, root });
        if (entry.link !== undefined) {
          try {
            resolveLinkWithinRoot(root, `${root}/${path}`, entry.link);
            links.push([path, entry.link]);
          } catch (error) {
            // Policy: a link that leaves the root is skipped and reported, the rest of the tree still mounts.
            options.onDiagnostic?.({
              code: "invalid-path",
              key: path,
              root,
              message: (error as Error).message,
            });
          }
        } else files.push([path, entry]);
      }
      checkQuota(
        files.map(([, e]) => ({ size: e.size ?? 0 })),
        { maxBytes: resolved.maxBytes, maxEntries: resolved.maxEntries },
        root,
      );
      const staged: [string, Uint8Array, number | undefined][] = [];
      for (const [path, entry] of files) {
        const object =
          entry.blob === undefined ? undefined : options.store.get(`${options.prefix}/${entry.blob}`);
        if (!object) {
          throw new MountError("EIO", `blob ${entry.blob} of ${path} is missing: the source is damaged`, {
            path,
            root,
          });
        }
        staged.push([path, new Uint8Array(object.bytes), entry.mode]);
      }
      for (const [path, bytes, mode] of staged) api.writeFile(`${root}/${path}`, bytes, mode);
      if (api.symlink) for (const [path, target] of links) api.symlink(`${root}/${path}`, target);
    },
  });
}
