import type { ExecOptions } from "../workspace-options.js";
import type { SandboxBind } from "./sandbox.js";
import { spawnCommand } from "./spawn-command.js";

export interface RunOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where and how the command runs: over the host copy in `cwd`, or under bwrap with `binds`. */
export interface RunPlace {
  /** The exec directory (the host copy of the workspace). */
  readonly dir: string;
  /** Host working directory (without a sandbox). */
  readonly cwd: string;
  readonly sandbox?:
    | { readonly bwrap: string; readonly binds: readonly SandboxBind[]; readonly cwd: string }
    | undefined;
}

/**
 * Runs the command as a child process. Without a sandbox it runs in the host copy with `WS_ROOT`
 * set to it; under bwrap it sees the workspace at its own paths and `WS_ROOT` is `/`.
 */
export async function run(
  command: string,
  args: readonly string[],
  options: ExecOptions,
  place: RunPlace,
): Promise<RunOutcome> {
  const env = { ...(options.env ?? process.env), WS_ROOT: place.sandbox ? "/" : place.dir };
  const outcome = await spawnCommand({
    command: options.shell ? "/bin/sh" : command,
    args: options.shell ? ["-c", command, "sh", ...args] : args,
    cwd: place.cwd,
    env,
    stdio: options.stdio,
    input: options.input,
    timeoutMs: options.timeoutMs,
    forwardSignals: options.forwardSignals,
    sandbox: place.sandbox,
  });
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
  };
}
