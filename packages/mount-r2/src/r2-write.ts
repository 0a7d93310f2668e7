import {
  encodePosixMetadata,
  MountError,
  type PutOptions,
  type PutSource,
  readSource,
  sourceChunks,
} from "@ws/core";
import type {
  R2BucketBinding,
  R2ConditionalLike,
  R2MultipartUploadLike,
  R2PutOptionsLike,
  R2UploadedPartLike,
} from "./r2-binding.js";

/** How a streamed write is made (R2Bucket's options). */
export interface StreamSettings {
  /** Bytes per part; a source up to this size is put in one request. */
  readonly partSize: number;
  /** A binding failure as a MountError (`classifyR2Error`): kept when an abort fails too. */
  readonly classify: (error: unknown, key: string) => MountError;
}

const MiB = 1024 * 1024;
/**
 * Parts of a streamed upload in flight at once (rclone's default upload concurrency): memory is
 * about this many parts plus the one being read, whatever the file's size.
 */
export const STREAM_PARTS = 4;
/** R2's most parts per upload: a larger file gets larger parts. */
const MAX_PARTS = 10_000;
/** R2's largest single `put`: a conditional streamed write above it goes multipart. */
const MAX_SINGLE_PUT = 5 * 1024 * MiB;
/** Chunks read from a streamed source at a time (copied into the part being filled). */
const STREAM_CHUNK = MiB;

/** One object put in one request, with its precondition (atomic: R2's `onlyIf`). */
export async function writeObject(
  binding: R2BucketBinding,
  key: string,
  bytes: Uint8Array,
  putOptions: PutOptions,
): Promise<{ etag: string }> {
  // A plain Uint8Array of exactly these bytes: Miniflare's proxy rejects a Node Buffer, and a
  // view into a larger buffer would send the whole buffer.
  const body =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !isNodeBuffer(bytes)
      ? bytes
      : new Uint8Array(bytes);
  const result = await binding.put(key, body, r2PutOptions(putOptions));
  if (result === null) throw preconditionFailed(key, putOptions);
  return { etag: result.etag };
}

/** The binding's put options for these: `onlyIf` for a precondition, custom metadata for mode and mtime. */
function r2PutOptions(putOptions: PutOptions): R2PutOptionsLike | undefined {
  const onlyIf: R2ConditionalLike = {
    ...(putOptions.ifNoneMatch === "*" ? { etagDoesNotMatch: "*" } : {}),
    // R2 wants the bare etag and rejects a quoted one: accept both (httpEtag is quoted).
    ...(putOptions.ifMatch !== undefined ? { etagMatches: unquote(putOptions.ifMatch) } : {}),
  };
  const conditional = Object.keys(onlyIf).length > 0;
  // The file's mode and mtime (a link's type) in s3fs's convention, as custom metadata.
  const customMetadata = encodePosixMetadata(putOptions);
  const hasMeta = Object.keys(customMetadata).length > 0;
  return conditional || hasMeta
    ? { ...(conditional ? { onlyIf } : {}), ...(hasMeta ? { customMetadata } : {}) }
    : undefined;
}

/** workerd's `FixedLengthStream`, whose readable side R2's `put` takes (its length is known); not in Node. */
type FixedLengthStreamClass = new (
  length: number,
) => { readonly readable: ReadableStream<Uint8Array>; readonly writable: WritableStream<Uint8Array> };

/**
 * One streamed `put` with its precondition, inside workerd: atomic as `writeObject`, with one
 * chunk in memory at a time (the stream gives back-pressure). Holes are sent as zeros, never read.
 */
async function putFixedLength(
  binding: R2BucketBinding,
  key: string,
  source: PutSource,
  putOptions: PutOptions,
  Fixed: FixedLengthStreamClass,
): Promise<{ etag: string }> {
  const { readable, writable } = new Fixed(source.size);
  const writer = writable.getWriter();
  const put = binding.put(key, readable, r2PutOptions(putOptions));
  let pumpFailure: { error: unknown } | undefined;
  const pumped = (async (): Promise<void> => {
    try {
      // Copies: a chunk of holes is a view of one shared buffer of zeros, which must stay whole.
      for await (const chunk of sourceChunks(source, STREAM_CHUNK)) await writer.write(new Uint8Array(chunk));
      await writer.close();
    } catch (error) {
      pumpFailure = { error };
      await writer.abort(error).catch(() => undefined);
    }
  })();
  // Whatever ends the put first, the writer is stopped (nothing reads the stream any more) and
  // the pump has finished before this returns; a source that failed is the error reported.
  const stop = async (reason: unknown): Promise<void> => {
    await writer.abort(reason).catch(() => undefined);
    await pumped;
  };
  let result: Awaited<typeof put>;
  try {
    result = await put;
  } catch (error) {
    await stop(error);
    throw pumpFailure ? pumpFailure.error : error;
  }
  if (result === null) {
    const failed = preconditionFailed(key, putOptions);
    await stop(failed);
    throw failed;
  }
  await pumped;
  if (pumpFailure) throw pumpFailure.error;
  return { etag: result.etag };
}

/**
 * One object written from a source read part by part. Up to `partSize` bytes: read whole and put
 * as `writeObject` does (atomic, preconditions included). Larger: a multipart upload with
 * `STREAM_PARTS` parts in flight, aborted on any failure. A conditional one, inside workerd, is
 * one streamed `put` through a `FixedLengthStream` (atomic). Elsewhere (Node, Miniflare's proxy:
 * a stream there has no known length, which R2's `put` requires) the binding's `complete` takes
 * no precondition, so it is checked with `head` before the upload and again right before
 * `complete`: a write by someone else between that last `head` and `complete` is overwritten
 * (README, Limits). Holes of a sparse source are sent as zeros, never read.
 */
export async function writeObjectStream(
  binding: R2BucketBinding & Required<Pick<R2BucketBinding, "createMultipartUpload">>,
  key: string,
  source: PutSource,
  putOptions: PutOptions,
  { partSize, classify }: StreamSettings,
): Promise<{ etag: string }> {
  if (source.size <= partSize) return writeObject(binding, key, await readSource(source), putOptions);
  const conditional = putOptions.ifNoneMatch !== undefined || putOptions.ifMatch !== undefined;
  const Fixed = (globalThis as { FixedLengthStream?: FixedLengthStreamClass }).FixedLengthStream;
  if (conditional && Fixed !== undefined && source.size <= MAX_SINGLE_PUT) {
    return putFixedLength(binding, key, source, putOptions, Fixed);
  }
  // Nothing is uploaded for a write that would be refused anyway.
  if (conditional) await checkPrecondition(binding, key, putOptions);
  const customMetadata = encodePosixMetadata(putOptions);
  const upload = await binding.createMultipartUpload(
    key,
    Object.keys(customMetadata).length > 0 ? { customMetadata } : undefined,
  );
  try {
    // Parts of equal size (R2 requires it of all but the last), at most MAX_PARTS of them.
    const size = Math.max(partSize, Math.ceil(source.size / MAX_PARTS / MiB) * MiB);
    const parts = await uploadParts(upload, source, size);
    if (conditional) await checkPrecondition(binding, key, putOptions);
    const object = await upload.complete(parts);
    return { etag: object.etag };
  } catch (error) {
    return abandon(upload, key, error, classify);
  }
}

/** The parts of `source`, `partSize` bytes each (the last one shorter), `STREAM_PARTS` in flight. */
async function uploadParts(
  upload: R2MultipartUploadLike,
  source: PutSource,
  partSize: number,
): Promise<R2UploadedPartLike[]> {
  const parts: R2UploadedPartLike[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let number = 0;
  try {
    for await (const bytes of partsOf(source, partSize)) {
      const n = ++number;
      const sent: Promise<void> = upload
        .uploadPart(n, bytes)
        .then(
          (part) => {
            parts[n - 1] = part;
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      if (inFlight.size >= STREAM_PARTS) await Promise.race(inFlight);
      if (failure) break;
    }
  } finally {
    // Never leave a part running behind an abort (each of these promises settles without rejecting).
    await Promise.all(inFlight);
  }
  if (failure) throw failure.error;
  return parts;
}

/** The source in fresh arrays of `partSize` bytes (the last one shorter): what each `uploadPart` sends. */
async function* partsOf(source: PutSource, partSize: number): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let part = new Uint8Array(Math.min(partSize, source.size));
  let filled = 0;
  for await (let chunk of sourceChunks(source, Math.min(partSize, STREAM_CHUNK))) {
    while (chunk.length > 0) {
      const n = Math.min(chunk.length, part.length - filled);
      part.set(chunk.subarray(0, n), filled);
      filled += n;
      chunk = chunk.subarray(n);
      if (filled === part.length) {
        offset += part.length;
        yield part;
        part = new Uint8Array(Math.min(partSize, source.size - offset));
        filled = 0;
      }
    }
  }
}

/** `head` now and the write's precondition against it: the same errors R2's `onlyIf` gives. */
async function checkPrecondition(
  binding: R2BucketBinding,
  key: string,
  putOptions: PutOptions,
): Promise<void> {
  const head = await binding.head(key);
  const noneMatch = putOptions.ifNoneMatch !== "*" || head === null;
  const match =
    putOptions.ifMatch === undefined ||
    (head !== null && (putOptions.ifMatch === "*" || head.etag === unquote(putOptions.ifMatch)));
  if (!noneMatch || !match) throw preconditionFailed(key, putOptions);
}

/**
 * The upload aborted, then `error` thrown. If the abort fails too, the error says so and names
 * the upload (its parts stay until aborted or removed by the bucket's lifecycle rule).
 */
async function abandon(
  upload: R2MultipartUploadLike,
  key: string,
  error: unknown,
  classify: StreamSettings["classify"],
): Promise<never> {
  try {
    await upload.abort();
  } catch (abortError) {
    const abortReason = abortError instanceof Error ? abortError.message : String(abortError);
    // 10024: no such upload (already completed or aborted): nothing is left behind.
    if (!/\(10024\)\s*$/.test(abortReason)) {
      const failed = MountError.isInstance(error) ? error : classify(error, key);
      throw new MountError(
        failed.code,
        `${failed.message}; aborting its multipart upload ${upload.uploadId} failed too (${abortReason}): ` +
          "its parts stay in the bucket until it is aborted or a lifecycle rule removes them",
        { cause: error, transient: failed.transient, syscall: "write" },
      );
    }
  }
  throw error;
}

/** A failed precondition, as `put` reports it: `EEXIST` for `ifNoneMatch: "*"` alone, else `ESTALE`. */
function preconditionFailed(key: string, putOptions: PutOptions): MountError {
  if (putOptions.ifNoneMatch === "*" && putOptions.ifMatch === undefined) {
    return new MountError("EEXIST", `r2://${key} already exists (ifNoneMatch: "*"); nothing was written`, {
      syscall: "write",
    });
  }
  return new MountError(
    "ESTALE",
    `r2://${key} changed since the etag given in ifMatch; read it again before writing`,
    { syscall: "write" },
  );
}

function unquote(etag: string): string {
  const match = /^(?:W\/)?"(.*)"$/.exec(etag);
  return match ? (match[1] ?? "") : etag;
}

function isNodeBuffer(bytes: Uint8Array): boolean {
  const ctor = (globalThis as { Buffer?: { isBuffer(x: unknown): boolean } }).Buffer;
  return ctor?.isBuffer(bytes) ?? false;
}
