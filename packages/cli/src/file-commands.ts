import { mkdirSync } from "node:fs";
import {
  type FetchResult,
  isEagerMount,
  type LazyMount,
  type Mount,
  type MountMode,
  S_IFLNK,
  S_IFMT,
} from "@ws/core";
import { hostPathOf } from "./builtin-providers.js";
import { CliError, describeFailure, oneLine } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";
import { isLongForm, type MountSpec, parseMountSpec } from "./mount-spec.js";
import { formatBytes, plural } from "./reporter.js";
import { resolveMounts } from "./resolve-mounts.js";
import type { RunContext } from "./run-command.js";

/** A file of a source, as `ls` shows it. */
export interface TreeEntry {
  readonly path: string;
  readonly size: number;
  readonly mode?: number | undefined;
  readonly mtime?: number | undefined;
  /** `"directory"`: an empty folder the source keeps (a host directory's, an S3 marker). */
  readonly type?: "file" | "directory" | undefined;
}

/** A source opened for reading: its files and a way to read one. */
export interface Tree {
  readonly kind: string;
  readonly mount: Mount;
  entries(): Promise<TreeEntry[]>;
  /** The bytes with the mode and mtime the source stored; a link as `S_IFLNK` with its target. */
  read(path: string): Promise<FetchResult>;
  close(): Promise<void>;
}

/** A bare SRC (`./dir`, `s3://b/p`) or a long form without dst= as a spec mounted at `/src`. */
function specOf(source: string, mode: MountMode): MountSpec {
  if (isLongForm(source)) {
    const spec = parseMountSpec(
      /(^|,)(dst|destination|target)=/.test(source) ? source : `${source},dst=/src`,
    );
    return { ...spec, mode };
  }
  return { raw: source, source, target: "/src", mode, ignore: [], extra: {} };
}

async function openMount(source: string, mode: MountMode, ctx: RunContext) {
  const [resolved] = await resolveMounts([specOf(source, mode)], ctx.registry, {
    env: ctx.env,
    cwd: ctx.cwd,
    onDiagnostic: (d) => ctx.reporter.detail("diagnostic", { ...d }, `skipped ${d.key}: ${d.message}`),
  });
  return resolved!;
}

/** Opens a source for reading. Lazy mounts are read directly; eager ones through a Workspace. */
export async function openTree(source: string, ctx: RunContext): Promise<Tree> {
  const { mount, descriptor, spec } = await openMount(source, "read-only", ctx);
  const fail = (error: unknown): never => {
    throw new CliError(describeFailure(error, spec.source), { cause: error });
  };
  if (!isEagerMount(mount)) {
    const lazy = mount as LazyMount;
    return {
      kind: descriptor.kind,
      mount,
      entries: () => lazy.list().catch(fail),
      read: async (path) =>
        typeof lazy.fetchWithInfo === "function"
          ? lazy.fetchWithInfo(path)
          : { bytes: await lazy.fetch(path) },
      close: async () => {
        await mount.dispose?.();
      },
    };
  }
  const { Workspace } = await import("@ws/workspace");
  const ws = new Workspace({ mounts: { "/src": mount } });
  return {
    kind: descriptor.kind,
    mount,
    async entries() {
      const out: TreeEntry[] = [];
      const walk = async (dir: string): Promise<void> => {
        for (const name of await ws.fs.readdir(dir)) {
          const abs = `${dir}/${name}`;
          const st = await ws.fs.stat(abs);
          if (st.isDirectory()) await walk(abs);
          else {
            const mode = (st as { mode?: unknown }).mode;
            out.push({
              path: abs.slice("/src/".length),
              size: st.size,
              mtime: Math.floor(st.mtimeMs),
              ...(typeof mode === "number" ? { mode: mode & 0o7777 } : {}),
            });
          }
        }
      };
      await walk("/src").catch(fail);
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    read: async (path) => ({ bytes: new Uint8Array(await ws.fs.readFile(`/src/${path}`)) }),
    close: () => ws.close(),
  };
}

function under(entries: readonly TreeEntry[], prefix: string | undefined): TreeEntry[] {
  if (!prefix) return [...entries];
  const p = prefix.replace(/^\/+|\/+$/g, "");
  if (p === "") return [...entries];
  return entries.filter((e) => e.path === p || e.path.startsWith(`${p}/`));
}

export interface OutputContext extends RunContext {
  readonly stdout: (bytes: string | Uint8Array) => Promise<void>;
}

/** `ws ls SRC [PATH]`: one path per line (`-l`: mode, size, mtime, path); `--json`: NDJSON on stdout. */
export async function lsCommand(
  source: string,
  prefix: string | undefined,
  options: { long: boolean; json: boolean },
  ctx: OutputContext,
): Promise<number> {
  const tree = await openTree(source, ctx);
  try {
    const entries = under(await tree.entries(), prefix);
    if (prefix && entries.length === 0)
      throw new CliError(`${prefix}: no such file or directory in ${source}`, { exitCode: EXIT.failed });
    const lines = entries.map((e) => {
      if (options.json) return JSON.stringify(e);
      const name = e.type === "directory" ? `${e.path}/` : e.path;
      if (!options.long) return name;
      const mode = e.mode === undefined ? "----" : e.mode.toString(8).padStart(4, "0");
      const when = e.mtime === undefined ? "-" : new Date(e.mtime).toISOString();
      return `${mode} ${String(e.size).padStart(12)} ${when} ${name}`;
    });
    if (lines.length > 0) await ctx.stdout(`${lines.join("\n")}\n`);
    return EXIT.ok;
  } finally {
    await tree.close();
  }
}

const isLink = (info: FetchResult): boolean => info.mode !== undefined && (info.mode & S_IFMT) === S_IFLNK;

/**
 * A file's bytes, following links as `cat` does, but only within the source: a link whose target
 * leaves it (absolute, or `..` past its root) is refused by name, never read from the host.
 */
async function readFollowing(tree: Tree, path: string, source: string): Promise<Uint8Array> {
  let at = path;
  for (let hops = 0; hops < 16; hops++) {
    const info = await tree.read(at);
    if (!isLink(info)) return info.bytes;
    const target = new TextDecoder().decode(info.bytes);
    const outside = new CliError(`${path} is a link to ${target}, outside ${source}; not followed`);
    if (target.startsWith("/")) throw outside;
    const parts = at.split("/").slice(0, -1);
    for (const segment of target.split("/")) {
      if (segment === "" || segment === ".") continue;
      if (segment !== "..") parts.push(segment);
      else if (parts.pop() === undefined) throw outside;
    }
    at = parts.join("/");
  }
  throw new CliError(`${path}: too many levels of links in ${source}`);
}

/** `ws cat SRC PATH...`: the bytes of each file on stdout, in order (links followed within SRC). */
export async function catCommand(
  source: string,
  paths: readonly string[],
  ctx: OutputContext,
): Promise<number> {
  if (paths.length === 0) throw new CliError("ws cat needs a path: ws cat SRC PATH...");
  const tree = await openTree(source, ctx);
  let code: number = EXIT.ok;
  try {
    for (const path of paths) {
      try {
        await ctx.stdout(await readFollowing(tree, path.replace(/^\/+/, ""), source));
      } catch (error) {
        ctx.reporter.error(`${path}: ${describeFailure(error, source)}`, { path });
        code = EXIT.failed;
      }
    }
  } finally {
    await tree.close();
  }
  return code;
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** `ws cp SRC DEST`: every file of SRC written to DEST (created when it is a host directory). */
export async function cpCommand(
  source: string,
  destination: string,
  options: { jobs: number; dryRun: boolean },
  ctx: RunContext,
): Promise<number> {
  const { reporter } = ctx;
  if (!Number.isInteger(options.jobs) || options.jobs < 1)
    throw new CliError(`--jobs must be a positive integer`);
  const tree = await openTree(source, ctx);
  try {
    const entries = await tree.entries();
    const bytes = entries.reduce((n, e) => n + e.size, 0);
    const fileCount = entries.filter((e) => e.type !== "directory").length;
    if (options.dryRun) {
      reporter.event(
        "cp",
        { source, destination, files: fileCount, bytes },
        `would copy ${plural(fileCount, "file")}, ${formatBytes(bytes)} from ${source} to ${destination}`,
      );
      return EXIT.ok;
    }
    const destSpec = specOf(destination, "read-write");
    if (!destSpec.type && ctx.registry.forSource(destSpec.source).kind === "fs") {
      mkdirSync(hostPathOf(destSpec.source, ctx.cwd), { recursive: true });
    }
    const dest = await openMount(destination, "read-write", ctx);
    const put = dest.mount.put?.bind(dest.mount);
    if (!put) throw new CliError(`${destination} (${dest.descriptor.kind}) cannot be written to`);
    const mkdir = dest.mount.mkdir?.bind(dest.mount);
    const done = { files: 0, bytes: 0, failed: 0 };
    await pool(entries, options.jobs, async (entry) => {
      try {
        if (entry.type === "directory") {
          // An empty folder, or one with a mode of its own: kept where the destination keeps folders.
          await mkdir?.(entry.path, entry.mode === undefined ? undefined : { mode: entry.mode });
          return;
        }
        const info = await tree.read(entry.path);
        const data = info.bytes;
        // What a file has beside its bytes travels too, as `cp -a` keeps it: its mode and mtime (a
        // destination that cannot store them ignores them), and a link stays a link (one that
        // cannot store links refuses it by name).
        const mode = info.mode ?? entry.mode;
        const mtime = info.mtime ?? entry.mtime;
        await put(
          entry.path,
          data,
          isLink(info)
            ? { symlink: new TextDecoder().decode(data), ...(mtime === undefined ? {} : { mtime }) }
            : {
                ...(mode === undefined ? {} : { mode: mode & 0o7777 }),
                ...(mtime === undefined ? {} : { mtime }),
              },
        );
        done.files++;
        done.bytes += data.byteLength;
        reporter.progress(`ws: copied ${done.files}/${fileCount} files, ${formatBytes(done.bytes)}`);
      } catch (error) {
        done.failed++;
        reporter.error(`${entry.path}: ${describeFailure(error, source)}`, { path: entry.path });
      }
    });
    await dest.mount.dispose?.();
    reporter.clearProgress();
    const seconds = reporter.elapsedMs() / 1000;
    reporter.event(
      "summary",
      {
        files: done.files,
        bytes: done.bytes,
        failed: done.failed,
        exitCode: done.failed ? EXIT.failed : EXIT.ok,
      },
      `copied ${plural(done.files, "file")}, ${formatBytes(done.bytes)} from ${source} to ${destination} in ${seconds.toFixed(2)}s${done.failed ? `; ${done.failed} failed` : ""}`,
    );
    return done.failed ? EXIT.failed : EXIT.ok;
  } finally {
    await tree.close();
  }
}

/** `ws prefetch SRC...`: reads every file once (proves the source is readable, warms caches). */
export async function prefetchCommand(
  sources: readonly string[],
  options: { jobs: number },
  ctx: RunContext,
): Promise<number> {
  const { reporter } = ctx;
  let failed = 0;
  for (const source of sources) {
    const tree = await openTree(source, ctx);
    try {
      const entries = await tree.entries();
      const done = { files: 0, bytes: 0 };
      await pool(entries, options.jobs, async (entry) => {
        if (entry.type === "directory") return;
        try {
          const data = (await tree.read(entry.path)).bytes;
          done.files++;
          done.bytes += data.byteLength;
          reporter.progress(
            `ws: read ${done.files}/${entries.length} files, ${formatBytes(done.bytes)} (${source})`,
          );
        } catch (error) {
          failed++;
          reporter.error(`${entry.path}: ${oneLine(error)}`, { source, path: entry.path });
        }
      });
      reporter.clearProgress();
      reporter.event(
        "prefetch",
        { source, files: done.files, bytes: done.bytes },
        `${source}: read ${plural(done.files, "file")}, ${formatBytes(done.bytes)}`,
      );
    } finally {
      await tree.close();
    }
  }
  return failed ? EXIT.failed : EXIT.ok;
}
