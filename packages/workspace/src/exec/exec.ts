import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { compileIgnore, MountError, normalizeAbsolutePath } from "@ws/core";
import type { ExecChanges, ExecOptions, ExecResult, SandboxEvent } from "../workspace-options.js";
import { mkdirConfined } from "./confine.js";
import type { ExecHost } from "./exec-host.js";
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

/** Files of this size or more go from the exec directory to their mount part by part (`streamBytes`). */
export const DEFAULT_STREAM_BYTES: number = 8 * 1024 * 1024;

function streamBytesOf(value: unknown): number {
  if (value === undefined) return DEFAULT_STREAM_BYTES;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new MountError(
      "EINVAL",
      `exec streamBytes must be a positive integer (bytes), got ${String(value)}`,
    );
  }
  return value;
}

/** The default `hydrateBudget`: what `hydrate: "auto"` fetches before a command at most. */
export const DEFAULT_HYDRATE_BUDGET: { readonly maxFiles: number; readonly maxBytes: number } = {
  maxFiles: 1000,
  maxBytes: 32 * 1024 * 1024,
};

function hydrateBudgetOf(given: ExecOptions["hydrateBudget"]): { maxFiles: number; maxBytes: number } {
  const out = { ...DEFAULT_HYDRATE_BUDGET, ...given };
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new MountError(
        "EINVAL",
        `exec: hydrateBudget.${name} must be a whole number of 0 or more, got ${String(value)}`,
      );
    }
  }
  return out;
}

/**
 * The seed's container side, as a child process over the workspace's lasting exec directory: push
 * what changed in the VFS, run, pull back what the command changed.
 */
export async function runExec(
  host: ExecHost,
  command: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  const streamBytes = streamBytesOf(options.streamBytes);
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
  // Large files a command wrote are stubs whose exec-side copy is already that version: never
  // hydrated for a command (they would cost their size in memory for nothing).
  const held = host.execDir.heldStubs(host);
  const prefetch = (root: string | undefined): Promise<unknown> =>
    held.size === 0
      ? host.prefetch(root)
      : host.hydrateMatching(
          (abs) => !held.has(abs) && (root === undefined || abs === root || abs.startsWith(`${root}/`)),
        );
  const hydrate = options.hydrate ?? "auto";
  const inside = normalizeAbsolutePath(options.cwd ?? "/");
  let absent: ExecResult["absent"];
  if (hydrate === "auto") {
    // The stubs under the command's working directory, fetched when they fit the budget: then the
    // command sees the files it is most likely to touch; otherwise it sees none and the result says so.
    const budget = hydrateBudgetOf(options.hydrateBudget);
    const below = (abs: string): boolean =>
      (inside === "/" || abs === inside || abs.startsWith(`${inside}/`)) &&
      !held.has(abs) &&
      ![...inPlace.keys()].some((root) => abs.startsWith(`${root}/`));
    const found = host.measureStubs(inside, { roots: new Set(inPlace.keys()), paths: held });
    if (found.files > 0) {
      if (found.files <= budget.maxFiles && found.bytes <= budget.maxBytes) await host.hydrateMatching(below);
      else absent = { under: inside, ...found };
    }
  } else if (hydrate === true) {
    if (inPlace.size === 0) await prefetch(undefined);
    else for (const root of host.roots()) if (!inPlace.has(root)) await prefetch(root);
  } else if (hydrate) {
    // Mount roots whole; any other entry is a workspace path (a folder: all below it) or a glob.
    const roots = new Set(host.roots());
    const selectors: string[] = [];
    for (const entry of hydrate) {
      const root = roots.has(entry) ? entry : undefined;
      if (root === undefined) selectors.push(entry);
      else if (!inPlace.has(root)) await prefetch(root);
    }
    if (selectors.length > 0) {
      const match = compileIgnore(selectors);
      await host.hydrateMatching((abs) => !held.has(abs) && match(abs.slice(1)));
    }
  }
  const execDir = host.execDir;
  if (options.keepDir) execDir.keep();
  const dir = await execDir.open(options.tmpDir);
  // Only what changed in the VFS since the last sync is written (the first exec writes it all).
  await execDir.locked(() => execDir.push(host));
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
  let changes: ExecChanges = await execDir.locked(() => execDir.pull(host, streamBytes));
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
  return { ...outcome, changes, sandbox, dir, ...(absent ? { absent } : {}) };
}
