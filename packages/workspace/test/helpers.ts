import { type LazyMount, MemoryMount, type MemoryMountOptions, type MountEntry, MountError } from "@ws/core";
import { expect } from "vitest";

export interface SpyMount extends LazyMount {
  readonly calls: { list: number; fetch: number; put: number; delete: number; dispose: number };
  /** Every put/delete in order, as "put a.txt" / "delete a.txt". */
  readonly log: string[];
  /**
   * Fail the next N calls of each kind. Put and delete failures are transient (a network blip:
   * the retry layer retries them); list and fetch failures are not, so a test sees them surface.
   */
  failures: { list: number; fetch: number; put: number; delete: number };
  /** While set, fetches wait for it. */
  fetchGate: Promise<void> | undefined;
  readonly inner: ReturnType<typeof MemoryMount>;
}

/** A MemoryMount that counts calls and fails on demand (never a fake of a real service: a wrapper). */
export function spyMount(options: MemoryMountOptions = {}): SpyMount {
  const inner = MemoryMount(options);
  const spy: SpyMount = {
    kind: "memory",
    strategy: "lazy",
    writable: inner.writable,
    options: inner.options,
    rootType: inner.rootType,
    inner,
    calls: { list: 0, fetch: 0, put: 0, delete: 0, dispose: 0 },
    log: [],
    failures: { list: 0, fetch: 0, put: 0, delete: 0 },
    fetchGate: undefined,
    async list(): Promise<MountEntry[]> {
      spy.calls.list++;
      if (spy.failures.list > 0) {
        spy.failures.list--;
        throw new MountError("EIO", "list failed on purpose");
      }
      return inner.list();
    },
    async fetch(relPath: string): Promise<Uint8Array> {
      spy.calls.fetch++;
      if (spy.fetchGate) await spy.fetchGate;
      if (spy.failures.fetch > 0) {
        spy.failures.fetch--;
        throw new MountError("EIO", "fetch failed on purpose", { path: relPath });
      }
      return inner.fetch(relPath);
    },
    async put(relPath: string, bytes: Uint8Array): Promise<void> {
      spy.calls.put++;
      if (spy.failures.put > 0) {
        spy.failures.put--;
        throw new MountError("EIO", "put failed on purpose", { path: relPath, transient: true });
      }
      spy.log.push(`put ${relPath}`);
      await inner.put(relPath, bytes);
    },
    async delete(relPath: string): Promise<void> {
      spy.calls.delete++;
      if (spy.failures.delete > 0) {
        spy.failures.delete--;
        throw new MountError("EIO", "delete failed on purpose", { path: relPath, transient: true });
      }
      spy.log.push(`delete ${relPath}`);
      return inner.delete(relPath);
    },
    dispose(): void {
      spy.calls.dispose++;
    },
  };
  return spy;
}

export function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

/** The stored text of a key in a spy mount's store. */
export function stored(mount: SpyMount, key: string): string | undefined {
  return text(mount.inner.store.get(key)?.bytes);
}

/** Never-failing retry settings so tests do not wait on back-off. */
export const fastRetry = { retries: 5, minDelayMs: 1, maxDelayMs: 2 } as const;

/** Byte equality without vitest's element-by-element diff (slow on megabytes). */
export function expectBytes(got: Uint8Array, want: Uint8Array, what = "bytes"): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const same =
    Buffer.compare(
      Buffer.from(got.buffer, got.byteOffset, got.byteLength),
      Buffer.from(want.buffer, want.byteOffset, want.byteLength),
    ) === 0;
  expect(same, `${what}: content differs`).toBe(true);
}
