import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeAbsolutePath } from "@ws/core";
import type { ExecOptions, ExecResult } from "../workspace-options.js";
import { diff } from "./diff.js";
import type { ExecHost } from "./exec-host.js";
import { materialise } from "./materialise.js";
import { pullBack } from "./pull-back.js";
import { run } from "./run.js";

/** The seed's container side, as a child process over a host directory: materialise, run, diff, pull back. */
export async function runExec(
  host: ExecHost,
  command: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  await host.ready();
  host.ctx.stats.execs++;
  if (options.hydrate) {
    const roots = options.hydrate === true ? undefined : options.hydrate;
    if (roots === undefined) await host.prefetch(undefined);
    else for (const root of roots) await host.prefetch(root);
  }
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "ws-exec-"));
  try {
    const snapshot = materialise(host, dir);
    const cwd = join(dir, normalizeAbsolutePath(options.cwd ?? "/"));
    mkdirSync(cwd, { recursive: true });
    const outcome = await run(command, args, cwd, options, dir);
    const changes = await pullBack(host, diff(host, dir, snapshot));
    return { ...outcome, changes, ...(options.keepDir ? { dir } : {}) };
  } finally {
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  }
}
