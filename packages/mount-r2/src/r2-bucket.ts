import {
  type DefinedLazyMount,
  decodePosixMetadata,
  defineLazyMount,
  type FetchResult,
  invalid,
  type MountEntry,
  MountError,
  type MountOptions,
  notFound,
  type PutOptions,
  type PutSource,
  type RawEntry,
} from "@ws/core";
import { integerOption, paginate } from "@ws/provider-kit";
import type { R2BucketBinding, R2ObjectBodyLike } from "./r2-binding.js";
import { classifyR2Error } from "./r2-errors.js";
import { writeObject, writeObjectStream } from "./r2-write.js";

const MiB = 1024 * 1024;

/** Options of `R2Bucket`, as in seed 003. */
export interface R2BucketOptions extends MountOptions {
  /** Stripped from R2 keys when computing paths (`".agents/skills"`; slashes at the ends are ignored). */
  readonly prefix?: string | undefined;
  /** Keys per list page (1-1000, R2's maximum and default). */
  readonly pageSize?: number | undefined;
  /**
   * Keep empty folders as zero-byte `folder/` objects (as rclone's `--s3-directory-markers`),
   * written for each folder made under a read-write mount. Default true; `false` writes none.
   * Markers in the bucket are always listed as folders, never as files.
   */
  readonly directoryMarkers?: boolean | undefined;
  /**
   * Bytes per part of a streamed write (`putStream`: a large file a command wrote), 5 MiB to
   * 5 GiB; files up to this size are put in one request. Default 8 MiB. Memory per streamed file
   * is about five parts (four in flight, one being read).
   */
  readonly partSize?: number | undefined;
}

/** The mount `R2Bucket` returns. */
export interface R2BucketMount extends DefinedLazyMount {
  readonly kind: "r2";
  readonly strategy: "lazy";
  /** The key prefix, without a trailing slash (`""` for the whole bucket). */
  readonly prefix: string;
  refresh(): Promise<MountEntry[]>;
  /** Like `put`, returning the new object's etag (for compare-and-swap loops and locks). */
  putObject(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<{ etag: string }>;
}

/**
 * A lazy mount over a Workers R2 bucket binding. `list()` pages through `bucket.list()` with its
 * cursor, `fetch()` is one `get()`, `put`/`delete` proxy to R2 when `mode: "read-write"`, and
 * `putStream` sends a large file as a multipart upload (`r2-write.ts`). Built on
 * `defineLazyMount`: the binding makes one attempt per call, and transient failures (R2's internal
 * errors, rate limits, lost connections) are marked so the workspace's retry layer retries them,
 * reads included.
 *
 * ```ts
 * mounts: { "/workspace/skills": R2Bucket(env.SHARED_FILES, { prefix: ".agents/skills" }) }
 * ```
 */
export function R2Bucket(binding: R2BucketBinding, options: R2BucketOptions = {}): R2BucketMount {
  if (typeof binding !== "object" || binding === null || typeof binding.list !== "function") {
    throw invalid("R2Bucket needs an R2 bucket binding (env.MY_BUCKET) as its first argument");
  }
  const pageSize = integerOption("pageSize", options.pageSize, { default: 1000, min: 1, max: 1000 });
  const partSize = integerOption("partSize", options.partSize, {
    default: 8 * MiB,
    min: 5 * MiB,
    max: 5 * 1024 * MiB,
  });
  const multipart =
    typeof binding.createMultipartUpload === "function"
      ? (binding as R2BucketBinding & Required<Pick<R2BucketBinding, "createMultipartUpload">>)
      : undefined;
  let mount: R2BucketMount;
  const base = (): string => (mount.prefix === "" ? "" : `${mount.prefix}/`);

  const defined = defineLazyMount({
    kind: "r2",
    options,
    prefix: options.prefix,
    refresh: true,
    classify: classifyR2Error,
    listPages: () =>
      paginate<RawEntry, string>(
        async (cursor) => {
          const prefix = base();
          const page = await binding.list({
            limit: pageSize,
            ...(prefix ? { prefix } : {}),
            ...(cursor ? { cursor } : {}),
            // R2's listing can carry custom metadata: stubs show the stored mode and mtime before any read.
            include: ["customMetadata"],
          });
          return {
            items: page.objects.map((o) => {
              const meta = decodePosixMetadata(o.customMetadata);
              return {
                key: o.key,
                size: o.size,
                mtime: meta.mtime ?? new Date(o.uploaded).getTime(),
                etag: o.etag,
                ...(meta.mode === undefined ? {} : { mode: meta.mode & 0o7777 }),
              };
            }),
            cursor: page.cursor,
            truncated: page.truncated,
          };
        },
        { what: `r2://${base()}` },
      ),
    async fetch(key, context) {
      return (await fetchObject(key, context.relPath)).bytes;
    },
    fetchWithInfo: (key, { relPath }) => fetchObject(key, relPath),
    fetchRange: (key, start, end, { relPath }) => fetchObjectRange(key, relPath, start, end),
    directoryMarkers: options.directoryMarkers !== false,
    listDirectoryMarkers: true,
    symlinks: true,
    put: (key, bytes, putOptions) => writeObject(binding, key, bytes, putOptions),
    ...(multipart
      ? {
          putStream: (key: string, source: PutSource, putOptions: PutOptions) =>
            writeObjectStream(multipart, key, source, putOptions, {
              partSize,
              classify: (error, key) => classifyR2Error(error, { op: "put", key, relPath: "" }),
            }),
        }
      : {}),
    async delete(key) {
      await binding.delete(key);
    },
    extra: {
      async putObject(
        relPath: string,
        bytes: Uint8Array,
        putOptions?: PutOptions,
      ): Promise<{ etag: string }> {
        const { etag } = await mount.put(relPath, bytes, putOptions);
        return { etag: etag ?? "" };
      },
    },
  });
  mount = defined as R2BucketMount;
  return mount;

  /** One ranged `get` (the binding's `range` option); a range past the end is empty, not an error. */
  async function fetchObjectRange(
    key: string,
    relPath: string,
    start: number,
    end: number,
  ): Promise<Uint8Array> {
    let object: R2ObjectBodyLike | null;
    try {
      object = await binding.get(key, { range: { offset: start, length: end - start } });
    } catch (error) {
      // R2 refuses a range that starts at or past the end (416 InvalidRange): empty, if the object exists.
      const head = await binding.head(key);
      if (head === null) throw notFound(relPath, { syscall: "open" });
      if (start >= head.size) return new Uint8Array(0);
      throw error;
    }
    if (object === null) throw notFound(relPath, { syscall: "open" });
    const buffer = await object.arrayBuffer();
    const want = Math.max(0, Math.min(end, object.size) - start);
    if (buffer.byteLength < want) {
      throw new MountError(
        "EIO",
        `reading r2://${key} [${start}, ${end}): got ${buffer.byteLength} of ${want} bytes`,
        {
          syscall: "read",
          transient: true,
        },
      );
    }
    return buffer.byteLength === want ? new Uint8Array(buffer) : new Uint8Array(buffer.slice(0, want));
  }

  async function fetchObject(key: string, relPath: string): Promise<FetchResult> {
    const object = await binding.get(key);
    if (object === null) throw notFound(relPath, { syscall: "open" });
    const buffer = await object.arrayBuffer();
    if (buffer.byteLength !== object.size) {
      throw new MountError("EIO", `reading r2://${key}: got ${buffer.byteLength} of ${object.size} bytes`, {
        syscall: "read",
        // A cut body: the next attempt may get it whole.
        transient: true,
      });
    }
    const meta = decodePosixMetadata(object.customMetadata);
    return {
      bytes: new Uint8Array(buffer),
      ...(meta.mode === undefined ? {} : { mode: meta.mode }),
      ...(meta.mtime === undefined ? {} : { mtime: meta.mtime }),
      etag: object.etag,
    };
  }
}
