import { MountError } from "@ws/core";

/** What reading one folder gives: its files (any shape) and its sub-folders (keys, no trailing slash). */
export interface FolderResult<T> {
  readonly files: readonly T[];
  readonly folders: readonly string[];
}

export interface WalkTreeOptions {
  /** What is walked, for messages (`"http://host/base/"`, never with a query string). */
  readonly what: string;
  /** Folders read at once. */
  readonly concurrency: number;
  /** Refuse to read more folders than this: a listing that never ends fails `EIO` naming the bound. */
  readonly maxFolders: number;
  /** Refuse folders deeper than this below the root. */
  readonly maxDepth: number;
  /** The folders to start from (default `[""]`, the root). */
  readonly roots?: readonly string[] | undefined;
}

/**
 * A breadth-first walk of a folder tree with up to `concurrency` folders read at once, one page
 * (a folder's files) yielded as each read completes. A folder key is read at most once, so pages
 * linking to each other cannot loop; a tree that keeps growing (generated pages) hits `maxFolders`
 * or `maxDepth` and fails `EIO` rather than listing forever.
 *
 * Provider-independent (it only needs `readFolder`): a candidate for @ws/provider-kit beside
 * `paginate`, which covers linear cursors but not trees.
 */
export async function* walkTree<T>(
  readFolder: (key: string) => Promise<FolderResult<T>>,
  options: WalkTreeOptions,
): AsyncGenerator<T[], void, undefined> {
  const queue: string[] = [...(options.roots ?? [""])];
  const seen = new Set<string>(queue);
  const inFlight = new Map<number, Promise<{ id: number; result?: FolderResult<T>; error?: unknown }>>();
  let started = 0;
  while (queue.length > 0 || inFlight.size > 0) {
    while (queue.length > 0 && inFlight.size < options.concurrency) {
      const key = queue.shift() as string;
      started++;
      if (started > options.maxFolders) {
        throw new MountError(
          "EIO",
          `listing ${options.what} reached more than ${options.maxFolders} folders (maxFolders); refusing to go on — a listing that never ends, or raise maxFolders`,
          { syscall: "scandir" },
        );
      }
      const depth = key === "" ? 0 : key.split("/").length;
      if (depth > options.maxDepth) {
        throw new MountError(
          "EIO",
          `listing ${options.what} reached a folder ${depth} levels deep (maxDepth ${options.maxDepth}): ${key.slice(0, 200)}; refusing to go on`,
          { syscall: "scandir" },
        );
      }
      const id = started;
      inFlight.set(
        id,
        readFolder(key).then(
          (result) => ({ id, result }),
          (error: unknown) => ({ id, error }),
        ),
      );
    }
    const done = await Promise.race(inFlight.values());
    inFlight.delete(done.id);
    if (done.result === undefined) throw done.error;
    for (const folder of done.result.folders) {
      if (seen.has(folder)) continue;
      seen.add(folder);
      queue.push(folder);
    }
    yield [...done.result.files];
  }
}
