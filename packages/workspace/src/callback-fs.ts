import type * as nodeFs from "node:fs";
import type { WorkspaceFs } from "./workspace-fs.js";

// biome-ignore lint/suspicious/noExplicitAny: Node-style callbacks take (error, result) with many result types.
type Callback = (error: NodeJS.ErrnoException | null, result?: any) => void;
// biome-ignore lint/suspicious/noExplicitAny: the optional options argument of node:fs callback functions.
type CallbackFn = (path: string, optionsOrCallback?: any, callback?: Callback) => void;

/**
 * The callback-style functions glob libraries call, backed by a `WorkspaceFs`. Typed as their
 * `node:fs` counterparts so the object fits those libraries' `fs` options without casts.
 */
export interface CallbackFs {
  readonly readdir: typeof nodeFs.readdir;
  readonly stat: typeof nodeFs.stat;
  readonly lstat: typeof nodeFs.lstat;
  readonly realpath: typeof nodeFs.realpath;
  readonly readFile: typeof nodeFs.readFile;
  readonly access: typeof nodeFs.access;
}

function adapt(fn: (path: string, options?: unknown) => Promise<unknown>): CallbackFn {
  return (path, optionsOrCallback, callback) => {
    const cb: Callback = typeof optionsOrCallback === "function" ? optionsOrCallback : callback!;
    const options = typeof optionsOrCallback === "function" ? undefined : optionsOrCallback;
    fn(path, options).then(
      (result) => cb(null, result),
      (error: NodeJS.ErrnoException) => cb(error),
    );
  };
}

/**
 * Wraps `ws.fs` in `node:fs` callback style for libraries that take an `fs` option (fast-glob's
 * `fs`, tinyglobby's and fdir's `fs`). Only their asynchronous entry points work: the workspace
 * indexes and fetches asynchronously, so there is no `*Sync`.
 *
 * ```ts
 * const files = await glob("**\/*.md", { cwd: "/workspace", fs: callbackFs(ws.fs) });
 * ```
 */
export function callbackFs(fs: WorkspaceFs): CallbackFs {
  // The node:fs types describe overloads and __promisify__; the adapters implement the callback forms.
  return {
    readdir: adapt((path, options) => fs.readdir(path, options as { withFileTypes: true })) as never,
    stat: adapt((path) => fs.stat(path)) as never,
    lstat: adapt((path) => fs.lstat(path)) as never,
    realpath: adapt((path) => fs.realpath(path)) as never,
    readFile: adapt((path, options) => fs.readFile(path, options as BufferEncoding)) as never,
    access: adapt((path, mode) => fs.access(path, typeof mode === "number" ? mode : 0)) as never,
  };
}
