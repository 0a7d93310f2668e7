import {
  type EagerMount,
  isEagerMount,
  type LazyMount,
  type MountEntry,
  MountError,
  parentPath,
  type QuotaUsage,
} from "@ws/core";
import { type IndexKey, NO_INDEX_STORE } from "../index-store.js";
import { type MemVol, memFileCreator } from "../mem-vol.js";
import type { ListingToken, Mirror } from "../mirror/mirror.js";
import type { WorkspaceContext } from "../runtime/context.js";
import { type MountRecord, type Registry, withRoot } from "../runtime/registry.js";
import { StubTable } from "../stub-table.js";
import type { MountView, Namespace } from "../vfs/namespace.js";
import type { IndexEvent, RefreshResult } from "../workspace-options.js";
import { commitStage, type StagedTree, stageEager } from "./eager-stage.js";
import { type ListedFolder, prepareListing } from "./listing.js";
import { refreshEager, refreshLazy } from "./refresh.js";

export interface IndexerParts {
  readonly ctx: WorkspaceContext;
  readonly registry: Registry;
  readonly ns: Namespace;
  readonly vol: MemVol;
  readonly mirror: (root: string) => Mirror;
  /** Runs a refresh with content-budget evictions stopped (its plan works from what is local). */
  readonly hold?: (<T>(fn: () => Promise<T>) => Promise<T>) | undefined;
}

/** Index passes (every pending mount, once, shared by concurrent callers), refresh, and the index store. */
export class Indexer {
  readonly #p: IndexerParts;
  #indexing: Promise<void> | undefined;
  /** Unsubscribe functions of the change feeds (`LazyMount.watch`) this host listens to, by root. */
  readonly #watching = new Map<string, () => void>();

  constructor(parts: IndexerParts) {
    this.#p = parts;
  }

  /** The pass in flight, if any (unmount and close wait for it). */
  get running(): Promise<void> | undefined {
    return this.#indexing;
  }

  /** Waits until every mount is indexed (sharing one pass between concurrent callers). */
  async ready(): Promise<void> {
    while (this.#p.registry.pending().length > 0) {
      this.#indexing ??= this.#pass().finally(() => {
        this.#indexing = undefined;
      });
      await this.#indexing;
    }
  }

  async #pass(): Promise<void> {
    const { registry, ctx } = this.#p;
    const pending = registry.pending();
    const resolved = await Promise.allSettled(pending.map((r) => registry.resolve(r)));
    const firstFailure = resolved.find((r) => r.status === "rejected");
    if (firstFailure) throw (firstFailure as PromiseRejectedResult).reason;
    registry.rebuildTable();
    const results = await Promise.allSettled(pending.map((r) => this.#index(r, false)));
    const errors: unknown[] = [];
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        const error = withRoot(r.reason, pending[i]!.root);
        errors.push(error);
        ctx.emit("error", { root: pending[i]!.root, op: "index", error });
      }
    });
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new MountError(
        "EIO",
        `${errors.length} mounts failed to index: ${errors.map(String).join("; ")}`,
        {
          cause: new AggregateError(errors),
        },
      );
    }
  }

  /** Lists (or re-materialises) one mount and applies upstream changes. */
  async refresh(record: MountRecord): Promise<RefreshResult> {
    let result: RefreshResult | undefined;
    try {
      const index = (): Promise<RefreshResult | undefined> => this.#index(record, true);
      result = await (this.#p.hold ? this.#p.hold(index) : index());
    } catch (error) {
      throw withRoot(error, record.root);
    }
    return result ?? { root: record.root, added: [], changed: [], deleted: [], kept: [], conflicts: [] };
  }

  /**
   * Subscribes to a mount's change feed: each call of `onChange` becomes one refresh through the
   * usual path (conflict rules included). Calls that arrive while a refresh runs are coalesced into
   * one more refresh after it, so the host never falls behind nor runs two at once.
   */
  #watch(record: MountRecord, mount: LazyMount): void {
    if (typeof mount.watch !== "function" || this.#watching.has(record.root)) return;
    let running = false;
    let again = false;
    const run = (): void => {
      if (!this.#watching.has(record.root)) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      this.refresh(record)
        .catch((error: unknown) => this.#p.ctx.emit("error", { root: record.root, op: "watch", error }))
        .finally(() => {
          running = false;
          if (again) {
            again = false;
            run();
          }
        });
    };
    this.#watching.set(record.root, () => undefined);
    const stop = mount.watch(run);
    this.#watching.set(record.root, stop);
  }

  /** Stops listening to a mount's change feed (unmount, close). */
  unwatch(root: string): void {
    const stop = this.#watching.get(root);
    this.#watching.delete(root);
    stop?.();
  }

  #key(record: MountRecord): IndexKey {
    return { sessionId: this.#p.ctx.config.sessionId, root: record.root, kind: record.kind };
  }

  async #index(record: MountRecord, refresh: boolean): Promise<RefreshResult | undefined> {
    const mount = record.mount!;
    if (isEagerMount(mount)) return this.#indexEager(record, mount, refresh);
    return this.#indexLazy(record, mount, refresh);
  }

  async #indexLazy(
    record: MountRecord,
    mount: LazyMount,
    refresh: boolean,
  ): Promise<RefreshResult | undefined> {
    const { ctx, ns, registry } = this.#p;
    const view = ns.view(record.root)!;
    const mirror = this.#p.mirror(record.root);
    let raw: readonly MountEntry[] | undefined;
    let fromStore = false;
    let indexedAt = Date.now();
    const key = this.#key(record);
    if (!refresh) {
      const stored = await ctx.config.indexStore.load(key);
      if (stored) {
        raw = stored.entries;
        indexedAt = stored.indexedAt;
        fromStore = true;
        ctx.stats.indexLoads++;
      }
    }
    const token = refresh ? mirror.listingStarted() : undefined;
    if (!raw) {
      raw = refresh && mount.refresh ? await mount.refresh() : await mount.list();
      if (!Array.isArray(raw)) {
        throw new MountError(
          "EIO",
          `mount ${record.root} (${mount.kind}): list() resolved to ${typeof raw}, not an array of entries; fix the provider's list()`,
          { path: record.root, root: record.root },
        );
      }
    }
    const { entries, usage, folders } = prepareListing(record, raw, registry.shadowedIn(record.root), (d) =>
      ctx.emit("diagnostic", d),
    );
    // Folders the store keeps (directory markers): real directories, known to the mirror, with
    // the mode stored on the marker. All are made before any mode is applied (a 0o555 folder
    // may hold others); a folder with a local change pending keeps its local mode.
    const modes: Array<[string, number]> = [];
    for (const { rel, mode } of folders) {
      const abs = view.absOf(rel);
      const k = ns.kind(ns.resolve(abs), false);
      if (k && k.type !== "directory" && k.type !== "vdir") continue;
      if (!k || k.type === "vdir") ns.mkdirp(abs);
      mirror.knownDirectory(rel);
      if (mode !== undefined && !mirror.has(rel)) modes.push([abs, mode]);
    }
    for (const [abs, mode] of modes) ns.chmodMem(abs, mode);
    let result: RefreshResult | undefined;
    if (refresh && record.phase === "ready") {
      result = await refreshLazy({ ctx, ns, vol: this.#p.vol, view, mirror, token }, entries);
      this.#dropGoneFolders(view, mirror, folders, token);
    } else {
      this.#commitStubs(view, entries, usage);
    }
    record.indexed(indexedAt);
    if (!refresh) this.#watch(record, mount);
    if (!fromStore) {
      await ctx.config.indexStore.save(key, { kind: mount.kind, entries: raw, indexedAt });
      mirror.saved();
    }
    ctx.emit("index", {
      root: record.root,
      kind: mount.kind,
      strategy: "lazy",
      entries: entries.length,
      bytes: usage.bytes,
      fromStore,
      refresh,
    } satisfies IndexEvent);
    return result;
  }

  /**
   * A kept folder whose marker is gone upstream (another writer removed it) goes locally too, when
   * it is empty, has no local change pending and was not made here after the listing started.
   * A folder that still holds something stays (its files imply it).
   */
  #dropGoneFolders(
    view: MountView,
    mirror: Mirror,
    folders: readonly ListedFolder[],
    token: ListingToken | undefined,
  ): void {
    const listed = new Set(folders.map((f) => f.rel));
    const { ns, vol } = this.#p;
    // Deepest first, so a parent emptied by its child's removal can go too.
    const kept = mirror.keptDirectories().sort((a, b) => b.length - a.length);
    for (const rel of kept) {
      if (listed.has(rel) || mirror.has(rel) || (token !== undefined && mirror.ackedSince(token, rel)))
        continue;
      const abs = view.absOf(rel);
      if (ns.kind(ns.resolve(abs), false)?.type !== "directory" || ns.readdir(abs).length > 0) continue;
      vol.rmdirSync(abs);
      mirror.forgetDirectory(rel);
    }
  }

  #commitStubs(view: MountView, entries: MountEntry[], usage: QuotaUsage): void {
    const { ns, vol } = this.#p;
    const stubs = new StubTable(entries);
    view.setStubs(stubs, entries[0]?.path);
    ns.mkdirp(view.record.type === "file" ? parentPath(view.root) : view.root);
    // Files already in the VFS under a root mounted at run time take precedence over stubs.
    let bytes = usage.bytes;
    let count = usage.entries;
    // A file mount over a directory mount's file: the outer mount's copy (read, not changed
    // locally) is not a local write, so it gives way to the new mount's file.
    const outer =
      view.record.type === "file" ? this.#p.registry.owner(parentPath(view.root))?.value : undefined;
    for (const abs of ns.memFilesUnder(view.root)) {
      if (outer && outer !== view.record && this.#outerCopy(outer, abs)) {
        vol.unlinkSync(abs);
        continue;
      }
      const slot = stubs.findLive(view.relOf(abs));
      if (slot >= 0) {
        bytes -= stubs.size(slot);
        count--;
        stubs.kill(slot);
      }
      bytes += vol.lstatSync(abs).size;
      count++;
    }
    view.setQuota({ bytes, entries: count });
  }

  /** `abs` holds the outer mount's own version (hydrated or materialised), not a local change. */
  #outerCopy(outer: MountRecord, abs: string): boolean {
    const outerView = this.#p.ns.view(outer.root);
    if (!outerView) return false;
    const rel = outerView.relOf(abs);
    const mirror = this.#p.mirror(outer.root);
    return !mirror.isModified(rel) && !mirror.has(rel);
  }

  async #indexEager(
    record: MountRecord,
    mount: EagerMount,
    refresh: boolean,
  ): Promise<RefreshResult | undefined> {
    const { ctx, ns, vol } = this.#p;
    const view = ns.view(record.root)!;
    const tree: StagedTree = await stageEager(record, mount);
    let result: RefreshResult | undefined;
    // Under a root that holds no file yet (the usual first index), every file is created by the
    // commit: its mode is set on creation and the quota is what was staged, so no chmod and no
    // stat per file. Otherwise (a run-time mount over existing files) a file may be overwritten.
    let fresh = false;
    if (refresh && record.phase === "ready") {
      result = await refreshEager({ ctx, ns, vol, view, mirror: this.#p.mirror(record.root) }, tree);
    } else {
      fresh = ns.memFilesUnder(record.root).length === 0;
      commitStage(record, tree, {
        mkdirp: (abs) => ns.mkdirp(abs),
        mkdir: (abs, mode) =>
          vol.mkdirSync(abs, { recursive: true, ...(mode === undefined ? {} : { mode }) }),
        writeFile: fresh ? memFileCreator(vol) : (abs, bytes, mode) => ns.writeMem(abs, bytes, mode, true),
        symlink: (target, abs) => ns.symlinkMem(target, abs),
      });
    }
    view.setStubs(undefined);
    if (fresh) {
      let bytes = tree.bytes;
      for (const rel of tree.links.keys()) bytes += vol.lstatSync(view.absOf(rel)).size;
      view.setQuota({ bytes, entries: tree.files.size + tree.links.size });
    } else {
      ns.recount(view);
    }
    record.indexed(Date.now());
    ctx.emit("index", {
      root: record.root,
      kind: mount.kind,
      strategy: "eager",
      entries: tree.files.size,
      bytes: tree.bytes,
      fromStore: false,
      refresh,
    });
    return result;
  }

  /** Saves a read-write lazy mount's listing as the provider now holds it (after acknowledged writes). */
  async save(record: MountRecord): Promise<void> {
    const { ctx, ns } = this.#p;
    const mount = record.mount;
    const mirror = this.#p.mirror(record.root);
    if (!mirror.dirty || !mount || isEagerMount(mount)) return;
    // No store (the default): nothing to build the listing for.
    if (ctx.config.indexStore === NO_INDEX_STORE) {
      mirror.saved();
      return;
    }
    const view = ns.view(record.root)!;
    const stubs = view.stubs;
    const entries: MountEntry[] = [];
    for (const slot of stubs.liveSlotsUnder("")) entries.push(stubs.entry(slot));
    for (const abs of ns.memFilesUnder(record.root)) {
      const rel = view.relOf(abs);
      if (mirror.has(rel) || mirror.isLocalOnly(rel)) continue;
      const slot = stubs.find(rel);
      const st = ns.memFile(abs);
      if (!st) {
        // Not readable now (a chmod): keep what the index knew of it.
        if (slot >= 0 && !mirror.isModified(rel)) entries.push(stubs.entry(slot));
        continue;
      }
      if (slot >= 0 && !mirror.isModified(rel)) entries.push(stubs.entry(slot));
      else if (mirror.isAcked(rel) || slot >= 0)
        entries.push({ path: rel, size: st.size, mtime: st.mtimeMs });
    }
    // Folders the store keeps (markers): a workspace that loads this index instead of listing
    // must still have them, with their modes.
    for (const rel of mirror.keptDirectories()) {
      if (mirror.has(rel)) continue;
      const abs = view.absOf(rel);
      if (ns.kind(ns.resolve(abs), false)?.type !== "directory") continue;
      const mode = ns.modeOf(abs);
      entries.push({ path: rel, size: 0, type: "directory", ...(mode === undefined ? {} : { mode }) });
    }
    await ctx.config.indexStore.save(this.#key(record), { kind: mount.kind, entries, indexedAt: Date.now() });
    mirror.saved();
  }
}
