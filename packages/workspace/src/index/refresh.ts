import type { MountEntry } from "@ws/core";
import type { MemVol } from "../mem-vol.js";
import type { ListingToken, Mirror } from "../mirror/mirror.js";
import { type Plan, plan, type UpstreamItem } from "../mirror/reconcile.js";
import type { WorkspaceContext } from "../runtime/context.js";
import { StubTable } from "../stub-table.js";
import type { MountView, Namespace } from "../vfs/namespace.js";
import type { ConflictSide, MountConflict, RefreshResult } from "../workspace-options.js";
import type { StagedFile, StagedTree } from "./eager-stage.js";

export interface RefreshParts {
  readonly ctx: WorkspaceContext;
  readonly ns: Namespace;
  readonly vol: MemVol;
  readonly view: MountView;
  readonly mirror: Mirror;
  /** Taken before the listing started: paths acknowledged since are newer than the listing. */
  readonly token?: ListingToken | undefined;
}

function sameVersion(a: MountEntry, b: MountEntry): boolean {
  if (a.etag !== undefined && b.etag !== undefined) return a.etag === b.etag && a.size === b.size;
  return a.size === b.size && a.mtime === b.mtime;
}

function side(entry: MountEntry): ConflictSide {
  return { exists: true, size: entry.size, mtimeMs: entry.mtime, etag: entry.etag };
}

/** Reports the plan's conflicts in order (event, counter, hook) and builds the result. */
async function report(parts: RefreshParts, planned: Plan): Promise<RefreshResult> {
  const { view, ctx } = parts;
  const abs = (rel: string): string => view.absOf(rel);
  const conflicts: MountConflict[] = [];
  for (const c of planned.conflicts) {
    const conflict: MountConflict = {
      kind: "refresh",
      root: view.root,
      relPath: c.rel,
      path: abs(c.rel),
      local: c.local,
      remote: c.remote,
      // The seed's names, as the hook and the event carry them.
      doRev: c.local,
      containerRev: c.remote,
    };
    conflicts.push(conflict);
    await ctx.conflict(conflict);
  }
  return {
    root: view.root,
    added: planned.added.map(abs),
    changed: planned.changed.map(abs),
    deleted: planned.deleted.map(abs),
    kept: planned.kept.map(abs),
    conflicts,
  };
}

/** Applies a new listing to a lazy mount already indexed. */
export async function refreshLazy(parts: RefreshParts, entries: MountEntry[]): Promise<RefreshResult> {
  const { ns, vol, view, mirror, token } = parts;
  const old = view.stubs;
  // A path this workspace wrote after the listing was taken keeps the local state: the listing is older.
  const newer = (rel: string): boolean => token !== undefined && mirror.ackedSince(token, rel);
  const next = new StubTable(entries);
  const items: Array<UpstreamItem & { readonly entry: MountEntry; readonly slot: number }> = [];
  for (let slot = 0; slot < next.length; slot++) {
    const entry = next.entry(slot);
    items.push({ rel: entry.path, side: side(entry), entry, slot });
  }
  const base = (rel: string): MountEntry | undefined => {
    const slot = old.find(rel);
    return slot >= 0 ? old.entry(slot) : undefined;
  };
  const localFile = (rel: string): ConflictSide | undefined => {
    const st = ns.memFile(view.absOf(rel));
    return st ? { exists: true, size: st.size, mtimeMs: st.mtimeMs } : undefined;
  };
  const planned = plan(
    {
      hasBase: (rel) => old.find(rel) >= 0,
      isLive: (rel) => old.findLive(rel) >= 0,
      sameAsBase: (item) => {
        const b = base(item.rel);
        return b !== undefined && sameVersion(b, item.entry);
      },
      liveRels: function* () {
        for (const slot of old.liveSlotsUnder("")) yield old.path(slot);
      },
    },
    items,
    {
      pending: (rel) => mirror.has(rel),
      newer,
      localOnly: (rel) => mirror.isLocalOnly(rel),
      file: localFile,
      upstreamKnown: (rel) => mirror.upstreamKnown(rel, old.find(rel) >= 0),
      ours: (item) => {
        // Versions, not sizes: our put's etag against the listed one, when both are known.
        const acked = mirror.ackedVersion(item.rel);
        if (acked !== undefined) {
          if (acked.etag !== undefined && item.entry.etag !== undefined)
            return acked.etag === item.entry.etag;
          return acked.size === item.entry.size;
        }
        const b = base(item.rel);
        return b !== undefined && sameVersion(b, item.entry);
      },
      knownBefore: (rel) => {
        // Our own acknowledged delete made it absent upstream: its absence is no news.
        const last = mirror.lastAck(rel);
        return last === undefined ? old.find(rel) >= 0 : last === "put";
      },
      fileRels: () => ns.memFilesUnder(view.root).map((abs) => view.relOf(abs)),
    },
  );
  const result = await report(parts, planned);
  const slotOf = new Map(items.map((item) => [item.rel, item.slot]));
  for (const [rel, action] of planned.actions) {
    if (action === "keep-local") {
      const slot = slotOf.get(rel);
      if (slot !== undefined) next.kill(slot);
    } else if (action === "delete-local" || ns.memFile(view.absOf(rel))) {
      // Upstream's version (a stub in the new table) replaces the local file, or upstream deleted it.
      vol.unlinkSync(view.absOf(rel));
      mirror.forget(rel);
    }
  }
  view.setStubs(next, entries[0]?.path);
  mirror.settle();
  ns.recount(view);
  return result;
}

/** Applies a new materialisation to an eager mount already indexed. */
export async function refreshEager(parts: RefreshParts, tree: StagedTree): Promise<RefreshResult> {
  const { ns, view, mirror } = parts;
  const abs = (rel: string): string => (rel === "" ? view.root : `${view.root}/${rel}`);
  type Item = UpstreamItem & { readonly file: StagedFile };
  const items: Item[] = [];
  for (const [rel, file] of tree.files) {
    items.push({ rel, side: { exists: true, size: file.bytes.length }, file });
  }
  const sameBytes = (item: Item): boolean => {
    const current = ns.memBytes(abs(item.rel));
    return current !== undefined && Buffer.compare(current, item.file.bytes) === 0;
  };
  const planned = plan<Item>(
    {
      hasBase: () => false,
      isLive: () => false,
      sameAsBase: sameBytes,
      liveRels: () => [],
    },
    items,
    {
      pending: (rel) => mirror.has(rel) || mirror.isLocalOnly(rel),
      newer: () => false,
      localOnly: () => false,
      file: (rel) => {
        const current = ns.memBytes(abs(rel));
        return current ? { exists: true, size: current.length } : undefined;
      },
      upstreamKnown: () => true,
      ours: sameBytes,
      knownBefore: () => false,
      fileRels: () => ns.memFilesUnder(view.root).map((p) => view.relOf(p)),
    },
  );
  const result = await report(parts, planned);
  for (const [rel, action] of planned.actions) {
    if (action === "take-upstream") {
      const file = tree.files.get(rel)!;
      ns.writeMem(abs(rel), file.bytes, file.mode, true);
    } else if (action === "delete-local") {
      parts.vol.unlinkSync(abs(rel));
    }
  }
  return result;
}
