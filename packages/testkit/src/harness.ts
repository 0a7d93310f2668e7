import type { Mount, MountFactory, MountOptions } from "@ws/core";

/**
 * The contract between the conformance suite and one provider on one server. The suite never
 * talks to the backend itself: it asks the harness to seed, to build the mount under test and to
 * read the backend back, so a bug in the mount cannot hide a bug in the check (the same mount
 * writing and reading back would agree with itself).
 */
export interface ConformanceHarness {
  /**
   * Called once per case. Every case gets its own isolated root (a fresh bucket prefix, a fresh
   * directory, a fresh store), so cases can run in any order and a failure leaves nothing behind
   * for the next case. `caseId` is the case's stable id, handy for naming that root.
   */
  setup(caseId: string): Promise<HarnessContext>;
  /** Called once before the first case (start a server, create a bucket). */
  beforeAll?(): Promise<void>;
  /** Called once after the last case (stop the server). */
  afterAll?(): Promise<void>;
}

/** Options for the mount under test: the common options plus a sub-prefix of the case root. */
export type HarnessMountOptions = MountOptions & {
  /**
   * Root the mount at this sub-prefix of the case root (`"a"` or `"a/b"`, no slashes at either
   * end). Keys outside it must be invisible and paths are relative to it.
   */
  readonly prefix?: string | undefined;
  /**
   * List in pages of this many keys. Passed only by `list.pagination.page-sizes`, and only when
   * the harness declares `listPageSize` (it forwards the hint to the provider's own page-size
   * option, as `R2Bucket({ pageSize })` or `MemoryMount({ pageSize })` take it).
   */
  readonly pageSize?: number | undefined;
};

/** What an eager source can carry besides file bytes. */
export interface SeedOptions {
  /** POSIX permission bits per path (`0o755`), for providers that declare `modes`. */
  readonly modes?: Readonly<Record<string, number>> | undefined;
  /** Symbolic links: path → target as stored (`"../x"`), for providers that declare `symlinks`. */
  readonly symlinks?: Readonly<Record<string, string>> | undefined;
}

/** One case's view of the backend. Created by `ConformanceHarness.setup`. */
export interface HarnessContext {
  /**
   * Stores files in the case root through the backend's own client (an S3 `PutObject`, an R2
   * `put`, `fs.writeFile`), never through the mount under test. Keys are relative to the case
   * root and are stored verbatim: no encoding, no normalisation. May be called more than once.
   */
  seed(files: Readonly<Record<string, Uint8Array>>, options?: SeedOptions): Promise<void>;
  /**
   * The mount under test over the case root (or `options.prefix` below it), with the common
   * options applied as the provider's factory would apply them. A `MountFactory` is called by the
   * suite with a context whose `root` is the case's mount root.
   */
  createMount(options?: HarnessMountOptions): Mount | MountFactory | Promise<Mount | MountFactory>;
  /** The stored bytes at a path relative to the case root, read with the backend's client; `undefined` when absent. */
  readBackend(relPath: string): Promise<Uint8Array | undefined>;
  /** Every key stored under the case root, relative to it, as the backend's client lists them. */
  listBackend(): Promise<string[]>;
  /** Removes everything the case stored. Called even when the case failed. */
  cleanup(): Promise<void>;
  /**
   * Strings that must never appear in any error message, cause chain or workspace event: the
   * access keys, secret keys and tokens this harness hands the mount (and the forbidden mount).
   * `errors.secrets` provokes errors (a missing file, a bad path, a refused write, wrong
   * credentials) and searches every one for them. Without secrets that case is NA.
   */
  readonly secrets?: readonly string[] | undefined;
  /**
   * For the `forbidden` capability: a mount over the case root whose credentials lack permission
   * (a key without access, a bucket policy that denies reads). Its operations must fail `EACCES`.
   */
  createForbiddenMount?(options?: HarnessMountOptions): Mount | MountFactory | Promise<Mount | MountFactory>;
  /**
   * For eager providers (`eagerAtomic`): damages the seeded source so that materialisation fails
   * part-way through (truncate the archive, delete one blob the tree points at). The suite then
   * checks the provider's documented state on failure: nothing written.
   */
  corruptSource?(): Promise<void>;
}

/** The tri-state of one capability on one provider and server (zen-fs style). */
export type CapabilityStatus =
  | { readonly status: "supported" }
  | { readonly status: "unsupported"; readonly reason?: string | undefined }
  | { readonly status: "known-failure"; readonly reason: string };

/** A capability declaration; the strings are shorthands for `{ status }`. */
export type CapabilityDeclaration = CapabilityStatus | "supported" | "unsupported";

/**
 * The capabilities the suite knows. Anything not declared defaults as listed in
 * `DEFAULT_CAPABILITIES` (src/capabilities.ts): the core reading and listing behaviour is always
 * required; optional features default to unsupported.
 */
export type CapabilityId =
  /** `put` with `mode: "read-write"`. Unsupported: a read-write mount still refuses writes cleanly. */
  | "write"
  /** `delete` with `mode: "read-write"`. */
  | "delete"
  /** `put` with `ifMatch` / `ifNoneMatch: "*"`. Unsupported: such a put fails `ENOTSUP`, nothing stored. */
  | "conditionalPut"
  /** `createForbiddenMount` exists and the backend enforces permissions. */
  | "forbidden"
  /** The provider is eager (`materialize`). Lazy otherwise. */
  | "eager"
  /** Eager: a failure half-way leaves nothing written (`corruptSource` required). */
  | "eagerAtomic"
  /** Eager: symbolic links are materialised through `api.symlink`, and links leaving the root are refused. */
  | "symlinks"
  /** Eager: POSIX modes are carried from the source (`0o755`). */
  | "modes"
  /** A mount can be rooted at a sub-prefix (`createMount({ prefix })`). */
  | "subPrefix"
  /** Listings cross the backend's page boundary intact. */
  | "paginationBoundary"
  /** Names that differ only in case are two files. */
  | "caseSensitive"
  /** NFC and NFD spellings of a name are two files (bytes are kept verbatim). */
  | "unicodeNormalization"
  /** A 255-byte path segment is stored and listed. */
  | "longSegment"
  /** The options cases through a `Workspace` over memfs. */
  | "workspace"
  /** Files of 1 MiB and more are listed, fetched and written whole (`read.large`, `write.large`). */
  | "largeFiles"
  /**
   * (ws mounts) `fetchRange(path, start, end)`: bytes `[start, end)`, clipped at the size, empty
   * past the end, `EINVAL` for bad offsets (`read.range.*`). Unsupported: the mount has no `fetchRange`.
   */
  | "rangedReads"
  /**
   * (ws mounts) `putStream(path, source)`: a file read part by part from a `PutSource` is stored
   * whole, holes of a sparse source as zeros and never read (`write.stream.*`). Unsupported: the
   * mount has no `putStream` (hosts then read files whole and `put` them).
   */
  | "streamedWrites"
  /**
   * The harness forwards `createMount({ pageSize })` to the provider's page-size option, so the
   * listing is checked at page sizes 1, 2, 3, 7 and the declared one (`list.pagination.page-sizes`).
   */
  | "listPageSize"
  /**
   * Eager: the harness can seed hostile names (`../x`, `/abs`, a file below a link that leaves
   * the root), as a tar archive can carry them (`eager.hostile-names`). A git tree cannot.
   */
  | "hostileNames"
  /** (fidelity) `put`'s `mode` comes back from `fetchWithInfo` or `list()` of a fresh mount. */
  | "modeRoundTrip"
  /** (fidelity) `put`'s `mtime` comes back (to the second). */
  | "mtimeRoundTrip"
  /** (fidelity) `mkdir`/`rmdir` keep empty folders, listed as `type: "directory"`. */
  | "emptyDirectories"
  /** (fidelity) `put` with `symlink` stores a link that comes back with `S_IFLNK`. */
  | "symlinkRoundTrip";

/** Declarations per capability. Undeclared capabilities take their default. */
export type Capabilities = Partial<Record<CapabilityId, CapabilityDeclaration>>;

/** Options of `describeMountConformance` / `runConformance`. */
export interface ConformanceOptions {
  /** The server or backend variant for the report: `"moto"`, `"swift"`, `"miniflare"`. */
  readonly server?: string | undefined;
  /**
   * The page size the backend lists with (S3 and R2: 1000). The pagination case seeds keys so
   * that tricky names sit exactly at the page boundary. Default 100, for backends without pages
   * (the case still proves nothing is dropped or doubled).
   */
  readonly pageSize?: number | undefined;
  /**
   * Known failures of single cases, by case id, with the reason: the case must fail (XFAIL) and
   * turns red when it starts passing (XPASS). Prefer a capability when one fits.
   */
  readonly knownFailures?: Readonly<Record<string, string>> | undefined;
  /** Run only these case ids (or id prefixes such as `"list."`). */
  readonly only?: readonly string[] | undefined;
  /** Per-case timeout in milliseconds for runners that support one. Default 30 000. */
  readonly timeoutMs?: number | undefined;
}
