import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built binary. */
export const WS_BIN: string = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

export interface WsResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface WsRun {
  readonly child: ChildProcess;
  readonly done: Promise<WsResult>;
}

/** Starts `ws ARGS` as a child process (stdin, stdout and stderr are pipes: not a terminal). */
export function startWs(
  args: readonly string[],
  options: { cwd?: string; input?: string | Uint8Array; env?: Record<string, string | undefined> } = {},
): WsRun {
  const child = spawn(process.execPath, [WS_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on("data", (c: Buffer) => out.push(c));
  child.stderr!.on("data", (c: Buffer) => err.push(c));
  child.stdin!.on("error", () => {});
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const done = new Promise<WsResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") }),
    );
  });
  return { child, done };
}

export function ws(
  args: readonly string[],
  options: { cwd?: string; input?: string | Uint8Array; env?: Record<string, string | undefined> } = {},
): Promise<WsResult> {
  return startWs(args, options).done;
}
