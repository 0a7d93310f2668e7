import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import {
  type DefinedLazyMount,
  decodePosixMetadata,
  defineLazyMount,
  invalid,
  type MountEntry,
  type MountOptions,
  normalizeKeyPrefix,
  type PutOptions,
  type RawEntry,
  validateRelativePath,
} from "@ws/core";
import { booleanOption, integerOption, retryLayer, stringOption } from "@ws/provider-kit";
import { requestTimeoutOf } from "./request-timer.js";
import { readInRanges, type S3Context } from "./s3-context.js";
import { toMountError } from "./s3-errors.js";
import { listObjects } from "./s3-list.js";
import { type ReadInfo, readObject, readRange } from "./s3-read.js";
import {
  deleteObject,
  deleteObjects,
  headObject,
  type S3ObjectInfo,
  writeObject,
  writeObjectStream,
} from "./s3-write.js";
import { createS3Client } from "./sdk-client.js";
import { createSignedGet, S3HttpError, type SignedGet } from "./signed-get.js";

export type { S3ObjectInfo } from "./s3-write.js";

const MiB = 1024 * 1024;

export interface S3BucketOptions extends MountOptions {
  /** The bucket name (or pass it as the first argument: `S3Bucket("bucket", options)`). */
  readonly bucket: string;
  /** Only keys under this prefix are visible, with the prefix stripped (`"team/a"`; slashes at the ends are ignored). */
  readonly prefix?: string | undefined;
  /** A ready S3 client. The mount never destroys a client it was given. Exclusive with `clientConfig`. */
  readonly client?: S3Client | undefined;
  /**
   * Configuration for a client the mount creates (and destroys on `dispose()`): `region`,
   * `endpoint`, `forcePathStyle`, `credentials`... Credentials come from the SDK's usual chain
   * (environment, shared config, SSO, instance roles) unless given here.
   */
  readonly clientConfig?: S3ClientConfig | undefined;
  /** Requests one operation may run in parallel: ranged GETs, multipart parts, listings by prefix. Default 16. */
  readonly concurrency?: number | undefined;
  /** Objects of at least this many bytes are uploaded with multipart upload. Default 16 MiB (minimum 5 MiB). */
  readonly multipartThreshold?: number | undefined;
  /** Objects of at least this many bytes (as last listed) are read with parallel ranged GETs. Default 16 MiB. */
  readonly rangedReadThreshold?: number | undefined;
  /** Part size for multipart uploads, and the smallest range of a ranged read. Default 8 MiB (minimum 5 MiB). */
  readonly partSize?: number | undefined;
  /**
   * Parallel ranged GETs per large object (each range is size ÷ readStreams, at least `partSize`).
   * Default 4, like rclone's multi-thread streams: more streams help on S3 itself but cost extra
   * round trips, and servers such as moto copy the whole object for every range.
   */
  readonly readStreams?: number | undefined;
  /**
   * List each top-level prefix (`a/`, `b/`...) with its own paginated listing, `concurrency` at a
   * time. Faster on large buckets spread over several top-level folders. Default false.
   */
  readonly parallelList?: boolean | undefined;
  /**
   * Whether the server honours `If-Match` / `If-None-Match` on PUT. Default true: a server that
   * answers 501 (OpenStack Swift) makes such a put fail `ENOTSUP`. Set false for a server known to
   * ignore the headers silently, so conditional puts fail `ENOTSUP` without a request.
   */
  readonly conditionalWrites?: boolean | undefined;
  /**
   * Idle timeout of one request in milliseconds. Default 60 000. For a client the mount creates it
   * is the socket timeout of every request (and the fast read path's). A `client` passed in keeps
   * its own handler settings (the SDK's default has no timeout at all), so the mount bounds its
   * reads, HEADs and listings itself: an abort signal until the answer starts, then the body's
   * idle time. A stalled server fails that attempt (transient: the retry layer tries again).
   */
  readonly timeoutMs?: number | undefined;
  /** `"file"` when the prefix names one object: the mount then lists that one object as its only entry. */
  readonly rootType?: "directory" | "file" | undefined;
  /**
   * Read objects (`fetch`, whole and ranged) with GETs signed by the mount and sent through a
   * keep-alive connection pool, skipping the SDK's per-request middleware: less client CPU per
   * small object. Credentials, region, endpoint rules and response checksum validation still
   * come from the client's configuration; errors and retries are the same.
   * Default: on for a client the mount creates, unless `clientConfig` sets its own
   * `requestHandler` or `extensions` (proxies, custom TLS: the fast path would not go through
   * them); off for a given `client` unless set true. Always off when the client has extra
   * middleware, `retryMode: "adaptive"`, or an endpoint the SDK reaches in a way this path does
   * not reproduce (S3 Express, access points, `AWS_ENDPOINT_URL`). `false` uses the SDK for every read.
   */
  readonly fastReads?: boolean | undefined;
  /**
   * Keep empty folders as zero-byte `folder/` objects (rclone's `--s3-directory-markers`): written
   * for every folder made under a read-write mount, deleted when it goes. Default true for
   * read-write mounts; `false` writes none. Markers in the bucket (from this mount, rclone, the
   * S3 console) are always listed as folders, never as files.
   */
  readonly directoryMarkers?: boolean | undefined;
  /**
   * Read the mode stored on each directory marker (s3fs's `x-amz-meta-mode`), so a 0o700 or 0o555
   * folder comes back as it was. Listings carry no metadata: this is one HEAD per marker while
   * listing (`concurrency` at a time; a bucket without markers pays nothing). Default true;
   * `false` skips them and folders show 0o755.
   */
  readonly folderModes?: boolean | undefined;
}

/** The mount `S3Bucket` returns: the lazy contract plus conditional-write helpers for locks. */
export interface S3BucketMount extends DefinedLazyMount {
  readonly kind: "s3";
  readonly strategy: "lazy";
  readonly bucket: string;
  /** The key prefix, without a trailing slash (`""` for the whole bucket). */
  readonly prefix: string;
  readonly client: S3Client;
  refresh(): Promise<MountEntry[]>;
  dispose(): Promise<void>;
  /** Like `put`, returning the stored object's new etag (for compare-and-swap loops and locks). */
  putObject(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<{ etag: string | undefined }>;
  /** HEAD one object; `undefined` when it does not exist. */
  stat(relPath: string): Promise<S3ObjectInfo | undefined>;
}

/** The secrets of a static credentials object, so messages can be scrubbed of them. */
function secretsOf(credentials: unknown): string[] {
  if (typeof credentials !== "object" || credentials === null) return [];
  const c = credentials as { secretAccessKey?: unknown; sessionToken?: unknown };
  return [c.secretAccessKey, c.sessionToken].filter((s): s is string => typeof s === "string");
}

/**
 * The default HTTP handler: keep-alive sockets, enough of them for `concurrency` parallel
 * requests (and some headroom for several operations at once), and timeouts so that a dead
 * server fails instead of hanging.
 */
function defaultRequestHandler(concurrency: number, timeoutMs: number): NodeHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets: Math.max(concurrency * 2, 32), keepAliveMsecs: 10_000 };
  return new NodeHttpHandler({
    httpAgent: new HttpAgent(agentOptions),
    httpsAgent: new HttpsAgent(agentOptions),
    connectionTimeout: Math.min(timeoutMs, 10_000),
    socketTimeout: timeoutMs,
  });
}

/**
 * A lazy mount over an S3 bucket, or any S3-compatible endpoint (moto, MinIO, OpenStack Swift,
 * Cloudflare R2's S3 API...).
 *
 * ```ts
 * const mount = S3Bucket("team-files", { prefix: "skills", clientConfig: { region: "eu-west-1" } });
 * ```
 *
 * Retries: a client the mount creates makes one attempt per request (`maxAttempts: 1` given to
 * the SDK); the mount wraps itself in the kit's retry layer with `clientConfig.maxAttempts`
 * attempts (default 3, as the SDK's), so transient failures (throttling, 5xx, timeouts, resets)
 * are retried by one implementation, reads and writes alike, and reported as retry events. A
 * workspace's retry layer sees that and does not retry again: a failing put reaches the server at
 * most `maxAttempts` times. A `client` passed in keeps its own retry strategy; its failures are
 * final (not retried again), and only the fast read path, which bypasses it, is retried by the layer.
 */
export function S3Bucket(bucket: string, options?: Omit<S3BucketOptions, "bucket">): S3BucketMount;
export function S3Bucket(options: S3BucketOptions): S3BucketMount;
export function S3Bucket(
  bucketOrOptions: string | S3BucketOptions,
  moreOptions?: Omit<S3BucketOptions, "bucket">,
): S3BucketMount {
  const options: S3BucketOptions =
    typeof bucketOrOptions === "string"
      ? { ...moreOptions, bucket: bucketOrOptions }
      : moreOptions === undefined
        ? bucketOrOptions
        : { ...bucketOrOptions, ...moreOptions };
  if (typeof options !== "object" || options === null) {
    throw invalid(
      'S3Bucket needs a bucket name or options: S3Bucket("bucket", { ... }) or S3Bucket({ bucket, ... })',
    );
  }
  const bucket = stringOption("bucket", options.bucket);
  if (options.client && options.clientConfig) {
    throw invalid("pass either client or clientConfig, not both");
  }
  const rootType = options.rootType ?? "directory";
  const prefix = normalizeKeyPrefix(options.prefix);
  const concurrency = integerOption("concurrency", options.concurrency, { default: 16, min: 1 });
  const partSize = integerOption("partSize", options.partSize, { default: 8 * MiB, min: 5 * MiB });
  const multipartThreshold = integerOption("multipartThreshold", options.multipartThreshold, {
    default: Math.max(16 * MiB, partSize),
    min: 5 * MiB,
  });
  const rangedReadThreshold = integerOption("rangedReadThreshold", options.rangedReadThreshold, {
    default: 16 * MiB,
    min: 1,
  });
  const timeoutMs = integerOption("timeoutMs", options.timeoutMs, { default: 60_000, min: 1 });
  const readStreams = integerOption("readStreams", options.readStreams, { default: 4, min: 1 });
  const parallelList = booleanOption("parallelList", options.parallelList, false);
  const configuredAttempts = options.clientConfig?.maxAttempts;
  const attempts = integerOption(
    "clientConfig.maxAttempts",
    typeof configuredAttempts === "function" ? undefined : configuredAttempts,
    { default: 3, min: 1 },
  );

  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    createS3Client({
      requestHandler: defaultRequestHandler(concurrency, timeoutMs),
      ...options.clientConfig,
      // One attempt per request: the retry layer below is the only thing that retries.
      maxAttempts: 1,
    });
  const secrets = new Set<string>(secretsOf(options.clientConfig?.credentials));
  const customTransport =
    options.clientConfig?.requestHandler !== undefined || options.clientConfig?.extensions !== undefined;
  const fastReads = options.fastReads ?? (ownsClient && !customTransport);
  let signedGet: Promise<SignedGet | undefined> | undefined;
  let credentialsChecked = false;

  /** Adds the resolved credentials' secrets (from whatever chain) to the redaction list, once. */
  async function learnSecrets(): Promise<void> {
    if (credentialsChecked) return;
    credentialsChecked = true;
    try {
      const provider = client.config.credentials as unknown;
      const value = typeof provider === "function" ? await (provider as () => Promise<unknown>)() : provider;
      for (const secret of secretsOf(value)) secrets.add(secret);
    } catch {
      // No credentials at all: nothing to hide.
    }
  }

  const ctx: S3Context = {
    client,
    bucket,
    concurrency,
    partSize,
    multipartThreshold,
    rangedReadThreshold,
    readStreams,
    parallelList,
    folderModes: rootType === "directory" && booleanOption("folderModes", options.folderModes, true),
    timeoutMs,
    listedSizes: new Map(),
    onDiagnostic: options.onDiagnostic,
    fastPath() {
      if (!fastReads) return undefined;
      signedGet ??= createSignedGet(client, bucket, {
        connections: Math.max(concurrency * 2, 32),
        timeoutMs,
      }).catch(() => undefined);
      return signedGet;
    },
    async fail(error, context) {
      await learnSecrets();
      // The mount's own timeout (an abort the SDK reports as AbortError): not the client's failure.
      error = requestTimeoutOf(error) ?? error;
      // A client passed in has retried its own requests already; the fast path has not.
      const viaSdk =
        !(error instanceof S3HttpError) && typeof (error as { $metadata?: unknown })?.$metadata === "object";
      throw toMountError(error, { ...context, secrets, clientRetried: !ownsClient && viaSdk });
    },
    where: (key) => `s3://${bucket}/${key}`,
  };

  // A file mount's one entry is named after the object; every path maps to that one key.
  const objectKey = (key: string): string => (rootType === "file" ? prefix : key);

  async function* listFile(): AsyncGenerator<RawEntry[]> {
    if (prefix === "") throw invalid('rootType: "file" needs a prefix naming the object');
    const info = await headObject(ctx, prefix, "");
    ctx.listedSizes = new Map(
      info === undefined || !readInRanges(ctx, info.size) ? [] : [[prefix, info.size]],
    );
    if (info === undefined) return;
    yield [
      {
        key: prefix.slice(prefix.lastIndexOf("/") + 1),
        size: info.size,
        ...(info.mtime !== undefined ? { mtime: info.mtime } : {}),
        ...(info.etag !== undefined ? { etag: info.etag } : {}),
      },
    ];
  }

  let mount: S3BucketMount;
  const defined = defineLazyMount({
    kind: "s3",
    options,
    // A file mount maps its one path to the prefix itself, below.
    prefix: rootType === "file" ? undefined : prefix,
    rootType,
    conditionalWrites: options.conditionalWrites ?? true,
    secrets: () => secrets,
    refresh: true,
    listPages: () => (rootType === "file" ? listFile() : listObjects(ctx, prefix === "" ? "" : `${prefix}/`)),
    fetch: (key, { relPath }) => readObject(ctx, objectKey(key), relPath),
    fetchRange: (key, start, end, { relPath, into }) =>
      readRange(ctx, objectKey(key), relPath, start, end, into),
    // The object with the mode and mtime s3fs or rclone stored (x-amz-meta-mode, x-amz-meta-mtime).
    async fetchWithInfo(key, { relPath }) {
      const info: ReadInfo = {};
      const bytes = await readObject(ctx, objectKey(key), relPath, info);
      const { mode, mtime } = decodePosixMetadata(info.meta);
      return {
        bytes,
        ...(mode === undefined ? {} : { mode }),
        ...(mtime === undefined ? {} : { mtime }),
        ...(info.etag === undefined ? {} : { etag: info.etag }),
      };
    },
    directoryMarkers: rootType === "directory" && options.directoryMarkers !== false,
    listDirectoryMarkers: rootType === "directory",
    symlinks: true,
    put: (key, bytes, putOptions, { relPath }) =>
      writeObject(ctx, objectKey(key), relPath, bytes, putOptions),
    putStream: (key, source, putOptions, { relPath }) =>
      writeObjectStream(ctx, objectKey(key), relPath, source, putOptions),
    delete: (key, { relPath }) => deleteObject(ctx, objectKey(key), relPath),
    // One DeleteObjects request per 1,000 keys (the mirror's rm -rf of a folder).
    deleteMany: (keys, { relPaths }) =>
      deleteObjects(
        ctx,
        keys.map((key) => objectKey(key)),
        relPaths,
      ),
    deleteManyLimit: 1000,
    async dispose() {
      const fast = await signedGet;
      signedGet = undefined;
      await fast?.close();
      if (ownsClient) client.destroy();
    },
    extra: {
      bucket,
      prefix,
      async putObject(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
        const { etag } = await mount.put(relPath, bytes, putOptions);
        return { etag };
      },
      stat(relPath: string): Promise<S3ObjectInfo | undefined> {
        // A file mount also answers for its own key (the prefix), as before.
        if (rootType === "file" && relPath === prefix) return headObject(ctx, prefix, relPath);
        const key = validateRelativePath(relPath);
        return headObject(
          ctx,
          rootType === "file" ? prefix : prefix === "" ? key : `${prefix}/${key}`,
          relPath,
        );
      },
    },
  });
  // Not enumerable, so that logging or inspecting the mount does not walk into the client's
  // configuration (where static credentials live).
  Object.defineProperty(defined, "client", { value: client, enumerable: false, writable: false });
  mount = retryLayer({ attempts })(defined, { root: "" }) as S3BucketMount;
  return mount;
}
