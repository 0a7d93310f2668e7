import { spawn } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MountError, normalizeAbsolutePath } from "@ws/core";
import type { Host, MountState } from "./host.js";
import { mapConcurrent } from "./map-concurrent.js";
import type {
  ConflictSide,
  ExecChanges,
  ExecOptions,
  ExecResult,
  MountConflict,
} from "./workspace-options.js";

/** What a path looked like on the host right after materialisation: enough to spot a change without reading. */
interface Snap {
  readonly type: "file" | "directory" | "symlink";
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
}

function snapOf(hostPath: string): Snap {
  const st = lstatSync(hostPath, { bigint: true });
  return {
    type: st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : "file",
    size: st.size,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ino: st.ino,
  };
}

function sameSnap(a: Snap, b: Snap): boolean {
  return (
    a.type === b.type &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino
  );
}

/** Writes the VFS (memfs nodes only: stubs stay absent) to `dir`, recording each path's snapshot. */
function materialize(host: Host, dir: string): Map<string, Snap> {
  const snapshot = new Map<string, Snap>();
  const vol = host.vol;
  const walk = (abs: string): void => {
    for (const d of vol.readdirSync(abs, { withFileTypes: true })) {
      const child = abs === "/" ? `/${String(d.name)}` : `${abs}/${String(d.name)}`;
      if (host.isIgnored(host.resolve(child))) continue;
      const hostPath = join(dir, child);
      const st = vol.lstatSync(child);
      if (d.isDirectory()) {
        mkdirSync(hostPath, { recursive: true });
        walk(child);
        // Directories are made writable for the owner, else the command could not create files in them.
        chmodSync(hostPath, (st.mode & 0o7777) | 0o700);
      } else if (d.isSymbolicLink()) {
        symlinkSync(vol.readlinkSync(child), hostPath);
      } else {
        writeFileSync(hostPath, vol.readFileSync(child));
        chmodSync(hostPath, st.mode & 0o7777);
      }
      snapshot.set(child, snapOf(hostPath));
    }
  };
  walk("/");
  // Mount roots exist on the exec side even when nothing under them is hydrated yet.
  for (const root of host.tableRoots()) {
    const state = host.states.get(root);
    if (state?.type !== "directory") continue;
    const hostPath = join(dir, root);
    mkdirSync(hostPath, { recursive: true });
    for (let p = root; p !== "/" && !snapshot.has(p); p = p.slice(0, p.lastIndexOf("/")) || "/") {
      snapshot.set(p, snapOf(join(dir, p)));
    }
  }
  return snapshot;
}

interface RunOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  options: ExecOptions,
  dir: string,
): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const env = { ...(options.env ?? process.env), WS_ROOT: dir };
    const child = options.shell
      ? spawn("/bin/sh", ["-c", command, "sh", ...args], { cwd, env, stdio: "pipe" })
      : spawn(command, [...args], { cwd, env, stdio: "pipe" });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (options.timeoutMs !== undefined) timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        exitCode: code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin.on("error", () => {
      // The command may exit without reading its input.
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

type Change =
  | {
      readonly op: "file";
      readonly path: string;
      readonly bytes: Uint8Array;
      readonly mode: number;
      readonly isNew: boolean;
    }
  | { readonly op: "delete"; readonly path: string }
  | { readonly op: "symlink"; readonly path: string; readonly target: string };

/** Walks the host directory after the run and lists what differs from the snapshot. */
function diff(
  host: Host,
  dir: string,
  snapshot: Map<string, Snap>,
): { changes: Change[]; newDirs: Array<[string, number]>; goneDirs: string[] } {
  const changes: Change[] = [];
  const newDirs: Array<[string, number]> = [];
  const seen = new Set<string>();
  const walk = (abs: string): void => {
    const hostDir = join(dir, abs);
    for (const d of readdirSync(hostDir, { withFileTypes: true })) {
      const child = abs === "/" ? `/${d.name}` : `${abs}/${d.name}`;
      const r = host.resolve(child);
      if (host.isIgnored(r)) continue;
      seen.add(child);
      const hostPath = join(dir, child);
      const before = snapshot.get(child);
      const now = snapOf(hostPath);
      if (now.type === "directory") {
        if (before?.type !== "directory") {
          newDirs.push([child, Number(lstatSync(hostPath).mode & 0o7777)]);
          // A file (or a stub, absent on this side) replaced by a directory: the file goes first.
          if (before || host.isFileAt(child)) changes.push({ op: "delete", path: child });
        }
        walk(child);
        continue;
      }
      if (before && sameSnap(before, now)) continue;
      if (now.type === "symlink") {
        changes.push({ op: "symlink", path: child, target: readlinkSync(hostPath) });
        continue;
      }
      if (now.type !== "file") continue;
      const bytes = readFileSync(hostPath);
      const mode = lstatSync(hostPath).mode & 0o7777;
      if (before?.type === "file") {
        // Only metadata moved (touch, same bytes written back): not a change unless the mode changed.
        try {
          const current = host.vol.readFileSync(child);
          const currentMode = host.vol.lstatSync(child).mode & 0o7777;
          if (Buffer.compare(current, bytes) === 0 && currentMode === mode) continue;
        } catch {
          // gone from the VFS meanwhile: apply
        }
      }
      changes.push({
        op: "file",
        path: child,
        bytes: new Uint8Array(bytes),
        mode,
        isNew: !before && !host.exists(child),
      });
    }
  };
  walk("/");
  const goneDirs: string[] = [];
  for (const [path, snap] of snapshot) {
    if (seen.has(path)) continue;
    if (snap.type === "directory") goneDirs.push(path);
    else changes.push({ op: "delete", path });
  }
  goneDirs.sort((a, b) => b.length - a.length);
  return { changes, newDirs, goneDirs };
}

/** The seed's container side, as a child process over a host directory. */
export async function runExec(
  host: Host,
  command: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  await host.ready();
  host.stats.execs++;
  if (options.hydrate) {
    const roots = options.hydrate === true ? undefined : options.hydrate;
    if (roots === undefined) await host.prefetch(undefined, {});
    else for (const root of roots) await host.prefetch(root, {});
  }
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "ws-exec-"));
  try {
    const snapshot = materialize(host, dir);
    const cwd = join(dir, normalizeAbsolutePath(options.cwd ?? "/"));
    mkdirSync(cwd, { recursive: true });
    const outcome = await run(command, args, cwd, options, dir);
    const changes = await pull(host, dir, snapshot);
    return { ...outcome, changes, ...(options.keepDir ? { dir } : {}) };
  } finally {
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  }
}

async function pull(host: Host, dir: string, snapshot: Map<string, Snap>): Promise<ExecChanges> {
  const { changes, newDirs, goneDirs } = diff(host, dir, snapshot);
  const result = {
    added: [] as string[],
    modified: [] as string[],
    deleted: [] as string[],
    readOnly: [] as string[],
    mirrored: [] as string[],
    conflicts: [] as Array<MountConflict & { resolution: "accept" | "keep-local" }>,
    errors: [] as Array<{ path: string; error: unknown }>,
  };
  const toMirror: Mirror[] = [];
  const reports: Array<Promise<unknown>> = [];
  const record = (path: string, op: "put" | "delete", before: ConflictSide): void => {
    const r = host.resolve(path);
    if (r.state && !r.state.writeBack) {
      result.readOnly.push(r.path);
      // The seed: conflicts on read-only mounts are reported but never mirrored (the answer is moot).
      reports.push(
        host.conflict({
          kind: "read-only",
          root: r.state.root,
          relPath: r.rel,
          path: r.path,
          local: before,
          remote: host.localSide(r.path),
        }),
      );
    } else if (r.state) toMirror.push({ state: r.state, rel: r.rel, path: r.path, op });
  };
  // Deletions first, then new directories, then files: where a path changed type (a file became a
  // directory or the reverse), the old node must be gone before the new one can be created.
  const deletes = changes.filter((c) => c.op === "delete");
  const writes = changes.filter((c) => c.op !== "delete");
  for (const change of deletes) {
    const r = host.resolve(change.path);
    try {
      if (!(await resolveConflict(host, change, result))) continue;
      const before = host.localSide(r.path);
      host.applyExternalDelete(r);
      result.deleted.push(r.path);
      record(r.path, "delete", before);
    } catch (error) {
      result.errors.push({ path: r.path, error });
    }
  }
  for (const [path, mode] of newDirs.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    host.applyExternalDir(host.resolve(path), mode);
  }
  for (const change of writes) {
    const r = host.resolve(change.path);
    try {
      if (!(await resolveConflict(host, change, result))) continue;
      if (change.op === "symlink") {
        if (r.state) {
          throw new MountError(
            "ENOTSUP",
            `${r.path}: symlinks under mount ${r.state.root} are not pulled back; store the file itself, or put the link outside the mount`,
            { path: r.path, root: r.state.root },
          );
        }
        host.applyExternalSymlink(r, change.target);
        result.added.push(r.path);
        continue;
      }
      const before = host.localSide(r.path);
      for (const orphan of host.applyExternalFile(r, change.bytes, change.mode)) {
        result.deleted.push(orphan);
        record(orphan, "delete", { exists: true });
      }
      (change.isNew ? result.added : result.modified).push(r.path);
      record(r.path, "put", before);
    } catch (error) {
      result.errors.push({ path: r.path, error });
    }
  }
  for (const path of goneDirs) host.removeEmptyDir(path);
  await Promise.all(reports);
  // Object stores refuse a key below another key (and a key with keys below it), so a delete that
  // clears the way for a put at a related path lands first; the rest go in parallel.
  const putPaths = toMirror.filter((m) => m.op === "put").map((m) => m.path);
  const clearsWay = (m: Mirror): boolean =>
    m.op === "delete" && putPaths.some((p) => p.startsWith(`${m.path}/`) || m.path.startsWith(`${p}/`));
  const mirror = async (m: Mirror): Promise<void> => {
    const outcome = await m.state.writeBack!.syncNow(m.rel);
    if (outcome.ok) result.mirrored.push(m.path);
    else result.errors.push({ path: m.path, error: outcome.error });
  };
  await mapConcurrent(toMirror.filter(clearsWay), host.config.concurrency, mirror);
  await mapConcurrent(
    toMirror.filter((m) => !clearsWay(m)),
    host.config.concurrency,
    mirror,
  );
  await Promise.all([...new Set(toMirror.map((m) => m.state))].map((s) => host.saveIndex(s)));
  return result;
}

interface Mirror {
  readonly state: MountState;
  readonly rel: string;
  readonly path: string;
  readonly op: "put" | "delete";
}

/**
 * An exec change to a path with an unflushed `ws.fs` write: the exec side wins unless the hook
 * keeps the local write. Returns whether the exec change should be applied.
 */
async function resolveConflict(
  host: Host,
  change: Change,
  result: { conflicts: Array<MountConflict & { resolution: "accept" | "keep-local" }> },
): Promise<boolean> {
  const r = host.resolve(change.path);
  const state = r.state;
  if (!state?.writeBack?.has(r.rel)) return true;
  const conflict: MountConflict = {
    kind: "exec",
    root: state.root,
    relPath: r.rel,
    path: r.path,
    local: host.localSide(r.path),
    remote:
      change.op === "file"
        ? { exists: true, size: change.bytes.length, mtimeMs: Date.now() }
        : { exists: change.op !== "delete" },
  };
  const resolution = await host.conflict(conflict);
  result.conflicts.push({ ...conflict, resolution });
  if (resolution === "keep-local") return false;
  state.writeBack.cancel(r.rel);
  return true;
}
