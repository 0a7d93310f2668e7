import { createHash } from "node:crypto";
import { type LazyMount, MountError, type PutOptions } from "@ws/core";
import type { SharedStats } from "./types.js";

type WithPutObject = LazyMount & {
  putObject?(
    relPath: string,
    bytes: Uint8Array,
    options?: PutOptions,
  ): Promise<{ etag?: string | undefined }>;
  stat?(relPath: string): Promise<{ etag?: string | undefined } | undefined>;
};

export function md5Etag(bytes: Uint8Array): string {
  return `"${createHash("md5").update(bytes).digest("hex")}"`;
}

export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function codeOf(error: unknown): string | undefined {
  return MountError.isInstance(error) ? error.code : undefined;
}

/** A put that tells the stored object's etag: the provider's `putObject`, its `PutResult`, or the MD5 of the bytes. */
export async function putWithEtag(
  inner: LazyMount,
  stats: SharedStats,
  key: string,
  bytes: Uint8Array,
  options?: PutOptions,
): Promise<string> {
  const mount = inner as WithPutObject;
  stats.puts++;
  if (typeof mount.putObject === "function") {
    const result = await mount.putObject(key, bytes, options);
    return result.etag ?? md5Etag(bytes);
  }
  if (typeof mount.put !== "function") {
    throw new MountError("EROFS", `the wrapped ${inner.kind} mount cannot write (no put)`, { path: key });
  }
  const result = await mount.put(key, bytes, options);
  return (result && typeof result === "object" && result.etag) || md5Etag(bytes);
}

/** Bytes and etag of one object, or undefined when it does not exist. */
export async function readWithEtag(
  inner: LazyMount,
  stats: SharedStats,
  key: string,
): Promise<{ bytes: Uint8Array; etag: string } | undefined> {
  const mount = inner as WithPutObject;
  let etag: string | undefined;
  if (typeof mount.stat === "function") {
    // HEAD first, then GET: bytes newer than the etag only make the caller's If-Match fail (safe).
    stats.gets++;
    const info = await mount.stat(key);
    if (!info) return undefined;
    etag = info.etag;
  }
  const bytes = await getOrUndefined(inner, stats, key);
  if (!bytes) return undefined;
  return { bytes, etag: etag ?? md5Etag(bytes) };
}

export async function getOrUndefined(
  inner: LazyMount,
  stats: SharedStats,
  key: string,
): Promise<Uint8Array | undefined> {
  stats.gets++;
  try {
    return await inner.fetch(key);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined;
    throw error;
  }
}

/** Conflict errors of a conditional put (412 / existing key) as the commit reports them. */
export function isPreconditionFailure(error: unknown): boolean {
  const code = codeOf(error);
  return code === "EEXIST" || code === "ESTALE";
}

/** A conditional write the server refused to evaluate (Swift's 501): tier 1 cannot work there. */
export function notSupported(error: unknown, what: string): unknown {
  if (codeOf(error) !== "ENOTSUP") return error;
  return new MountError(
    "ENOTSUP",
    `${what} needs conditional writes (If-None-Match: * / If-Match), which this server does not support ` +
      "(OpenStack Swift answers 501): a shared mount on the bucket alone cannot commit or lock there; " +
      "use tier 2 (metadata: PostgresMetadata(...)) or a server with conditional writes (S3, R2)",
    { cause: error },
  );
}
