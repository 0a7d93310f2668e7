// A provider written by a stranger, in plain JavaScript, from @ws/core's published types and
// README alone: a Map of notes. Used by scripts/check-outside.mjs, which installs the packed
// @ws/core, @ws/workspace and @ws/testkit into an empty project outside the repository and runs
// the conformance suite against this file there. NOTES_BROKEN=leading-slash plants one mistake.
import { MountError } from "@ws/core";

export function NotesMount(notes, { prefix = "", ...options } = {}) {
  const writable = options.mode === "read-write";
  const keyOf = (path) => {
    if (
      typeof path !== "string" ||
      path === "" ||
      path.startsWith("/") ||
      path.split("/").some((s) => !s || s === "." || s === "..")
    ) {
      throw new MountError("EINVAL", `bad path ${JSON.stringify(path)}`, { path });
    }
    return `${prefix}/${path}`;
  };
  const guard = (path) => {
    if (!writable) throw new MountError("EROFS", `${path}: read-only notes`, { path });
  };
  return {
    kind: "notes",
    writable,
    options,
    async list() {
      const entries = [];
      for (const [key, note] of notes) {
        if (!key.startsWith(`${prefix}/`)) continue;
        const path = key.slice(prefix.length + 1);
        entries.push({
          // biome-ignore lint/suspicious/noUndeclaredEnvVars: set only by scripts/check-outside.mjs, never in a turbo task.
          path: process.env.NOTES_BROKEN === "leading-slash" ? `/${path}` : path,
          size: note.bytes.length,
          mtime: note.mtime,
        });
      }
      return entries;
    },
    async fetch(path) {
      const note = notes.get(keyOf(path));
      if (!note) throw new MountError("ENOENT", `${path}: no such note`, { path });
      return new Uint8Array(note.bytes);
    },
    async put(path, bytes, conditions = {}) {
      guard(path);
      if (conditions.ifMatch !== undefined || conditions.ifNoneMatch !== undefined) {
        throw new MountError("ENOTSUP", `${path}: notes have no versions to compare`, { path });
      }
      notes.set(keyOf(path), { bytes: new Uint8Array(bytes), mtime: Date.now() });
    },
    async delete(path) {
      guard(path);
      notes.delete(keyOf(path));
    },
  };
}
