import { existsSync } from "node:fs";
import { type Mount, MountError } from "@ws/core";
import type { ExecResult, SandboxMode, Workspace } from "@ws/workspace";
import { CliError, describeFailure, oneLine } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";
import { parseMountSpec } from "./mount-spec.js";
import type { ProviderRegistry } from "./provider-registry.js";
import { formatBytes, plural, type Reporter } from "./reporter.js";
import { checkDestinations, type ResolvedMount, resolveMounts } from "./resolve-mounts.js";

export interface RunOptions {
  readonly mount: readonly string[];
  readonly workdir?: string | undefined;
  readonly env: readonly string[];
  readonly sandbox: SandboxMode;
  readonly dryRun: boolean;
}

export interface RunContext {
  readonly registry: ProviderRegistry;
  readonly reporter: Reporter;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** `--env K=V` (or `--env K`, taken from this environment) over this process's environment. */
export function commandEnv(
  pairs: readonly string[],
  base: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq === 0) throw new CliError(`--env ${pair} has no name; write --env NAME=VALUE`);
    if (eq === -1) env[pair] = base[pair];
    else env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function modeWord(mount: Mount): string {
  return mount.writable ? "read-write" : "read-only";
}

/** `ws run`: mounts, the command over them, write-back, one summary line. Resolves to the exit code. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions,
  ctx: RunContext,
): Promise<number> {
  const { reporter } = ctx;
  if (options.mount.length === 0) {
    throw new CliError("ws run needs at least one --mount SRC:DEST[:ro|:rw]");
  }
  if (options.sandbox !== "auto" && options.sandbox !== "bwrap" && options.sandbox !== "none") {
    throw new CliError(`--sandbox must be auto, bwrap or none, got ${JSON.stringify(options.sandbox)}`);
  }
  const specs = options.mount.map(parseMountSpec);
  checkDestinations(specs);
  const env = commandEnv(options.env, ctx.env);
  const workdir = options.workdir ?? specs[0]!.target;
  if (!workdir.startsWith("/")) throw new CliError(`--workdir ${workdir} is not absolute; write /${workdir}`);
  const resolved = await resolveMounts(specs, ctx.registry, {
    env: ctx.env,
    cwd: ctx.cwd,
    onDiagnostic: (d) =>
      reporter.detail("diagnostic", { ...d }, `skipped ${d.root ?? ""}:${d.key}: ${d.message}`),
  });
  for (const r of resolved) {
    reporter.event(
      "mount",
      { root: r.spec.target, source: r.spec.source, kind: r.descriptor.kind, mode: modeWord(r.mount) },
      `${r.spec.target} <- ${r.spec.source} (${r.descriptor.kind}, ${modeWord(r.mount)})`,
    );
  }
  if (options.dryRun) {
    reporter.event(
      "exec",
      { command, args, workdir, sandbox: options.sandbox },
      `would run ${[command, ...args].join(" ")} in ${workdir} (sandbox: ${options.sandbox}); nothing fetched, nothing written`,
    );
    return EXIT.ok;
  }
  return runResolved(command, args, resolved, { ...options, workdir }, env, ctx);
}

async function runResolved(
  command: string,
  args: readonly string[],
  resolved: readonly ResolvedMount[],
  options: RunOptions & { workdir: string },
  env: Record<string, string | undefined>,
  ctx: RunContext,
): Promise<number> {
  const { reporter } = ctx;
  // The sandbox alone first: the workspace (and memfs) load only when a mount needs them.
  const { decideSandbox } = await import("@ws/workspace/sandbox");
  let decision: Awaited<ReturnType<typeof decideSandbox>>;
  try {
    decision = await decideSandbox(options.sandbox);
  } catch (error) {
    throw new CliError(oneLine(error).replace(/^E[A-Z]+: /, ""), { cause: error });
  }
  if (decision.use === "bwrap") {
    reporter.event(
      "sandbox",
      { use: "bwrap", requested: options.sandbox },
      "sandbox: bwrap (read-only mounts are read-only for the command)",
    );
  } else if (options.sandbox === "auto") {
    reporter.warn(
      `no sandbox: ${decision.reason ?? "bwrap is unavailable"}; the command runs over a copy at $WS_ROOT (use relative paths), and its writes under read-only mounts are dropped afterwards`,
      { use: "none", requested: "auto", reason: decision.reason },
    );
  }
  // Host directories without ignore or quota are bound in place under bwrap: nothing to fetch.
  const inPlace = new Set(
    decision.use === "bwrap"
      ? resolved
          .filter(
            (r) =>
              typeof (r.mount as { hostPath?: unknown }).hostPath === "string" &&
              r.spec.ignore.length === 0 &&
              r.spec.maxBytes === undefined &&
              r.spec.maxEntries === undefined,
          )
          .map((r) => r.spec.target)
      : [],
  );
  if (decision.use === "bwrap" && inPlace.size === resolved.length) {
    return runInPlace(command, args, resolved, options, env, decision.probe.bwrap, ctx);
  }
  const { Workspace } = await import("@ws/workspace");
  const ws: Workspace = new Workspace({
    mounts: Object.fromEntries(resolved.map((r) => [r.spec.target, r.mount])),
  });
  const counts = { bytesFetched: 0, filesFetched: 0, written: 0, deleted: 0, writeFailures: 0 };
  ws.on("fetch", (e) => {
    counts.filesFetched++;
    counts.bytesFetched += e.bytes;
  });
  ws.on("put", (e) => {
    counts.written++;
    reporter.detail(
      "write-back",
      { op: "put", root: e.root, path: e.path, bytes: e.bytes },
      `wrote back ${e.root}/${e.path}`,
    );
  });
  ws.on("delete", (e) => {
    counts.deleted++;
    reporter.detail(
      "write-back",
      { op: "delete", root: e.root, path: e.path },
      `deleted ${e.root}/${e.path}`,
    );
  });
  ws.on("error", (e) => {
    // An index failure is thrown by prefetch below and reported once, there.
    if (e.op === "index") return;
    if (e.op === "put" || e.op === "delete") counts.writeFailures++;
    reporter.error(`${e.op} ${e.root ?? ""}${e.path ? `/${e.path}` : ""}: ${oneLine(e.error)}`, {
      op: e.op,
      root: e.root,
      path: e.path,
    });
  });
  ws.on("index", (e) =>
    reporter.detail(
      "index",
      { ...e },
      `indexed ${e.root}: ${plural(e.entries, "file")}, ${formatBytes(e.bytes)}`,
    ),
  );
  // Until the command runs, a signal stops ws (after flushing nothing); while it runs, exec forwards
  // signals to the command; afterwards they are ignored so pending writes still flush.
  let interrupted: NodeJS.Signals | undefined;
  let phase: "prepare" | "command" | "finish" = "prepare";
  const onSignal = (signal: NodeJS.Signals): void => {
    if (phase === "prepare") interrupted ??= signal;
    else if (phase === "finish") reporter.warn(`${signal} received: finishing the write-back first`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let result: ExecResult | undefined;
  let exitCode: number = EXIT.usage;
  try {
    try {
      const failed: Array<{ path: string; error: unknown }> = [];
      for (const r of resolved) {
        if (inPlace.has(r.spec.target)) continue;
        const prefetch = await ws.prefetch(r.spec.target, {
          onProgress: (p) =>
            reporter.progress(`ws: fetching ${p.done}/${p.total} files, ${formatBytes(p.bytes)} (${p.root})`),
        });
        failed.push(...prefetch.failed);
      }
      reporter.clearProgress();
      if (failed.length > 0) {
        for (const f of failed.slice(0, 5)) reporter.error(`could not read ${f.path}: ${oneLine(f.error)}`);
        throw new CliError(`${plural(failed.length, "file")} could not be read; the command was not run`);
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      const source = resolved.find((r) => MountError.isInstance(error) && error.root === r.spec.target)?.spec
        .source;
      throw new CliError(describeFailure(error, source ?? resolved[0]?.spec.source), { cause: error });
    }
    if (interrupted)
      throw new CliError(`interrupted by ${interrupted} before the command ran`, { exitCode: 130 });
    phase = "command";
    reporter.detail(
      "exec",
      { command, args, workdir: options.workdir },
      `running ${[command, ...args].join(" ")}`,
    );
    try {
      result = await ws.exec(command, args, {
        cwd: options.workdir,
        env,
        stdio: "inherit",
        forwardSignals: ["SIGINT", "SIGTERM"],
        sandbox: decision.use,
        bindHostDirs: true,
      });
    } catch (error) {
      const errno =
        typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
      if (errno === "ENOENT")
        throw new CliError(`command not found: ${command}`, { exitCode: EXIT.notFound });
      if (errno === "EACCES")
        throw new CliError(`cannot run ${command}: permission denied`, { exitCode: EXIT.cannotInvoke });
      throw new CliError(describeFailure(error), { cause: error });
    }
    phase = "finish";
    // bwrap reports a missing command as exit 1 with its own message; the shell convention is 127.
    exitCode = result.exitCode ?? 128 + signalNumber(result.signal);
  } finally {
    phase = "finish";
    try {
      await ws.close();
    } catch (error) {
      counts.writeFailures = Math.max(counts.writeFailures, 1);
      reporter.error(`write-back: ${oneLine(error)}`);
    }
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const changes = result.changes;
  const refused = changes.readOnly.length;
  const failures = counts.writeFailures + changes.errors.length;
  for (const e of changes.errors)
    reporter.error(`not written back: ${e.path}: ${oneLine(e.error)}`, { path: e.path });
  for (const path of changes.readOnly) {
    reporter.detail("refused", { path }, `dropped (read-only mount): ${path}`);
  }
  const finalCode = failures > 0 ? EXIT.writeBackFailed : exitCode;
  const ms = reporter.elapsedMs();
  reporter.event(
    "summary",
    {
      mounts: resolved.length,
      bytesFetched: counts.bytesFetched,
      filesFetched: counts.filesFetched,
      filesWrittenBack: changes.mirrored.length,
      writesRefused: refused,
      writeBackFailures: failures,
      commandExitCode: result.exitCode,
      signal: result.signal,
      exitCode: finalCode,
      sandbox: decision.use,
    },
    [
      plural(resolved.length, "mount"),
      `${formatBytes(counts.bytesFetched)} fetched`,
      `${plural(changes.mirrored.length, "file")} written back`,
      `${plural(refused, "write")} refused under read-only mounts`,
      ...(failures > 0 ? [`${plural(failures, "write-back failure")} (exit ${EXIT.writeBackFailed})`] : []),
      `exit ${result.exitCode ?? result.signal}`,
      `${(ms / 1000).toFixed(2)}s`,
    ].join(", "),
  );
  return finalCode;
}

/**
 * Every mount is a host directory bound in place: no workspace, no index, no copy. The command
 * runs under bwrap over the directories themselves (read-only ones bound read-only), and what it
 * writes to a read-write one is on the host as it writes it.
 */
async function runInPlace(
  command: string,
  args: readonly string[],
  resolved: readonly ResolvedMount[],
  options: RunOptions & { workdir: string },
  env: Record<string, string | undefined>,
  bwrap: string,
  ctx: RunContext,
): Promise<number> {
  const { reporter } = ctx;
  const { spawnCommand } = await import("@ws/workspace/sandbox");
  // bwrap would only say "Can't chdir"; name the folder instead.
  const home = resolved.find(
    (r) => options.workdir === r.spec.target || options.workdir.startsWith(`${r.spec.target}/`),
  );
  if (home) {
    const hostDir =
      (home.mount as unknown as { hostPath: string }).hostPath +
      options.workdir.slice(home.spec.target.length);
    if (!existsSync(hostDir)) {
      throw new CliError(
        `--workdir ${options.workdir} does not exist (${hostDir} on the host); create it or pick another`,
      );
    }
  }
  reporter.detail(
    "exec",
    { command, args, workdir: options.workdir },
    `running ${[command, ...args].join(" ")}`,
  );
  let outcome: Awaited<ReturnType<typeof spawnCommand>>;
  try {
    outcome = await spawnCommand({
      command,
      args,
      cwd: ctx.cwd,
      env: { ...env, WS_ROOT: "/" },
      stdio: "inherit",
      forwardSignals: ["SIGINT", "SIGTERM"],
      sandbox: {
        bwrap,
        cwd: options.workdir,
        binds: resolved.map((r) => ({
          source: (r.mount as unknown as { hostPath: string }).hostPath,
          target: r.spec.target,
          readOnly: !r.mount.writable,
        })),
      },
    });
  } catch (error) {
    throw new CliError(describeFailure(error), { cause: error });
  }
  const exitCode = outcome.exitCode ?? 128 + signalNumber(outcome.signal);
  const ms = reporter.elapsedMs();
  reporter.event(
    "summary",
    {
      mounts: resolved.length,
      inPlace: true,
      bytesFetched: 0,
      filesFetched: 0,
      filesWrittenBack: 0,
      writesRefused: 0,
      writeBackFailures: 0,
      commandExitCode: outcome.exitCode,
      signal: outcome.signal,
      exitCode,
      sandbox: "bwrap",
    },
    [
      plural(resolved.length, "mount"),
      resolved.some((r) => r.mount.writable)
        ? "bound in place (nothing fetched; writes landed directly)"
        : "bound in place (nothing fetched)",
      `exit ${outcome.exitCode ?? outcome.signal}`,
      `${(ms / 1000).toFixed(2)}s`,
    ].join(", "),
  );
  return exitCode;
}

const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
};

function signalNumber(signal: string | null): number {
  return signal ? (SIGNALS[signal] ?? 0) : 0;
}
