import {
  type EagerMount,
  type FetchResult,
  fetchWithInfoOf,
  type LazyMount,
  type MkdirOptions,
  type Mount,
  type MountEntry,
  type PutOptions,
  type PutSource,
  pairFetch,
} from "@ws/core";

/** A layer: a function from a mount to a mount that behaves the same plus one concern. */
export type MountLayer = (mount: Mount, context: LayerContext) => Mount;

/** What a layer knows about where the mount sits. */
export interface LayerContext {
  /** The absolute mount root in the workspace (`/workspace/data`). */
  readonly root: string;
}

/** The four operations a lazy mount offers, plus an eager mount's one. */
export type LayeredOperation = "list" | "fetch" | "put" | "delete" | "materialize";

/**
 * One function that every layer routes calls through. `call` is the inner mount's method bound
 * to it; `path` is the relative path (`""` for list and materialize); `bytes` is a put's body.
 */
export type Interceptor = <T>(
  op: LayeredOperation,
  path: string,
  call: () => Promise<T>,
  detail: {
    readonly bytes?: Uint8Array | undefined;
    readonly paths?: readonly string[] | undefined;
    /** (ws mounts) The size of a streamed put (`putStream`), whose bytes are not in memory. */
    readonly size?: number | undefined;
  },
) => Promise<T>;

// How many attempts the call that returned a promise made, kept on that promise under a symbol.
// The retry layer registers its calls; every other layer links its promise to the one inside it,
// so the observe layer outside all of them can report attempts without any shared call context.
// A property, not a WeakMap: one WeakMap entry per layer per call made the garbage collector's
// ephemeron work the largest cost of a cold read through the workspace.
const ATTEMPTS: unique symbol = Symbol("ws.attempts");
type Tracked = Promise<unknown> & { [ATTEMPTS]?: () => number };

/** Registers how to read the attempt count of the call that returned `promise`. */
export function trackAttempts(promise: Promise<unknown>, attempts: () => number): void {
  (promise as Tracked)[ATTEMPTS] = attempts;
}

/** Attempts made so far by the call that returned `promise` (1 when no retry layer saw it). */
export function attemptsOf(promise: Promise<unknown>): number {
  return (promise as Tracked)[ATTEMPTS]?.() ?? 1;
}

/**
 * A copy of `mount` (every own property, enumerable or not, symbols included: extras and traits
 * survive) whose contract methods go through `intercept`. Methods the mount does not have stay
 * absent. The interceptor must return the promise it gets from `call` when it adds nothing, so
 * that layers outside it see the same promise (the retry layer tracks attempts by promise).
 */
export function interceptMount(mount: Mount, interceptor: Interceptor): Mount {
  const intercept: Interceptor = (op, path, call, detail) => {
    let inner: Promise<unknown> | undefined;
    const outer = interceptor(
      op,
      path,
      () => {
        const promise = call();
        inner = promise;
        return promise;
      },
      detail,
    );
    if (outer !== inner && (outer as Tracked)[ATTEMPTS] === undefined) {
      trackAttempts(outer, () => (inner === undefined ? 1 : attemptsOf(inner)));
    }
    return outer;
  };
  const copy = Object.create(Object.getPrototypeOf(mount), Object.getOwnPropertyDescriptors(mount)) as Record<
    string,
    unknown
  >;
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(copy, name, { value, enumerable: true, configurable: true, writable: true });
  };
  if (mount.strategy === "eager") {
    const eager = mount as EagerMount;
    define("materialize", (api: Parameters<EagerMount["materialize"]>[0]) =>
      intercept("materialize", "", () => eager.materialize(api), {}),
    );
  } else {
    const lazy = mount as LazyMount;
    define("list", () => intercept("list", "", () => lazy.list(), {}));
    define("fetch", (path: string) => intercept("fetch", path, () => lazy.fetch(path), {}));
    if (typeof lazy.fetchWithInfo === "function") {
      const fetchWithInfo = lazy.fetchWithInfo;
      define("fetchWithInfo", (path: string) =>
        intercept("fetch", path, () => fetchWithInfo.call(lazy, path) as Promise<FetchResult>, {}),
      );
      // The wrapper's pair stands only if the inner pair did (a replaced fetch stays replaced).
      if (fetchWithInfoOf(lazy) !== undefined) {
        const own = copy as unknown as LazyMount;
        pairFetch(own.fetch, own.fetchWithInfo!);
      } else {
        delete copy.fetchWithInfo;
      }
    }
    // (ws mounts) A ranged read is a fetch as far as layers are concerned (retried, limited, observed).
    if (typeof lazy.fetchRange === "function") {
      const fetchRange = lazy.fetchRange;
      define("fetchRange", (path: string, start: number, end: number, into?: Uint8Array) =>
        intercept(
          "fetch",
          path,
          () => fetchRange.call(lazy, path, start, end, into) as Promise<Uint8Array>,
          {},
        ),
      );
    }
    if (typeof lazy.refresh === "function") {
      const refresh = lazy.refresh;
      define("refresh", () => intercept("list", "", () => refresh.call(lazy) as Promise<MountEntry[]>, {}));
    }
  }
  if (typeof mount.put === "function") {
    const put = mount.put;
    define("put", (path: string, bytes: Uint8Array, options?: PutOptions) =>
      intercept("put", path, () => put.call(mount, path, bytes, options), {
        bytes,
      }),
    );
  }
  // (ws mounts) A streamed put is a put for every layer (retried whole, limited, observed by size).
  if (typeof mount.putStream === "function") {
    const putStream = mount.putStream;
    define("putStream", (path: string, source: PutSource, options?: PutOptions) =>
      intercept("put", path, () => putStream.call(mount, path, source, options), { size: source.size }),
    );
  }
  // (ws mounts) Folder markers are a put and a delete of `path/` as far as layers are concerned.
  if (typeof mount.mkdir === "function") {
    const mkdir = mount.mkdir;
    define("mkdir", (path: string, options?: MkdirOptions) =>
      intercept("put", `${path}/`, () => mkdir.call(mount, path, options), { bytes: new Uint8Array(0) }),
    );
  }
  if (typeof mount.rmdir === "function") {
    const rmdir = mount.rmdir;
    define("rmdir", (path: string) => intercept("delete", `${path}/`, () => rmdir.call(mount, path), {}));
  }
  if (typeof mount.delete === "function") {
    const remove = mount.delete;
    define("delete", (path: string) => intercept("delete", path, () => remove.call(mount, path), {}));
  }
  // (ws mounts) A batch of deletes is one call for every layer (one request, one retry budget,
  // one concurrency slot); `paths` tells the observer which files it removed.
  if (typeof mount.deleteMany === "function") {
    const removeMany = mount.deleteMany;
    define("deleteMany", (paths: readonly string[]) =>
      intercept("delete", paths[0] ?? "", () => removeMany.call(mount, paths), { paths: [...paths] }),
    );
  }
  return copy as unknown as Mount;
}
