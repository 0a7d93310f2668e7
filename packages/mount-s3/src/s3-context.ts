import type { S3Client } from "@aws-sdk/client-s3";
import type { MountDiagnostic } from "@ws/core";
import type { ErrorContext } from "./s3-errors.js";
import type { SignedGet } from "./signed-get.js";

/** What the list, read and write parts of an S3 mount share: its settings and one client. */
export interface S3Context {
  readonly client: S3Client;
  readonly bucket: string;
  /** Requests one operation may run in parallel. */
  readonly concurrency: number;
  readonly partSize: number;
  readonly multipartThreshold: number;
  readonly rangedReadThreshold: number;
  readonly readStreams: number;
  readonly parallelList: boolean;
  /** HEAD each listed directory marker for its stored mode. */
  readonly folderModes: boolean;
  /** The bound on one SDK request (see RequestTimer): no answer or no body byte for this long fails it. */
  readonly timeoutMs: number;
  /**
   * Sizes from the last listing of the keys large enough to be read in ranges (see `noteSize`),
   * by key: a key not here is read with one GET. Replaced as a whole when a listing completes;
   * kept up to date by puts and deletes. Only the large ones, so a listing of a million small
   * objects does not keep a million map entries (issue 16: bytes per stub).
   */
  listedSizes: Map<string, number>;
  readonly onDiagnostic: ((diagnostic: MountDiagnostic) => void) | undefined;
  /** The fast GET path, set up on first use; `undefined` when off or not possible for this client. */
  fastPath(): Promise<SignedGet | undefined> | undefined;
  /** Classifies an SDK or fast-path error (learning the credentials' secrets first) and throws it. */
  fail(error: unknown, context: Omit<ErrorContext, "secrets" | "clientRetried">): Promise<never>;
  /** `s3://bucket/key`, for messages. */
  where(key: string): string;
}

/** The HTTP status of an SDK error, when the server answered at all. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** User metadata with lower-case names (the SDK keeps the case the server sent). */
export function lowerKeys(meta: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(meta ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/** True when an object of `size` bytes is read by parallel ranged GETs. */
export function readInRanges(
  ctx: Pick<S3Context, "rangedReadThreshold" | "partSize">,
  size: number,
): boolean {
  return size >= ctx.rangedReadThreshold && size > ctx.partSize;
}

/** Records the size of `key` as the next read needs it: kept when large, forgotten otherwise. */
export function noteSize(ctx: S3Context, key: string, size: number): void {
  if (readInRanges(ctx, size)) ctx.listedSizes.set(key, size);
  else ctx.listedSizes.delete(key);
}
