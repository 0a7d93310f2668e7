import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import {
  encodePosixMetadata,
  MountError,
  type PutOptions,
  type PutSource,
  readSource,
  sourceChunks,
} from "@ws/core";
import { RequestTimer } from "./request-timer.js";
import { httpStatusOf, lowerKeys, noteSize, type S3Context } from "./s3-context.js";

/** S3's limit for one PutObject. */
const MAX_SINGLE_PUT = 5 * 1024 * 1024 * 1024;

/** Metadata of one stored object. */
export interface S3ObjectInfo {
  readonly size: number;
  readonly etag: string | undefined;
  readonly mtime: number | undefined;
  /** (ws mounts) The object's user metadata (`x-amz-meta-*` without the prefix, names in lower case). */
  readonly meta: Readonly<Record<string, string>>;
}

/** Which precondition a put carries (named in the error when it fails). */
function preconditionOf(putOptions: PutOptions): "ifNoneMatch" | "ifMatch" | undefined {
  if (putOptions.ifNoneMatch !== undefined) return "ifNoneMatch";
  return putOptions.ifMatch !== undefined ? "ifMatch" : undefined;
}

/**
 * One object written: a single PutObject (with its precondition), or a multipart upload for
 * large objects without one. The kit has checked mode, bytes and the precondition's shape.
 */
export async function writeObject(
  ctx: S3Context,
  key: string,
  relPath: string,
  bytes: Uint8Array,
  putOptions: PutOptions,
): Promise<{ etag: string | undefined }> {
  const precondition = preconditionOf(putOptions);
  const conditions = {
    ...(putOptions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
    ...(putOptions.ifMatch !== undefined ? { IfMatch: putOptions.ifMatch } : {}),
  };
  // The file's mode and mtime (and a link's type) as s3fs stores them: x-amz-meta-mode/-mtime.
  const metadata = encodePosixMetadata(putOptions);
  const meta = Object.keys(metadata).length > 0 ? { Metadata: metadata } : {};
  try {
    // A precondition goes with a single PutObject (S3 takes up to 5 GiB in one): whether a
    // server checks If-None-Match / If-Match on CompleteMultipartUpload varies, and a check
    // skipped silently would be worse than no multipart.
    if (
      bytes.length >= ctx.multipartThreshold &&
      (precondition === undefined || bytes.length > MAX_SINGLE_PUT)
    ) {
      if (precondition !== undefined) {
        throw new MountError(
          "ENOTSUP",
          `${ctx.where(key)}: a conditional write above 5 GiB needs multipart upload, where preconditions are not ` +
            "reliably checked; nothing was written",
          { path: relPath, syscall: "write" },
        );
      }
      // Each part is one attempt (the client makes one); a transient failure of a part fails the
      // upload (its parts are removed) and the retry layer starts it again.
      const upload = new Upload({
        client: ctx.client,
        params: { Bucket: ctx.bucket, Key: key, Body: bytes, ContentLength: bytes.length, ...meta },
        partSize: ctx.partSize,
        queueSize: ctx.concurrency,
        leavePartsOnError: false,
      });
      const result = await upload.done();
      noteSize(ctx, key, bytes.length);
      return { etag: (result as { ETag?: string }).ETag };
    }
    const result = await ctx.client.send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
        ...meta,
        ...conditions,
      }),
    );
    noteSize(ctx, key, bytes.length);
    return { etag: result.ETag };
  } catch (error) {
    return ctx.fail(error, { path: relPath, where: ctx.where(key), syscall: "write", precondition });
  }
}

/** Chunks read from a streamed source at a time (the SDK gathers them into parts). */
const STREAM_CHUNK = 1024 * 1024;
/**
 * Parts of a streamed upload in flight at once (rclone's default upload concurrency): memory is
 * about twice this many parts (the SDK copies each part once), whatever the file's size.
 */
const STREAM_PARTS = 4;

/**
 * One object written from a source read part by part: below the multipart threshold it is read
 * whole (at most that many bytes in memory) and written as `writeObject` does; above it, a
 * multipart upload with `STREAM_PARTS` parts in flight, or, with a precondition, one streamed
 * PutObject (up to 5 GiB, as for bytes). Holes of a sparse source are sent as zeros, never read.
 */
export async function writeObjectStream(
  ctx: S3Context,
  key: string,
  relPath: string,
  source: PutSource,
  putOptions: PutOptions,
): Promise<{ etag: string | undefined }> {
  if (source.size < ctx.multipartThreshold) {
    return writeObject(ctx, key, relPath, await readSource(source), putOptions);
  }
  const precondition = preconditionOf(putOptions);
  const metadata = encodePosixMetadata(putOptions);
  const meta = Object.keys(metadata).length > 0 ? { Metadata: metadata } : {};
  // A fresh stream per attempt: the retry layer calls again and the source is read again.
  const body = (): Readable => Readable.from(sourceChunks(source, STREAM_CHUNK), { objectMode: false });
  try {
    if (precondition !== undefined) {
      if (source.size > MAX_SINGLE_PUT) {
        throw new MountError(
          "ENOTSUP",
          `${ctx.where(key)}: a conditional write above 5 GiB needs multipart upload, where preconditions are not ` +
            "reliably checked; nothing was written",
          { path: relPath, syscall: "write" },
        );
      }
      const result = await ctx.client.send(
        new PutObjectCommand({
          Bucket: ctx.bucket,
          Key: key,
          Body: body(),
          ContentLength: source.size,
          ...meta,
          ...(putOptions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
          ...(putOptions.ifMatch !== undefined ? { IfMatch: putOptions.ifMatch } : {}),
        }),
      );
      noteSize(ctx, key, source.size);
      return { etag: result.ETag };
    }
    const upload = new Upload({
      client: ctx.client,
      params: { Bucket: ctx.bucket, Key: key, Body: body(), ContentLength: source.size, ...meta },
      partSize: ctx.partSize,
      queueSize: Math.min(ctx.concurrency, STREAM_PARTS),
      leavePartsOnError: false,
    });
    const result = await upload.done();
    noteSize(ctx, key, source.size);
    return { etag: (result as { ETag?: string }).ETag };
  } catch (error) {
    return ctx.fail(error, { path: relPath, where: ctx.where(key), syscall: "write", precondition });
  }
}

/** One object deleted; a missing one is fine (S3 answers 204, some servers 404). */
export async function deleteObject(ctx: S3Context, key: string, relPath: string): Promise<void> {
  try {
    await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key }));
  } catch (error) {
    if (httpStatusOf(error) !== 404 || (error as { name?: string }).name === "NoSuchBucket") {
      return ctx.fail(error, { path: relPath, where: ctx.where(key), syscall: "unlink" });
    }
  }
  ctx.listedSizes.delete(key);
}

/**
 * Up to 1,000 objects deleted in one DeleteObjects request (quiet: only failures come back). A key
 * the server could not delete makes the whole call fail, naming it; the host then deletes the
 * batch one key at a time, so each failure is reported (and retried) on its own.
 */
export async function deleteObjects(
  ctx: S3Context,
  keys: readonly string[],
  relPaths: readonly string[],
): Promise<void> {
  let failed: Array<{ Key?: string | undefined; Code?: string | undefined; Message?: string | undefined }>;
  try {
    const out = await ctx.client.send(
      new DeleteObjectsCommand({
        Bucket: ctx.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    failed = out.Errors ?? [];
  } catch (error) {
    return ctx.fail(error, { path: relPaths[0] ?? "", where: ctx.where(keys[0] ?? ""), syscall: "unlink" });
  }
  const refused = new Set(failed.map((e) => e.Key));
  for (const key of keys) if (!refused.has(key)) ctx.listedSizes.delete(key);
  if (failed.length > 0) {
    const first = failed[0]!;
    throw new MountError(
      "EIO",
      `${failed.length} of ${keys.length} objects were not deleted (first: ${first.Key ?? "?"}: ${first.Code ?? "?"} ${first.Message ?? ""})`.trim(),
      {
        path: relPaths[keys.indexOf(first.Key ?? "")] ?? relPaths[0] ?? "",
        transient: true,
        syscall: "unlink",
      },
    );
  }
}

/** HEAD one object; `undefined` when it does not exist. */
export async function headObject(
  ctx: S3Context,
  key: string,
  relPath: string,
): Promise<S3ObjectInfo | undefined> {
  const timer = new RequestTimer(ctx.timeoutMs, ctx.where(key));
  try {
    const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }), {
      abortSignal: timer.signal,
    });
    return {
      size: head.ContentLength ?? 0,
      etag: head.ETag,
      mtime: head.LastModified?.getTime(),
      meta: lowerKeys(head.Metadata),
    };
  } catch (error) {
    if (httpStatusOf(error) === 404) return undefined;
    return ctx.fail(error, { path: relPath, where: ctx.where(key), syscall: "stat" });
  } finally {
    timer.stop();
  }
}
