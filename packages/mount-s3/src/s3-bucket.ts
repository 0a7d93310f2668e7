import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import {
  type _Object,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import {
  invalid,
  type LazyMount,
  type MountEntry,
  MountError,
  type MountOptions,
  normalizeKeyPrefix,
  type PutOptions,
  pickMountOptions,
  readOnly,
  resolveMountOptions,
  sanitizeEntries,
  validateRelativePath,
} from "@ws/core";
import { mapConcurrent } from "./map-concurrent.js";
import { type ErrorContext, toMountError } from "./s3-errors.js";
import { createSignedGet, type ResponseHead, type SignedGet } from "./signed-get.js";

const MiB = 1024 * 1024;
/** S3's limit for one PutObject. */
const MAX_SINGLE_PUT = 5 * 1024 * MiB;

export interface S3BucketOptions extends MountOptions {
  /** The bucket name. */
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
  /** Idle timeout of one request in milliseconds, for the client the mount creates. Default 60 000. */
  readonly timeoutMs?: number | undefined;
  /** `"file"` when the prefix names one object: the mount then lists that one object as its only entry. */
  readonly rootType?: "directory" | "file" | undefined;
  /**
   * Read objects (`fetch`, whole and ranged) with GETs signed by the mount and sent through a
   * keep-alive connection pool, skipping the SDK's per-request middleware: less client CPU per
   * small object. Credentials, region, endpoint rules, `maxAttempts` and response checksum
   * validation still come from the client's configuration; errors and retries are the same.
   * Default: on for a client the mount creates, unless `clientConfig` sets its own
   * `requestHandler` or `extensions` (proxies, custom TLS: the fast path would not go through
   * them); off for a given `client` unless set true. Always off when the client has extra
   * middleware, `retryMode: "adaptive"`, or an endpoint the SDK reaches in a way this path does
   * not reproduce (S3 Express, access points, `AWS_ENDPOINT_URL`). `false` uses the SDK for every read.
   */
  readonly fastReads?: boolean | undefined;
}

/** Metadata of one stored object. */
export interface S3ObjectInfo {
  readonly size: number;
  readonly etag: string | undefined;
  readonly mtime: number | undefined;
}

/** The mount `S3Bucket` returns: the lazy contract plus conditional-write helpers for locks. */
export interface S3BucketMount extends LazyMount {
  readonly kind: "s3";
  readonly strategy: "lazy";
  readonly bucket: string;
  /** The key prefix, without a trailing slash (`""` for the whole bucket). */
  readonly prefix: string;
  readonly client: S3Client;
  put(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<void>;
  delete(relPath: string): Promise<void>;
  refresh(): Promise<MountEntry[]>;
  dispose(): Promise<void>;
  /** Like `put`, returning the stored object's new etag (for compare-and-swap loops and locks). */
  putObject(relPath: string, bytes: Uint8Array, options?: PutOptions): Promise<{ etag: string | undefined }>;
  /** HEAD one object; `undefined` when it does not exist. */
  stat(relPath: string): Promise<S3ObjectInfo | undefined>;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
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

/** Reads a GetObject body into `target` at `offset`; returns the number of bytes written. */
async function readInto(
  body: GetObjectCommandOutput["Body"],
  target: Uint8Array,
  offset: number,
  expected: number,
): Promise<number> {
  let written = 0;
  if (!body) return 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    if (written + chunk.length > expected) {
      throw new Error(`the server sent more than the ${expected} bytes it announced`);
    }
    target.set(chunk, offset + written);
    written += chunk.length;
  }
  return written;
}

/** Reads a body of unknown length into one exact, fresh Uint8Array. */
async function readAll(body: GetObjectCommandOutput["Body"]): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (body) {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      total += chunk.length;
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * A key from a listing with `EncodingType: "url"`. AWS writes a space as "+" (and "+" as "%2B"),
 * other servers as "%20"; both decode here.
 */
function decodeKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}

function totalFromContentRange(range: string | undefined): number | undefined {
  const match = /\/(\d+)\s*$/.exec(range ?? "");
  return match ? Number(match[1]) : undefined;
}

class TruncatedBody extends Error {
  override readonly name = "TruncatedBody";
}

/**
 * A lazy mount over an S3 bucket, or any S3-compatible endpoint (moto, MinIO, OpenStack Swift,
 * Cloudflare R2's S3 API...).
 *
 * ```ts
 * const mount = S3Bucket({ bucket: "team-files", prefix: "skills", clientConfig: { region: "eu-west-1" } });
 * ```
 */
export function S3Bucket(options: S3BucketOptions): S3BucketMount {
  const resolved = resolveMountOptions(options);
  if (typeof options.bucket !== "string" || options.bucket === "") {
    throw invalid("bucket must be a non-empty string");
  }
  if (options.client && options.clientConfig) {
    throw invalid("pass either client or clientConfig, not both");
  }
  const bucket = options.bucket;
  const prefix = normalizeKeyPrefix(options.prefix);
  const base = prefix === "" ? "" : `${prefix}/`;
  const concurrency = positiveInteger("concurrency", options.concurrency, 16);
  const partSize = positiveInteger("partSize", options.partSize, 8 * MiB, 5 * MiB);
  const multipartThreshold = positiveInteger(
    "multipartThreshold",
    options.multipartThreshold,
    Math.max(16 * MiB, partSize),
    5 * MiB,
  );
  const rangedReadThreshold = positiveInteger("rangedReadThreshold", options.rangedReadThreshold, 16 * MiB);
  const timeoutMs = positiveInteger("timeoutMs", options.timeoutMs, 60_000);
  const readStreams = positiveInteger("readStreams", options.readStreams, 4);
  const writable = resolved.mode === "read-write";
  const conditionalWrites = options.conditionalWrites ?? true;
  const rootType = options.rootType ?? "directory";

  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    new S3Client({
      requestHandler: defaultRequestHandler(concurrency, timeoutMs),
      ...options.clientConfig,
    });
  const secrets = new Set<string>(secretsOf(options.clientConfig?.credentials));
  const customTransport =
    options.clientConfig?.requestHandler !== undefined || options.clientConfig?.extensions !== undefined;
  const fastReads = options.fastReads ?? (ownsClient && !customTransport);
  let signedGet: Promise<SignedGet | undefined> | undefined;

  /** The fast GET path, set up on first use; `undefined` when off or not possible for this client. */
  function fastPath(): Promise<SignedGet | undefined> | undefined {
    if (!fastReads) return undefined;
    signedGet ??= createSignedGet(client, bucket, {
      connections: Math.max(concurrency * 2, 32),
      timeoutMs,
    }).catch(() => undefined);
    return signedGet;
  }
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

  async function fail(error: unknown, context: Omit<ErrorContext, "secrets">): Promise<never> {
    await learnSecrets();
    throw toMountError(error, { ...context, secrets });
  }

  // Sizes from the last listing decide whether a read is worth splitting into ranges.
  const listedSizes = new Map<string, number>();

  // A file mount's one entry is named after the object; every path maps to that one key.
  const keyOf = (relPath: string): string => (rootType === "file" ? prefix : base + relPath);
  const where = (key: string): string => `s3://${bucket}/${key}`;

  function checkPath(relPath: string): string {
    validateRelativePath(relPath);
    return keyOf(relPath);
  }

  async function listPages(listPrefix: string, delimiter?: string): Promise<ListObjectsV2CommandOutput[]> {
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    for (;;) {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: listPrefix === "" ? undefined : listPrefix,
            ContinuationToken: token,
            Delimiter: delimiter,
            // Keys travel percent-encoded: XML 1.0 cannot carry every character a key may hold,
            // and Swift answers 500 to a plain listing that contains a control character.
            EncodingType: "url",
          }),
        );
      } catch (error) {
        return fail(error, { path: "", where: where(listPrefix), syscall: "scandir" });
      }
      pages.push(decodePage(page));
      if (!page.IsTruncated) return pages;
      token = page.NextContinuationToken;
      // A truncated page without a token would end the listing early: never stop silently.
      if (!token) {
        throw new MountError(
          "EIO",
          `listing ${where(listPrefix)} was truncated but the server sent no continuation token`,
          { path: "", syscall: "scandir" },
        );
      }
    }
  }

  /** Decodes the keys of a page the server url-encoded; a server that ignored EncodingType sent them raw. */
  function decodePage(page: ListObjectsV2CommandOutput): ListObjectsV2CommandOutput {
    if (page.EncodingType?.toLowerCase() !== "url") return page;
    const contents: _Object[] = [];
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      const key = decodeKey(object.Key);
      if (key === undefined) {
        options.onDiagnostic?.({
          code: "invalid-path",
          key: object.Key,
          message: `skipped ${JSON.stringify(object.Key)}: the server's url-encoded key does not decode to UTF-8`,
        });
        continue;
      }
      contents.push({ ...object, Key: key });
    }
    const prefixes = (page.CommonPrefixes ?? []).flatMap((c) => {
      const decoded = c.Prefix === undefined ? undefined : decodeKey(c.Prefix);
      return decoded === undefined ? [] : [{ ...c, Prefix: decoded }];
    });
    return { ...page, Contents: contents, CommonPrefixes: prefixes };
  }

  async function listObjects(): Promise<_Object[]> {
    if (!options.parallelList) return (await listPages(base)).flatMap((p) => p.Contents ?? []);
    const top = await listPages(base, "/");
    const folders = top.flatMap((p) => p.CommonPrefixes ?? []).flatMap((c) => (c.Prefix ? [c.Prefix] : []));
    const below = await mapConcurrent(folders, concurrency, async (folder) =>
      (await listPages(folder)).flatMap((p) => p.Contents ?? []),
    );
    return [...top.flatMap((p) => p.Contents ?? []), ...below.flat()];
  }

  async function listFile(): Promise<MountEntry[]> {
    if (prefix === "") throw invalid('rootType: "file" needs a prefix naming the object');
    const info = await stat(prefix);
    if (info === undefined) return [];
    const name = prefix.slice(prefix.lastIndexOf("/") + 1);
    listedSizes.clear();
    listedSizes.set(name, info.size);
    return [
      {
        path: name,
        size: info.size,
        ...(info.mtime !== undefined ? { mtime: info.mtime } : {}),
        ...(info.etag !== undefined ? { etag: info.etag } : {}),
      },
    ];
  }

  async function list(): Promise<MountEntry[]> {
    if (rootType === "file") return listFile();
    const objects = await listObjects();
    const raw: MountEntry[] = [];
    for (const object of objects) {
      const key = object.Key;
      if (key === undefined || !key.startsWith(base)) continue;
      const path = key.slice(base.length);
      // Zero-byte keys ending in "/" are folder markers made by consoles and tools, not files.
      if ((path === "" || path.endsWith("/")) && (object.Size ?? 0) === 0) continue;
      raw.push({
        path,
        size: object.Size ?? 0,
        ...(object.LastModified ? { mtime: object.LastModified.getTime() } : {}),
        ...(object.ETag ? { etag: object.ETag } : {}),
      });
    }
    const { entries, skipped } = sanitizeEntries(raw);
    for (const diagnostic of skipped) options.onDiagnostic?.(diagnostic);
    listedSizes.clear();
    for (const entry of entries) listedSizes.set(entry.path, entry.size);
    return entries;
  }

  async function getWhole(key: string, relPath: string): Promise<Uint8Array> {
    const fast = await fastPath();
    if (fast) {
      try {
        const response = await fast.get({ key });
        if (response.contentLength !== undefined && response.received !== response.contentLength) {
          throw new TruncatedBody(`received ${response.received} of ${response.contentLength} bytes`);
        }
        return response.bytes;
      } catch (error) {
        return fail(error, { path: relPath, where: where(key), syscall: "open" });
      }
    }
    let response: GetObjectCommandOutput;
    try {
      response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      return fail(error, { path: relPath, where: where(key), syscall: "open" });
    }
    try {
      const length = response.ContentLength;
      if (length === undefined) return await readAll(response.Body);
      const out = new Uint8Array(length);
      const got = await readInto(response.Body, out, 0, length);
      if (got !== length) throw new TruncatedBody(`received ${got} of ${length} bytes`);
      return out;
    } catch (error) {
      return fail(error, { path: relPath, where: where(key), syscall: "read" });
    }
  }

  /**
   * Parallel ranged GETs into one buffer. The first range tells the real size and the ETag; the
   * others carry If-Match with that ETag, so an object replaced half-way through cannot be
   * stitched together from two versions (a 412 restarts the read once, then fails ESTALE).
   */
  async function getRanged(key: string, relPath: string, expected: number, attempt = 0): Promise<Uint8Array> {
    const context = { path: relPath, where: where(key), syscall: "read" };
    const rangeSize = Math.max(partSize, Math.ceil(expected / readStreams));
    const fast = await fastPath();
    if (fast) return getRangedFast(fast, key, relPath, expected, rangeSize, attempt);
    let first: GetObjectCommandOutput;
    try {
      first = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${rangeSize - 1}` }),
      );
    } catch (error) {
      // An empty object has no byte 0: 416. Read it whole instead.
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) {
        return getWhole(key, relPath);
      }
      return fail(error, { ...context, syscall: "open" });
    }
    const total = totalFromContentRange(first.ContentRange);
    try {
      if (total === undefined || first.ContentRange === undefined) {
        // The server ignored Range and sent everything (200).
        const length = first.ContentLength;
        if (length === undefined) return await readAll(first.Body);
        const out = new Uint8Array(length);
        const got = await readInto(first.Body, out, 0, length);
        if (got !== length) throw new TruncatedBody(`received ${got} of ${length} bytes`);
        return out;
      }
      const out = new Uint8Array(total);
      const firstLength = Math.min(rangeSize, total);
      const ranges: Array<[number, number]> = [];
      for (let start = firstLength; start < total; start += rangeSize) {
        ranges.push([start, Math.min(start + rangeSize, total) - 1]);
      }
      const etag = first.ETag;
      const firstRead = readInto(first.Body, out, 0, firstLength).then((got) => {
        if (got !== firstLength) throw new TruncatedBody(`range 0: received ${got} of ${firstLength} bytes`);
      });
      const rest = mapConcurrent(
        ranges,
        Math.max(1, Math.min(readStreams, concurrency) - 1),
        async ([start, end]) => {
          const part = await client.send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: key,
              Range: `bytes=${start}-${end}`,
              ...(etag ? { IfMatch: etag } : {}),
            }),
          );
          const length = end - start + 1;
          const got = await readInto(part.Body, out, start, length);
          if (got !== length) throw new TruncatedBody(`range ${start}: received ${got} of ${length} bytes`);
        },
      );
      await Promise.all([firstRead, rest]);
      return out;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
        if (attempt === 0) return getRanged(key, relPath, total ?? expected, 1);
        throw new MountError(
          "ESTALE",
          `${where(key)} kept changing while it was being read in ranges; read it again`,
          { path: relPath, syscall: "read" },
        );
      }
      return fail(error, context);
    }
  }

  /** getRanged over the fast path: every range lands directly in the one result buffer. */
  async function getRangedFast(
    fast: SignedGet,
    key: string,
    relPath: string,
    expected: number,
    rangeSize: number,
    attempt: number,
  ): Promise<Uint8Array> {
    let out: Uint8Array | undefined;
    let total: number | undefined;
    // The other ranges start as soon as the first response's headers give the size and the ETag,
    // not after its body: every stream is busy from the start, as in rclone's multi-thread copy.
    let rest: Promise<void> | undefined;
    const startRest = (head: ResponseHead, whole: Uint8Array, size: number): Promise<void> => {
      const ranges: Array<[number, number]> = [];
      for (let start = Math.min(rangeSize, size); start < size; start += rangeSize) {
        ranges.push([start, Math.min(start + rangeSize, size) - 1]);
      }
      return mapConcurrent(
        ranges,
        Math.max(1, Math.min(readStreams, concurrency) - 1),
        async ([start, end]) => {
          const part = await fast.get({
            key,
            range: `bytes=${start}-${end}`,
            ifMatch: head.etag,
            place: () => ({ target: whole, offset: start }),
          });
          const length = end - start + 1;
          if (part.status !== 206 || part.received !== length) {
            throw new TruncatedBody(`range ${start}: received ${part.received} of ${length} bytes`);
          }
        },
      ).then(() => undefined);
    };
    try {
      const first = await fast.get({
        key,
        range: `bytes=0-${rangeSize - 1}`,
        place: (head: ResponseHead) => {
          total = head.status === 206 ? totalFromContentRange(head.contentRange) : undefined;
          // 200: the server ignored Range and sends everything into an exact buffer of its own.
          out = new Uint8Array(total ?? head.contentLength ?? 0);
          if (total !== undefined) {
            rest = startRest(head, out, total);
            // Awaited below; until then a failure must not surface as an unhandled rejection.
            rest.catch(() => {});
          }
          return { target: out, offset: 0 };
        },
      });
      if (first.contentLength !== undefined && first.received !== first.contentLength) {
        throw new TruncatedBody(`range 0: received ${first.received} of ${first.contentLength} bytes`);
      }
      if (total === undefined || first.status !== 206) return first.bytes;
      await rest;
      return first.bytes;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // An empty object has no byte 0: 416. Read it whole instead.
      if (status === 416 && out === undefined) return getWhole(key, relPath);
      if (status === 412) {
        if (attempt === 0) return getRanged(key, relPath, total ?? expected, 1);
        throw new MountError(
          "ESTALE",
          `${where(key)} kept changing while it was being read in ranges; read it again`,
          { path: relPath, syscall: "read" },
        );
      }
      return fail(error, { path: relPath, where: where(key), syscall: out === undefined ? "open" : "read" });
    }
  }

  async function fetchFile(relPath: string): Promise<Uint8Array> {
    const key = checkPath(relPath);
    const known = listedSizes.get(relPath);
    if (known !== undefined && known >= rangedReadThreshold && known > partSize) {
      return getRanged(key, relPath, known);
    }
    return getWhole(key, relPath);
  }

  async function stat(relPath: string): Promise<S3ObjectInfo | undefined> {
    const key = rootType === "file" && relPath === prefix ? prefix : checkPath(relPath);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        size: head.ContentLength ?? 0,
        etag: head.ETag,
        mtime: head.LastModified?.getTime(),
      };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      return fail(error, { path: relPath, where: where(key), syscall: "stat" });
    }
  }

  async function putObject(
    relPath: string,
    bytes: Uint8Array,
    putOptions: PutOptions = {},
  ): Promise<{ etag: string | undefined }> {
    if (!writable) throw readOnly(relPath, undefined, "write");
    const key = checkPath(relPath);
    if (!(bytes instanceof Uint8Array))
      throw invalid(`put ${relPath}: bytes must be a Uint8Array`, { path: relPath });
    const precondition =
      putOptions.ifNoneMatch !== undefined
        ? "ifNoneMatch"
        : putOptions.ifMatch !== undefined
          ? "ifMatch"
          : undefined;
    if (putOptions.ifNoneMatch !== undefined && putOptions.ifNoneMatch !== "*") {
      throw invalid(`put ${relPath}: ifNoneMatch only accepts "*"`, { path: relPath });
    }
    if (precondition && !conditionalWrites) {
      throw new MountError(
        "ENOTSUP",
        `${where(key)}: conditional writes are disabled for this mount (conditionalWrites: false); nothing was written`,
        { path: relPath, syscall: "write" },
      );
    }
    const conditions = {
      ...(putOptions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
      ...(putOptions.ifMatch !== undefined ? { IfMatch: putOptions.ifMatch } : {}),
    };
    try {
      // A precondition goes with a single PutObject (S3 takes up to 5 GiB in one): whether a
      // server checks If-None-Match / If-Match on CompleteMultipartUpload varies, and a check
      // skipped silently would be worse than no multipart.
      if (
        bytes.length >= multipartThreshold &&
        (precondition === undefined || bytes.length > MAX_SINGLE_PUT)
      ) {
        if (precondition !== undefined) {
          throw new MountError(
            "ENOTSUP",
            `${where(key)}: a conditional write above 5 GiB needs multipart upload, where preconditions are not ` +
              "reliably checked; nothing was written",
            { path: relPath, syscall: "write" },
          );
        }
        const upload = new Upload({
          client,
          params: { Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length },
          partSize,
          queueSize: concurrency,
          leavePartsOnError: false,
        });
        const result = await upload.done();
        listedSizes.set(relPath, bytes.length);
        return { etag: (result as { ETag?: string }).ETag };
      }
      const result = await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentLength: bytes.length,
          ...conditions,
        }),
      );
      listedSizes.set(relPath, bytes.length);
      return { etag: result.ETag };
    } catch (error) {
      return fail(error, { path: relPath, where: where(key), syscall: "write", precondition });
    }
  }

  const mount: S3BucketMount = {
    kind: "s3",
    strategy: "lazy",
    writable,
    // Only the common options: the host reads (and may log) these, and the full options can hold
    // credentials in clientConfig.
    options: pickMountOptions(options),
    rootType,
    bucket,
    prefix,
    client,
    list,
    refresh: list,
    fetch: fetchFile,
    async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions): Promise<void> {
      await putObject(relPath, bytes, putOptions);
    },
    async delete(relPath: string): Promise<void> {
      if (!writable) throw readOnly(relPath, undefined, "unlink");
      const key = checkPath(relPath);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        // S3 answers 204 for a missing key; some compatible servers answer 404. Both mean "gone".
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 && (error as { name?: string }).name !== "NoSuchBucket") {
          listedSizes.delete(relPath);
          return;
        }
        return fail(error, { path: relPath, where: where(key), syscall: "unlink" });
      }
      listedSizes.delete(relPath);
    },
    putObject,
    stat,
    async dispose(): Promise<void> {
      const fast = await signedGet;
      signedGet = undefined;
      await fast?.close();
      if (ownsClient) client.destroy();
    },
  };
  // Not enumerable, so that logging or inspecting the mount does not walk into the client's
  // configuration (where static credentials live).
  Object.defineProperty(mount, "client", { value: client, enumerable: false, writable: false });
  return mount;
}
