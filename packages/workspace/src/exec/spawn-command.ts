import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { buildBwrapArgs, type SandboxBind } from "./sandbox.js";

/** How to start one command, with or without bwrap. */
export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** Host working directory (without a sandbox). */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `"pipe"` (default): stdout and stderr are collected; `"inherit"`: the command owns the terminal. */
  readonly stdio?: "pipe" | "inherit" | undefined;
  readonly input?: string | Uint8Array | undefined;
  /** SIGKILL after this many ms. */
  readonly timeoutMs?: number | undefined;
  /**
   * Signals of this process passed on to the command while it runs (the CLI forwards SIGINT and
   * SIGTERM). Under bwrap they go to the sandboxed command itself, not to bwrap (which would
   * otherwise die and take the command with it, with no chance to clean up).
   */
  readonly forwardSignals?: readonly NodeJS.Signals[] | undefined;
  /** Run under bwrap with these binds; `sandboxCwd` is the working directory inside. */
  readonly sandbox?:
    | { readonly bwrap: string; readonly binds: readonly SandboxBind[]; readonly cwd: string }
    | undefined;
}

export interface SpawnOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Signals forwarded to the command, in order. */
  readonly forwarded: readonly string[];
}

const INFO_FD = 3;

/** Reads bwrap's `--info-fd` JSON for the sandboxed command's pid (in our pid namespace). */
function readChildPid(stream: Readable): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = "";
    stream.on("data", (c: Buffer) => {
      text += c.toString();
      // Only a complete number (a chunk may end mid-number).
      const match = /"child-pid"\s*:\s*(\d+)\s*[,}\n]/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    stream.on("close", () => resolve(undefined));
    stream.on("error", () => resolve(undefined));
  });
}

/** Starts the command, forwards signals, and resolves when it exits (never rejects after spawn). */
export function spawnCommand(spec: SpawnSpec): Promise<SpawnOutcome> {
  return new Promise((resolve, reject) => {
    const inherit = spec.stdio === "inherit";
    const stdin = inherit && spec.input === undefined ? "inherit" : "pipe";
    const out = inherit ? "inherit" : "pipe";
    // Handlers go on before the spawn: a signal that arrives while the child starts is queued
    // for it rather than killing us (the child may already be printing before spawn() returns).
    let setPid: (pid: number | undefined) => void = () => {};
    const pidPromise = new Promise<number | undefined>((resolve) => {
      setPid = resolve;
    });
    const forwarded: string[] = [];
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const signal of spec.forwardSignals ?? []) {
      const handler = (): void => {
        forwarded.push(signal);
        void pidPromise.then((pid) => {
          if (pid === undefined) return;
          try {
            process.kill(pid, signal);
          } catch {
            // already gone
          }
        });
      };
      handlers.set(signal, handler);
      process.on(signal, handler);
    }
    let child: ChildProcess;
    if (spec.sandbox) {
      const args = buildBwrapArgs({
        binds: spec.sandbox.binds,
        cwd: spec.sandbox.cwd,
        command: spec.command,
        args: spec.args,
        infoFd: INFO_FD,
      });
      child = spawn(spec.sandbox.bwrap, args, { cwd: "/", env: spec.env, stdio: [stdin, out, out, "pipe"] });
    } else {
      child = spawn(spec.command, [...spec.args], { cwd: spec.cwd, env: spec.env, stdio: [stdin, out, out] });
    }
    if (spec.sandbox) void readChildPid(child.stdio[INFO_FD] as Readable).then(setPid);
    else setPid(child.pid);
    const stdoutChunks: Buffer[] = [];
    const stderrChunks: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => stdoutChunks.push(c));
    child.stderr?.on("data", (c: Buffer) => stderrChunks.push(c));
    const detach = (): void => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (spec.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        void pidPromise.then((pid) => {
          if (pid !== undefined) {
            try {
              process.kill(pid, "SIGKILL");
            } catch {
              // already gone
            }
          }
          child.kill("SIGKILL");
        });
      }, spec.timeoutMs);
    }
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      detach();
      reject(error);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      detach();
      resolve({
        exitCode: code,
        signal,
        stdout: Buffer.concat(stdoutChunks).toString("utf8"),
        stderr: Buffer.concat(stderrChunks).toString("utf8"),
        forwarded,
      });
    });
    if (child.stdin) {
      child.stdin.on("error", () => {
        // The command may exit without reading its input.
      });
      if (spec.input !== undefined) child.stdin.end(spec.input);
      else child.stdin.end();
    }
  });
}
