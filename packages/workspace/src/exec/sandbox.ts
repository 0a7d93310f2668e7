import { spawn } from "node:child_process";
import { type Dirent, existsSync, readdirSync, readlinkSync } from "node:fs";
import { MountError } from "@ws/core";

/**
 * Running a command under bubblewrap (Debian `bubblewrap`), so that read-only mounts are read-only
 * for the command too: the kernel refuses `touch /data/newfile` (seed 001), where without a sandbox
 * the change could only be dropped after the fact. Root ignores permission bits, so `chmod` is no
 * substitute. Learned from anthropic-experimental/sandbox-runtime's linux-sandbox-utils: build the
 * argument list in one pure function, and say plainly where bwrap cannot run.
 */

/** `"auto"`: bwrap when it works here, else no sandbox (with a reason); `"bwrap"`: bwrap or refuse; `"none"`. */
export type SandboxMode = "auto" | "bwrap" | "none";

/** One workspace directory shown to the command at `target`. */
export interface SandboxBind {
  /** The host path that holds it (the exec directory's copy, or a host directory itself). */
  readonly source: string;
  /** Absolute path inside the sandbox. */
  readonly target: string;
  readonly readOnly: boolean;
}

/** One entry of the host's `/`, as the builder needs it. */
export interface HostRootEntry {
  readonly name: string;
  readonly type: "directory" | "symlink" | "file";
  /** For symlinks: the link's target as stored (`usr/bin`). */
  readonly target?: string | undefined;
}

export interface BwrapPlan {
  /** Workspace binds, in any order: the builder sorts them (parents first, so later binds cover earlier ones). */
  readonly binds: readonly SandboxBind[];
  /** Working directory inside the sandbox (absolute). */
  readonly cwd: string;
  /** The command and its arguments. */
  readonly command: string;
  readonly args: readonly string[];
  /** The host's `/` (default: read now). Injected by tests. */
  readonly hostRoot?: readonly HostRootEntry[] | undefined;
  /** Whether a path exists on the host (default `fs.existsSync`). Injected by tests. */
  readonly exists?: ((path: string) => boolean) | undefined;
  /** File descriptor on which bwrap writes `{"child-pid": N}` (for signal forwarding). */
  readonly infoFd?: number | undefined;
}

/** Top-level host entries never bound from the host: the sandbox gets its own. */
const OWN = new Set(["proc", "dev", "tmp"]);

/** Reads the host's `/` for the builder. */
export function readHostRoot(): HostRootEntry[] {
  const out: HostRootEntry[] = [];
  let dirents: Dirent[];
  try {
    dirents = readdirSync("/", { withFileTypes: true });
  } catch {
    return out;
  }
  for (const d of dirents) {
    if (d.isDirectory()) out.push({ name: d.name, type: "directory" });
    else if (d.isSymbolicLink())
      out.push({ name: d.name, type: "symlink", target: readlinkSync(`/${d.name}`) });
    else if (d.isFile()) out.push({ name: d.name, type: "file" });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function depth(path: string): number {
  return path.split("/").length;
}

function topOf(path: string): string {
  return path.split("/")[1] ?? "";
}

function checkTarget(target: string): void {
  if (
    !target.startsWith("/") ||
    target === "/" ||
    target.includes("\0") ||
    /(^|\/)\.\.?(\/|$)/.test(target)
  ) {
    throw new MountError(
      "EINVAL",
      `sandbox bind target ${JSON.stringify(target)} must be a normalised absolute path`,
    );
  }
}

/**
 * The bwrap argument list for a plan, in a fixed order (later binds cover earlier ones):
 *
 * 1. the host's top-level entries read-only (`--ro-bind /usr /usr`, `--symlink usr/bin /bin`),
 *    except `/proc`, `/dev`, `/tmp`, and names a workspace bind takes over entirely;
 * 2. a fresh `/dev`, `/proc` and a private tmpfs `/tmp`;
 * 3. the workspace binds, parents before children (then by path): `--ro-bind` for read-only,
 *    `--bind` for read-write. A read-only mount inside a writable area therefore stays read-only;
 * 4. `--remount-ro /`: nothing else is writable, not even a new top-level name.
 *
 * A bind whose top-level name is a host directory (`/var/data`) is shown on top of the read-only
 * host directory, which needs its mount point to exist on the host: otherwise `EINVAL`, with seed
 * 001's advice to use a top-level path.
 */
export function buildBwrapArgs(plan: BwrapPlan): string[] {
  const exists = plan.exists ?? existsSync;
  const hostRoot = plan.hostRoot ?? readHostRoot();
  for (const b of plan.binds) checkTarget(b.target);
  checkTarget(plan.cwd === "/" ? "/x" : plan.cwd);
  const binds = [...plan.binds].sort((a, b) => {
    const d = depth(a.target) - depth(b.target);
    if (d !== 0) return d;
    return a.target < b.target ? -1 : a.target > b.target ? 1 : 0;
  });
  for (let i = 1; i < binds.length; i++) {
    if (binds[i]!.target === binds[i - 1]!.target) {
      throw new MountError("EINVAL", `two sandbox binds target ${binds[i]!.target}`);
    }
  }
  // A top-level name bound as a whole by the workspace replaces the host's (seed 001: a host mount
  // at /workspace takes priority); deeper binds sit on top of the host's read-only directory.
  const takenTops = new Set(binds.filter((b) => depth(b.target) === 2).map((b) => topOf(b.target)));
  const hostDirs = new Set(hostRoot.filter((e) => e.type === "directory").map((e) => e.name));
  const args: string[] = ["--die-with-parent"];
  if (plan.infoFd !== undefined) args.push("--info-fd", String(plan.infoFd));
  for (const entry of hostRoot) {
    if (OWN.has(entry.name) || takenTops.has(entry.name)) continue;
    if (entry.type === "symlink") args.push("--symlink", entry.target ?? "", `/${entry.name}`);
    else args.push("--ro-bind", `/${entry.name}`, `/${entry.name}`);
  }
  args.push("--dev", "/dev", "--proc", "/proc");
  if (!takenTops.has("tmp")) args.push("--tmpfs", "/tmp");
  for (const b of binds) {
    const top = topOf(b.target);
    if (!takenTops.has(top) && hostDirs.has(top) && !OWN.has(top) && !exists(b.target)) {
      throw new MountError(
        "EINVAL",
        `cannot show ${b.target} inside the sandbox: /${top} is a read-only system directory and ${b.target} does not exist in it; mount at a top-level path such as /data or /workspace instead`,
        { path: b.target },
      );
    }
    args.push(b.readOnly ? "--ro-bind" : "--bind", b.source, b.target);
  }
  args.push("--remount-ro", "/", "--chdir", plan.cwd, "--", plan.command, ...plan.args);
  return args;
}

/** Whether bwrap can make a sandbox here, and if not, why. */
export interface SandboxProbe {
  readonly available: boolean;
  /** The bwrap executable tried. */
  readonly bwrap: string;
  /** Why not, in words a user can act on. */
  readonly reason?: string | undefined;
}

function run(
  file: string,
  args: readonly string[],
): Promise<{ code: number | null; out: string; err: string; spawnError?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const child = spawn(file, [...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.on("error", (spawnError: NodeJS.ErrnoException) => resolve({ code: null, out, err, spawnError }));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

/**
 * Tries bwrap once: a real sandbox running `true` (bwrap may be missing, user namespaces may be
 * disabled, a container may forbid mounts). Never throws.
 */
export async function probeBwrap(bwrap = "bwrap"): Promise<SandboxProbe> {
  // One spawn only: `ws run` pays for it on every start.
  const args = buildBwrapArgs({ binds: [], cwd: "/", command: "true", args: [] });
  const trial = await run(bwrap, args);
  if (trial.spawnError) {
    const why =
      trial.spawnError.code === "ENOENT"
        ? `${bwrap} is not installed (Debian/Ubuntu: apt-get install bubblewrap)`
        : `${bwrap} could not be started (${trial.spawnError.code ?? trial.spawnError.message})`;
    return { available: false, bwrap, reason: why };
  }
  if (trial.code !== 0) {
    const first = trial.err.trim().split("\n")[0] || `exit code ${String(trial.code)}`;
    return {
      available: false,
      bwrap,
      reason: `${bwrap} cannot create a sandbox here: ${first} (unprivileged user namespaces may be disabled)`,
    };
  }
  return { available: true, bwrap };
}

let cached: Promise<SandboxProbe> | undefined;

/** `probeBwrap()` once per process (the answer does not change while we run). */
export function probeSandbox(): Promise<SandboxProbe> {
  cached ??= probeBwrap();
  return cached;
}

/** Forgets the cached probe (tests). */
export function resetSandboxProbe(): void {
  cached = undefined;
}

/** What a mode comes to on this machine. */
export type SandboxDecision =
  | { readonly use: "bwrap"; readonly probe: SandboxProbe }
  | { readonly use: "none"; readonly reason?: string | undefined };

/**
 * `"none"` → no sandbox; `"bwrap"` → bwrap, or `ENOTSUP` with the probe's reason; `"auto"` → bwrap
 * when the probe passes, else no sandbox with the reason (the caller reports it as an event).
 */
export async function decideSandbox(
  mode: SandboxMode,
  probe: () => Promise<SandboxProbe> = probeSandbox,
): Promise<SandboxDecision> {
  if (mode === "none") return { use: "none" };
  if (mode !== "auto" && mode !== "bwrap") {
    throw new MountError("EINVAL", `sandbox must be "auto", "bwrap" or "none", got ${JSON.stringify(mode)}`);
  }
  const result = await probe();
  if (result.available) return { use: "bwrap", probe: result };
  if (mode === "bwrap") {
    throw new MountError(
      "ENOTSUP",
      `sandbox: "bwrap" was asked for, but ${result.reason ?? "bwrap is unavailable"}`,
    );
  }
  return { use: "none", reason: result.reason };
}
