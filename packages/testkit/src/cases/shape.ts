import { isEagerMount, type MountEntry } from "@ws/core";
import { check, checkEqual, fail } from "../assert.js";
import { text } from "../bytes.js";
import { isAvailable } from "../capabilities.js";
import type { ConformanceCase } from "../case.js";

/**
 * What every listed entry must look like, checked field by field with one message naming the
 * entry. `list.path-hygiene` checks the paths again on their own; this case is the one the
 * summary leads with, because a malformed entry makes most other cases fail too.
 */
export function entryProblem(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== "object") return `an entry is ${String(entry)}, not an object`;
  const e = entry as Partial<Record<keyof MountEntry, unknown>>;
  const p = e.path;
  if (typeof p !== "string" || p === "") return `an entry has an empty or non-string path: ${show(entry)}`;
  const name = JSON.stringify(p);
  if (p.startsWith("/")) return `list path ${name} starts with / (paths are relative to the mount root)`;
  if (p.endsWith("/")) return `list path ${name} ends with / (directories are not entries)`;
  if (p.includes("\0")) return `list path ${name} contains NUL`;
  for (const segment of p.split("/")) {
    if (segment === "" || segment === "." || segment === "..")
      return `list path ${name} has a ${JSON.stringify(segment)} segment`;
  }
  if (typeof e.size !== "number" || !Number.isSafeInteger(e.size) || e.size < 0)
    return `${name}: size must be a non-negative integer number, got ${show(e.size)}`;
  if (e.mtime !== undefined && (typeof e.mtime !== "number" || !Number.isFinite(e.mtime)))
    return `${name}: mtime must be a number (milliseconds since the epoch) or absent, got ${show(e.mtime)}`;
  if (e.etag !== undefined && (typeof e.etag !== "string" || e.etag === ""))
    return `${name}: etag must be a non-empty string or absent, got ${show(e.etag)}`;
  if (e.mode !== undefined && (typeof e.mode !== "number" || !Number.isInteger(e.mode) || e.mode < 0))
    return `${name}: mode must be an integer (0o644) or absent, got ${show(e.mode)}`;
  return undefined;
}

function show(value: unknown): string {
  if (value instanceof Date) return `a Date (${value.toISOString()})`;
  return typeof value === "string" ? `the string ${JSON.stringify(value)}` : String(JSON.stringify(value));
}

export const shapeCases: readonly ConformanceCase[] = [
  {
    id: "shape.strategy",
    group: "shape",
    title: "the declared strategy matches the methods present",
    async run(t) {
      const mount = await t.mount();
      check(typeof mount.kind === "string" && mount.kind !== "", "kind must be a non-empty string");
      check(typeof mount.writable === "boolean", "writable must be a boolean");
      check(mount.writable === false, "a mount created without mode must be read-only (writable: false)");
      const eager = isAvailable(t.capabilities, "eager");
      if (eager) {
        check(
          isEagerMount(mount),
          `capability eager is declared, but strategy is ${JSON.stringify(mount.strategy)}`,
        );
        check(typeof mount.materialize === "function", "an eager mount needs materialize()");
      } else {
        check(!isEagerMount(mount), 'strategy is "eager", but capability eager is not declared');
        check(mount.strategy === undefined || mount.strategy === "lazy", "strategy must be lazy or absent");
        check(typeof mount.list === "function", "a lazy mount needs list()");
        check(typeof mount.fetch === "function", "a lazy mount needs fetch()");
      }
    },
  },
  {
    id: "shape.capabilities",
    group: "shape",
    title: "declared write and delete capabilities match put/delete on a read-write mount",
    async run(t) {
      const mount = await t.mount({ mode: "read-write" });
      if (t.capabilities.write.status === "supported") {
        check(typeof mount.put === "function", "capability write is declared, but put() is missing");
        check(
          mount.writable === true,
          "capability write is declared, but a read-write mount reports writable: false",
        );
      }
      if (t.capabilities.delete.status === "supported") {
        check(typeof mount.delete === "function", "capability delete is declared, but delete() is missing");
      }
      if (!isAvailable(t.capabilities, "write") && !isAvailable(t.capabilities, "delete")) {
        // Nothing can be written: the mount must not claim otherwise (the host would debounce writes into a void).
        check(mount.writable === false || typeof mount.put === "function", "writable: true without put()");
      }
    },
  },
  {
    id: "shape.options",
    group: "shape",
    title: "the common options reach mount.options, where the host reads them",
    async run(t) {
      const options = {
        ignore: ["node_modules"],
        maxBytes: 123_456,
        maxEntries: 789,
        writeBack: "manual" as const,
        writeBackMs: 42,
      };
      const mount = await t.mount(options);
      check(
        mount.options !== undefined,
        "mount.options is missing: the host cannot apply ignore, quotas or write-back",
      );
      const seen = mount.options;
      checkEqual(
        {
          ignore: seen.ignore,
          maxBytes: seen.maxBytes,
          maxEntries: seen.maxEntries,
          writeBack: seen.writeBack,
          writeBackMs: seen.writeBackMs,
        },
        options,
        "mount.options must carry the common options as given",
      );
    },
  },
  {
    id: "shape.entries",
    group: "shape",
    strategy: "lazy",
    title:
      "list() returns an array of well-formed entries: relative canonical paths, integer sizes, mtime in ms",
    async run(t) {
      await t.seed({ "README.md": text("# hi\n"), "src/a.ts": text("a"), "empty.txt": new Uint8Array(0) });
      const mount = await t.lazy();
      const entries: unknown = await mount.list();
      if (!Array.isArray(entries)) fail(`list() must return an array, got ${show(entries)}`);
      for (const entry of entries) {
        const problem = entryProblem(entry);
        if (problem) fail(problem);
      }
    },
  },
];
