import type { ConflictSide } from "../workspace-options.js";

/**
 * The refresh reconciler as a pure function: what upstream lists now, what the index held
 * before, and the local facts of each path in; what to do with each path, what to report and
 * which conflicts to raise out. One plan for lazy mounts (upstream is a listing, local content
 * is memfs over stubs) and eager ones (upstream is a materialised tree, local content is memfs).
 */

/** One upstream path, as listed (lazy) or materialised (eager). */
export interface UpstreamItem {
  readonly rel: string;
  /** The conflict side of the upstream version. */
  readonly side: ConflictSide;
}

/** What the previous index knew (for an eager mount: nothing but what is in memfs). */
export interface OldIndex<T extends UpstreamItem = UpstreamItem> {
  /** The index had `rel` (live or not): a base version exists. */
  hasBase(rel: string): boolean;
  /** The index still shows `rel` as an unfetched stub. */
  isLive(rel: string): boolean;
  /** Upstream's version equals the base version (lazy: etag/size/mtime; eager: the bytes held). */
  sameAsBase(item: T): boolean;
  /** Paths still shown as stubs. */
  liveRels(): Iterable<string>;
}

/** What the workspace knows locally. */
export interface LocalFacts<T extends UpstreamItem = UpstreamItem> {
  /** A local write the provider has not acknowledged (eager: local-only changes count too). */
  pending(rel: string): boolean;
  /** This workspace's write of `rel` was acknowledged after the listing was taken (the listing is older). */
  newer(rel: string): boolean;
  /** Changed by exec under a read-only mount: stays as it is locally. */
  localOnly(rel: string): boolean;
  /** The local file (memfs content) of `rel`, or undefined. */
  file(rel: string): ConflictSide | undefined;
  /** Upstream is known to hold what the local file holds (base unmodified, or our acknowledged put). */
  upstreamKnown(rel: string): boolean;
  /** The local file is this upstream version (ours, or identical). */
  ours(item: T): boolean;
  /** A pending path missing upstream was known there before (a conflict to report). */
  knownBefore(rel: string): boolean;
  /** Paths with local files. */
  fileRels(): Iterable<string>;
}

/**
 * What happens to a path: `keep-local` (upstream's version is not applied), `take-upstream`
 * (the local file gives way to upstream's version), `delete-local` (upstream deleted it).
 * Paths with no action get upstream's version (a stub, or the materialised file) as listed.
 */
export type Action = "keep-local" | "take-upstream" | "delete-local";

export interface PlannedConflict {
  readonly rel: string;
  readonly local: ConflictSide;
  readonly remote: ConflictSide;
}

export interface Plan {
  readonly added: string[];
  readonly changed: string[];
  readonly deleted: string[];
  readonly kept: string[];
  readonly conflicts: PlannedConflict[];
  readonly actions: Map<string, Action>;
}

export function plan<T extends UpstreamItem>(
  old: OldIndex<T>,
  upstream: Iterable<T>,
  local: LocalFacts<T>,
): Plan {
  const out: Plan = { added: [], changed: [], deleted: [], kept: [], conflicts: [], actions: new Map() };
  const seen = new Set<string>();
  const conflict = (rel: string, remote: ConflictSide): void => {
    out.conflicts.push({ rel, local: local.file(rel) ?? { exists: false }, remote });
  };
  for (const item of upstream) {
    const rel = item.rel;
    seen.add(rel);
    if (local.newer(rel) && !local.pending(rel)) {
      // The listing predates our acknowledged write: what it says of this path is stale.
      out.actions.set(rel, "keep-local");
      continue;
    }
    if (local.pending(rel)) {
      out.kept.push(rel);
      // Upstream changed since the base, and not by our own acknowledged write: a conflict.
      // (A listing taken while our own write was in flight may show that write: no news either.)
      if (!old.sameAsBase(item) && !local.ours(item) && !local.newer(rel)) conflict(rel, item.side);
      out.actions.set(rel, "keep-local");
      continue;
    }
    if (local.file(rel)) {
      if (!local.upstreamKnown(rel)) {
        // Local-only content (an exec change under a read-only mount): keep it.
        out.kept.push(rel);
        if (!old.sameAsBase(item)) conflict(rel, item.side);
        out.actions.set(rel, "keep-local");
      } else if (local.ours(item)) {
        out.actions.set(rel, "keep-local");
      } else {
        out.changed.push(rel);
        out.actions.set(rel, "take-upstream");
      }
      continue;
    }
    if (local.localOnly(rel)) {
      // Deleted locally by an exec under a read-only mount: stays deleted.
      out.actions.set(rel, "keep-local");
      continue;
    }
    if (old.isLive(rel)) {
      if (!old.sameAsBase(item)) {
        out.changed.push(rel);
        out.actions.set(rel, "take-upstream");
      }
    } else {
      out.added.push(rel);
      out.actions.set(rel, "take-upstream");
    }
  }
  // Paths that disappeared upstream.
  for (const rel of old.liveRels()) if (!seen.has(rel)) out.deleted.push(rel);
  for (const rel of local.fileRels()) {
    if (seen.has(rel)) continue;
    if (local.newer(rel) && !local.pending(rel)) continue;
    if (local.pending(rel)) {
      if (local.knownBefore(rel) && !local.newer(rel)) {
        out.kept.push(rel);
        conflict(rel, { exists: false });
      }
      continue;
    }
    if (local.upstreamKnown(rel)) {
      out.deleted.push(rel);
      out.actions.set(rel, "delete-local");
    }
  }
  return out;
}
