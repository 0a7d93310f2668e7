import { createHash } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { crc32 } from "node:zlib";
import type { S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { httpPool, nodeDispatcher } from "@ws/provider-kit";
import type { Dispatcher } from "undici";
import { NodeSha256 } from "./node-sha256.js";
import { createS3Client } from "./sdk-client.js";

/** SHA-256 of an empty body: what a GET signs as its payload hash (Swift rejects nothing else but UNSIGNED-PAYLOAD). */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** How much of an error response is kept to read its S3 `<Code>` and `<Message>`. */
const MAX_ERROR_BODY = 64 * 1024;

/** An error response of the server, shaped like the SDK's service errors so the same mapping applies. */
export class S3HttpError extends Error {
  readonly Code: string;
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string };

  constructor(status: number, code: string, message: string, requestId: string | undefined) {
    super(message);
    this.name = code;
    this.Code = code;
    this.$metadata =
      requestId === undefined ? { httpStatusCode: status } : { httpStatusCode: status, requestId };
  }
}

/** What the response's headers said, before the body. */
export interface ResponseHead {
  readonly status: number;
  readonly contentLength: number | undefined;
  readonly contentRange: string | undefined;
  readonly etag: string | undefined;
  /** (ws mounts) The object's user metadata: `x-amz-meta-*` headers, names without the prefix, lower case. */
  readonly meta: Record<string, string>;
}

/** Where a response body goes: `length` bytes at `offset` of `target`. */
export interface BodyTarget {
  readonly target: Uint8Array;
  readonly offset: number;
}

export interface SignedGetRequest {
  readonly key: string;
  readonly range?: string | undefined;
  readonly ifMatch?: string | undefined;
  /**
   * Chooses where the body goes once the headers are in (a ranged read learns the object's size
   * from the first response). Without it, or without a Content-Length, the body lands in a fresh,
   * exact Uint8Array.
   */
  readonly place?: ((head: ResponseHead) => BodyTarget) | undefined;
  /**
   * `"node"`: through the mount's own `node:http` agent (the kit's `nodeDispatcher`) instead of the
   * undici pool: ranges of a stream, so a process that streams never makes V8 optimize undici's
   * WebAssembly parser (about 29 MiB for a moment). Default `"pool"`.
   */
  readonly transport?: "pool" | "node" | undefined;
}

export interface SignedGetResponse extends ResponseHead {
  /** The buffer the body was written to (the fresh one, or the placed target). */
  readonly bytes: Uint8Array;
  /** Body bytes received. */
  readonly received: number;
}

/** GETs signed here and sent through a keep-alive pool, bypassing the SDK's middleware stack. */
export interface SignedGet {
  get(request: SignedGetRequest): Promise<SignedGetResponse>;
  close(): Promise<void>;
}

export interface SignedGetOptions {
  /** Parallel connections to the endpoint. */
  readonly connections: number;
  /** Connect, headers and body idle timeout in milliseconds. */
  readonly timeoutMs: number;
}

type Resolvable<T> = T | (() => Promise<T> | T) | undefined;

async function settingOf<T>(setting: Resolvable<T>): Promise<T | undefined> {
  return typeof setting === "function" ? await (setting as () => Promise<T> | T)() : setting;
}

/** The SDK's encoding of one key segment in a URI path (RFC 3986: also `!'()*`). */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `a b/c` → `a%20b/c`: slashes stay, as the SDK sends a `{Key+}` label. */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeSegment).join("/");
}

interface Target {
  readonly origin: string;
  /** The path before the key, without a trailing slash: `/bucket` (path style) or `` (virtual-hosted). */
  readonly basePath: string;
  readonly host: string;
  readonly signingRegion: string;
}

/**
 * Where the SDK itself would send a GetObject for this bucket, asked of the client's own
 * endpoint rules; `undefined` for anything this path does not reproduce exactly (S3 Express,
 * access points and Object Lambda with other signers, endpoints from the environment or a
 * profile, extra endpoint headers).
 */
async function resolveTarget(client: S3Client, bucket: string): Promise<Target | undefined> {
  const config = client.config as unknown as Record<string, unknown> & S3Client["config"];
  const region = await settingOf(config.region as Resolvable<string>);
  if (!region) return undefined;
  let endpoint: string | undefined;
  if (config.isCustomEndpoint) {
    const custom = await settingOf(
      config.endpoint as Resolvable<{
        protocol: string;
        hostname: string;
        port?: number;
        path: string;
        query?: unknown;
      }>,
    );
    if (!custom || (custom.query && Object.keys(custom.query).length > 0)) return undefined;
    endpoint = `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ""}${custom.path}`;
  } else {
    // AWS_ENDPOINT_URL(_S3) or a profile's endpoint_url: the SDK resolves these on its own path.
    const configured = await settingOf(config["serviceConfiguredEndpoint"] as Resolvable<unknown>).catch(
      () => 1,
    );
    if (configured !== undefined) return undefined;
  }
  const params: Record<string, unknown> = {
    Bucket: bucket,
    Region: region,
    UseFIPS: (await settingOf(config["useFipsEndpoint"] as Resolvable<boolean>)) ?? false,
    UseDualStack: (await settingOf(config["useDualstackEndpoint"] as Resolvable<boolean>)) ?? false,
    ForcePathStyle: (await settingOf(config["forcePathStyle"] as Resolvable<boolean>)) ?? false,
    Accelerate: (await settingOf(config["useAccelerateEndpoint"] as Resolvable<boolean>)) ?? false,
    UseGlobalEndpoint: (await settingOf(config["useGlobalEndpoint"] as Resolvable<boolean>)) ?? false,
    UseArnRegion: await settingOf(config["useArnRegion"] as Resolvable<boolean>),
    DisableMultiRegionAccessPoints: await settingOf(
      config["disableMultiregionAccessPoints"] as Resolvable<boolean>,
    ),
    DisableS3ExpressSessionAuth: await settingOf(
      config["disableS3ExpressSessionAuth"] as Resolvable<boolean>,
    ),
    ...(endpoint !== undefined ? { Endpoint: endpoint } : {}),
  };
  const resolved = (
    config["endpointProvider"] as unknown as (
      p: Record<string, unknown>,
      c: Record<string, unknown>,
    ) => {
      url: URL;
      properties?: { authSchemes?: Array<Record<string, unknown>>; backend?: unknown };
      headers?: Record<string, unknown>;
    }
  )(params, {});
  const url = resolved.url;
  const schemes = resolved.properties?.authSchemes ?? [];
  const scheme = schemes[0];
  if (
    scheme?.["name"] !== "sigv4" ||
    (scheme["signingName"] ?? "s3") !== "s3" ||
    resolved.properties?.backend !== undefined ||
    (resolved.headers && Object.keys(resolved.headers).length > 0) ||
    url.search !== "" ||
    (url.protocol !== "https:" && url.protocol !== "http:")
  ) {
    return undefined;
  }
  return {
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ""),
    host: url.host,
    signingRegion: typeof scheme["signingRegion"] === "string" ? scheme["signingRegion"] : region,
  };
}

/** The client's middleware, as a stock client has it: anything added could change a request. */
let stockMiddleware: string | undefined;
async function hasStockMiddleware(client: S3Client): Promise<boolean> {
  if (stockMiddleware === undefined) {
    const stock = createS3Client({ region: "us-east-1" });
    stockMiddleware = stock.middlewareStack.identify().join("\n");
    stock.destroy();
  }
  return client.middlewareStack.identify().join("\n") === stockMiddleware;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function userMetadata(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith("x-amz-meta-")) {
      const value = header(headers, name);
      if (value !== undefined) out[lower.slice("x-amz-meta-".length)] = value;
    }
  }
  return out;
}

function xmlField(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1]
    ?.replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");
}

/**
 * Checks a whole-object body against the checksum the server returned for `x-amz-checksum-mode`,
 * as the SDK's response validation does (CRC32, SHA-1, SHA-256; composite multipart checksums and
 * the CRC32C/CRC64NVME algorithms, which node:zlib lacks, are not checked).
 */
function checkChecksum(headers: Record<string, string | string[] | undefined>, body: Uint8Array): void {
  const crc = header(headers, "x-amz-checksum-crc32");
  let expected: string | undefined;
  let actual: string | undefined;
  let algorithm = "";
  if (crc !== undefined && !crc.includes("-")) {
    algorithm = "CRC32";
    expected = crc;
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(body) >>> 0);
    actual = out.toString("base64");
  } else {
    for (const [name, hash] of [
      ["x-amz-checksum-sha256", "sha256"],
      ["x-amz-checksum-sha1", "sha1"],
    ] as const) {
      const value = header(headers, name);
      if (value === undefined || value.includes("-")) continue;
      algorithm = hash.toUpperCase();
      expected = value;
      actual = createHash(hash).update(body).digest("base64");
      break;
    }
  }
  if (expected !== undefined && actual !== expected) {
    throw new Error(
      `${algorithm} checksum mismatch: the server announced ${expected}, the body has ${actual}`,
    );
  }
}

class Exchange implements Dispatcher.DispatchHandler {
  head: ResponseHead | undefined;
  headers: Record<string, string | string[] | undefined> = {};
  private target: Uint8Array | undefined;
  private offset = 0;
  private expected: number | undefined;
  private received = 0;
  private chunks: Uint8Array[] | undefined;
  private errorText = "";
  private settled = false;

  constructor(
    private readonly request: SignedGetRequest,
    private readonly resolve: (response: SignedGetResponse) => void,
    private readonly reject: (error: Error) => void,
    private readonly validate: boolean,
  ) {}

  // Its presence tells undici this handler speaks the current (v7) handler API.
  onRequestStart(): void {}

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    const lengthHeader = header(headers, "content-length");
    const length = lengthHeader === undefined ? undefined : Number(lengthHeader);
    this.headers = headers;
    this.head = {
      status,
      contentLength: length !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : undefined,
      contentRange: header(headers, "content-range"),
      etag: header(headers, "etag"),
      meta: userMetadata(headers),
    };
    if (status < 200 || status >= 300) return;
    const place = this.head.contentLength === undefined ? undefined : this.request.place;
    if (place) {
      const placed = place(this.head);
      this.target = placed.target;
      this.offset = placed.offset;
      this.expected = this.head.contentLength;
    } else if (this.head.contentLength !== undefined) {
      // One exact, fresh buffer (byteOffset 0): what fetch must return.
      this.target = new Uint8Array(this.head.contentLength);
      this.expected = this.head.contentLength;
    } else {
      this.chunks = [];
    }
    if (this.expected !== undefined && this.target && this.offset + this.expected > this.target.length) {
      controller.abort(new Error("the response does not fit where it was placed"));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const head = this.head;
    if (!head || head.status < 200 || head.status >= 300) {
      if (this.errorText.length < MAX_ERROR_BODY) this.errorText += chunk.toString("utf8");
      return;
    }
    if (this.chunks) {
      this.chunks.push(new Uint8Array(chunk));
      this.received += chunk.length;
      return;
    }
    if (this.received + chunk.length > (this.expected ?? 0)) {
      controller.abort(new Error(`the server sent more than the ${this.expected} bytes it announced`));
      return;
    }
    this.target?.set(chunk, this.offset + this.received);
    this.received += chunk.length;
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    const head = this.head;
    if (!head) {
      this.reject(new Error("the response ended without a status"));
      return;
    }
    if (head.status < 200 || head.status >= 300) {
      const code =
        xmlField(this.errorText, "Code") ??
        (STATUS_CODES[head.status] ?? `HTTP${head.status}`).replaceAll(" ", "");
      const message = xmlField(this.errorText, "Message") ?? `HTTP ${head.status}`;
      const requestId = header(this.headers, "x-amz-request-id") ?? xmlField(this.errorText, "RequestId");
      this.reject(new S3HttpError(head.status, code, message, requestId));
      return;
    }
    let bytes = this.target;
    if (this.chunks) {
      bytes = new Uint8Array(this.received);
      let at = 0;
      for (const chunk of this.chunks) {
        bytes.set(chunk, at);
        at += chunk.length;
      }
    }
    const body = bytes ?? new Uint8Array(0);
    try {
      if (this.validate && head.status === 200 && head.contentRange === undefined) {
        checkChecksum(
          this.headers,
          this.offset === 0 && this.received === body.length
            ? body
            : body.subarray(this.offset, this.offset + this.received),
        );
      }
    } catch (error) {
      this.reject(error as Error);
      return;
    }
    this.resolve({ ...head, bytes: body, received: this.received });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }
}

/**
 * The fast GET path: SigV4 signed here (`@smithy/signature-v4` over node:crypto) and sent through
 * an undici keep-alive pool, with the SDK client's credentials, region, endpoint rules and clock
 * offset. It makes one attempt per call; the mount's retry layer retries transient failures. The SDK's middleware stack costs more client CPU per small object than
 * the request itself. Resolves `undefined` when the client is set up in a way this path does not
 * reproduce; callers then use the SDK.
 */
export async function createSignedGet(
  client: S3Client,
  bucket: string,
  options: SignedGetOptions,
): Promise<SignedGet | undefined> {
  const config = client.config;
  if (!(await hasStockMiddleware(client))) return undefined;
  if ((await settingOf(config.retryMode as Resolvable<string>)) === "adaptive") return undefined;
  const resolvedTarget = await resolveTarget(client, bucket);
  if (!resolvedTarget) return undefined;
  const target: Target = resolvedTarget;
  const validate =
    (await settingOf(config.responseChecksumValidation as Resolvable<string>)) !== "WHEN_REQUIRED";

  type Identity = Awaited<ReturnType<S3Client["config"]["credentials"]>>;
  let cached: { identity: Identity; until: number } | undefined;
  async function credentials(): Promise<Identity> {
    if (cached && Date.now() < cached.until) return cached.identity;
    const identity = await config.credentials();
    const expires = identity.expiration?.getTime();
    // Refresh a little early, as the SDK does, so a request is never signed with expiring keys.
    cached = { identity, until: expires === undefined ? Number.POSITIVE_INFINITY : expires - 5 * 60_000 };
    return identity;
  }
  const signer = new SignatureV4({
    service: "s3",
    region: target.signingRegion,
    credentials,
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  // The kit's keep-alive pool for this origin, shared with every mount that talks to it. Idle
  // sockets do not keep the process alive; closeHttpPools() closes it for good.
  // Opened on the first request that uses it, so a mount that only streams never loads undici.
  const pool = (): ReturnType<typeof httpPool> =>
    httpPool(target.origin, {
      connections: options.connections,
      connectTimeoutMs: Math.min(options.timeoutMs, 10_000),
      headersTimeoutMs: options.timeoutMs,
      bodyTimeoutMs: options.timeoutMs,
      keepAliveTimeoutMs: 10_000,
    });
  const originUrl = new URL(target.origin);
  const nodePool = nodeDispatcher(originUrl, {
    connections: options.connections,
    timeoutMs: options.timeoutMs,
  });
  const protocol = originUrl.protocol;
  const hostname = originUrl.hostname;
  const port = originUrl.port === "" ? undefined : Number(originUrl.port);

  async function once(request: SignedGetRequest): Promise<SignedGetResponse> {
    const path = `${target.basePath}/${encodeKey(request.key)}`;
    const headers: Record<string, string> = {
      host: target.host,
      "x-amz-content-sha256": EMPTY_SHA256,
    };
    if (request.range !== undefined) headers["range"] = request.range;
    if (request.ifMatch !== undefined) headers["if-match"] = request.ifMatch;
    if (validate && request.range === undefined) headers["x-amz-checksum-mode"] = "ENABLED";
    const signed = await signer.sign(
      {
        method: "GET",
        protocol,
        hostname,
        ...(port === undefined ? {} : { port }),
        path,
        query: {},
        headers,
      },
      { signingDate: new Date(Date.now() + (config.systemClockOffset ?? 0)) },
    );
    return new Promise<SignedGetResponse>((resolve, reject) => {
      const exchange = new Exchange(request, resolve, reject, validate);
      const via = request.transport === "node" ? nodePool : pool();
      via.dispatch({ origin: target.origin, method: "GET", path, headers: signed.headers }, exchange);
    });
  }

  return {
    // One attempt: retrying transient failures is the kit's retry layer's job (see s3-bucket.ts).
    get: once,
    // The pool is shared with other mounts on this origin: a mount's dispose must not close it.
    // The node:http agent is this mount's own.
    close: async () => nodePool.close(),
  };
}
