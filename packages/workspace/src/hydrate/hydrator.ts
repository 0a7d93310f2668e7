import {
  type FetchResult,
  fetchWithInfoOf,
  isEagerMount,
  MountError,
  resolveLinkWithinRoot,
  S_IFLNK,
  S_IFMT,
  toMountError,
} from "@ws/core";
import { mapConcurrent } from "@ws/provider-kit";
import type { MemVol } from "../mem-vol.js";
import type { WorkspaceContext } from "../runtime/context.js";
import { fsError } from "../vfs/fs-errors.js";
import type { MountView, Namespace, Resolved } from "../vfs/namespace.js";
import type { PrefetchOptions, PrefetchResult } from "../workspace-options.js";
import type { ContentCache, PinSet } from "./content-cache.js";
import { type HandleSource, memSource, rangeSource } from "./file-handle.js";

/** Stub → memfs file: one fetch per path shared by concurrent readers, and prefetch. */
export class Hydrator {
  readonly #ctx: WorkspaceContext;
  readonly #ns: Namespace;
  readonly #vol: MemVol;
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #cache: ContentCache;

  constructor(ctx: WorkspaceContext, ns: Namespace, vol: MemVol, cache: ContentCache) {
    this.#ctx = ctx;
    this.#ns = ns;
    this.#vol = vol;
    this.#cache = cache;
  }

  /**
   * Hydrates a stub (one fetch per path, shared by concurrent readers). With `pins` the file stays
   * local until the caller releases them (see ContentCache); prefetch pins nothing.
   */
  hydrate(view: MountView, slot: number, abs: string, pins?: PinSet): Promise<void> {
    pins?.add(abs);
    const running = this.#inflight.get(abs);
    if (running) {
      this.#ctx.stats.dedupHits++;
      return running;
    }
    const promise = this.#fetch(view, slot, abs).finally(() => {
      this.#inflight.delete(abs);
    });
    this.#inflight.set(abs, promise);
    return promise;
  }

  async #fetch(view: MountView, slot: number, abs: string): Promise<void> {
    const stubs = view.stubs;
    const rel = stubs.path(slot);
    const { bytes, info } = await this.#download(view, rel, abs);
    // A write or delete while the fetch was in flight wins over the fetched bytes.
    if (view.stubs === stubs && stubs.isLive(slot)) {
      // Metadata stored with the object (mode, mtime) wins over the listing's defaults.
      const stored = info?.mode;
      if (stored !== undefined && (stored & S_IFMT) === S_IFLNK && this.#linkAllowed(view, abs, bytes)) {
        stubs.kill(slot);
        this.#ns.mkdirp(abs.slice(0, abs.lastIndexOf("/")) || "/");
        this.#ns.symlinkMem(new TextDecoder().decode(bytes), abs);
        return;
      }
      const mode = stored !== undefined && Number.isInteger(stored) ? stored & 0o7777 : stubs.mode(slot);
      // The fetch contract gives us a fresh array nobody else holds: memfs adopts it, no copy.
      // A stub without a mode was shown as 0o644 (the default umask): it stays so once read.
      this.#ns.writeMem(abs, bytes, mode === 0 ? 0o644 : mode, true);
      const mtime = info?.mtime !== undefined && Number.isFinite(info.mtime) ? info.mtime : stubs.mtime(slot);
      if (!Number.isNaN(mtime)) this.#vol.utimesSync(abs, mtime / 1000, mtime / 1000);
      stubs.kill(slot);
      this.#cache.added(view, rel, abs);
    }
  }

  /**
   * The bytes of the stub in `slot` when it is too large to keep (`cache.maxFileBytes` or the
   * budget), handed over as they came from the provider (one buffer, no copy) and not kept: the
   * file stays a stub. `undefined` when it is not such a stub (the caller hydrates it as usual).
   */
  async #handOver(view: MountView, slot: number, abs: string): Promise<Buffer | undefined> {
    if (!this.#cache.passThrough(view.stubs.size(slot))) return undefined;
    const { bytes, info } = await this.#download(view, view.stubs.path(slot), abs);
    // A stored link is tiny and never passes through; if one did, read it the usual way.
    if (info?.mode !== undefined && (info.mode & S_IFMT) === S_IFLNK) return undefined;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** One fetch (with the stored metadata when the mount has it); failures as `ws.fs` reports them. */
  async #download(
    view: MountView,
    rel: string,
    abs: string,
  ): Promise<{ bytes: Uint8Array; info: FetchResult | undefined }> {
    const mount = view.record.mount;
    let bytes: Uint8Array;
    let info: FetchResult | undefined;
    // Counters and provider failures reach stats and events through the observe layer; the
    // host's own failures (no mount, not bytes) are reported here.
    let fromProvider = false;
    try {
      if (!mount || isEagerMount(mount))
        throw new MountError("EIO", `${abs} has no lazy mount to fetch from`);
      fromProvider = true;
      const fetchWithInfo = fetchWithInfoOf(mount);
      if (fetchWithInfo) {
        info = await fetchWithInfo.call(mount, rel);
        bytes = info?.bytes;
      } else bytes = await mount.fetch(rel);
      fromProvider = false;
      if (!(bytes instanceof Uint8Array))
        throw new MountError("EIO", `fetch(${rel}) did not return a Uint8Array`);
    } catch (cause) {
      // A provider error that carries a POSIX code keeps it (a MountError, or a Node-style `code`).
      const code = toMountError(cause).code;
      const error = new MountError(
        code,
        `cannot read ${abs}: fetch from mount ${view.root} (${mount?.kind ?? "?"}) failed: ${
          cause instanceof Error ? cause.message : String(cause)
        }; the file stays a stub and the next read retries`,
        { path: abs, root: view.root, syscall: "open", cause },
      );
      if (!fromProvider) this.#ctx.emit("error", { root: view.root, path: abs, op: "fetch", error });
      throw error;
    }
    return { bytes, info };
  }

  /**
   * A stored link becomes a link under a read-write mount (the user's own data, kept verbatim);
   * under a read-only one only when its target stays inside the mount root (the stricter rule for
   * content the user may not control). Otherwise the file keeps the target as its text.
   */
  #linkAllowed(view: MountView, abs: string, bytes: Uint8Array): boolean {
    if (view.record.writable) return true;
    try {
      resolveLinkWithinRoot(view.root, abs, new TextDecoder().decode(bytes));
      return true;
    } catch {
      return false;
    }
  }

  /** A pin set for one operation: release it once done with the files it holds. */
  pins(): PinSet {
    return this.#cache.pins();
  }

  /**
   * Resolves a path to a memfs file, hydrating a stub first. Throws ENOENT/EISDIR. The file is
   * added to `pins` (the caller reads it next and then releases them).
   */
  async materializeFile(path: string, syscall: string, pins: PinSet): Promise<Resolved> {
    return (await this.#materialize(path, syscall, pins, false)) as Resolved;
  }

  /**
   * `readFile`'s way in: as `materializeFile`, except that a stub too large to keep is fetched
   * and its bytes handed over instead of hydrated (see `#handOver`).
   */
  materializeOrHandOver(path: string, syscall: string, pins: PinSet): Promise<Resolved | Buffer> {
    return this.#materialize(path, syscall, pins, true);
  }

  async #materialize(
    path: string,
    syscall: string,
    pins: PinSet,
    handOver: boolean,
  ): Promise<Resolved | Buffer> {
    let r = this.#ns.resolve(path, true);
    // Each round hydrates one stub on the way: the file itself, or a link it leads through (a
    // listing cannot tell a stored link from a file, so a stub may turn into one), after which
    // the path is resolved again. A chain of links ends within the host's link limit.
    for (let round = 0; round < 42; round++) {
      const k = this.#ns.kind(r, true);
      if (!k) {
        const through = this.#stubOnTheWay(r);
        if (!through) throw fsError("ENOENT", syscall, r.path);
        await this.hydrate(
          through.view,
          through.slot,
          through.view.absOf(through.view.stubs.path(through.slot)),
        );
        r = this.#ns.resolve(path, true);
        continue;
      }
      if (k.type === "stub") {
        const bytes = handOver ? await this.#handOver(k.view, k.slot, r.path) : undefined;
        if (bytes) return bytes;
        await this.hydrate(k.view, k.slot, r.path, pins);
        r = this.#ns.resolve(path, true);
        continue;
      }
      if (k.type === "vdir" || k.type === "directory") throw fsError("EISDIR", syscall, r.path);
      // The caller reads it next: it stays local until released, and counts as used.
      pins.add(r.path);
      this.#cache.touched(r.path);
      return r;
    }
    throw fsError("ELOOP", syscall, r.path);
  }

  /** The live stub of a folder on `r`'s way (`a` of `a/b/c`), on a mount that stores links. */
  #stubOnTheWay(r: Resolved): { view: MountView; slot: number } | undefined {
    const view = r.view;
    if (!view || view.record.type === "file" || view.record.mount?.symlinks !== true) return undefined;
    for (let cut = r.rel.indexOf("/"); cut > 0; cut = r.rel.indexOf("/", cut + 1)) {
      const slot = view.stubs.findLive(r.rel.slice(0, cut));
      if (slot >= 0) return { view, slot };
    }
    return undefined;
  }

  /**
   * What a file handle reads: a stub of a mount with `fetchRange` is read in ranges and never
   * hydrated; anything else (a memfs file, a stub of a mount without ranges, hydrated first) through
   * a memfs descriptor of the handle's own.
   */
  async openSource(path: string): Promise<HandleSource> {
    const r = this.#ns.resolve(path, true);
    const k = this.#ns.kind(r, true);
    if (k?.type === "stub") {
      const { view, slot } = k;
      const mount = view.record.mount;
      if (mount && !isEagerMount(mount) && typeof mount.fetchRange === "function") {
        const fetchRange = mount.fetchRange;
        const rel = view.stubs.path(slot);
        const abs = r.path;
        return rangeSource(abs, this.#ns.stat(abs, true), async (start, end, into) => {
          try {
            const bytes = await fetchRange.call(mount, rel, start, end, into);
            if (!(bytes instanceof Uint8Array))
              throw new MountError("EIO", `fetchRange(${rel}) did not return a Uint8Array`);
            return bytes;
          } catch (cause) {
            throw new MountError(
              toMountError(cause).code,
              `cannot read ${abs} [${start}, ${end}): fetchRange from mount ${view.root} (${mount.kind}) failed: ${
                cause instanceof Error ? cause.message : String(cause)
              }`,
              { path: abs, root: view.root, syscall: "read", cause },
            );
          }
        });
      }
    }
    const pins = this.#cache.pins();
    try {
      const m = await this.materializeFile(path, "open", pins);
      return memSource(this.#vol, m.path);
    } finally {
      pins.release();
    }
  }

  /** Hydrates every live stub under a directory of one view, `concurrency` at a time. */
  async hydrateUnder(view: MountView, relDir: string, pins: PinSet): Promise<void> {
    const slots = [...view.stubs.liveSlotsUnder(relDir)];
    await mapConcurrent(slots, this.#ctx.config.concurrency, (slot) =>
      this.hydrate(view, slot, view.absOf(view.stubs.path(slot)), pins),
    );
  }

  /** Hydrates every stub of the given mounts. Failures stay stubs and are listed. */
  async prefetch(views: readonly MountView[], options: PrefetchOptions): Promise<PrefetchResult> {
    const jobs: Array<{ view: MountView; slot: number; abs: string }> = [];
    for (const view of views) {
      for (const slot of view.stubs.liveSlotsUnder("")) {
        jobs.push({ view, slot, abs: view.absOf(view.stubs.path(slot)) });
      }
    }
    let done = 0;
    let bytes = 0;
    let files = 0;
    const failed: Array<{ path: string; error: unknown }> = [];
    await mapConcurrent(jobs, options.concurrency ?? this.#ctx.config.concurrency, async (job) => {
      const size = job.view.stubs.size(job.slot);
      try {
        // Not pinned: under a content budget a prefetch larger than it keeps the most recent files.
        if (job.view.stubs.isLive(job.slot)) await this.hydrate(job.view, job.slot, job.abs);
        files++;
        bytes += size;
      } catch (error) {
        failed.push({ path: job.abs, error });
      }
      done++;
      options.onProgress?.({ root: job.view.root, done, total: jobs.length, bytes, path: job.abs });
    });
    return { files, bytes, failed };
  }
}
