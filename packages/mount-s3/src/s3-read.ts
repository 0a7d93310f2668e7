import {
  GetObjectCommand,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
} from "@aws-sdk/client-s3";
import { MountError } from "@ws/core";
import { mapConcurrent } from "@ws/provider-kit";
import { RequestTimer } from "./request-timer.js";
import { httpStatusOf, lowerKeys, readInRanges, type S3Context } from "./s3-context.js";
import type { BodyTarget, ResponseHead, SignedGet } from "./signed-get.js";

/** A body that ended before its announced length: transient (see s3-errors.ts). */
class TruncatedBody extends Error {
  override readonly name = "TruncatedBody";
}

/** Reads a GetObject body into `target` at `offset`; returns the number of bytes written. */
async function readInto(
  body: GetObjectCommandOutput["Body"],
  target: Uint8Array,
  offset: number,
  expected: number,
  timer: RequestTimer,
): Promise<number> {
  let written = 0;
  if (!body) return 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    timer.touch();
    if (written + chunk.length > expected) {
      throw new Error(`the server sent more than the ${expected} bytes it announced`);
    }
    target.set(chunk, offset + written);
    written += chunk.length;
  }
  return written;
}

/** Reads a body of unknown length into one exact, fresh Uint8Array. */
async function readAll(body: GetObjectCommandOutput["Body"], timer: RequestTimer): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (body) {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      timer.touch();
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

/** A whole (200) response body into one exact buffer, checking it is complete. */
async function readWhole(response: GetObjectCommandOutput, timer: RequestTimer): Promise<Uint8Array> {
  const length = response.ContentLength;
  if (length === undefined) return readAll(response.Body, timer);
  const out = new Uint8Array(length);
  const got = await readInto(response.Body, out, 0, length, timer);
  if (got !== length) throw new TruncatedBody(`received ${got} of ${length} bytes`);
  return out;
}

function totalFromContentRange(range: string | undefined): number | undefined {
  const match = /\/(\d+)\s*$/.exec(range ?? "");
  return match ? Number(match[1]) : undefined;
}

function changedWhileRead(ctx: S3Context, key: string, relPath: string): MountError {
  return new MountError(
    "ESTALE",
    `${ctx.where(key)} kept changing while it was being read in ranges; read it again`,
    {
      path: relPath,
      syscall: "read",
    },
  );
}

/**
 * One SDK GetObject bounded by the mount's `timeoutMs` (a client passed in may have no timeout at
 * all): the timer aborts the request until it answers, then watches the body's idle time. The
 * caller reads the body, then stops the timer.
 */
async function sdkGet(
  ctx: S3Context,
  input: GetObjectCommandInput,
): Promise<{ response: GetObjectCommandOutput; timer: RequestTimer }> {
  const timer = new RequestTimer(ctx.timeoutMs, ctx.where(input.Key ?? ""));
  try {
    const response = await ctx.client.send(new GetObjectCommand(input), { abortSignal: timer.signal });
    timer.body(response.Body);
    return { response, timer };
  } catch (error) {
    timer.stop();
    throw error;
  }
}

/** One GET of the whole object (the fast path when available, else the SDK). */
async function getWhole(ctx: S3Context, key: string, relPath: string, info: ReadInfo): Promise<Uint8Array> {
  const fast = await ctx.fastPath();
  if (fast) {
    try {
      const response = await fast.get({ key });
      info.meta = response.meta;
      info.etag = response.etag;
      if (response.contentLength !== undefined && response.received !== response.contentLength) {
        throw new TruncatedBody(`received ${response.received} of ${response.contentLength} bytes`);
      }
      return response.bytes;
    } catch (error) {
      return ctx.fail(error, { path: relPath, where: ctx.where(key), syscall: "open" });
    }
  }
  let got: { response: GetObjectCommandOutput; timer: RequestTimer };
  try {
    got = await sdkGet(ctx, { Bucket: ctx.bucket, Key: key });
  } catch (error) {
    return ctx.fail(error, { path: relPath, where: ctx.where(key), syscall: "open" });
  }
  const { response, timer } = got;
  info.meta = lowerKeys(response.Metadata);
  info.etag = response.ETag;
  try {
    return await readWhole(response, timer);
  } catch (error) {
    return ctx.fail(error, { path: relPath, where: ctx.where(key), syscall: "read" });
  } finally {
    timer.stop();
  }
}

/**
 * Parallel ranged GETs into one buffer. The first range tells the real size and the ETag; the
 * others carry If-Match with that ETag, so an object replaced half-way through cannot be
 * stitched together from two versions (a 412 restarts the read once with the new version, then
 * fails ESTALE: a consistency rule, not a retry of failures, which is the retry layer's).
 */
async function getRanged(
  ctx: S3Context,
  key: string,
  relPath: string,
  expected: number,
  info: ReadInfo,
  restarted = false,
): Promise<Uint8Array> {
  const context = { path: relPath, where: ctx.where(key), syscall: "read" };
  const rangeSize = Math.max(ctx.partSize, Math.ceil(expected / ctx.readStreams));
  const streams = Math.max(1, Math.min(ctx.readStreams, ctx.concurrency) - 1);
  const fast = await ctx.fastPath();
  if (fast) return getRangedFast(ctx, fast, key, relPath, expected, rangeSize, info, restarted);
  let first: GetObjectCommandOutput;
  let firstTimer: RequestTimer;
  try {
    ({ response: first, timer: firstTimer } = await sdkGet(ctx, {
      Bucket: ctx.bucket,
      Key: key,
      Range: `bytes=0-${rangeSize - 1}`,
    }));
  } catch (error) {
    // An empty object has no byte 0: 416. Read it whole instead.
    if (httpStatusOf(error) === 416) return getWhole(ctx, key, relPath, info);
    return ctx.fail(error, { ...context, syscall: "open" });
  }
  const total = totalFromContentRange(first.ContentRange);
  info.meta = lowerKeys(first.Metadata);
  info.etag = first.ETag;
  try {
    // The server ignored Range and sent everything (200).
    if (total === undefined || first.ContentRange === undefined) return await readWhole(first, firstTimer);
    const out = new Uint8Array(total);
    const firstLength = Math.min(rangeSize, total);
    const ranges: Array<[number, number]> = [];
    for (let start = firstLength; start < total; start += rangeSize) {
      ranges.push([start, Math.min(start + rangeSize, total) - 1]);
    }
    const etag = first.ETag;
    const firstRead = readInto(first.Body, out, 0, firstLength, firstTimer).then((got) => {
      if (got !== firstLength) throw new TruncatedBody(`range 0: received ${got} of ${firstLength} bytes`);
    });
    const rest = mapConcurrent(ranges, streams, async ([start, end]) => {
      const { response: part, timer } = await sdkGet(ctx, {
        Bucket: ctx.bucket,
        Key: key,
        Range: `bytes=${start}-${end}`,
        ...(etag ? { IfMatch: etag } : {}),
      });
      try {
        const length = end - start + 1;
        const got = await readInto(part.Body, out, start, length, timer);
        if (got !== length) throw new TruncatedBody(`range ${start}: received ${got} of ${length} bytes`);
      } finally {
        timer.stop();
      }
    });
    await Promise.all([firstRead, rest]);
    return out;
  } catch (error) {
    if (httpStatusOf(error) === 412) {
      if (!restarted) return getRanged(ctx, key, relPath, total ?? expected, info, true);
      throw changedWhileRead(ctx, key, relPath);
    }
    return ctx.fail(error, context);
  } finally {
    firstTimer.stop();
  }
}

/** getRanged over the fast path: every range lands directly in the one result buffer. */
async function getRangedFast(
  ctx: S3Context,
  fast: SignedGet,
  key: string,
  relPath: string,
  expected: number,
  rangeSize: number,
  info: ReadInfo,
  restarted: boolean,
): Promise<Uint8Array> {
  let out: Uint8Array | undefined;
  let total: number | undefined;
  const streams = Math.max(1, Math.min(ctx.readStreams, ctx.concurrency) - 1);
  // The other ranges start as soon as the first response's headers give the size and the ETag,
  // not after its body: every stream is busy from the start, as in rclone's multi-thread copy.
  let rest: Promise<void> | undefined;
  const startRest = (head: ResponseHead, whole: Uint8Array, size: number): Promise<void> => {
    const ranges: Array<[number, number]> = [];
    for (let start = Math.min(rangeSize, size); start < size; start += rangeSize) {
      ranges.push([start, Math.min(start + rangeSize, size) - 1]);
    }
    return mapConcurrent(ranges, streams, async ([start, end]) => {
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
    }).then(() => undefined);
  };
  try {
    const first = await fast.get({
      key,
      range: `bytes=0-${rangeSize - 1}`,
      place: (head: ResponseHead) => {
        info.meta = head.meta;
        info.etag = head.etag;
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
    const status = httpStatusOf(error);
    // An empty object has no byte 0: 416. Read it whole instead.
    if (status === 416 && out === undefined) return getWhole(ctx, key, relPath, info);
    if (status === 412) {
      if (!restarted) return getRanged(ctx, key, relPath, total ?? expected, info, true);
      throw changedWhileRead(ctx, key, relPath);
    }
    return ctx.fail(error, {
      path: relPath,
      where: ctx.where(key),
      syscall: out === undefined ? "open" : "read",
    });
  }
}

/** One object, whole: by parallel ranged GETs when the last listing said it is large. */
export function readObject(
  ctx: S3Context,
  key: string,
  relPath: string,
  info: ReadInfo = {},
): Promise<Uint8Array> {
  const known = ctx.listedSizes.get(key);
  if (known !== undefined && readInRanges(ctx, known)) {
    return getRanged(ctx, key, relPath, known, info);
  }
  return getWhole(ctx, key, relPath, info);
}

/**
 * Bytes `[start, end)` of one object by one ranged GET (the fast path when available, else the
 * SDK). Past the end the server answers 416: an empty array, as the contract says. A server that
 * ignores Range (200) sent the whole object: the asked part is cut from it.
 */
export async function readRange(
  ctx: S3Context,
  key: string,
  relPath: string,
  start: number,
  end: number,
  into?: Uint8Array,
): Promise<Uint8Array> {
  const range = `bytes=${start}-${end - 1}`;
  const context = { path: relPath, where: ctx.where(key), syscall: "read" };
  const want = end - start;
  const fast = await ctx.fastPath();
  if (fast) {
    // A 206 that fits goes into the caller's buffer (a reader's reused window, see
    // `LazyMount.fetchRange`); anything else into a fresh exact buffer, as without one.
    const place =
      into === undefined
        ? undefined
        : (head: ResponseHead): BodyTarget => {
            const length = head.contentLength ?? 0;
            return head.status === 206 && length <= into.length
              ? { target: into.subarray(0, length), offset: 0 }
              : { target: new Uint8Array(length), offset: 0 };
          };
    try {
      const response = await fast.get({ key, range, place, transport: "node" });
      if (response.contentLength !== undefined && response.received !== response.contentLength) {
        throw new TruncatedBody(`received ${response.received} of ${response.contentLength} bytes`);
      }
      if (response.status !== 206) return cut(response.bytes, start, end);
      return exact(response.bytes, want);
    } catch (error) {
      if (httpStatusOf(error) === 416) return new Uint8Array(0);
      return ctx.fail(error, context);
    }
  }
  let got: { response: GetObjectCommandOutput; timer: RequestTimer };
  try {
    got = await sdkGet(ctx, { Bucket: ctx.bucket, Key: key, Range: range });
  } catch (error) {
    if (httpStatusOf(error) === 416) return new Uint8Array(0);
    return ctx.fail(error, context);
  }
  const { response, timer } = got;
  try {
    const bytes = await readWhole(response, timer);
    if (response.ContentRange === undefined) return cut(bytes, start, end);
    return exact(bytes, want);
  } catch (error) {
    return ctx.fail(error, context);
  } finally {
    timer.stop();
  }
}

/** The part `[start, end)` of a whole object a server sent despite the Range header. */
function cut(whole: Uint8Array, start: number, end: number): Uint8Array {
  return whole.slice(Math.min(start, whole.length), Math.min(end, whole.length));
}

/** A 206 body: never more than asked (a fresh exact copy only if the server sent extra). */
function exact(bytes: Uint8Array, want: number): Uint8Array {
  return bytes.length > want ? bytes.slice(0, want) : bytes;
}

/** (ws mounts) What a read learnt beside the bytes: the object's user metadata and ETag. */
export interface ReadInfo {
  meta?: Record<string, string> | undefined;
  etag?: string | undefined;
}
