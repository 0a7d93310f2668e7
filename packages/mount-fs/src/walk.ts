import type { Dirent, Stats } from "node:fs";
import { lstat, readdir, readlink, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { isValidRelativePath, type MountDiagnostic, type MountEntry } from "@ws/core";
import { errnoOf, isInside } from "./safe-path.js";

/** A listed file, with the link target when the entry is an in-root symlink to a file. */
export interface HostEntry extends MountEntry {
  /** Set when the entry is a symbolic link whose target stays inside the root (the target as stored). */
  readonly symlink?: string | undefined;
}

export interface WalkResult {
  readonly entries: HostEntry[];
  readonly diagnostics: MountDiagnostic[];
}

function entryOf(path: string, st: Stats, symlink?: string): HostEntry {
  return {
    path,
    size: st.size,
    mtime: Math.floor(st.mtimeMs),
    mode: st.mode & 0o7777,
    ...(symlink === undefined ? {} : { symlink }),
  };
}

function kindOf(st: Stats | Dirent): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isBlockDevice()) return "a block device";
  if (st.isCharacterDevice()) return "a character device";
  return "not a regular file";
}

/**
 * Walks a host directory: regular files with size, mtime and mode; symbolic links whose real
 * target is a file inside the root, reported with their target; everything else (links that leave
 * the root or dangle, links to directories, FIFOs, sockets, devices, names that cannot be paths)
 * skipped with a diagnostic. Directories are read in parallel, `concurrency` at a time.
 */
export async function walkHostDir(rootReal: string, root: string, concurrency = 16): Promise<WalkResult> {
  const entries: HostEntry[] = [];
  const diagnostics: MountDiagnostic[] = [];
  const skip = (code: MountDiagnostic["code"], key: string, message: string): void => {
    diagnostics.push({ code, key, message: `${key}: ${message}`, root });
  };
  const queue: string[] = [""];
  let active = 0;
  let failure: unknown;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      if (failure !== undefined) {
        if (active === 0) resolve();
        return;
      }
      while (active < concurrency && queue.length > 0) {
        const rel = queue.shift()!;
        active++;
        visit(rel)
          .catch((error: unknown) => {
            failure ??= error;
          })
          .finally(() => {
            active--;
            pump();
          });
      }
      if (active === 0 && queue.length === 0) resolve();
    };
    pump();
  });
  if (failure !== undefined) throw failure;
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, diagnostics };

  async function visit(relDir: string): Promise<void> {
    const dir = relDir === "" ? rootReal : join(rootReal, relDir);
    let dirents: Dirent[];
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      // A folder removed or made unreadable while we walk: skip it rather than fail the listing.
      if (relDir !== "" && (errnoOf(error) === "ENOENT" || errnoOf(error) === "EACCES")) {
        skip("invalid-path", relDir, `directory could not be read (${errnoOf(error)})`);
        return;
      }
      throw error;
    }
    await Promise.all(
      dirents.map(async (d) => {
        const rel = relDir === "" ? d.name : `${relDir}/${d.name}`;
        if (!isValidRelativePath(rel) || d.name.includes("\uFFFD")) {
          skip("invalid-path", rel, "the name cannot be a workspace path (or is not valid UTF-8)");
          return;
        }
        const abs = join(dir, d.name);
        if (d.isDirectory()) {
          queue.push(rel);
          return;
        }
        let st: Stats;
        try {
          st = await lstat(abs);
        } catch (error) {
          if (errnoOf(error) === "ENOENT") return; // removed while we walk
          throw error;
        }
        if (st.isFile()) {
          entries.push(entryOf(rel, st));
          return;
        }
        if (st.isDirectory()) {
          queue.push(rel);
          return;
        }
        if (st.isSymbolicLink()) {
          const target = await readlink(abs).catch(() => "?");
          let real: string;
          try {
            real = await realpath(abs);
          } catch {
            skip(
              "symlink-skipped",
              rel,
              `symbolic link to ${JSON.stringify(target)} dangles or loops; skipped`,
            );
            return;
          }
          if (!isInside(rootReal, real)) {
            skip(
              "symlink-skipped",
              rel,
              `symbolic link to ${JSON.stringify(target)} leaves the root; skipped`,
            );
            return;
          }
          const targetStat = await stat(real);
          if (targetStat.isFile()) {
            entries.push(entryOf(rel, targetStat, target));
            return;
          }
          const what = targetStat.isDirectory()
            ? "a directory (not followed: it would list a subtree twice)"
            : kindOf(targetStat);
          skip("symlink-skipped", rel, `symbolic link to ${JSON.stringify(target)} names ${what}; skipped`);
          return;
        }
        skip("special-file", rel, `${kindOf(st)}; skipped (never read blindly)`);
      }),
    );
    // Queue grows while we go; the pump picks new directories up when this visit settles.
  }
}
