import { type MountEntry, MountError, parentPath } from "@ws/core";
import { mapConcurrent } from "@ws/provider-kit";
import type { MemVol } from "../mem-vol.js";
import type { Mirror, SyncOutcome } from "../mirror/mirror.js";
import { fsError } from "../vfs/fs-errors.js";
import type { MountView, Namespace, Resolved } from "../vfs/namespace.js";
import type { ConflictSide, ExecChanges, MountConflict } from "../workspace-options.js";
import type { Change, Diff } from "./diff.js";
import type { ExecHost } from "./exec-host.js";
import { openHostSource, readHostFile } from "./host-source.js";
import { syncedVersion, vfsVersion } from "./materialise.js";

/**
 * VFS changes made by the exec side, applied without EROFS and without write-back (the caller
 * mirrors what it must). Each tells the mount's mirror what changed locally.
 */
export class ExternalChanges {
  readonly #ns: Namespace;
  readonly #vol: MemVol;
  readonly #mirror: (root: string) => Mirror;

  constructor(ns: Namespace, vol: MemVol, mirror: (root: string) => Mirror) {
    this.#ns = ns;
    this.#vol = vol;
    this.#mirror = mirror;
  }

  /**
   * Applies a file the exec side wrote (`bytes` becomes the file's content: the caller must not
   * use it again). Returns the paths of stubs that disappeared because the
   * file replaced a directory holding them: they were absent on the exec side, but the directory
   * they lived in is gone, so the caller must delete them from the provider as well.
   */
  file(r: Resolved, bytes: Uint8Array, mode: number, mtimeMs?: number): string[] {
    this.#keepRoots(r, "open");
    const k = this.#ns.kind(r);
    const replacesDir = k !== undefined && (k.type === "directory" || k.type === "vdir");
    const oldSize =
      k && !replacesDir
        ? k.type === "stub"
          ? k.view.stubs.size(k.slot)
          : k.type === "file"
            ? k.stats.size
            : 0
        : -1;
    const view = r.view;
    const writable = view?.record.writable === true;
    const orphans =
      replacesDir && view?.record.type === "directory" ? [...view.stubs.liveSlotsUnder(r.rel)] : [];
    if (view && writable) {
      const freed = orphans.reduce((sum, slot) => sum + view.stubs.size(slot), 0);
      if (oldSize >= 0) view.quota.replace(oldSize, bytes.length, r.path);
      else view.quota.adjust(bytes.length - freed, 1 - orphans.length, r.path);
    }
    if (k && (k.type === "directory" || k.type === "symlink"))
      this.#vol.rmSync(r.path, { recursive: true, force: true });
    const removed: string[] = [];
    for (const slot of orphans) {
      const v = view as MountView;
      const rel = v.stubs.path(slot);
      v.stubs.kill(slot);
      if (!writable) v.quota.remove(v.stubs.size(slot));
      this.#mirror(v.root).changedExternally(rel);
      removed.push(v.absOf(rel));
    }
    // The bytes were read for this file alone (diff, readHostFile): memfs keeps them, no copy.
    this.#ns.writeMem(r.path, bytes, mode, true);
    if (mtimeMs !== undefined) this.#vol.utimesSync(r.path, mtimeMs / 1000, mtimeMs / 1000);
    if (k?.type === "stub") k.view.stubs.kill(k.slot);
    if (view) this.#mirror(view.root).changedExternally(r.rel);
    return removed;
  }

  /**
   * Whether a large file at `r` can go to its mount part by part and stay a stub in the VFS: a
   * read-write lazy directory mount that takes `putStream`, where the VFS holds nothing, a file or
   * a stub at that path (a folder or link there takes the in-memory path, which replaces it).
   * Throws `EDQUOT` when `size` bytes would not fit the mount's quota.
   */
  canStream(r: Resolved, size: number): boolean {
    const view = r.view;
    if (!view || r.rel === "" || view.record.type !== "directory" || !this.#mirror(view.root).streams)
      return false;
    const k = this.#ns.kind(r);
    if (k && k.type !== "file" && k.type !== "stub") return false;
    const oldSize = !k
      ? -1
      : k.type === "stub"
        ? k.view.stubs.size(k.slot)
        : k.type === "file"
          ? k.stats.size
          : 0;
    view.quota.check(size - Math.max(0, oldSize), oldSize < 0 ? 1 : 0, r.path);
    return true;
  }

  /**
   * A large file the exec side wrote, now stored by the mount (streamed there): the VFS keeps it
   * as a stub of the stored version, never its bytes. The file or stub the VFS had there goes.
   */
  streamed(r: Resolved, entry: MountEntry): void {
    const view = r.view!;
    const k = this.#ns.kind(r);
    if (k?.type === "file") this.#vol.unlinkSync(r.path);
    view.setStubs(view.stubs.with([entry]), view.filePath);
    this.#ns.recount(view);
    this.#mirror(view.root).streamed(r.rel);
  }

  delete(r: Resolved): void {
    const k = this.#ns.kind(r);
    if (!k || k.type === "directory" || k.type === "vdir") return;
    const view = r.view;
    if (k.type === "stub") k.view.stubs.kill(k.slot);
    else this.#vol.unlinkSync(r.path);
    if (view) {
      view.quota.remove(k.type === "stub" ? view.stubs.size(k.slot) : k.type === "file" ? k.stats.size : 0);
      this.#mirror(view.root).changedExternally(r.rel);
    }
  }

  dir(r: Resolved, mode: number): void {
    if (this.#ns.kind(r)) return;
    this.#ns.mkdirp(r.path);
    this.#vol.chmodSync(r.path, mode);
  }

  /** A folder's new mode (a command's `chmod`); a folder known only from stubs becomes real first. */
  dirMode(r: Resolved, mode: number): void {
    const k = this.#ns.kind(r);
    if (k?.type === "vdir") this.#ns.mkdirp(r.path);
    else if (k?.type !== "directory") return;
    this.#vol.chmodSync(r.path, mode);
  }

  symlink(r: Resolved, target: string): void {
    this.#keepRoots(r, "symlink");
    if (this.#ns.kind(r)) this.#vol.rmSync(r.path, { recursive: true, force: true });
    this.#ns.mkdirp(parentPath(r.path));
    this.#ns.symlinkMem(target, r.path);
  }

  /** A mount root (or a directory holding one) is never replaced by what the exec side made. */
  #keepRoots(r: Resolved, syscall: string): void {
    if (this.#ns.holdsMountRoot(r.path)) {
      throw fsError("EBUSY", syscall, r.path, "a mount root (or a directory holding one) cannot be replaced");
    }
  }

  removeEmptyDir(path: string): void {
    try {
      this.#vol.rmdirSync(path);
    } catch {
      // not empty or gone: leave it
    }
  }
}

interface ToMirror {
  readonly root: string;
  readonly rel: string;
  readonly path: string;
  readonly op: "put" | "delete";
}

type Conflicts = Array<MountConflict & { resolution: "accept" | "keep-local" }>;

/** What a pull did, plus the paths whose exec-side state was not applied (the VFS keeps its own). */
export interface PullOutcome {
  readonly changes: ExecChanges;
  /** The exec directory must be brought back to the VFS's state at these paths. */
  readonly unapplied: string[];
}

/** Applies the exec side's changes to the VFS, then mirrors those under read-write mounts. */
export async function pullBack(host: ExecHost, d: Diff): Promise<PullOutcome> {
  const { ns, apply, ctx } = host;
  const { changes, newDirs, goneDirs } = d;
  const result = {
    added: [] as string[],
    modified: [] as string[],
    deleted: [] as string[],
    readOnly: [] as string[],
    mirrored: [] as string[],
    conflicts: [] as Conflicts,
    errors: [] as Array<{ path: string; error: unknown }>,
    notMirrored: [] as string[],
    skipped: d.skipped,
    hardLinks: d.hardLinks.filter((group) => group.some((p) => ns.resolve(p).view !== undefined)),
  };
  const toMirror: ToMirror[] = [];
  const streams: Streamed[] = [];
  const unapplied: string[] = d.skipped.map((s) => s.path);
  const reports: Array<Promise<unknown>> = [];
  const record = (path: string, op: "put" | "delete", before: ConflictSide): void => {
    const r = ns.resolve(path);
    if (r.view && !r.view.record.writable) {
      result.readOnly.push(r.path);
      // The seed: conflicts on read-only mounts are reported but never mirrored (the answer is moot).
      reports.push(
        ctx.conflict({
          kind: "read-only",
          root: r.view.root,
          relPath: r.rel,
          path: r.path,
          local: before,
          remote: ns.localSide(r.path),
        }),
      );
    } else if (r.view) toMirror.push({ root: r.view.root, rel: r.rel, path: r.path, op });
  };
  // Deletions first, then new directories, then files: where a path changed type (a file became a
  // directory or the reverse), the old node must be gone before the new one can be created.
  for (const change of changes.filter((c) => c.op === "delete")) {
    const r = ns.resolve(change.path);
    try {
      if (!(await resolveConflict(host, d, change, result.conflicts))) {
        unapplied.push(change.path);
        continue;
      }
      const before = ns.localSide(r.path);
      apply.delete(r);
      result.deleted.push(r.path);
      record(r.path, "delete", before);
    } catch (error) {
      result.errors.push({ path: r.path, error });
      unapplied.push(change.path);
    }
  }
  // Folders under a mount that keeps them (directory markers) are mirrored like files.
  const folderOf = (path: string): Resolved | undefined => {
    const r = ns.resolve(path);
    return r.view?.record.writable && r.rel !== "" && host.mirror(r.view.root).keepsFolders ? r : undefined;
  };
  for (const [path, mode] of newDirs.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    try {
      apply.dir(ns.resolve(path), mode);
    } catch (error) {
      result.errors.push({ path, error });
      unapplied.push(path);
      continue;
    }
    const r = folderOf(path);
    if (r?.view) {
      host.mirror(r.view.root).changedExternally(r.rel);
      toMirror.push({ root: r.view.root, rel: r.rel, path: r.path, op: "put" });
    }
  }
  // Folders whose mode the command changed: the VFS takes it, and the marker where one is kept.
  for (const [path, mode] of d.modeDirs) {
    apply.dirMode(ns.resolve(path), mode);
    const kept = folderOf(path);
    if (kept?.view) {
      host.mirror(kept.view.root).changedExternally(kept.rel);
      toMirror.push({ root: kept.view.root, rel: kept.rel, path: kept.path, op: "put" });
    }
  }
  for (const change of changes.filter((c) => c.op !== "delete")) {
    const r = ns.resolve(change.path);
    try {
      if (!(await resolveConflict(host, d, change, result.conflicts))) {
        unapplied.push(change.path);
        continue;
      }
      if (change.op === "symlink") {
        if (r.view?.record.writable && r.view.record.mount?.symlinks === true) {
          // The user's own link under a mount that stores links: kept verbatim, whatever its target.
          const before = ns.localSide(r.path);
          apply.symlink(r, change.target);
          host.mirror(r.view.root).changedExternally(r.rel);
          (ns.exists(r.path) && before.exists ? result.modified : result.added).push(r.path);
          record(r.path, "put", before);
          continue;
        }
        if (r.view) {
          throw new MountError(
            "ENOTSUP",
            `${r.path}: symlinks under mount ${r.view.root} are not pulled back; store the file itself, or put the link outside the mount`,
            { path: r.path, root: r.view.root },
          );
        }
        apply.symlink(r, change.target);
        result.added.push(r.path);
        continue;
      }
      if (change.op !== "file") continue;
      let file = change;
      if (change.unseen && r.view) {
        // A stub the command could not see: the stored file stays; the command's bytes go beside it.
        const keptAs = besideName(host, r.path);
        const side = ns.localSide(r.path);
        const conflict: MountConflict = {
          kind: "unseen",
          root: r.view.root,
          relPath: r.rel,
          path: r.path,
          local: side,
          remote: { exists: true, size: change.size, mtimeMs: change.mtimeMs },
          keptAs,
        };
        await ctx.conflict(conflict);
        result.conflicts.push({ ...conflict, resolution: "keep-local" });
        unapplied.push(change.path);
        const kr = ns.resolve(keptAs);
        if (change.large && apply.canStream(kr, change.size)) {
          streams.push({ r: kr, change });
          result.added.push(kr.path);
          continue;
        }
        if (change.large) file = { ...change, bytes: await readHostFile(change.large), large: undefined };
        apply.file(kr, file.bytes, change.mode, change.mtimeMs);
        result.added.push(kr.path);
        record(kr.path, "put", { exists: false });
        continue;
      }
      const before = ns.localSide(r.path);
      if (change.large) {
        // A large file goes from the exec directory to its mount part by part, below, and stays a
        // stub in the VFS; where the mount cannot take it so, it is read whole as before.
        if (apply.canStream(r, change.size)) {
          streams.push({ r, change });
          (change.isNew ? result.added : result.modified).push(r.path);
          continue;
        }
        file = { ...change, bytes: await readHostFile(change.large), large: undefined };
      }
      for (const orphan of apply.file(r, file.bytes, change.mode, change.mtimeMs)) {
        result.deleted.push(orphan);
        record(orphan, "delete", { exists: true });
      }
      (change.isNew ? result.added : result.modified).push(r.path);
      record(r.path, "put", before);
    } catch (error) {
      result.errors.push({ path: r.path, error });
      unapplied.push(change.path);
    }
  }
  for (const path of d.unseenDirs) {
    unapplied.push(path);
    const r = ns.resolve(path);
    if (!r.view) continue;
    const conflict: MountConflict = {
      kind: "unseen",
      root: r.view.root,
      relPath: r.rel,
      path: r.path,
      local: ns.localSide(r.path),
      remote: { exists: true },
    };
    await ctx.conflict(conflict);
    result.conflicts.push({ ...conflict, resolution: "keep-local" });
  }
  // A folder removed by the command that still holds stored files it never saw (stubs): not
  // applied either way (the files stay, upstream and in the VFS), reported once, as "unseen".
  const unseenGone = new Set(
    goneDirs.filter((path) => {
      const g = ns.resolve(path);
      return g.view?.record.type === "directory" && !g.view.stubs.liveSlotsUnder(g.rel).next().done;
    }),
  );
  for (const path of goneDirs) {
    if (unseenGone.has(path)) {
      if (unseenGone.has(parentPath(path))) continue;
      const g = ns.resolve(path);
      if (!g.view) continue;
      const conflict: MountConflict = {
        kind: "unseen",
        root: g.view.root,
        relPath: g.rel,
        path: g.path,
        local: { exists: true },
        remote: { exists: false },
      };
      await ctx.conflict(conflict);
      result.conflicts.push({ ...conflict, resolution: "keep-local" });
      continue;
    }
    apply.removeEmptyDir(path);
    const r = folderOf(path);
    // Only a folder upstream keeps (a marker) has anything to delete: the others cost no request.
    if (r?.view && !ns.exists(r.path) && host.mirror(r.view.root).hasFolder(r.rel)) {
      host.mirror(r.view.root).changedExternally(r.rel);
      result.deleted.push(r.path);
      toMirror.push({ root: r.view.root, rel: r.rel, path: r.path, op: "delete" });
    }
  }
  await Promise.all(reports);
  // Object stores refuse a key below another key (and a key with keys below it), so a delete that
  // clears the way for a put at a related path lands first; the rest go in parallel.
  const putPaths = [
    ...toMirror.filter((m) => m.op === "put").map((m) => m.path),
    ...streams.map((st) => st.r.path),
  ];
  const clearsWay = (m: ToMirror): boolean =>
    m.op === "delete" && putPaths.some((p) => p.startsWith(`${m.path}/`) || m.path.startsWith(`${p}/`));
  const noteOutcome = (m: ToMirror, outcome: SyncOutcome): void => {
    if (outcome.ok) result.mirrored.push(m.path);
    else {
      result.errors.push({ path: m.path, error: outcome.error });
      result.notMirrored.push(m.path);
    }
  };
  const mirror = async (m: ToMirror): Promise<void> =>
    noteOutcome(m, await host.mirror(m.root).syncNow(m.rel));
  const concurrency = ctx.config.concurrency;
  // Deletions of files go to each mount as batches (`deleteMany`: an rm -rf of 1,000 files is one
  // request on S3); puts and folder markers one by one, `concurrency` at a time.
  const phase = async (items: ToMirror[]): Promise<void> => {
    const deletes = new Map<string, ToMirror[]>();
    for (const m of items) if (m.op === "delete") deletes.set(m.root, [...(deletes.get(m.root) ?? []), m]);
    await Promise.all([
      ...[...deletes].map(async ([root, ms]) => {
        const outcomes = await host.mirror(root).syncMany(
          ms.map((m) => m.rel),
          concurrency,
        );
        for (const [i, outcome] of outcomes.entries()) noteOutcome(ms[i]!, outcome);
      }),
      mapConcurrent(
        items.filter((m) => m.op !== "delete"),
        concurrency,
        mirror,
      ),
    ]);
  };
  await phase(toMirror.filter(clearsWay));
  await phase(toMirror.filter((m) => !clearsWay(m)));
  // One large file at a time: each upload holds its own parts (S3: `concurrency` parts of `partSize`).
  for (const st of streams) {
    const r = st.r;
    const view = r.view!;
    try {
      const outcome = await streamFile(host, st);
      if (outcome.ok) {
        result.mirrored.push(r.path);
        if (outcome.superseded) unapplied.push(r.path);
        continue;
      }
      if (MountError.hasCode(outcome.error, "ESTALE")) {
        // A version conflict the hook did not settle for this side: the VFS keeps its version.
        result.errors.push({ path: r.path, error: outcome.error });
        result.notMirrored.push(r.path);
        unapplied.push(r.path);
        continue;
      }
    } catch {
      // Not readable as the walk saw it, or the mount refused the stream: the in-memory path below.
    }
    try {
      // Read whole as before, so the write stays pending (retried, reported) like any other.
      const bytes = await readHostFile(st.change.large!);
      for (const orphan of apply.file(r, bytes, st.change.mode, st.change.mtimeMs)) {
        result.deleted.push(orphan);
        record(orphan, "delete", { exists: true });
      }
      noteOutcome(
        { root: view.root, rel: r.rel, path: r.path, op: "put" },
        await host.mirror(view.root).syncNow(r.rel),
      );
    } catch (error) {
      result.errors.push({ path: r.path, error });
      unapplied.push(r.path);
    }
  }
  const roots = new Set([...toMirror.map((m) => m.root), ...streams.map((st) => st.r.view!.root)]);
  await Promise.all([...roots].map((root) => host.saveIndex(root)));
  return { changes: result, unapplied };
}

/** A large file on its way from the exec directory to its mount. */
interface Streamed {
  readonly r: Resolved;
  readonly change: Change & { readonly op: "file" };
}

/**
 * Sends one large file from the exec directory to its mount part by part (`putStream`) and, once
 * it landed, makes the VFS hold it as a stub of the stored version: its bytes are never in memory
 * beyond the parts in flight.
 */
async function streamFile(host: ExecHost, st: Streamed): Promise<SyncOutcome & { superseded?: boolean }> {
  const { r, change } = st;
  const view = r.view!;
  const mirror = host.mirror(view.root);
  const source = await openHostSource(change.large!);
  const mtime = Math.floor(change.mtimeMs);
  // What the VFS holds now: a `ws.fs` write made while the file uploads is newer and must stay.
  const at = syncedVersion(host, r.path);
  let outcome: SyncOutcome;
  try {
    // The mode as the in-memory path sends it: group and other write cleared (see Workspace's mirror).
    outcome = await mirror.syncFrom(r.rel, {
      exists: true,
      bytes: new Uint8Array(0),
      source,
      mode: change.mode & ~0o022,
      mtime,
    });
  } finally {
    await source.close();
  }
  if (outcome.ok && syncedVersion(host, r.path) !== at) {
    // Superseded by a `ws.fs` write made meanwhile: it stays (pending, based on the version just
    // stored), and the exec directory gets it at the next sync.
    return { ...outcome, superseded: true };
  }
  if (outcome.ok) {
    const etag = mirror.ackedVersion(r.rel)?.etag;
    host.apply.streamed(r, {
      path: r.rel,
      size: change.size,
      mtime,
      mode: change.mode,
      ...(etag === undefined ? {} : { etag }),
    });
  }
  return outcome;
}

/** `<path>.exec-unseen`, then `<path>.exec-unseen-2`, ...: the first name free in the workspace. */
function besideName(host: ExecHost, path: string): string {
  for (let i = 1; ; i++) {
    const name = i === 1 ? `${path}.exec-unseen` : `${path}.exec-unseen-${i}`;
    if (!host.ns.exists(name)) return name;
  }
}

/**
 * An exec change to a path with an unflushed `ws.fs` write: the exec side wins unless the hook
 * keeps the local write. Returns whether the exec change should be applied.
 */
async function resolveConflict(
  host: ExecHost,
  d: Diff,
  change: Change,
  conflicts: Conflicts,
): Promise<boolean> {
  const { ns, ctx } = host;
  const r = ns.resolve(change.path);
  if (!r.view) return true;
  const mirror = host.mirror(r.view.root);
  // A ws.fs write made while the command ran counts even once acknowledged (issue 18.4): the
  // VFS version is compared with the one the command started from, not only with what is pending.
  // (A large file kept as a stub since the last sync is compared as the stub's version.)
  const atStart = d.vfsAtStart(r.path);
  const changedDuring = atStart !== (atStart?.startsWith("s:") ? syncedVersion : vfsVersion)(host, r.path);
  if (!mirror.writable || (!mirror.has(r.rel) && !changedDuring)) return true;
  const conflict: MountConflict = {
    kind: "exec",
    root: r.view.root,
    relPath: r.rel,
    path: r.path,
    local: ns.localSide(r.path),
    remote:
      change.op === "file"
        ? { exists: true, size: change.size, mtimeMs: Date.now() }
        : { exists: change.op !== "delete" },
  };
  const resolution = await ctx.conflict(conflict);
  conflicts.push({ ...conflict, resolution });
  if (resolution === "keep-local") return false;
  if (mirror.has(r.rel)) mirror.cancel(r.rel);
  return true;
}
