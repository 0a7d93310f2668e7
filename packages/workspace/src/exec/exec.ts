import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeAbsolutePath } from "@ws/core";
import type { ExecChanges, ExecOptions, ExecResult, SandboxEvent } from "../workspace-options.js";
import { mkdirConfined } from "./confine.js";
import { diff } from "./diff.js";
import type { ExecHost } from "./exec-host.js";
import { materialise } from "./materialise.js";
import { pullBack } from "./pull-back.js";
import { run } from "./run.js";
import { decideSandbox, type SandboxBind } from "./sandbox.js";

/**
 * Mounts the sandbox may bind in place instead of copying (`bindHostDirs`): directory mounts that
 * say which host directory they are (`hostPath`, as `@ws/mount-fs`'s HostDir does) and that have
 * nothing the copy would filter (no ignore, no quota).
 */
function inPlaceRoots(host: ExecHost): Map<string, string> {
  const out = new Map<string, string>();
  if (host.ctx.config.ignore.length > 0) return out;
  for (const root of host.roots()) {
    const record = host.ns.view(root)?.record;
    const hostPath = (record?.mount as { hostPath?: unknown } | undefined)?.hostPath;
    if (record?.type !== "directory" || typeof hostPath !== "string") continue;
    const o = record.options;
    if (o.ignore.length > 0 || Number.isFinite(o.maxBytes) || Number.isFinite(o.maxEntries)) continue;
    out.set(root, hostPath);
  }
  return out;
}

/** Every top-level entry of the copy (writable), then every mount root with its own mode. */
function bindsOf(host: ExecHost, dir: string, inPlace: Map<string, string>): SandboxBind[] {
  const roots = host.roots();
  const rootSet = new Set(roots);
  const binds: SandboxBind[] = [];
  for (const name of readdirSync(dir)) {
    const target = `/${name}`;
    if (!rootSet.has(target)) binds.push({ source: join(dir, name), target, readOnly: false });
  }
  for (const root of roots) {
    const record = host.ns.view(root)?.record;
    const source = inPlace.get(root) ?? join(dir, root);
    // A single-file mount whose file is not hydrated is absent from the copy: nothing to bind.
    if (!record || !existsSync(source)) continue;
    binds.push({ source, target: root, readOnly: !record.writable });
  }
  return binds;
}

/** The seed's container side, as a child process over a host directory: materialise, run, diff, pull back. */
export async function runExec(
  host: ExecHost,
  command: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  await host.ready();
  host.ctx.stats.execs++;
  const requested = options.sandbox ?? "none";
  const decision = await decideSandbox(requested);
  const sandbox: SandboxEvent = {
    use: decision.use,
    requested,
    ...(decision.use === "none" && decision.reason ? { reason: decision.reason } : {}),
  };
  if (requested !== "none") host.ctx.emit("sandbox", sandbox);
  const inPlace =
    decision.use === "bwrap" && options.bindHostDirs ? inPlaceRoots(host) : new Map<string, string>();
  if (options.hydrate) {
    const roots = options.hydrate === true ? host.roots() : options.hydrate;
    if (options.hydrate === true && inPlace.size === 0) await host.prefetch(undefined);
    else for (const root of roots) if (!inPlace.has(root)) await host.prefetch(root);
  }
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "ws-exec-"));
  try {
    const snapshot = materialise(host, dir);
    const inside = normalizeAbsolutePath(options.cwd ?? "/");
    // Never through a link the VFS holds (a command may have left one pointing anywhere).
    const cwd = mkdirConfined(dir, inside);
    const outcome = await run(command, args, options, {
      dir,
      cwd,
      sandbox:
        decision.use === "bwrap"
          ? { bwrap: decision.probe.bwrap, binds: bindsOf(host, dir, inPlace), cwd: inside }
          : undefined,
    });
    let changes: ExecChanges = await pullBack(host, diff(host, dir, snapshot));
    // A read-write directory bound in place was written directly: list it again so the VFS agrees.
    for (const root of inPlace.keys()) {
      if (!host.ns.view(root)?.record.writable) continue;
      const r = await host.refresh(root);
      changes = {
        ...changes,
        added: [...changes.added, ...r.added],
        modified: [...changes.modified, ...r.changed],
        deleted: [...changes.deleted, ...r.deleted],
        mirrored: [...changes.mirrored, ...r.added, ...r.changed, ...r.deleted],
      };
    }
    return { ...outcome, changes, sandbox, ...(options.keepDir ? { dir } : {}) };
  } finally {
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  }
}
