import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { access, constants, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { delimiter, join } from "node:path";

/** One server process (and whatever it forks), started in its own process group. */
export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last few KiB of stdout and stderr, for startup errors. */
  output(): string;
  /** True once the process has exited. */
  exited(): boolean;
}

const live = new Set<{ kill(): void }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL every group and remove temp dirs right away.
  process.once("exit", () => {
    for (const entry of live) entry.kill();
    live.clear();
  });
}

/**
 * Registers a synchronous last-resort cleanup that runs when this process exits normally, and a
 * detached watchdog shell that kills the process groups and removes `dir` if this process dies
 * without running exit handlers (a test runner killed with SIGKILL, a crash). The returned
 * function unregisters both, for an orderly stop.
 */
export function guardCleanup(
  pgids: readonly number[],
  dir: string | undefined,
  pids: readonly number[] = [],
): () => void {
  installExitHook();
  const entry = {
    kill(): void {
      for (const pgid of pgids) killGroup(pgid, "SIGKILL");
      for (const pid of pids) killPid(pid);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(entry);
  // A Node script rather than a shell one: dash's `kill` cannot signal a process group.
  // Arguments: parent pid, dir ("" for none), then "g<pgid>" or "p<pid>" targets.
  const script = `
    const [parent, dir, ...targets] = process.argv.slice(1);
    const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch (e) { return e.code === "EPERM"; } };
    const timer = setInterval(() => {
      if (alive(parent)) return;
      clearInterval(timer);
      for (const t of targets) {
        const n = Number(t.slice(1));
        try { process.kill(t[0] === "g" ? -n : n, "SIGKILL"); } catch {}
      }
      if (dir) require("node:fs").rmSync(dir, { recursive: true, force: true });
    }, 500);
  `;
  const targets = [...pgids.map((g) => `g${g}`), ...pids.map((p) => `p${p}`)];
  const watchdog = spawn(process.execPath, ["-e", script, String(process.pid), dir ?? "", ...targets], {
    detached: true,
    stdio: "ignore",
  });
  watchdog.on("error", () => {});
  watchdog.unref();
  return () => {
    live.delete(entry);
    if (watchdog.pid !== undefined) killGroup(watchdog.pid, "SIGKILL");
  };
}

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * Direct children of this process whose command name is `name` (Linux /proc). Used to find the
 * processes a library spawned on our behalf (Miniflare's workerd), which share our process group
 * and so cannot be killed as a group.
 */
export function childProcesses(name: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may contain spaces, so split after the last ")".
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm === name && ppid === process.pid) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** Spawns `command` as the leader of a new process group, capturing its output. */
export function spawnServer(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ServerProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  let done = false;
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-8192);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.on("exit", () => {
    done = true;
  });
  child.on("error", (error) => {
    done = true;
    tail += `\n${String(error)}`;
  });
  // The servers must never keep the test runner alive on their own.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  return { name, child, output: () => tail, exited: () => done };
}

/** Stops one server process: SIGTERM to its group, then SIGKILL after `graceMs`. */
export async function stopServer(server: ServerProcess, graceMs = 3000): Promise<void> {
  const pid = server.child.pid;
  if (pid === undefined || server.exited()) return;
  const exited = new Promise<void>((resolve) => server.child.once("exit", () => resolve()));
  killGroup(pid, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), graceMs);
  });
  const result = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  // Kill the whole group even after a clean exit of the leader: forked children may remain.
  killGroup(pid, "SIGKILL");
  if (result === "timeout") {
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/** Polls `check` until it returns true, the process exits, or `timeoutMs` passes. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  processes: readonly ServerProcess[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = processes.find((p) => p.exited());
    if (dead) {
      throw new Error(`${dead.name} exited while starting ${what}. Output:\n${dead.output()}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const output = processes.map((p) => `--- ${p.name}\n${p.output()}`).join("\n");
      throw new Error(`${what} was not ready after ${timeoutMs} ms. Output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What `startServerProcess` needs to start one server process. */
export interface ServerProcessSpec {
  /** The name in messages (`moto_server`, `nginx`). */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** The server's own temp folder: its working directory, removed by `stop()`. */
  readonly dir: string;
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** What is being waited for, in the error when it never comes (`moto on http://…`). */
  readonly waitingFor: string;
  /** True once the server answers. */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs: number;
}

/**
 * Starts one server process in its own group, guarded against a dying test runner, and waits
 * until `ready` says yes. `stop()` runs once however often it is called: it stops the group and
 * removes `dir`. A start that fails stops everything before the error is thrown.
 */
export async function startServerProcess(
  spec: ServerProcessSpec,
): Promise<{ readonly server: ServerProcess; readonly stop: () => Promise<void> }> {
  const server = spawnServer(spec.name, spec.binary, spec.args, {
    cwd: spec.dir,
    ...(spec.env === undefined ? {} : { env: spec.env }),
  });
  const release = guardCleanup(server.child.pid === undefined ? [] : [server.child.pid], spec.dir);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopServer(server);
      release();
      await rm(spec.dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await waitUntil(spec.waitingFor, spec.ready, [server], spec.readyTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { server, stop };
}

/** The absolute path of an executable on PATH (or an absolute path that exists), or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const candidates = name.includes("/")
    ? [name]
    : (process.env["PATH"] ?? "")
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Try the next one.
    }
  }
  return undefined;
}

/**
 * The error for a missing server binary. In CI (`CI=true`) a missing server is a failure of the
 * CI setup; on a developer machine the message says what to install. Both throw: a suite never
 * skips silently because a server is absent.
 */
export function missingServer(server: string, binary: string, install: string): Error {
  if (process.env["CI"] === "true") {
    return new Error(
      `${server}: ${binary} is not installed, and CI must run the whole test matrix (CI=true). ` +
        `The CI setup (.ci/run) has to install it: ${install}.`,
    );
  }
  return new Error(`${server}: ${binary} was not found on PATH. Install it to run these tests: ${install}.`);
}
