import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { MountError, type PutSource } from "@ws/core";
import type { HostFile } from "./diff.js";

/** The buffer a sparse file is scanned with, and the size of the zero blocks that count as holes. */
const SCAN_BYTES = 1024 * 1024;
const HOLE_BLOCK = 64 * 1024;

/** A `PutSource` over a file in the exec directory, open until `close()`. */
export interface HostSource extends PutSource {
  close(): Promise<void>;
}

async function openChecked(file: HostFile): Promise<FileHandle> {
  // Never through a link, never blocking on a FIFO swapped in since the walk.
  const handle = await open(file.hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const st = await handle.stat();
  if (!st.isFile() || st.ino !== file.ino || st.size !== file.size) {
    await handle.close();
    throw new MountError(
      "EAGAIN",
      `${file.hostPath} changed while it was being read; the next exec takes it`,
      {
        path: file.hostPath,
        transient: true,
      },
    );
  }
  return handle;
}

async function readAt(handle: FileHandle, target: Uint8Array, position: number): Promise<number> {
  let got = 0;
  while (got < target.length) {
    const { bytesRead } = await handle.read(target, got, target.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * Where a sparse file's data is. Node has no `SEEK_DATA`, so the file is read once through one
 * buffer of `SCAN_BYTES` (holes cost the kernel no disk reads) and every all-zero block of
 * `HOLE_BLOCK` bytes counts as a hole: memory stays one buffer whatever the file's size.
 */
async function extentsOf(handle: FileHandle, size: number): Promise<Array<[number, number]>> {
  const extents: Array<[number, number]> = [];
  const buffer = new Uint8Array(SCAN_BYTES);
  const zero = new Uint8Array(HOLE_BLOCK);
  for (let at = 0; at < size; at += SCAN_BYTES) {
    const n = await readAt(handle, buffer.subarray(0, Math.min(SCAN_BYTES, size - at)), at);
    for (let i = 0; i < n; i += HOLE_BLOCK) {
      const block = buffer.subarray(i, Math.min(n, i + HOLE_BLOCK));
      if (Buffer.compare(block, zero.subarray(0, block.length)) === 0) continue;
      const start = at + i;
      const end = at + i + block.length;
      const last = extents.at(-1);
      if (last && last[1] === start) last[1] = end;
      else extents.push([start, end]);
    }
  }
  return extents;
}

/**
 * Opens a large file the command left as a `PutSource`: read at any offset, never as a whole,
 * and, when it has holes, with their places as `extents` (holes are then never read again).
 * Rejects `EAGAIN` when it is no longer the file the walk saw.
 */
export async function openHostSource(file: HostFile): Promise<HostSource> {
  const handle = await openChecked(file);
  try {
    const extents = file.sparse ? await extentsOf(handle, file.size) : undefined;
    return {
      size: file.size,
      ...(extents ? { extents } : {}),
      async read(start, end) {
        const out = new Uint8Array(end - start);
        const n = await readAt(handle, out, start);
        if (n !== out.length) {
          throw new MountError("EAGAIN", `${file.hostPath} became shorter while it was being read`, {
            path: file.hostPath,
            transient: true,
          });
        }
        return out;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The whole file in memory (a mount that cannot take it part by part), checked as `openHostSource` does. */
export async function readHostFile(file: HostFile): Promise<Uint8Array> {
  const handle = await openChecked(file);
  try {
    const bytes = new Uint8Array(file.size);
    if ((await readAt(handle, bytes, 0)) !== file.size) {
      throw new MountError("EAGAIN", `${file.hostPath} became shorter while it was being read`, {
        path: file.hostPath,
        transient: true,
      });
    }
    return bytes;
  } finally {
    await handle.close();
  }
}
