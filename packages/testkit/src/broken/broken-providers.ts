import {
  checkQuota,
  type EagerMount,
  type LazyMount,
  MemoryMount,
  type MemoryMountInstance,
  type MemoryMountOptions,
  type MountContext,
  type MountEntry,
  MountError,
  type MountFactory,
  type MountWriteApi,
  notFound,
  type PutOptions,
  type PutSource,
  readSource,
  resolveLinkWithinRoot,
} from "@ws/core";
import type { Capabilities, ConformanceHarness } from "../harness.js";
import { MEMORY_SECRET, memoryHarness } from "../reference/memory-harness.js";
import { memoryTreeHarness } from "../reference/memory-tree-harness.js";
import { MemoryTreeMount, type MemoryTreeMountOptions, readTree } from "../reference/memory-tree-mount.js";

/**
 * Deliberately broken providers, one defect each, after real bugs (unstorage dropping every key
 * after the first 1,000, S3 clients form-decoding `+`, Node's Buffer pool...). The meta-test runs
 * the suite against each and requires the targeted case to fail: a suite that cannot fail proves
 * nothing (Go's testing/fstest is tested the same way).
 */
export interface BrokenProvider {
  readonly id: string;
  readonly defect: string;
  /** The case written to catch this defect. */
  readonly target: string;
  readonly harness: () => ConformanceHarness;
  readonly capabilities: Capabilities;
}

export const LAZY_CAPABILITIES: Capabilities = Object.freeze({
  write: "supported",
  delete: "supported",
  conditionalPut: "supported",
  forbidden: "supported",
  listPageSize: "supported",
  rangedReads: "supported",
  streamedWrites: "supported",
});

export const EAGER_CAPABILITIES: Capabilities = Object.freeze({
  eager: "supported",
  eagerAtomic: "supported",
  modes: "supported",
  symlinks: "supported",
  subPrefix: "unsupported",
});

/** A MemoryMount with some members replaced; `base` is the correct mount to delegate to. */
function lazy(
  change: (base: MemoryMountInstance, options: MemoryMountOptions) => Partial<LazyMount>,
): () => ConformanceHarness {
  return () =>
    memoryHarness({
      createMount: (options) => {
        const base = MemoryMount(options);
        return { ...base, ...change(base, options) } as LazyMount;
      },
    });
}

function eager(
  change: (base: EagerMount, options: MemoryTreeMountOptions, context: MountContext) => Partial<EagerMount>,
): () => ConformanceHarness {
  return () =>
    memoryTreeHarness({
      createMount:
        (options): MountFactory =>
        (context) => {
          const base = MemoryTreeMount(options)(context) as EagerMount;
          return { ...base, ...change(base, options, context) } as EagerMount;
        },
    });
}

const PAGE = 100;
const MiB = 1024 * 1024;

const keyOf = (base: MemoryMountInstance, relPath: string): string =>
  base.prefix ? `${base.prefix}/${relPath}` : relPath;

export const BROKEN_PROVIDERS: readonly BrokenProvider[] = [
  {
    id: "drops-last-page",
    defect: "pages through the listing but stops before the last, partial page",
    target: "list.pagination.boundary",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        const all = (await base.list()).sort((a, b) => (a.path < b.path ? -1 : 1));
        if (all.length <= PAGE) return all;
        // The classic loop bug: a short page is taken for "no continuation token" and never read.
        return all.slice(0, Math.floor(all.length / PAGE) * PAGE);
      },
    })),
  },
  {
    id: "duplicates-entry",
    defect: "lists the last entry twice (a page boundary read twice)",
    target: "list.no-duplicates",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        const all = await base.list();
        const last = all[all.length - 1];
        return last && all.length > 1 ? [...all, last] : all;
      },
    })),
  },
  {
    id: "leading-slash",
    defect: "lists paths with a leading slash",
    target: "list.path-hygiene",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        return (await base.list()).map((e) => ({ ...e, path: `/${e.path}` }));
      },
    })),
  },
  {
    id: "percent-decodes",
    defect: "percent-decodes keys (a%20b.txt becomes a b.txt)",
    target: "names.percent",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        return (await base.list()).map((e) => {
          try {
            return { ...e, path: decodeURIComponent(e.path) };
          } catch {
            return e;
          }
        });
      },
    })),
  },
  {
    id: "plus-to-space",
    defect: "form-decodes + into a space",
    target: "names.plus",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        return (await base.list()).map((e) => ({ ...e, path: e.path.replaceAll("+", " ") }));
      },
    })),
  },
  {
    id: "truncates-byte",
    defect: "drops the last byte of every file (an off-by-one Range end)",
    target: "read.binary-sha256",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetch(relPath: string) {
        const bytes = await base.fetch(relPath);
        return bytes.length > 0 ? bytes.slice(0, bytes.length - 1) : bytes;
      },
    })),
  },
  {
    id: "range-inclusive-end",
    defect: "fetchRange treats end as inclusive, as an HTTP Range header does (one byte too many)",
    target: "read.range.first-byte",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetchRange(relPath: string, start: number, end: number) {
        return base.fetchRange!(relPath, start, end + 1);
      },
    })),
  },
  {
    id: "range-ignores-start",
    defect: "fetchRange reads end - start bytes from offset 0 (the start offset is dropped)",
    target: "read.range.last-byte",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetchRange(relPath: string, start: number, end: number) {
        const size = (await base.fetch(relPath)).length;
        return base.fetchRange!(relPath, 0, Math.max(0, Math.min(end, size) - start));
      },
    })),
  },
  {
    id: "range-whole-file",
    defect: "fetchRange returns the whole file whatever the range (a server that ignores Range)",
    target: "read.range.large",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetchRange(relPath: string, start: number, end: number) {
        const whole = await base.fetch(relPath);
        // Small ranges come out right (so only the large case can tell): a cache of the first MiB.
        return end <= MiB ? whole.slice(start, end) : whole;
      },
    })),
  },
  {
    id: "range-into-whole-buffer",
    defect:
      "fetchRange given a caller's buffer writes the range into it and returns the whole buffer, not a view of the bytes written",
    target: "read.range.into",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetchRange(relPath: string, start: number, end: number, into?: Uint8Array) {
        const bytes = await base.fetchRange!(relPath, start, end);
        if (into === undefined || into.length < bytes.length) return bytes;
        into.set(bytes);
        return into;
      },
    })),
  },
  {
    id: "range-open-ended",
    defect: "fetchRange with end <= start reads to the end of the file (an open-ended Range: bytes=5-)",
    target: "read.range.empty",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetchRange(relPath: string, start: number, end: number) {
        const whole = await base.fetch(relPath);
        return end <= start ? whole.slice(start) : base.fetchRange!(relPath, start, end);
      },
    })),
  },
  {
    id: "range-past-end-throws",
    defect: "fetchRange past the end rejects (HTTP 416 passed through) instead of an empty array",
    target: "read.range.past-end",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetchRange(relPath: string, start: number, end: number) {
        const size = (await base.fetch(relPath)).length;
        if (start >= size)
          throw new MountError("EINVAL", `${relPath}: range not satisfiable`, { path: relPath });
        return base.fetchRange!(relPath, start, end);
      },
    })),
  },
  {
    id: "range-negative-offsets",
    defect: "fetchRange passes offsets to slice() unchecked (-1 reads the last byte)",
    target: "read.range.errors",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetchRange(relPath: string, start: number, end: number) {
        return (await base.fetch(relPath)).slice(start, end);
      },
    })),
  },
  {
    id: "range-undeclared",
    defect: "has fetchRange but does not declare rangedReads (its ranges are never checked)",
    target: "read.range.unsupported",
    capabilities: { ...LAZY_CAPABILITIES, rangedReads: "unsupported" },
    harness: lazy(() => ({})),
  },
  {
    id: "stream-drops-last-byte",
    defect: "putStream stores the source without its last byte (an off-by-one in the part loop)",
    target: "write.stream.round-trip",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async putStream(relPath: string, source: PutSource, putOptions?: PutOptions) {
        const bytes = await readSource(source);
        return base.put(relPath, bytes.subarray(0, Math.max(0, bytes.length - 1)), putOptions);
      },
    })),
  },
  {
    id: "stream-reads-holes",
    defect: "putStream reads a sparse source whole, holes included, instead of its extents",
    target: "write.stream.sparse",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async putStream(relPath: string, source: PutSource, putOptions?: PutOptions) {
        return base.put(relPath, await source.read(0, source.size), putOptions);
      },
    })),
  },
  {
    id: "stream-undeclared",
    defect: "has putStream but does not declare streamedWrites (its streamed writes are never checked)",
    target: "write.stream.unsupported",
    capabilities: { ...LAZY_CAPABILITIES, streamedWrites: "unsupported" },
    harness: lazy(() => ({})),
  },
  {
    id: "pooled-view",
    defect: "returns a Buffer from Node's shared pool (byteOffset/buffer larger than the file)",
    target: "read.exact-views",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetch(relPath: string) {
        return Buffer.from(await base.fetch(relPath));
      },
    })),
  },
  {
    id: "empty-for-missing",
    defect: "returns an empty array for a missing file instead of ENOENT",
    target: "read.missing",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetch(relPath: string) {
        try {
          return await base.fetch(relPath);
        } catch (error) {
          if (MountError.hasCode(error, "ENOENT")) return new Uint8Array(0);
          throw error;
        }
      },
    })),
  },
  {
    id: "throws-deleting-missing",
    defect: "throws ENOENT when deleting a path that does not exist",
    target: "delete.missing",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async delete(relPath: string) {
        if (!base.store.has(base.prefix ? `${base.prefix}/${relPath}` : relPath)) throw notFound(relPath);
        return base.delete(relPath);
      },
    })),
  },
  {
    id: "accepts-read-only-write",
    defect: "accepts a write on a read-only mount (unstorage's silent read-only)",
    target: "write.read-only",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
        if (base.writable) return base.put(relPath, bytes, putOptions);
        base.store.put(base.prefix ? `${base.prefix}/${relPath}` : relPath, bytes);
      },
    })),
  },
  {
    id: "ignores-max-bytes",
    defect: "materializes without checking maxBytes",
    target: "eager.limits.before-first-write",
    capabilities: EAGER_CAPABILITIES,
    harness: eager((_base, options, context) => ({
      materialize: (MemoryTreeMount({ ...options, maxBytes: undefined })(context) as EagerMount).materialize,
    })),
  },
  {
    id: "non-atomic-materialize",
    defect: "writes each file as it reads it, so a failure half-way leaves a partial tree",
    target: "eager.failure.atomic",
    capabilities: EAGER_CAPABILITIES,
    harness: eager((_base, options, context) => ({
      async materialize(api: MountWriteApi) {
        const tree = Object.entries(readTree(options.store, options.prefix));
        const files = tree.filter(([, e]) => e.blob !== undefined);
        checkQuota(
          files.map(([, e]) => ({ size: e.size ?? 0 })),
          { maxBytes: options.maxBytes, maxEntries: options.maxEntries },
          context.root,
        );
        for (const [path, entry] of files) {
          const object = options.store.get(`${options.prefix}/${entry.blob}`);
          if (!object) throw new MountError("EIO", `blob of ${path} is missing`, { path });
          api.writeFile(`${context.root}/${path}`, new Uint8Array(object.bytes), entry.mode);
        }
        for (const [path, entry] of tree) {
          if (entry.link === undefined) continue;
          try {
            resolveLinkWithinRoot(context.root, `${context.root}/${path}`, entry.link);
          } catch {
            continue;
          }
          api.symlink?.(`${context.root}/${path}`, entry.link);
        }
      },
    })),
  },
  {
    id: "forbidden-as-not-found",
    defect: "reports a permission failure as ENOENT",
    target: "errors.forbidden",
    capabilities: LAZY_CAPABILITIES,
    harness: () => {
      const inner = lazy(() => ({}))();
      return {
        async setup(caseId) {
          const context = await inner.setup(caseId);
          return {
            ...context,
            async createForbiddenMount(options) {
              const mount = (await context.createForbiddenMount!(options)) as LazyMount;
              const asMissing = (error: unknown): never => {
                throw notFound((error as { path?: string }).path ?? "?");
              };
              return {
                ...mount,
                list: () => mount.list().catch(asMissing),
                fetch: (p: string) => mount.fetch(p).catch(asMissing),
              };
            },
          };
        },
      };
    },
  },
  {
    id: "ignores-preconditions",
    defect: "declares no conditional puts but silently ignores ifNoneMatch/ifMatch",
    target: "write.conditional.unsupported",
    capabilities: { ...LAZY_CAPABILITIES, conditionalPut: "unsupported" },
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array) {
        return base.put(relPath, bytes);
      },
    })),
  },
  {
    id: "error-without-path",
    defect: "throws errors with a code but no path",
    target: "errors.shape",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetch(relPath: string) {
        try {
          return await base.fetch(relPath);
        } catch (error) {
          throw Object.assign(new Error((error as Error).message), { code: (error as MountError).code });
        }
      },
    })),
  },
  {
    id: "stale-list-cache",
    defect: "caches the first listing and serves it after its own put",
    target: "consistency.after-put",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => {
      let cache: ReturnType<LazyMount["list"]> | undefined;
      return {
        list: () => {
          cache ??= base.list();
          return cache;
        },
      };
    }),
  },
  {
    id: "prefix-delete",
    defect: "deletes every key starting with the path (foo also removes foo.bar and foo/x)",
    target: "delete.siblings",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async delete(relPath: string) {
        if (!base.writable) return base.delete(relPath);
        const key = base.prefix ? `${base.prefix}/${relPath}` : relPath;
        for (const k of base.store.keys(key)) base.store.delete(k);
      },
    })),
  },
  {
    id: "drops-options",
    defect: "does not expose maxBytes in mount.options, so the host cannot enforce the quota",
    target: "shape.options",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((_base, options) => ({ options: { ...options, maxBytes: undefined } })),
  },
  {
    id: "size-as-string",
    defect: "lists sizes as strings, as parsed from an XML or JSON listing without conversion",
    target: "shape.entries",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        return (await base.list()).map((e) => ({ ...e, size: String(e.size) as unknown as number }));
      },
    })),
  },
  {
    id: "mtime-seconds",
    defect: "lists mtime in seconds (Unix time), not milliseconds",
    target: "list.mtime-unit",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        return (await base.list()).map((e) =>
          e.mtime === undefined ? e : { ...e, mtime: Math.floor(e.mtime / 1000) },
        );
      },
    })),
  },
  {
    id: "two-page-guard",
    defect: "stops after two list pages (a guard against endless loops), hidden at the default page size",
    target: "list.pagination.page-sizes",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base, options) => ({
      async list() {
        const prefix = base.prefix ? `${base.prefix}/` : "";
        const out: MountEntry[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 2; pages++) {
          const page = base.store.listPage(prefix, cursor, options.pageSize ?? 1000);
          for (const key of page.keys) {
            out.push({ path: key.slice(prefix.length), size: base.store.get(key)?.bytes.length ?? 0 });
          }
          if (!page.truncated) break;
          cursor = page.keys[page.keys.length - 1];
        }
        return out;
      },
    })),
  },
  {
    id: "large-fetch-first-chunk",
    defect: "fetches large files with one 1 MiB ranged GET and never asks for the rest",
    target: "read.large",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetch(relPath: string) {
        const bytes = await base.fetch(relPath);
        return bytes.length > MiB ? bytes.slice(0, MiB) : bytes;
      },
    })),
  },
  {
    id: "large-put-first-part",
    defect: "uploads only the first 5 MiB part of a large put",
    target: "write.large",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
        return base.put(relPath, bytes.length > 5 * MiB ? bytes.slice(0, 5 * MiB) : bytes, putOptions);
      },
    })),
  },
  {
    id: "etag-from-size",
    defect: "derives the etag from the size, so a same-size overwrite keeps it",
    target: "write.etag-changes",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        return (await base.list()).map((e) => ({ ...e, etag: `"${e.size}"` }));
      },
    })),
  },
  {
    id: "caches-caller-buffer",
    defect: "keeps the caller's buffer after put in a write cache and serves fetches from it",
    target: "write.caller-buffer",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => {
      const cache = new Map<string, Uint8Array>();
      return {
        async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
          await base.put(relPath, bytes, putOptions);
          cache.set(relPath, bytes); // the caller's own buffer, not a copy
        },
        async fetch(relPath: string) {
          const cached = cache.get(relPath);
          return cached ? new Uint8Array(cached) : base.fetch(relPath);
        },
        async delete(relPath: string) {
          cache.delete(relPath);
          return base.delete(relPath);
        },
      };
    }),
  },
  {
    id: "check-then-put",
    defect: "implements ifNoneMatch as a lookup followed by an unconditional put (racy)",
    target: "write.conditional.race",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array, putOptions: PutOptions = {}) {
        if (!base.writable || putOptions.ifNoneMatch === undefined)
          return base.put(relPath, bytes, putOptions);
        // A HEAD request, then the PUT: another writer fits between the two.
        const exists = base.store.has(keyOf(base, relPath));
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (exists) throw new MountError("EEXIST", `${relPath} exists`, { path: relPath });
        return base.put(relPath, bytes);
      },
    })),
  },
  {
    id: "delete-keeps-write-cache",
    defect: "serves recently written files from a write cache that its own delete forgets to drop",
    target: "consistency.put-delete",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => {
      const written = new Map<string, Uint8Array>();
      return {
        async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
          await base.put(relPath, bytes, putOptions);
          written.set(relPath, new Uint8Array(bytes));
        },
        async list() {
          const listed = await base.list();
          const seen = new Set(listed.map((e) => e.path));
          // Writes the backend may not list yet (eventual consistency) are merged in.
          for (const [path, bytes] of written) if (!seen.has(path)) listed.push({ path, size: bytes.length });
          return listed;
        },
        async fetch(relPath: string) {
          const cached = written.get(relPath);
          return cached ? new Uint8Array(cached) : base.fetch(relPath);
        },
      };
    }),
  },
  {
    id: "nfc-normalizes-writes",
    defect: "normalises paths to NFC before writing (as macOS file APIs do)",
    target: "names.write-normalization",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
        return base.put(relPath.normalize("NFC"), bytes, putOptions);
      },
    })),
  },
  {
    id: "leaks-secret",
    defect: "wraps backend errors with a cause whose message names the credential",
    target: "errors.secrets",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetch(relPath: string) {
        try {
          return await base.fetch(relPath);
        } catch (error) {
          const code = MountError.isInstance(error) ? error.code : "EIO";
          throw new MountError(code, `fetch ${relPath} failed`, {
            path: relPath,
            cause: new Error(`GET /${relPath} signed with key ${MEMORY_SECRET}: ${String(error)}`),
          });
        }
      },
    })),
  },
  {
    id: "trusts-source-names",
    defect: "materialises every source entry as named, links included, without validating paths",
    target: "eager.hostile-names",
    capabilities: EAGER_CAPABILITIES,
    harness: eager((_base, options, context) => ({
      async materialize(api: MountWriteApi) {
        const tree = readTree(options.store, options.prefix);
        for (const [path, entry] of Object.entries(tree)) {
          if (entry.link !== undefined) api.symlink?.(`${context.root}/${path}`, entry.link);
          else {
            const object = options.store.get(`${options.prefix}/${entry.blob}`);
            if (!object) throw new MountError("EIO", `blob of ${path} is missing`, { path });
            api.writeFile(`${context.root}/${path}`, new Uint8Array(object.bytes), entry.mode);
          }
        }
      },
    })),
  },
  {
    id: "ifmatch-creates-missing",
    defect:
      "compares ifMatch only when something is stored, so a conditional update of a missing file creates it",
    target: "write.conditional.missing",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array, putOptions: PutOptions = {}) {
        if (!base.writable || putOptions.ifMatch === undefined) return base.put(relPath, bytes, putOptions);
        const current = base.store.get(keyOf(base, relPath));
        if (current && current.etag !== putOptions.ifMatch) {
          throw new MountError("ESTALE", `${relPath} changed`, { path: relPath });
        }
        return base.put(relPath, bytes);
      },
    })),
  },
  {
    id: "put-resolves-early",
    defect: "resolves put before the upload finished (fire and forget)",
    target: "write.round-trip",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
        if (!base.writable) return base.put(relPath, bytes, putOptions);
        const copy = new Uint8Array(bytes);
        setTimeout(() => void base.put(relPath, copy, putOptions).catch(() => undefined), 5);
      },
    })),
  },
  {
    id: "encodes-on-put",
    defect: "URL-encodes the path into the key on put (a b.txt is stored as a%20b.txt)",
    target: "write.stored-key",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
        return base.put(relPath.split("/").map(encodeURIComponent).join("/"), bytes, putOptions);
      },
    })),
  },
  {
    id: "swallows-api-errors",
    defect: "catches errors from api.writeFile and carries on with the next file",
    target: "eager.api-errors-propagate",
    capabilities: EAGER_CAPABILITIES,
    harness: eager((base) => ({
      async materialize(api: MountWriteApi) {
        const lenient: MountWriteApi = {
          ...api,
          writeFile(path, bytes, mode) {
            try {
              api.writeFile(path, bytes, mode);
            } catch {
              // "best effort": skip the file the host refused
            }
          },
        };
        return base.materialize(lenient);
      },
    })),
  },
  {
    id: "prefix-without-slash",
    defect: "lists a sub-prefix by string prefix (prefix a also shows ab/z)",
    target: "list.sub-prefix",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        if (!base.prefix) return base.list();
        const parent = base.prefix.slice(0, base.prefix.lastIndexOf("/") + 1);
        const name = base.prefix.slice(parent.length);
        // Lists "<name>" and everything starting with it, then strips "<name>/".
        return base.store
          .keys(`${parent}${name}`)
          .map((key) => ({
            path: key.slice(parent.length + name.length).replace(/^\//, ""),
            size: base.store.get(key)!.bytes.length,
          }))
          .filter((e) => e.path !== "");
      },
    })),
  },
  {
    id: "lowercases-names",
    defect: "folds names to lower case (a case-insensitive host file system)",
    target: "names.case-twins",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        const seen = new Map<string, MountEntry>();
        for (const e of await base.list())
          seen.set(e.path.toLowerCase(), { ...e, path: e.path.toLowerCase() });
        return [...seen.values()];
      },
    })),
  },
  {
    id: "nfc-normalizes-listing",
    defect: "normalises listed names to NFC, so the NFD file disappears behind its twin",
    target: "names.unicode-normalization",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async list() {
        const seen = new Map<string, MountEntry>();
        for (const e of await base.list())
          seen.set(e.path.normalize("NFC"), { ...e, path: e.path.normalize("NFC") });
        return [...seen.values()];
      },
    })),
  },
  {
    id: "empty-file-undefined",
    defect: "returns undefined for a zero-byte file (an empty response body)",
    target: "read.empty-file",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async fetch(relPath: string) {
        const bytes = await base.fetch(relPath);
        return (bytes.length === 0 ? undefined : bytes) as Uint8Array;
      },
    })),
  },
  {
    id: "delete-no-op",
    defect: "resolves delete without deleting (the request was never sent)",
    target: "delete.gone",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async delete(relPath: string) {
        if (!base.writable) return base.delete(relPath);
      },
    })),
  },
  {
    id: "put-needs-parents",
    defect: "fails to put a file whose parent folders do not exist yet (fs.writeFile without mkdir)",
    target: "write.missing-parents",
    capabilities: LAZY_CAPABILITIES,
    harness: lazy((base) => ({
      async put(relPath: string, bytes: Uint8Array, putOptions?: PutOptions) {
        const parent = relPath.includes("/") ? relPath.slice(0, relPath.lastIndexOf("/")) : "";
        if (base.writable && parent && !base.store.hasChildren(keyOf(base, parent))) throw notFound(relPath);
        return base.put(relPath, bytes, putOptions);
      },
    })),
  },
  {
    id: "eager-skips-empty-files",
    defect: "skips zero-byte files while materialising",
    target: "eager.empty-files",
    capabilities: EAGER_CAPABILITIES,
    harness: eager((base) => ({
      async materialize(api: MountWriteApi) {
        return base.materialize({
          ...api,
          writeFile: (p, b, m) => (b.length > 0 ? api.writeFile(p, b, m) : undefined),
        });
      },
    })),
  },
  {
    id: "eager-writes-twice",
    defect: "writes every file twice (a retry loop that does not remember what it wrote)",
    target: "eager.no-duplicates",
    capabilities: EAGER_CAPABILITIES,
    harness: eager((base) => ({
      async materialize(api: MountWriteApi) {
        return base.materialize({
          ...api,
          writeFile: (p, b, m) => {
            api.writeFile(p, b, m);
            api.writeFile(p, b, m);
          },
        });
      },
    })),
  },
  {
    id: "eager-drops-modes",
    defect: "writes every file with the default mode, dropping the source's",
    target: "eager.modes",
    capabilities: EAGER_CAPABILITIES,
    harness: eager((base) => ({
      async materialize(api: MountWriteApi) {
        return base.materialize({ ...api, writeFile: (p, b) => api.writeFile(p, b) });
      },
    })),
  },
  {
    id: "eager-absolute-links",
    defect: "rewrites link targets to absolute host paths",
    target: "eager.symlinks",
    capabilities: EAGER_CAPABILITIES,
    harness: eager((base, _options, context) => ({
      async materialize(api: MountWriteApi) {
        const symlink = api.symlink;
        return base.materialize({
          ...api,
          ...(symlink
            ? { symlink: (p: string, target: string) => symlink.call(api, p, `${context.root}/${target}`) }
            : {}),
        });
      },
    })),
  },
];
