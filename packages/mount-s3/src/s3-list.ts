import { type _Object, ListObjectsV2Command, type ListObjectsV2CommandOutput } from "@aws-sdk/client-s3";
import { decodePosixMetadata } from "@ws/core";
import { mapConcurrent, paginate, type RawEntry } from "@ws/provider-kit";
import { RequestTimer } from "./request-timer.js";
import { readInRanges, type S3Context } from "./s3-context.js";
import { headObject } from "./s3-write.js";

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

/** Decodes the keys of a page the server url-encoded; a server that ignored EncodingType sent them raw. */
function decodePage(
  ctx: S3Context,
  page: ListObjectsV2CommandOutput,
): { objects: _Object[]; folders: string[] } {
  const encoded = page.EncodingType?.toLowerCase() === "url";
  const objects: _Object[] = [];
  for (const object of page.Contents ?? []) {
    if (object.Key === undefined) continue;
    const key = encoded ? decodeKey(object.Key) : object.Key;
    if (key === undefined) {
      ctx.onDiagnostic?.({
        code: "invalid-path",
        key: object.Key,
        message: `skipped ${JSON.stringify(object.Key)}: the server's url-encoded key does not decode to UTF-8`,
      });
      continue;
    }
    objects.push({ ...object, Key: key });
  }
  const folders = (page.CommonPrefixes ?? []).flatMap((c) => {
    const decoded = c.Prefix === undefined ? undefined : encoded ? decodeKey(c.Prefix) : c.Prefix;
    return decoded === undefined ? [] : [decoded];
  });
  return { objects, folders };
}

function rawEntry(object: _Object & { Key: string }): RawEntry {
  return {
    key: object.Key,
    size: object.Size ?? 0,
    ...(object.LastModified ? { mtime: object.LastModified.getTime() } : {}),
    ...(object.ETag ? { etag: object.ETag } : {}),
  };
}

/** The pages of one ListObjectsV2 walk; folders (with a delimiter) are collected into `folders`. */
function pagesOf(
  ctx: S3Context,
  prefix: string,
  delimiter?: string,
  folders?: string[],
): AsyncGenerator<RawEntry[]> {
  return paginate<RawEntry, string>(
    async (token) => {
      let page: ListObjectsV2CommandOutput;
      // Bounded by the mount's timeoutMs, whatever the client's own settings (see RequestTimer).
      const timer = new RequestTimer(ctx.timeoutMs, ctx.where(prefix));
      try {
        page = await ctx.client.send(
          new ListObjectsV2Command({
            Bucket: ctx.bucket,
            Prefix: prefix === "" ? undefined : prefix,
            ContinuationToken: token,
            Delimiter: delimiter,
            // Keys travel percent-encoded: XML 1.0 cannot carry every character a key may hold,
            // and Swift answers 500 to a plain listing that contains a control character.
            EncodingType: "url",
          }),
          { abortSignal: timer.signal },
        );
      } catch (error) {
        return ctx.fail(error, { path: "", where: ctx.where(prefix), syscall: "scandir" });
      } finally {
        timer.stop();
      }
      const decoded = decodePage(ctx, page);
      folders?.push(...decoded.folders);
      return {
        items: decoded.objects.map((o) => rawEntry(o as _Object & { Key: string })),
        cursor: page.NextContinuationToken,
        truncated: page.IsTruncated === true,
      };
    },
    { what: ctx.where(prefix) },
  );
}

/**
 * The mode stored on each directory marker of a page (a zero-byte `folder/` key): listings carry no
 * metadata, so one HEAD per marker, `concurrency` at a time. Pages without markers cost nothing.
 */
async function withFolderModes(ctx: S3Context, page: RawEntry[]): Promise<RawEntry[]> {
  const markers = page.filter((e) => e.size === 0 && e.key.endsWith("/"));
  if (!ctx.folderModes || markers.length === 0) return page;
  const modes = new Map<string, number>();
  await mapConcurrent(markers, ctx.concurrency, async (entry) => {
    const info = await headObject(ctx, entry.key, "");
    const mode = decodePosixMetadata(info?.meta).mode;
    if (mode !== undefined) modes.set(entry.key, mode & 0o7777);
  });
  if (modes.size === 0) return page;
  return page.map((e) => {
    const mode = modes.get(e.key);
    return mode === undefined ? e : { ...e, mode };
  });
}

/**
 * Every object under `prefix`, page by page. With `parallelList`, each top-level folder gets its
 * own paginated listing, `concurrency` at a time. The sizes seen replace `ctx.listedSizes` once
 * the walk completes.
 */
export async function* listObjects(ctx: S3Context, prefix: string): AsyncGenerator<RawEntry[]> {
  const sizes = new Map<string, number>();
  const record = (page: RawEntry[]): RawEntry[] => {
    for (const entry of page) if (readInRanges(ctx, entry.size)) sizes.set(entry.key, entry.size);
    return page;
  };
  if (!ctx.parallelList) {
    for await (const page of pagesOf(ctx, prefix)) yield record(await withFolderModes(ctx, page));
  } else {
    const folders: string[] = [];
    for await (const page of pagesOf(ctx, prefix, "/", folders))
      yield record(await withFolderModes(ctx, page));
    const below = await mapConcurrent(folders, ctx.concurrency, async (folder) => {
      const entries: RawEntry[] = [];
      for await (const page of pagesOf(ctx, folder)) entries.push(...(await withFolderModes(ctx, page)));
      return entries;
    });
    for (const entries of below) yield record(entries);
  }
  ctx.listedSizes = sizes;
}
