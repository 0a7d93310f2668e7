/**
 * The machinery behind `defineLazyMount` / `defineEagerMount`. It lives in @ws/core so that the
 * reference `MemoryMount` (here) and every provider built on @ws/provider-kit (which re-exports
 * these functions as its documented entry point) share one implementation, while the dependency
 * direction stays core ← provider-kit ← providers. It depends on nothing outside this package.
 */
import { sanitizeEntries } from "./entries.js";
import { invalid, MountError, readOnly, toMountError, withErrorContext } from "./errors.js";
import { pickMountOptions, resolveMountOptions } from "./options.js";
import {
  isValidRelativePath,
  normalizeKeyPrefix,
  resolveLinkWithinRoot,
  validateRelativePath,
} from "./paths.js";
import { checkPutSource } from "./put-source.js";
import { redactError } from "./redact.js";
import {
  type EagerMount,
  type FetchResult,
  type LazyMount,
  type MkdirOptions,
  type Mount,
  type MountDiagnostic,
  type MountEntry,
  type MountOptions,
  type MountWriteApi,
  type PutOptions,
  type PutResult,
  type PutSource,
  S_IFDIR,
} from "./types.js";

/** The operations of a lazy mount, as layers and events name them. */
export type MountOperation = "list" | "fetch" | "put" | "delete";

/** One object as the backend lists it: the full key (prefix included), before any sanitising. */
export interface RawEntry {
  readonly key: string;
  readonly size: number;
  readonly mtime?: number | undefined;
  readonly etag?: string | undefined;
  readonly mode?: number | undefined;
}

/** What the kit passes to a provider's `fetch`, `put` and `delete` beside the key. */
export interface OperationContext {
  /** The path relative to the mount root, as the caller gave it (validated). */
  readonly relPath: string;
  readonly signal?: AbortSignal | undefined;
  /** (ws mounts) `fetchRange` only: the caller's buffer the bytes may be written into (see `LazyMount.fetchRange`). */
  readonly into?: Uint8Array | undefined;
}

/** What `classify` is told about the failed operation. */
export interface ClassifyContext {
  readonly op: MountOperation;
  /** The backend key (`""` for a listing without prefix). */
  readonly key: string;
  /** The relative path (`""` for a listing). */
  readonly relPath: string;
  /** The precondition a put carried, so a 412 can become `EEXIST` or `ESTALE`. */
  readonly precondition?: "ifMatch" | "ifNoneMatch" | undefined;
}

/**
 * Who retries a mount's failures. `"kit"` (default): the provider makes one attempt per call and
 * the retry layer retries transient errors. `"client"`: the provider's client library retries by
 * itself; the retry layer then leaves the mount alone, so no request is retried twice.
 */
export type RetryOwner = "kit" | "client";

/** Facts about a mount that the layers read. Stored under a registered symbol, not enumerable. */
export interface MountTraits {
  readonly retries: RetryOwner;
  /** Strings that must never leave the mount in an error (tokens, secret keys). */
  readonly secrets: () => Iterable<string | undefined>;
}

const TRAITS = Symbol.for("@ws/core/mount-traits");

/** The traits a mount was defined with (`undefined` for a mount not made by `defineLazyMount`/`defineEagerMount`). */
export function mountTraits(mount: Mount): MountTraits | undefined {
  return (mount as unknown as Record<symbol, MountTraits | undefined>)[TRAITS];
}

/** Attaches traits to a mount (or a layer's wrapper of one), non-enumerable. */
export function setMountTraits<M extends Mount>(mount: M, traits: MountTraits): M {
  Object.defineProperty(mount, TRAITS, { value: traits, enumerable: false, configurable: true });
  return mount;
}

// fetchWithInfo → the fetch it was defined with. A wrapper that replaces `fetch` by spreading a
// mount (`{ ...mount, fetch: myFetch }`) leaves the old pair behind: the host must then use the
// new `fetch`, not the old `fetchWithInfo` that would bypass it.
const FETCH_PAIRS = new WeakMap<object, object>();

/** (ws mounts) Records that `fetchWithInfo` reads the same object as `fetch` (layers call it for their wrappers). */
export function pairFetch(
  fetch: LazyMount["fetch"],
  fetchWithInfo: NonNullable<LazyMount["fetchWithInfo"]>,
): void {
  FETCH_PAIRS.set(fetchWithInfo, fetch);
}

/**
 * (ws mounts) The `fetchWithInfo` the host may call instead of `fetch`: the mount's own, unless it
 * was paired with another `fetch` than the one the mount has now (a wrapper replaced `fetch`).
 */
export function fetchWithInfoOf(mount: LazyMount): LazyMount["fetchWithInfo"] {
  const fetchWithInfo = mount.fetchWithInfo;
  if (typeof fetchWithInfo !== "function") return undefined;
  const paired = FETCH_PAIRS.get(fetchWithInfo);
  return paired === undefined || paired === mount.fetch ? fetchWithInfo : undefined;
}

const NO_SECRETS = (): Iterable<string | undefined> => [];

export interface LazyMountDefinition<Extra extends object = Record<never, never>> {
  /** A short provider name for messages and metrics: `"s3"`, `"http"`. */
  readonly kind: string;
  /** The user's options; the common ones are validated and exposed as `mount.options`. */
  readonly options?: MountOptions | undefined;
  /**
   * Key prefix: normalised, prepended to every relative path (`prefix/relPath`), stripped from
   * listed keys; listed keys outside it are dropped.
   */
  readonly prefix?: string | undefined;
  readonly rootType?: "directory" | "file" | undefined;
  /** `false`: `ifMatch`/`ifNoneMatch` fail `ENOTSUP` before any I/O. Default true. */
  readonly conditionalWrites?: boolean | undefined;
  readonly retries?: RetryOwner | undefined;
  readonly secrets?: (() => Iterable<string | undefined>) | undefined;
  /**
   * Maps a backend failure to a MountError (`code` and `transient`). MountErrors thrown by the
   * provider pass through untouched. Without it, anything else becomes a persistent `EIO`.
   */
  readonly classify?: ((error: unknown, context: ClassifyContext) => MountError) | undefined;
  /** Every object, one page at a time (see `paginate` in @ws/provider-kit). */
  listPages(): AsyncIterable<readonly RawEntry[]>;
  fetch(key: string, context: OperationContext): Promise<Uint8Array>;
  /**
   * (ws mounts) `fetch` plus the object's stored metadata (see `FetchResult`). With it the mount
   * has `fetchWithInfo`, and its `fetch` returns the bytes of this one.
   */
  fetchWithInfo?(key: string, context: OperationContext): Promise<FetchResult>;
  /**
   * (ws mounts) Bytes `[start, end)` of one object: with it the mount has `fetchRange`. The kit
   * has already checked the offsets (non-negative integers, `end > start`); the provider clips at
   * the object's size (a `Range` past the end, HTTP 416, is an empty array, not an error) and
   * rejects `ENOENT` for a missing object.
   */
  fetchRange?(key: string, start: number, end: number, context: OperationContext): Promise<Uint8Array>;
  /**
   * (ws mounts) Empty folders as zero-byte `key/` objects (rclone's `--s3-directory-markers`):
   * `mount.mkdir`/`mount.rmdir` put and delete them through `put`/`delete`, and listed markers
   * become `type: "directory"` entries. Default false.
   */
  readonly directoryMarkers?: boolean | undefined;
  /**
   * (ws mounts) List zero-byte `key/` markers (written by this mount or by other tools) as
   * `type: "directory"` entries; otherwise they are skipped. Never files. Default: `directoryMarkers`.
   */
  readonly listDirectoryMarkers?: boolean | undefined;
  /** (ws mounts) `put` understands `PutOptions.symlink` (declared on the mount as `symlinks: true`). */
  readonly symlinks?: boolean | undefined;
  /**
   * Writes one object. The kit has already checked that the mount is writable, that `bytes` is a
   * Uint8Array, that `ifNoneMatch` is `"*"` if given and that preconditions are allowed. The caller
   * does not mutate `bytes` until the promise settles.
   */
  put?(
    key: string,
    bytes: Uint8Array,
    options: PutOptions,
    context: OperationContext,
    // biome-ignore lint/suspicious/noConfusingVoidType: a put that learns no etag may simply return.
  ): Promise<PutResult | void>;
  /**
   * (ws mounts) Writes one object read part by part from `source` (see `PutSource`): with it the
   * mount has `putStream`. The kit has made the same checks as for `put`, and checked the source's
   * shape. A retry calls it again: read the source again from the start.
   */
  putStream?(
    key: string,
    source: PutSource,
    options: PutOptions,
    context: OperationContext,
    // biome-ignore lint/suspicious/noConfusingVoidType: a put that learns no etag may simply return.
  ): Promise<PutResult | void>;
  /** Deletes one object; a missing one is not an error. */
  delete?(key: string, context: OperationContext): Promise<void>;
  /**
   * (ws mounts) Deletes several objects in as few requests as the backend allows (at most
   * `deleteManyLimit` keys per call: the kit splits larger batches); missing ones are not an error.
   * Rejects when any key could not be deleted.
   */
  deleteMany?(keys: readonly string[], context: { readonly relPaths: readonly string[] }): Promise<void>;
  /** (ws mounts) Most keys one `deleteMany` call takes (S3: 1,000). Default 1,000. */
  readonly deleteManyLimit?: number | undefined;
  /** `true`: `mount.refresh()` lists again. */
  readonly refresh?: boolean | undefined;
  dispose?(): void | Promise<void>;
  /** Provider-specific members merged into the mount (property descriptors kept, so non-enumerable stays so). */
  readonly extra?: Extra | undefined;
}

/** The mount `defineLazyMount` returns. */
export interface DefinedLazyMount extends LazyMount {
  readonly strategy: "lazy";
  readonly writable: boolean;
  readonly options: MountOptions;
  readonly rootType: "directory" | "file";
  /** The normalised key prefix (`""` for none). */
  readonly prefix: string;
  put(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** Present when the provider defined `putStream`. */
  putStream?(relPath: string, source: PutSource, options?: PutOptions): Promise<PutResult>;
  delete(relPath: string): Promise<void>;
}

/** (ws mounts) `fetchRange` offsets: non-negative integers, else `EINVAL` naming them. */
export function checkRange(relPath: string, start: number, end: number): void {
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(end) || end < 0) {
    throw invalid(
      `fetchRange ${relPath}: start and end must be non-negative integers (end exclusive), got ${String(start)} and ${String(end)}`,
      { path: relPath, syscall: "read" },
    );
  }
}

function preconditionOf(options: PutOptions): "ifMatch" | "ifNoneMatch" | undefined {
  if (options.ifNoneMatch !== undefined) return "ifNoneMatch";
  if (options.ifMatch !== undefined) return "ifMatch";
  return undefined;
}

/**
 * Builds a lazy mount from a provider's I/O: validates the common options, maps paths to keys
 * under the prefix, refuses writes on a read-only mount (`EROFS`), checks bytes and preconditions,
 * sanitises listings (reporting each skipped key through `options.onDiagnostic`), classifies
 * failures, fills in path and syscall, and scrubs the declared secrets from every error.
 */
const DIAGNOSTIC_LISTENERS = Symbol.for("@ws/core:diagnostic-listeners");

/**
 * Lets a host (the workspace) hear the keys a mount made with `defineLazyMount` skipped, besides
 * the mount's own `options.onDiagnostic`. Returns a function that stops listening. A mount made
 * otherwise is left alone (it reports through its own options, or the host sanitises).
 */
export function listenMountDiagnostics(
  mount: object,
  listener: (diagnostic: MountDiagnostic) => void,
): () => void {
  const listeners = (mount as Record<symbol, unknown>)[DIAGNOSTIC_LISTENERS];
  if (!(listeners instanceof Set)) return () => undefined;
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export function defineLazyMount<Extra extends object = Record<never, never>>(
  definition: LazyMountDefinition<Extra>,
): DefinedLazyMount & Extra {
  const userOptions = definition.options ?? {};
  const resolved = resolveMountOptions(userOptions);
  const writable = resolved.mode === "read-write";
  const prefix = normalizeKeyPrefix(definition.prefix);
  const base = prefix === "" ? "" : `${prefix}/`;
  const rootType = definition.rootType ?? "directory";
  const conditionalWrites = definition.conditionalWrites ?? true;
  const secrets = definition.secrets ?? NO_SECRETS;
  const kind = definition.kind;
  if (typeof kind !== "string" || kind === "")
    throw invalid("defineLazyMount needs a kind (a short provider name)");
  const listMarkers = definition.listDirectoryMarkers ?? definition.directoryMarkers === true;
  const where = (key: string): string => `${kind}:${key === "" ? "/" : key}`;

  function fail(error: unknown, context: ClassifyContext, syscall: string): never {
    let mountError: MountError;
    if (MountError.isInstance(error)) mountError = error;
    else if (definition.classify) mountError = definition.classify(error, context);
    // A Node-style error with a POSIX code (node:fs, a store) keeps its code; anything else is EIO.
    else mountError = toMountError(error, { path: context.relPath, syscall });
    throw redactError(withErrorContext(mountError, { path: context.relPath, syscall }), secrets());
  }

  const keyOf = (relPath: string): string => base + validateRelativePath(relPath);
  const diagnosticListeners = new Set<(diagnostic: MountDiagnostic) => void>();

  async function list(): Promise<MountEntry[]> {
    const raw: MountEntry[] = [];
    try {
      for await (const page of definition.listPages()) {
        for (const entry of page) {
          const key = entry.key;
          if (typeof key !== "string" || !key.startsWith(base)) continue;
          const path = key.slice(base.length);
          // Zero-byte keys ending in "/" are folder markers made by consoles and tools, never files:
          // folders when the mount keeps empty folders, skipped otherwise.
          if (path === "" || path.endsWith("/")) {
            if (entry.size === 0 && path !== "" && listMarkers) {
              // A marker's stored mode (R2's listing carries it; S3Bucket reads it per marker).
              const mode = entry.mode === undefined ? {} : { mode: entry.mode & 0o7777 };
              raw.push({ path: path.slice(0, -1), size: 0, type: "directory", ...mode });
            }
            if (entry.size === 0) continue;
          }
          raw.push({
            path,
            size: entry.size,
            ...(entry.mtime !== undefined ? { mtime: entry.mtime } : {}),
            ...(entry.etag !== undefined ? { etag: entry.etag } : {}),
            ...(entry.mode !== undefined ? { mode: entry.mode } : {}),
          });
        }
      }
    } catch (error) {
      fail(error, { op: "list", key: base, relPath: "" }, "scandir");
    }
    const { entries, skipped } = sanitizeEntries(raw);
    for (const diagnostic of skipped) {
      userOptions.onDiagnostic?.(diagnostic);
      for (const listener of diagnosticListeners) listener(diagnostic);
    }
    return entries;
  }

  async function fetch(relPath: string): Promise<Uint8Array> {
    const key = keyOf(relPath);
    try {
      return await definition.fetch(key, { relPath });
    } catch (error) {
      return fail(error, { op: "fetch", key, relPath }, "open");
    }
  }

  async function fetchWithInfo(relPath: string): Promise<FetchResult> {
    const key = keyOf(relPath);
    try {
      return await definition.fetchWithInfo!(key, { relPath });
    } catch (error) {
      return fail(error, { op: "fetch", key, relPath }, "open");
    }
  }

  async function fetchRange(
    relPath: string,
    start: number,
    end: number,
    into?: Uint8Array,
  ): Promise<Uint8Array> {
    const key = keyOf(relPath);
    checkRange(relPath, start, end);
    if (end <= start) return new Uint8Array(0);
    // A buffer too short for the range is not offered to the provider.
    const target = into instanceof Uint8Array && into.length >= end - start ? into : undefined;
    let bytes: Uint8Array;
    try {
      bytes = await definition.fetchRange!(key, start, end, target ? { relPath, into: target } : { relPath });
    } catch (error) {
      return fail(error, { op: "fetch", key, relPath }, "read");
    }
    // A provider that ignored the end (a server that sent more) must not hand out extra bytes.
    return bytes.length > end - start ? bytes.slice(0, end - start) : bytes;
  }

  async function mkdir(relPath: string, mkdirOptions: MkdirOptions = {}): Promise<void> {
    if (!writable || !definition.put) throw readOnly(relPath, undefined, "mkdir");
    const key = `${keyOf(relPath)}/`;
    // The folder's mode travels as the marker's metadata, with S_IFDIR (s3fs's directory objects).
    const { mode, mtime } = mkdirOptions;
    const meta: PutOptions = {
      ...(mode === undefined || !Number.isInteger(mode) ? {} : { mode: S_IFDIR | (mode & 0o7777) }),
      ...(mtime === undefined ? {} : { mtime }),
    };
    try {
      await definition.put(key, new Uint8Array(0), meta, { relPath });
    } catch (error) {
      fail(error, { op: "put", key, relPath }, "mkdir");
    }
  }

  async function rmdir(relPath: string): Promise<void> {
    if (!writable || !definition.delete) throw readOnly(relPath, undefined, "rmdir");
    const key = `${keyOf(relPath)}/`;
    try {
      await definition.delete(key, { relPath });
    } catch (error) {
      fail(error, { op: "delete", key, relPath }, "rmdir");
    }
  }

  async function put(relPath: string, bytes: Uint8Array, putOptions: PutOptions = {}): Promise<PutResult> {
    if (!writable || !definition.put) throw readOnly(relPath, undefined, "write");
    const key = keyOf(relPath);
    if (!(bytes instanceof Uint8Array)) {
      throw invalid(`put ${relPath}: bytes must be a Uint8Array`, { path: relPath, syscall: "write" });
    }
    const precondition = checkPut(relPath, key, putOptions);
    try {
      return (await definition.put(key, bytes, putOptions, { relPath })) ?? {};
    } catch (error) {
      return fail(error, { op: "put", key, relPath, precondition }, "write");
    }
  }

  async function putStream(
    relPath: string,
    source: PutSource,
    putOptions: PutOptions = {},
  ): Promise<PutResult> {
    if (!writable || !definition.putStream) throw readOnly(relPath, undefined, "write");
    const key = keyOf(relPath);
    checkPutSource(source, relPath);
    const precondition = checkPut(relPath, key, putOptions);
    try {
      return (await definition.putStream(key, source, putOptions, { relPath })) ?? {};
    } catch (error) {
      return fail(error, { op: "put", key, relPath, precondition }, "write");
    }
  }

  /** The checks `put` and `putStream` share; returns the precondition the write carries. */
  function checkPut(
    relPath: string,
    key: string,
    putOptions: PutOptions,
  ): "ifMatch" | "ifNoneMatch" | undefined {
    if (putOptions.ifNoneMatch !== undefined && putOptions.ifNoneMatch !== "*") {
      throw invalid(`put ${relPath}: ifNoneMatch only accepts "*"`, { path: relPath, syscall: "write" });
    }
    const precondition = preconditionOf(putOptions);
    if (putOptions.symlink !== undefined && !definition.symlinks) {
      throw new MountError(
        "ENOTSUP",
        `${where(key)}: this mount does not store symbolic links; nothing was written`,
        {
          path: relPath,
          syscall: "symlink",
        },
      );
    }
    if (precondition !== undefined && !conditionalWrites) {
      throw new MountError(
        "ENOTSUP",
        `${where(key)}: conditional writes are disabled for this mount (conditionalWrites: false); nothing was written`,
        { path: relPath, syscall: "write" },
      );
    }
    return precondition;
  }

  async function remove(relPath: string): Promise<void> {
    if (!writable || !definition.delete) throw readOnly(relPath, undefined, "unlink");
    const key = keyOf(relPath);
    try {
      await definition.delete(key, { relPath });
    } catch (error) {
      fail(error, { op: "delete", key, relPath }, "unlink");
    }
  }

  async function removeMany(relPaths: readonly string[]): Promise<void> {
    if (!writable || !definition.delete) throw readOnly(relPaths[0] ?? "", undefined, "unlink");
    const keys = relPaths.map(keyOf);
    const limit = Math.max(1, definition.deleteManyLimit ?? 1000);
    for (let i = 0; i < keys.length; i += limit) {
      const batch = keys.slice(i, i + limit);
      const paths = relPaths.slice(i, i + limit);
      try {
        if (definition.deleteMany) await definition.deleteMany(batch, { relPaths: paths });
        else for (const [j, key] of batch.entries()) await definition.delete(key, { relPath: paths[j]! });
      } catch (error) {
        fail(error, { op: "delete", key: batch[0]!, relPath: paths[0]! }, "unlink");
      }
    }
  }

  const mount: DefinedLazyMount = {
    kind,
    strategy: "lazy",
    writable,
    // Only the common options: the host reads (and may log) these; provider options may hold credentials.
    options: pickMountOptions(userOptions),
    rootType,
    prefix,
    list,
    fetch,
    put,
    delete: remove,
  };
  if (definition.fetchWithInfo) {
    (mount as { fetchWithInfo?: (relPath: string) => Promise<FetchResult> }).fetchWithInfo = fetchWithInfo;
    pairFetch(fetch, fetchWithInfo);
  }
  if (definition.fetchRange) {
    (mount as { fetchRange?: typeof fetchRange }).fetchRange = fetchRange;
  }
  if (definition.directoryMarkers && writable) {
    Object.assign(mount, { mkdir, rmdir });
  }
  if (definition.deleteMany && writable) Object.assign(mount, { deleteMany: removeMany });
  if (definition.putStream) Object.assign(mount, { putStream });
  if (definition.symlinks) Object.assign(mount, { symlinks: true });
  Object.defineProperty(mount, DIAGNOSTIC_LISTENERS, { value: diagnosticListeners, enumerable: false });
  if (definition.refresh) (mount as { refresh?: () => Promise<MountEntry[]> }).refresh = list;
  if (definition.dispose) {
    const dispose = definition.dispose.bind(definition);
    (mount as { dispose?: () => void | Promise<void> }).dispose = dispose;
  }
  if (definition.extra) Object.defineProperties(mount, Object.getOwnPropertyDescriptors(definition.extra));
  setMountTraits(mount, { retries: definition.retries ?? "kit", secrets });
  return mount as DefinedLazyMount & Extra;
}

/**
 * The write API `defineEagerMount` hands to a provider: paths relative to the mount root
 * (`""` is the root itself for `mkdir`). Absolute paths, `..` segments and links that leave the
 * root are refused with `EINVAL` before they reach the host.
 */
export interface EagerWriter {
  writeFile(relPath: string, bytes: Uint8Array, mode?: number): void;
  /**
   * `writeFile` for an array the provider hands over for good: it must not read, write or pass it
   * on afterwards (not even to a second path). The host may then keep it without a copy; a host
   * without `adoptFile` gets a `writeFile`.
   */
  adoptFile(relPath: string, bytes: Uint8Array, mode?: number): void;
  mkdir(relPath: string, mode?: number): void;
  /** `undefined` when the host has no symlink support. */
  readonly symlink: ((relPath: string, target: string) => void) | undefined;
}

export interface EagerMountDefinition<Extra extends object = Record<never, never>> {
  readonly kind: string;
  readonly options?: MountOptions | undefined;
  readonly rootType?: "directory" | "file" | undefined;
  readonly retries?: RetryOwner | undefined;
  readonly secrets?: (() => Iterable<string | undefined>) | undefined;
  /** Maps a backend failure to a MountError. MountErrors pass through. */
  readonly classify?: ((error: unknown) => MountError) | undefined;
  /** Writes the whole tree through `writer`. Let the writer's errors propagate. */
  materialize(writer: EagerWriter): Promise<void>;
  dispose?(): void | Promise<void>;
  readonly extra?: Extra | undefined;
}

export interface DefinedEagerMount extends EagerMount {
  readonly writable: boolean;
  readonly options: MountOptions;
  readonly rootType: "directory" | "file";
}

/**
 * Builds an eager mount: validates the common options, hands the provider a writer that takes
 * relative paths and refuses ones that leave the root, classifies failures and scrubs secrets.
 * The host's write API must say its root (`api.root`), as @ws/workspace's does.
 */
export function defineEagerMount<Extra extends object = Record<never, never>>(
  definition: EagerMountDefinition<Extra>,
): DefinedEagerMount & Extra {
  const userOptions = definition.options ?? {};
  const resolved = resolveMountOptions(userOptions);
  const secrets = definition.secrets ?? NO_SECRETS;
  const kind = definition.kind;
  if (typeof kind !== "string" || kind === "")
    throw invalid("defineEagerMount needs a kind (a short provider name)");

  async function materialize(api: MountWriteApi): Promise<void> {
    const root = api.root;
    if (root === undefined) {
      throw invalid(
        `${kind}: the host's write API does not say its mount root (api.root); cannot materialise`,
      );
    }
    const abs = (relPath: string, allowRoot: boolean, syscall: string): string => {
      if (allowRoot && relPath === "") return root;
      if (typeof relPath !== "string" || !isValidRelativePath(relPath)) {
        throw invalid(`${kind} wrote ${JSON.stringify(relPath)}: not a path relative to the mount root`, {
          path: String(relPath),
          root,
          syscall,
        });
      }
      return root === "/" ? `/${relPath}` : `${root}/${relPath}`;
    };
    const symlink = api.symlink;
    // A file mount's one file is the root itself: written as "".
    const fileRoot = definition.rootType === "file";
    const checkBytes = (relPath: string, bytes: unknown, method: string): void => {
      if (!(bytes instanceof Uint8Array)) {
        throw invalid(`${kind} wrote ${relPath} with ${typeof bytes}; ${method} takes a Uint8Array`, {
          path: relPath,
          root,
        });
      }
    };
    const adopt = api.adoptFile;
    const writer: EagerWriter = {
      writeFile: (relPath, bytes, mode) => {
        checkBytes(relPath, bytes, "writeFile");
        api.writeFile(abs(relPath, fileRoot, "write"), bytes, mode);
      },
      adoptFile: (relPath, bytes, mode) => {
        checkBytes(relPath, bytes, "adoptFile");
        if (adopt) adopt.call(api, abs(relPath, fileRoot, "write"), bytes, mode);
        else api.writeFile(abs(relPath, fileRoot, "write"), bytes, mode);
      },
      mkdir: (relPath, mode) => api.mkdir(abs(relPath, true, "mkdir"), mode),
      symlink: symlink
        ? (relPath, target) => {
            const at = abs(relPath, false, "symlink");
            resolveLinkWithinRoot(root, at, target);
            symlink.call(api, at, target);
          }
        : undefined,
    };
    try {
      await definition.materialize(writer);
    } catch (error) {
      let mountError: MountError;
      if (MountError.isInstance(error)) mountError = error;
      else if (definition.classify) mountError = definition.classify(error);
      else mountError = toMountError(error, { path: root, syscall: "materialize" });
      throw redactError(withErrorContext(mountError, { root }), secrets());
    }
  }

  const mount: DefinedEagerMount = {
    kind,
    strategy: "eager",
    writable: resolved.mode === "read-write",
    options: pickMountOptions(userOptions),
    rootType: definition.rootType ?? "directory",
    materialize,
  };
  if (definition.dispose) {
    const dispose = definition.dispose.bind(definition);
    (mount as { dispose?: () => void | Promise<void> }).dispose = dispose;
  }
  if (definition.extra) Object.defineProperties(mount, Object.getOwnPropertyDescriptors(definition.extra));
  setMountTraits(mount, { retries: definition.retries ?? "kit", secrets });
  return mount as DefinedEagerMount & Extra;
}
