import type { Dirent, Stats } from "node:fs";
import { lstat, readdir, readlink, realpath } from "node:fs/promises";
import { join } from "node:path";
import { isValidRelativePath, type MountDiagnostic, type MountEntry } from "@ws/core";
import { lstatPath } from "./fd-io.js";
import { errnoOf, isInside } from "./safe-path.js";

/**
 * A listed file (with the link target when the entry is a symbolic link), or a folder
 * (`type: "directory"`, size 0) that is empty or has a mode other than 0o755.
 */
export interface HostEntry extends MountEntry {
  /**
   * Set when the entry is a symbolic link: its target as stored. The entry is the link itself
   * (size = the target's length in UTF-8, the link's own mtime), never what it names: with
   * `links: "inside"` only links that resolve inside the root are entries, with `"verbatim"` all.
   */
  readonly symlink?: string | undefined;
}

export interface WalkResult {
  readonly entries: HostEntry[];
  readonly diagnostics: MountDiagnostic[];
}

/**
 * Which links are listed (always as links): `"inside"` (a read-only mount: those that resolve
 * inside the root; the others are skipped with a diagnostic) or `"verbatim"` (a read-write mount:
 * the user's own links, every one, whatever it names).
 */
export type LinkPolicy = "inside" | "verbatim";

/** The mode a host gives a folder it knows nothing about (and HostDir's default `dirMode`). */
const DEFAULT_DIR_MODE = 0o755;

function entryOf(path: string, st: Stats): HostEntry {
  return { path, size: st.size, mtime: Math.floor(st.mtimeMs), mode: st.mode & 0o7777 };
}

function kindOf(st: Stats | Dirent): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isBlockDevice()) return "a block device";
  if (st.isCharacterDevice()) return "a character device";
  return "not a regular file";
}

/**
 * Walks a host directory: regular files with size, mtime and mode; folders holding nothing that
 * is listed, and folders whose mode is not 0o755, as `type: "directory"` entries (with their mode); symbolic links as links, those `links` admits (see
 * `LinkPolicy`); everything else (links `links` refuses, FIFOs, sockets, devices, names that
 * cannot be paths) skipped with a diagnostic. Links are never followed. Directories are read in
 * parallel, `concurrency` at a time.
 */
export async function walkHostDir(
  rootReal: string,
  root: string,
  concurrency = 16,
  links: LinkPolicy = "inside",
): Promise<WalkResult> {
  const entries: HostEntry[] = [];
  const diagnostics: MountDiagnostic[] = [];
  const folders: Array<{ path: string; st: Stats | undefined }> = [];
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
  // A folder needs an entry of its own only when nothing below it is listed (an empty folder).
  const holding = new Set<string>();
  const hold = (path: string): void => {
    for (let at = path.lastIndexOf("/"); at > 0; at = path.lastIndexOf("/", at - 1)) {
      const parent = path.slice(0, at);
      if (holding.has(parent)) return;
      holding.add(parent);
    }
  };
  for (const e of entries) hold(e.path);
  for (const f of folders) hold(f.path);
  for (const f of folders) {
    // A folder with a mode of its own is listed too (as a marker with its mode), empty or not.
    const ownMode = f.st !== undefined && (f.st.mode & 0o7777) !== DEFAULT_DIR_MODE;
    if (holding.has(f.path) && !ownMode) continue;
    entries.push({
      path: f.path,
      size: 0,
      type: "directory",
      ...(f.st ? { mtime: Math.floor(f.st.mtimeMs), mode: f.st.mode & 0o7777 } : {}),
    });
  }
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
    if (relDir !== "") folders.push({ path: relDir, st: await lstat(dir).catch(() => undefined) });
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
          st = await lstatPath(abs);
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
          let target: string;
          try {
            target = await readlink(abs);
          } catch (error) {
            if (errnoOf(error) === "ENOENT") return; // removed while we walk
            throw error;
          }
          if (links === "inside") {
            // A read-only mount (content the user may not have checked): only links that stay
            // inside the root, whatever they name there; the rest are skipped by name.
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
          }
          // The link itself, as stored: never followed (a folder it names is not listed twice).
          entries.push({
            path: rel,
            size: Buffer.byteLength(target),
            mtime: Math.floor(st.mtimeMs),
            mode: 0o777,
            symlink: target,
          });
          return;
        }
        skip("special-file", rel, `${kindOf(st)}; skipped (never read blindly)`);
      }),
    );
    // Queue grows while we go; the pump picks new directories up when this visit settles.
  }
}
