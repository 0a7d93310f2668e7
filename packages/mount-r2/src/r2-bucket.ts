import {
  invalid,
  type LazyMount,
  type MountEntry,
  MountError,
  type MountOptions,
  normalizeKeyPrefix,
  notFound,
  type PutOptions,
  pickMountOptions,
  readOnly,
  resolveMountOptions,
  sanitizeEntries,
  validateRelativePath,
} from "@ws/core";
import type { R2BucketBinding, R2ConditionalLike, R2ObjectsLike } from "./r2-binding.js";

/** Options of `R2Bucket`, as in seed 003. */
export interface R2BucketOptions extends MountOptions {
  /** Stripped from R2 keys when computing paths (`".agents/skills"`; slashes at the ends are ignored). */
  readonly prefix?: string | undefined;
  /** Keys per list page (1-1000, R2's maximum and default). */
  readonly pageSize?: number | undefined;
}

/** The mount `R2Bucket` returns. */
export interface R2BucketMount extends LazyMount {
  readonly kind: "r2";
  readonly strategy: "lazy";
  /** The key prefix, without a trailing slash (`""` for the whole bucket). */
  readonly prefix: string;
  put(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<void>;
  delete(relPath: string): Promise<void>;
  refresh(): Promise<MountEntry[]>;
  /** Like `put`, returning the new object's etag (for compare-and-swap loops and locks). */
  putObject(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<{ etag: string }>;
}

function eio(message: string, relPath: string, syscall: string, cause: unknown): MountError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new MountError("EIO", `${message} (${reason})`, { path: relPath, syscall, cause });
}

/**
 * A lazy mount over a Workers R2 bucket binding. `list()` pages through `bucket.list()` with its
 * cursor, `fetch()` is one `get()`, `put`/`delete` proxy to R2 when `mode: "read-write"`.
 *
 * ```ts
 * mounts: { "/workspace/skills": R2Bucket(env.SHARED_FILES, { prefix: ".agents/skills" }) }
 * ```
 */
export function R2Bucket(binding: R2BucketBinding, options: R2BucketOptions = {}): R2BucketMount {
  const resolved = resolveMountOptions(options);
  if (typeof binding !== "object" || binding === null || typeof binding.list !== "function") {
    throw invalid("R2Bucket needs an R2 bucket binding (env.MY_BUCKET) as its first argument");
  }
  const prefix = normalizeKeyPrefix(options.prefix);
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw invalid(`pageSize must be an integer from 1 to 1000 (R2's limit), got ${String(pageSize)}`);
  }
  const base = prefix === "" ? "" : `${prefix}/`;
  const writable = resolved.mode === "read-write";
  const keyOf = (relPath: string): string => base + validateRelativePath(relPath);
  const where = (key: string): string => `r2://${key}`;

  async function list(): Promise<MountEntry[]> {
    const raw: MountEntry[] = [];
    let cursor: string | undefined;
    for (;;) {
      let page: R2ObjectsLike;
      try {
        page = await binding.list({
          limit: pageSize,
          ...(base ? { prefix: base } : {}),
          ...(cursor ? { cursor } : {}),
        });
      } catch (error) {
        throw eio(`listing ${where(base)} failed`, "", "scandir", error);
      }
      for (const object of page.objects) {
        if (!object.key.startsWith(base)) continue;
        const path = object.key.slice(base.length);
        // Zero-byte keys ending in "/" are folder markers made by tools, not files.
        if ((path === "" || path.endsWith("/")) && object.size === 0) continue;
        raw.push({ path, size: object.size, mtime: new Date(object.uploaded).getTime(), etag: object.etag });
      }
      if (!page.truncated) break;
      // A truncated page without a cursor would end the listing early: never stop silently.
      if (!page.cursor) {
        throw new MountError("EIO", `listing ${where(base)} was truncated but R2 returned no cursor`, {
          path: "",
          syscall: "scandir",
        });
      }
      cursor = page.cursor;
    }
    const { entries, skipped } = sanitizeEntries(raw);
    for (const diagnostic of skipped) options.onDiagnostic?.(diagnostic);
    return entries;
  }

  async function putObject(
    relPath: string,
    bytes: Uint8Array,
    putOptions: PutOptions = {},
  ): Promise<{ etag: string }> {
    if (!writable) throw readOnly(relPath, undefined, "write");
    const key = keyOf(relPath);
    if (!(bytes instanceof Uint8Array))
      throw invalid(`put ${relPath}: bytes must be a Uint8Array`, { path: relPath });
    if (putOptions.ifNoneMatch !== undefined && putOptions.ifNoneMatch !== "*") {
      throw invalid(`put ${relPath}: ifNoneMatch only accepts "*"`, { path: relPath });
    }
    const onlyIf: R2ConditionalLike = {
      ...(putOptions.ifNoneMatch === "*" ? { etagDoesNotMatch: "*" } : {}),
      // R2 wants the bare etag and rejects a quoted one: accept both (httpEtag is quoted).
      ...(putOptions.ifMatch !== undefined ? { etagMatches: unquote(putOptions.ifMatch) } : {}),
    };
    const conditional = Object.keys(onlyIf).length > 0;
    // A plain Uint8Array of exactly these bytes: Miniflare's proxy rejects a Node Buffer, and a
    // view into a larger buffer would send the whole buffer.
    const body =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !isNodeBuffer(bytes)
        ? bytes
        : new Uint8Array(bytes);
    let result: Awaited<ReturnType<R2BucketBinding["put"]>>;
    try {
      result = await binding.put(key, body, conditional ? { onlyIf } : undefined);
    } catch (error) {
      throw eio(`writing ${where(key)} failed`, relPath, "write", error);
    }
    if (result === null) {
      if (putOptions.ifNoneMatch === "*" && putOptions.ifMatch === undefined) {
        throw new MountError(
          "EEXIST",
          `${where(key)} already exists (ifNoneMatch: "*"); nothing was written`,
          {
            path: relPath,
            syscall: "write",
          },
        );
      }
      throw new MountError(
        "ESTALE",
        `${where(key)} changed since the etag given in ifMatch; read it again before writing`,
        { path: relPath, syscall: "write" },
      );
    }
    return { etag: result.etag };
  }

  const mount: R2BucketMount = {
    kind: "r2",
    strategy: "lazy",
    writable,
    // Only the common options: the host reads (and may log) these.
    options: pickMountOptions(options),
    prefix,
    list,
    refresh: list,
    async fetch(relPath: string): Promise<Uint8Array> {
      const key = keyOf(relPath);
      let object: Awaited<ReturnType<R2BucketBinding["get"]>>;
      let buffer: ArrayBuffer;
      try {
        object = await binding.get(key);
        if (object === null) throw notFound(relPath, { syscall: "open" });
        buffer = await object.arrayBuffer();
      } catch (error) {
        if (MountError.isInstance(error)) throw error;
        throw eio(`reading ${where(key)} failed`, relPath, "read", error);
      }
      if (buffer.byteLength !== object.size) {
        throw new MountError(
          "EIO",
          `reading ${where(key)}: got ${buffer.byteLength} of ${object.size} bytes`,
          {
            path: relPath,
            syscall: "read",
          },
        );
      }
      return new Uint8Array(buffer);
    },
    async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions): Promise<void> {
      await putObject(relPath, bytes, putOptions);
    },
    async delete(relPath: string): Promise<void> {
      if (!writable) throw readOnly(relPath, undefined, "unlink");
      const key = keyOf(relPath);
      try {
        await binding.delete(key);
      } catch (error) {
        throw eio(`deleting ${where(key)} failed`, relPath, "unlink", error);
      }
    },
    putObject,
  };
  return mount;
}

function unquote(etag: string): string {
  const match = /^(?:W\/)?"(.*)"$/.exec(etag);
  return match ? (match[1] ?? "") : etag;
}

function isNodeBuffer(bytes: Uint8Array): boolean {
  const ctor = (globalThis as { Buffer?: { isBuffer(x: unknown): boolean } }).Buffer;
  return ctor?.isBuffer(bytes) ?? false;
}
