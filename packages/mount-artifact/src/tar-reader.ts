import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, type Gunzip } from "node:zlib";
import { MountError, quotaExceeded } from "@ws/core";
import { extract, type Headers } from "tar-stream";
import { archiveError } from "./archive-error.js";
import type { InflateBudget } from "./bundle-limits.js";
import type { ArchiveMember, BundleTree, MemberType } from "./bundle-tree.js";

const FEED_CHUNK = 1024 * 1024;

/**
 * tar-stream holds a pax or GNU long-name record in memory until it is complete; such records are
 * a few hundred bytes in real archives. A record claiming gigabytes would make it buffer them all,
 * so more than this many bytes waiting inside the parser is refused.
 */
export const MAX_PARSER_BUFFER: number = 32 * 1024 * 1024;

const TYPES: Readonly<Record<string, MemberType>> = {
  file: "file",
  "contiguous-file": "file",
  directory: "directory",
  symlink: "symlink",
  link: "hardlink",
  "character-device": "character-device",
  "block-device": "block-device",
  fifo: "fifo",
};

/**
 * Streams a tar (or gzip-compressed tar) through `tar-stream` into the tree. Every inflated byte is
 * counted as it leaves gunzip, so the byte cap and the expansion ratio stop a bomb after at most one
 * decompressor chunk beyond the limit, never after the whole stream.
 */
export async function readTar(
  bytes: Uint8Array,
  gzip: boolean,
  tree: BundleTree,
  budget: InflateBudget,
  what: string,
): Promise<void> {
  const source = Readable.from(chunks(bytes), { objectMode: false, highWaterMark: FEED_CHUNK });
  const parser = extract();
  const limits = budget.limits;
  // Everything a tar stream carries besides member content: 512-byte headers, padding, long-name and
  // pax records. Bounded so that a stream of headers alone cannot grow without limit.
  const overhead = 2048 * (2 * limits.maxEntries + 16) + 16 * 1024 * 1024;
  const streamCap = limits.maxBytes + overhead;
  let gunzip: Gunzip | undefined;
  let inflated = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      inflated += chunk.length;
      try {
        if (inflated > streamCap) {
          throw quotaExceeded(
            "maxBytes",
            limits.maxBytes,
            inflated - overhead,
            budget.root,
            `${what} (tar stream)`,
          );
        }
        if (gunzip) budget.checkExpansion(inflated, gunzip.bytesWritten, what);
        // A private field of tar-stream 3 (pinned): what its parser holds while a record completes.
        const waiting = (parser as unknown as { _buffer?: { buffered?: number } })._buffer?.buffered ?? 0;
        if (waiting > MAX_PARSER_BUFFER) {
          throw new MountError(
            "EINVAL",
            `${what}: a tar header record (pax or GNU long name) runs past ${MAX_PARSER_BUFFER} bytes; refused`,
            { path: budget.root, root: budget.root },
          );
        }
      } catch (error) {
        done(error as Error);
        return;
      }
      done(null, chunk);
    },
  });
  // Event callbacks rather than `for await`: an async iterator per member costs more than parsing
  // the member (10,000 small files: about 2.5x slower). A guard's error destroys the parser, which
  // rejects the pipeline with that error.
  let failed = false;
  const fail = (error: unknown): void => {
    if (failed) return;
    failed = true;
    parser.destroy(error as Error);
  };
  parser.on("entry", (header: Headers, entry: NodeJS.ReadableStream, next: () => void) => {
    // Destroying the parser destroys the open member stream with the same error: the pipeline
    // reports it, so the member's own copy must not surface as an unhandled 'error'.
    entry.on("error", () => {});
    if (failed) return;
    try {
      const type = TYPES[header.type ?? ""] ?? "unknown";
      const parts: Buffer[] = [];
      let got = 0;
      if (type === "file") {
        budget.declare(header.size ?? 0, header.name);
        entry.on("data", (chunk: Buffer) => {
          if (failed) return;
          try {
            got += chunk.length;
            budget.addBytes(chunk.length, header.name);
            parts.push(chunk);
          } catch (error) {
            fail(error);
          }
        });
      } else {
        entry.resume();
      }
      entry.on("end", () => {
        if (failed) return;
        try {
          const member: ArchiveMember = {
            name: header.name,
            type,
            mode: header.mode,
            linkname: header.linkname ?? undefined,
            data: type === "file" ? memberBytes(parts, got, gzip) : undefined,
            owned: type === "file",
            rawType: header.type ?? "unknown typeflag",
          };
          tree.add(member);
          next();
        } catch (error) {
          fail(error);
        }
      });
    } catch (error) {
      fail(error);
    }
  });
  try {
    if (gzip) {
      gunzip = createGunzip({ chunkSize: 1024 * 1024 });
      await pipeline(source, gunzip, counter, parser);
    } else {
      await pipeline(source, counter, parser);
    }
  } catch (error) {
    throw archiveError(error, what, budget.root);
  }
}

function* chunks(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += FEED_CHUNK) yield bytes.subarray(i, i + FEED_CHUNK);
}

/**
 * A member's bytes as an array the tree may give away. Chunks out of gunzip are views into its
 * output buffers, which nothing else holds or writes again: a member inside one chunk is handed
 * over as that view, without a copy (the buffer stays alive while any file in it does, and the
 * files of one bundle live and go together). A member spanning chunks, and every member of a
 * plain tar (views into the caller's archive bytes), is copied once into an array of its own.
 */
function memberBytes(parts: Buffer[], length: number, gunzipped: boolean): Uint8Array {
  if (gunzipped && parts.length === 1) return parts[0] as Buffer;
  return concat(parts, length);
}

/** A fresh array of exactly `length` bytes holding `parts`: its own ArrayBuffer, no pool slab. */
function concat(parts: Buffer[], length: number): Uint8Array {
  // Not zeroed first: every byte is written below.
  const out: Uint8Array = Buffer.allocUnsafeSlow(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
