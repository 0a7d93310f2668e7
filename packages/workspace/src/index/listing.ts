import {
  checkQuota,
  type MountDiagnostic,
  type MountEntry,
  type QuotaUsage,
  sanitizeEntries,
} from "@ws/core";
import type { MountRecord } from "../runtime/registry.js";

/** A folder the store keeps (a directory marker), with the mode stored on it, if any. */
export interface ListedFolder {
  readonly rel: string;
  readonly mode?: number | undefined;
}

/**
 * A listing made ready to become stubs: sanitised (skipped keys become diagnostics), cut to one
 * entry for a file mount, paths hidden by an inner single-file mount (`shadowed`) and ignored
 * paths dropped, then quota-checked. Throws `EDQUOT` before anything changes.
 */
export function prepareListing(
  record: MountRecord,
  raw: readonly MountEntry[],
  shadowed: readonly string[],
  diagnostic: (diagnostic: MountDiagnostic) => void,
): { entries: MountEntry[]; usage: QuotaUsage; folders: ListedFolder[] } {
  const root = record.root;
  const { entries: clean, skipped } = sanitizeEntries(raw, root);
  for (const d of skipped) diagnostic(d);
  // (ws mounts) Kept empty folders (directory markers) become folders, never stubs.
  const folders: ListedFolder[] = [];
  let entries = clean.filter((e) => {
    if (e.type !== "directory") return true;
    if (record.type === "directory" && !record.ignore(e.path)) {
      folders.push(e.mode === undefined ? { rel: e.path } : { rel: e.path, mode: e.mode & 0o7777 });
    }
    return false;
  });
  if (record.type === "file") {
    for (const extra of entries.slice(1)) {
      diagnostic({
        code: "duplicate-path",
        key: extra.path,
        root,
        message: `file mount ${root} listed more than one entry; kept ${entries[0]!.path}, skipped ${extra.path}`,
      });
    }
    entries = entries.slice(0, 1);
  } else {
    const hidden = new Set(shadowed);
    const ignore = record.ignore;
    entries = entries.filter((e) => {
      if (hidden.size > 0 && hidden.has(e.path)) {
        diagnostic({
          code: "shadowed",
          key: e.path,
          root,
          message: `${root}/${e.path} is hidden by the file mount at that path`,
        });
        return false;
      }
      return !ignore(e.path);
    });
  }
  const usage = checkQuota(entries, record.options, root);
  return { entries, usage, folders };
}
