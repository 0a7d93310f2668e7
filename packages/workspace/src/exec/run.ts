import { spawn } from "node:child_process";
import type { ExecOptions } from "../workspace-options.js";

export interface RunOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command as a child process in `cwd`, with `WS_ROOT` set to the host copy. */
export function run(
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
