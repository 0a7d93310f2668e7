import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type MountEntry, MountError } from "@ws/core";
import type { IndexKey, IndexStore, StoredIndex } from "./index-store.js";

const FORMAT = "ws-mounts-index";
const VERSION = 1;

// One row per entry: [path, size, mtime, etag, mode], with null for what the provider did not report.
type Row = [string, number, number | null, string | null, number | null];

interface IndexFile {
  readonly format: typeof FORMAT;
  readonly version: number;
  readonly sessionId: string;
  readonly root: string;
  readonly kind: string;
  readonly indexedAt: number;
  readonly entries: Row[];
}

/**
 * A persistent index store: one JSON file per (session, root, kind) in `dir`. Writes go to a
 * temporary file first and are renamed into place, so a crash mid-save leaves the previous index,
 * never a torn one. An unreadable or foreign file counts as "no index" (the mount lists again).
 */
export class FileIndexStore implements IndexStore {
  readonly dir: string;

  constructor(dir: string) {
    if (typeof dir !== "string" || dir === "") {
      throw new MountError("EINVAL", "FileIndexStore needs a directory path");
    }
    this.dir = dir;
  }

  /** The file that holds one key's index. */
  fileFor(key: IndexKey): string {
    const hash = createHash("sha256")
      .update(JSON.stringify([key.sessionId, key.root, key.kind]))
      .digest("hex");
    return join(this.dir, `${hash.slice(0, 32)}.json`);
  }

  async load(key: IndexKey): Promise<StoredIndex | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileFor(key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let file: IndexFile;
    try {
      file = JSON.parse(text) as IndexFile;
    } catch {
      return undefined;
    }
    if (
      file?.format !== FORMAT ||
      file.version !== VERSION ||
      file.sessionId !== key.sessionId ||
      file.root !== key.root ||
      file.kind !== key.kind ||
      !Array.isArray(file.entries)
    ) {
      return undefined;
    }
    const entries: MountEntry[] = file.entries.map(([path, size, mtime, etag, mode]) => {
      const entry: { path: string; size: number; mtime?: number; etag?: string; mode?: number } = {
        path,
        size,
      };
      if (mtime !== null) entry.mtime = mtime;
      if (etag !== null) entry.etag = etag;
      if (mode !== null) entry.mode = mode;
      return entry;
    });
    return { kind: file.kind, entries, indexedAt: file.indexedAt };
  }

  async save(key: IndexKey, index: StoredIndex): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file: IndexFile = {
      format: FORMAT,
      version: VERSION,
      sessionId: key.sessionId,
      root: key.root,
      kind: key.kind,
      indexedAt: index.indexedAt,
      entries: index.entries.map((e) => [e.path, e.size, e.mtime ?? null, e.etag ?? null, e.mode ?? null]),
    };
    const target = this.fileFor(key);
    const tmp = `${target}.${process.pid}.${Date.now().toString(36)}.tmp`;
    await writeFile(tmp, JSON.stringify(file));
    await rename(tmp, target);
  }

  async delete(key: IndexKey): Promise<void> {
    await rm(this.fileFor(key), { force: true });
  }
}
