import { fsError, toFsError } from "./fs-errors.js";
import type { Kind, MountView, Resolved } from "./namespace.js";
import type { Posix, PosixParts } from "./posix.js";

/**
 * The body of `rename` once the paths are checked: hydrate what moves (bytes must be local),
 * check the destination mount's quota, move in memfs, then put every new path and delete every
 * old one (not atomic on object stores: a reader may briefly see both).
 */
export async function renameOver(
  parts: PosixParts,
  posix: Posix,
  src: Resolved,
  sk: NonNullable<Kind>,
  dst: Resolved,
): Promise<void> {
  const { ns, vol, hydrator } = parts;
  const isDir = sk.type === "directory" || sk.type === "vdir";
  const dk = ns.kind(dst);
  if (dk) {
    const dstIsDir = dk.type === "directory" || dk.type === "vdir";
    if (isDir && !dstIsDir) throw fsError("ENOTDIR", "rename", dst.path);
    if (!isDir && dstIsDir) throw fsError("EISDIR", "rename", dst.path);
    if (dstIsDir && ns.readdir(dst.path).length > 0) throw fsError("ENOTEMPTY", "rename", dst.path);
  }
  posix.prepareParent(dst, "rename");
  // What is hydrated to move is held (content budget) until it has moved.
  const pins = hydrator.pins();
  try {
    // Bytes must be local to move them: hydrate the stubs being moved.
    if (sk.type === "stub") await hydrator.hydrate(sk.view, sk.slot, src.path, pins);
    if (isDir && src.view?.record.type === "directory") {
      await hydrator.hydrateUnder(src.view, src.rel, pins);
      if (ns.kind(src)?.type === "vdir") ns.mkdirp(src.path);
    }
    const moved = ns.memFilesUnder(src.path).map((abs) => {
      const rest = abs.slice(src.path.length);
      return { from: ns.resolve(abs), to: ns.resolve(dst.path + rest), size: vol.lstatSync(abs).size };
    });
    // Quota on the destination mount, before anything moves.
    const byDst = new Map<MountView, { bytes: number; entries: number }>();
    const dstOld =
      dk && dk.type !== "directory" && dk.type !== "vdir" && dst.view
        ? dk.type === "stub"
          ? dk.view.stubs.size(dk.slot)
          : dk.stats.size
        : -1;
    for (const m of moved) {
      if (!m.to.view || m.to.view === m.from.view) continue;
      const u = byDst.get(m.to.view) ?? { bytes: 0, entries: 0 };
      u.bytes += m.size;
      u.entries += 1;
      byDst.set(m.to.view, u);
    }
    if (dstOld >= 0 && dst.view) {
      const u = byDst.get(dst.view) ?? { bytes: 0, entries: 0 };
      u.bytes -= dstOld;
      u.entries -= 1;
      byDst.set(dst.view, u);
    }
    for (const [view, u] of byDst) view.quota.check(u.bytes, u.entries, dst.path);
    if (dstOld >= 0 && dst.view) dst.view.quota.remove(dstOld);
    for (const m of moved) {
      if (m.to.view && m.to.view !== m.from.view) m.to.view.quota.add(m.size, m.to.path);
    }
    if (dk?.type === "stub") dk.view.stubs.kill(dk.slot);
    if (dk?.type === "vdir") ns.mkdirp(dst.path);
    try {
      vol.renameSync(src.path, dst.path);
    } catch (error) {
      throw toFsError(error, src.path, "rename");
    }
    for (const m of moved) {
      if (m.from.view && m.from.view !== m.to.view) m.from.view.quota.remove(m.size);
    }
    // Put the new paths first, then delete the old ones (not atomic on object stores).
    for (const m of moved) posix.changed(m.to.view, m.to.rel);
    for (const m of moved) posix.changed(m.from.view, m.from.rel);
  } finally {
    pins.release();
  }
}
