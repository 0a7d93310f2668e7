import { createHash } from "node:crypto";
import { MountError } from "@ws/core";
import { header, httpGet, statusError } from "./http-get.js";

/** `oci://host[:port]/repository:tag` or `oci://host[:port]/repository@sha256:<hex>`. */
export interface OciReference {
  readonly host: string;
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

/** How to reach a registry. */
export interface RegistryOptions {
  /** Plain HTTP instead of HTTPS. Default: true for 127.0.0.1, ::1 and localhost, false elsewhere. */
  readonly plainHttp?: boolean | undefined;
  /** Basic credentials, or for a token service. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** A bearer token sent as is (skips the token service). */
  readonly token?: string | undefined;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly platform?:
    | { readonly os?: string; readonly architecture?: string; readonly variant?: string }
    | undefined;
  readonly artifactType?: string | undefined;
}

export interface OciManifest {
  readonly mediaType?: string | undefined;
  readonly artifactType?: string | undefined;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const HOST = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/;

export const MANIFEST_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

export const IMAGE_CONFIG_TYPES: readonly string[] = [
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
];

/** Layer media types of an image, and how their bytes are compressed. */
export const LAYER_TYPES: Readonly<Record<string, "tar" | "tar.gz" | "zstd">> = {
  "application/vnd.oci.image.layer.v1.tar": "tar",
  "application/vnd.oci.image.layer.v1.tar+gzip": "tar.gz",
  "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
  "application/vnd.oci.image.layer.nondistributable.v1.tar": "tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "tar.gz",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "tar.gz",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "tar.gz",
};

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function parseOciReference(raw: string): OciReference {
  const fail = (why: string): never => {
    throw new MountError(
      "EINVAL",
      `OCI reference ${JSON.stringify(raw)} is not valid: ${why}; expected oci://host/repository:tag or oci://host/repository@sha256:<hex>`,
    );
  };
  if (!raw.startsWith("oci://")) fail("it does not start with oci://");
  const rest = raw.slice("oci://".length);
  const slash = rest.indexOf("/");
  if (slash <= 0) fail("no host");
  const host = rest.slice(0, slash);
  if (!HOST.test(host)) fail(`host ${JSON.stringify(host)}`);
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = path.indexOf("@");
  if (at >= 0) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!DIGEST.test(digest)) fail(`digest ${JSON.stringify(digest)}`);
  }
  const colon = path.lastIndexOf(":");
  if (colon > path.lastIndexOf("/")) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) fail(`tag ${JSON.stringify(tag)}`);
  }
  if (!REPOSITORY.test(path)) fail(`repository ${JSON.stringify(path)}`);
  if (tag === undefined && digest === undefined) tag = "latest";
  return { host, repository: path, tag, digest };
}

export function digestOf(bytes: Uint8Array, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

function isLoopback(host: string): boolean {
  const name = host.replace(/:[0-9]+$/, "");
  return name === "127.0.0.1" || name === "localhost" || name === "[::1]";
}

/**
 * A minimal read-only client for the OCI distribution API: manifests and blobs, every byte checked
 * against the digest it was asked for before it is used. Handles anonymous access, Basic credentials
 * and the bearer-token dance of public registries (Docker Hub, ghcr.io).
 */
export class OciRegistryClient {
  readonly reference: OciReference;
  readonly #base: string;
  readonly #options: RegistryOptions;
  readonly #timeoutMs: number;
  readonly #root: string | undefined;
  #authorization: string | undefined;

  constructor(
    reference: OciReference,
    options: RegistryOptions,
    timeoutMs: number,
    root: string | undefined,
  ) {
    this.reference = reference;
    this.#options = options;
    this.#timeoutMs = timeoutMs;
    this.#root = root;
    const plain = options.plainHttp ?? isLoopback(reference.host);
    this.#base = `${plain ? "http" : "https"}://${reference.host}/v2/${reference.repository}`;
    if (options.token) this.#authorization = `Bearer ${options.token}`;
    else if (options.username !== undefined)
      this.#authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64")}`;
  }

  get secrets(): string[] {
    return [this.#options.password, this.#options.token].filter(
      (s): s is string => typeof s === "string" && s.length > 0,
    );
  }

  #error(code: MountError["code"], message: string, cause?: unknown): MountError {
    return new MountError(code, message, { path: this.#root, root: this.#root, cause });
  }

  async #get(path: string, accept: string | undefined, maxBytes: number, what: string) {
    const url = `${this.#base}/${path}`;
    const headers = (): Record<string, string> => ({
      ...(accept ? { accept } : {}),
      ...(this.#authorization ? { authorization: this.#authorization } : {}),
    });
    let result = await httpGet(url, {
      headers: headers(),
      maxBytes,
      timeoutMs: this.#timeoutMs,
    });
    if (result.status === 401) {
      const challenge = header(result.headers, "www-authenticate") ?? "";
      if (await this.#authenticate(challenge))
        result = await httpGet(url, {
          headers: headers(),
          maxBytes,
          timeoutMs: this.#timeoutMs,
        });
    }
    if (result.status !== 200) throw statusError(result.status, what, this.#root);
    return result;
  }

  /** Answers a 401 challenge; false when there is nothing more to try. */
  async #authenticate(challenge: string): Promise<boolean> {
    const scheme = challenge.split(" ", 1)[0]?.toLowerCase();
    if (scheme === "basic") {
      if (this.#options.username === undefined || this.#authorization?.startsWith("Basic")) return false;
      this.#authorization = `Basic ${Buffer.from(`${this.#options.username}:${this.#options.password ?? ""}`).toString("base64")}`;
      return true;
    }
    if (scheme !== "bearer" || this.#options.token) return false;
    const params: Record<string, string> = {};
    for (const m of challenge.matchAll(/([a-zA-Z]+)="([^"]*)"/g)) params[m[1] as string] = m[2] as string;
    if (!params.realm) return false;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", params.scope ?? `repository:${this.reference.repository}:pull`);
    const headers: Record<string, string> = {};
    if (this.#options.username !== undefined)
      headers.authorization = `Basic ${Buffer.from(`${this.#options.username}:${this.#options.password ?? ""}`).toString("base64")}`;
    const token = await httpGet(url.toString(), {
      headers,
      maxBytes: 1024 * 1024,
      timeoutMs: this.#timeoutMs,
    });
    if (token.status !== 200) throw statusError(token.status, "the registry's token service", this.#root);
    let parsed: { token?: string; access_token?: string };
    try {
      parsed = JSON.parse(new TextDecoder().decode(token.body)) as typeof parsed;
    } catch (error) {
      throw this.#error("EIO", "the registry's token service answered something that is not JSON", error);
    }
    const value = parsed.token ?? parsed.access_token;
    if (!value) return false;
    this.#authorization = `Bearer ${value}`;
    return true;
  }

  /**
   * The manifest at `reference` (a tag or a digest), its bytes checked against `expected` when one
   * is known (a digest reference, a pinned sha256, an index entry).
   */
  async manifest(
    reference: string,
    expected: string | undefined,
  ): Promise<{ digest: string; mediaType: string; json: Record<string, unknown> }> {
    const accept = Object.values(MANIFEST_TYPES).join(", ");
    const what = `manifest ${this.reference.host}/${this.reference.repository}:${reference}`;
    const result = await this.#get(`manifests/${reference}`, accept, MAX_MANIFEST_BYTES, what);
    const algorithm = expected?.split(":", 1)[0] ?? "sha256";
    const digest = digestOf(result.body, algorithm);
    if (expected !== undefined && digest !== expected) {
      throw this.#error(
        "EIO",
        `${what} does not match its digest: expected ${expected}, got ${digest}; the registry served different bytes`,
      );
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(new TextDecoder().decode(result.body)) as Record<string, unknown>;
    } catch (error) {
      throw this.#error("EIO", `${what} is not JSON`, error);
    }
    const mediaType =
      (typeof json.mediaType === "string" ? json.mediaType : undefined) ??
      header(result.headers, "content-type")?.split(";")[0]?.trim() ??
      "";
    return { digest, mediaType, json };
  }

  /** A blob, refused unless its size and digest are exactly the descriptor's. */
  async blob(descriptor: Descriptor, maxBytes: number): Promise<Uint8Array> {
    const what = `blob ${descriptor.digest} of ${this.reference.host}/${this.reference.repository}`;
    if (!DIGEST.test(descriptor.digest))
      throw this.#error("EINVAL", `${what}: the digest is not a sha256/sha512 digest`);
    if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0)
      throw this.#error("EINVAL", `${what}: the manifest gives no valid size`);
    if (descriptor.size > maxBytes)
      throw this.#error(
        "EDQUOT",
        `${what} is ${descriptor.size} bytes, above the limit of ${maxBytes} (maxArchiveBytes)`,
      );
    // One byte of slack: a longer body is then reported as a size mismatch, not as a limit.
    const result = await this.#get(`blobs/${descriptor.digest}`, undefined, descriptor.size + 1, what);
    if (result.body.length !== descriptor.size)
      throw this.#error(
        "EIO",
        `${what} is ${result.body.length} bytes, the manifest says ${descriptor.size}`,
      );
    const digest = digestOf(result.body, descriptor.digest.split(":", 1)[0]);
    if (digest !== descriptor.digest)
      throw this.#error(
        "EIO",
        `${what} does not match its digest: expected ${descriptor.digest}, got ${digest}`,
      );
    return result.body;
  }
}
