import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  type EagerMount,
  MountError,
  type MountOptions,
  type MountWriteApi,
  normalizeKeyPrefix,
} from "@ws/core";
import { defineEagerMount, enumOption, integerOption, stringOption } from "@ws/provider-kit";
import {
  type BundleLimits,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ENTRIES,
  DEFAULT_MAX_EXPANSION,
  EXPANSION_FLOOR,
  InflateBudget,
} from "./bundle-limits.js";
import { BundleTree, type MemberPolicy, type TreeWriter } from "./bundle-tree.js";
import { ARCHIVE_FORMATS, type ArchiveFormat, chooseFormat } from "./detect-format.js";
import { httpGet, statusError } from "./http-get.js";
import { pullOci } from "./oci-bundle.js";
import { OciRegistryClient, parseOciReference, type RegistryOptions } from "./oci-registry.js";
import { readTar } from "./tar-reader.js";
import { readZip } from "./zip-reader.js";

/**
 * Where the bundle comes from: a host file path (or `file:` URL), the bytes themselves, an
 * `http(s)://` URL, or an OCI reference `oci://host/repository:tag` / `oci://host/repository@sha256:<hex>`.
 */
export type ArtifactSource = string | URL | Uint8Array;

export interface ArtifactBundleOptions extends MountOptions {
  /**
   * The bundle's expected SHA-256 (hex, optionally `sha256:`-prefixed), checked before anything is
   * read out of it; a mismatch is `EIO` naming both digests. For an OCI source it pins the manifest.
   */
  readonly sha256?: string | undefined;
  /** `"tar"`, `"tar.gz"` or `"zip"`. Default: detected from the magic bytes. */
  readonly format?: ArchiveFormat | undefined;
  /** Leading path segments dropped from every member (as `tar --strip-components`). Default 0. */
  readonly stripComponents?: number | undefined;
  /** Mount only this directory of the archive (after `stripComponents`), relative to it. */
  readonly prefix?: string | undefined;
  /**
   * Most inflated bytes per compressed byte (default 200), enforced while inflating once more than
   * 16 MiB came out of one stream: a decompression bomb fails early.
   */
  readonly maxExpansion?: number | undefined;
  /** Most bytes of the bundle itself (file, download, all OCI blobs together). Default 2 GiB. */
  readonly maxArchiveBytes?: number | undefined;
  /** `"strip"` (default: bits removed, reported through onDiagnostic) or `"refuse"` (`EPERM`). */
  readonly setuid?: "strip" | "refuse" | undefined;
  /** Device files, FIFOs, sockets: `"refuse"` (default, `ENOTSUP`) or `"skip"` (reported). */
  readonly specialFiles?: "refuse" | "skip" | undefined;
  /** Symlinks leaving the mount: `"refuse"` (default, `EINVAL`) or `"skip"` (reported). */
  readonly outsideLinks?: "refuse" | "skip" | undefined;
  /** Extra request headers for an HTTP(S) source (an Authorization header, for example). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Per-request timeout for URL and OCI sources. Default 300 000 ms. */
  readonly timeoutMs?: number | undefined;
  /** OCI: registry access (plain HTTP, credentials). */
  readonly registry?: RegistryOptions | undefined;
  /** OCI: the platform picked from a multi-platform index. Default `"linux/amd64"`. */
  readonly platform?: string | undefined;
}

export const DEFAULT_MAX_ARCHIVE_BYTES: number = 2 * 1024 ** 3;

interface Config {
  readonly sha256: string | undefined;
  readonly format: ArchiveFormat | undefined;
  readonly policy: MemberPolicy;
  readonly limits: BundleLimits;
  readonly maxArchiveBytes: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly registry: RegistryOptions;
  readonly platform: string;
  readonly options: ArtifactBundleOptions;
}

function invalidOption(name: string, value: unknown, allowed: string): never {
  throw new MountError("EINVAL", `${name} must be ${allowed}, got ${JSON.stringify(value) ?? String(value)}`);
}

/** maxBytes/maxEntries: the common options (Infinity allowed), with this provider's own defaults. */
function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return integerOption(name, value, { default: fallback, min: 0 });
}

function resolveConfig(options: ArtifactBundleOptions): Config {
  // Accepted for the common shape and checked, though a bundle is read-only either way.
  enumOption("mode", options.mode, ["read-only", "read-write"], "read-only");
  let sha256: string | undefined;
  if (options.sha256 !== undefined) {
    const value = stringOption("sha256", options.sha256, { pattern: /^(?:sha256:)?[0-9a-fA-F]{64}$/ });
    sha256 = value.replace(/^sha256:/, "").toLowerCase();
  }
  const format =
    options.format === undefined ? undefined : enumOption("format", options.format, ARCHIVE_FORMATS, "tar");
  const maxExpansion = options.maxExpansion ?? DEFAULT_MAX_EXPANSION;
  if (typeof maxExpansion !== "number" || Number.isNaN(maxExpansion) || maxExpansion < 1)
    invalidOption("maxExpansion", maxExpansion, "a number >= 1");
  const platform = stringOption("platform", options.platform, {
    default: "linux/amd64",
    pattern: /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/,
  });
  return {
    sha256,
    format,
    policy: {
      setuid: enumOption("setuid", options.setuid, ["strip", "refuse"], "strip"),
      specialFiles: enumOption("specialFiles", options.specialFiles, ["refuse", "skip"], "refuse"),
      outsideLinks: enumOption("outsideLinks", options.outsideLinks, ["refuse", "skip"], "refuse"),
      stripComponents: integerOption("stripComponents", options.stripComponents, {
        default: 0,
        min: 0,
        max: 1024,
      }),
      prefix: normalizeKeyPrefix(options.prefix),
    },
    limits: {
      maxBytes: limit("maxBytes", options.maxBytes, DEFAULT_MAX_BYTES),
      maxEntries: limit("maxEntries", options.maxEntries, DEFAULT_MAX_ENTRIES),
      maxExpansion,
      expansionFloor: EXPANSION_FLOOR,
    },
    maxArchiveBytes: integerOption("maxArchiveBytes", options.maxArchiveBytes, {
      default: DEFAULT_MAX_ARCHIVE_BYTES,
      min: 1,
    }),
    headers: options.headers ?? {},
    timeoutMs: integerOption("timeoutMs", options.timeoutMs, { default: 300_000, min: 1 }),
    registry: options.registry ?? {},
    platform,
    options,
  };
}

type Parsed =
  | { readonly kind: "path"; readonly path: string }
  | { readonly kind: "bytes"; readonly bytes: Uint8Array }
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "oci"; readonly reference: string };

function parseSource(source: ArtifactSource): Parsed {
  if (source instanceof Uint8Array) return { kind: "bytes", bytes: source };
  const text = source instanceof URL ? source.href : source;
  if (typeof text !== "string" || text === "")
    throw new MountError(
      "EINVAL",
      "ArtifactBundle needs a source: a file path, bytes, an http(s):// URL or an oci:// reference",
    );
  if (text.startsWith("oci://")) {
    parseOciReference(text);
    return { kind: "oci", reference: text };
  }
  if (/^https?:\/\//i.test(text)) return { kind: "url", url: text };
  if (text.startsWith("file:")) return { kind: "path", path: fileURLToPath(text) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    throw new MountError(
      "EINVAL",
      `ArtifactBundle source ${JSON.stringify(text)} has an unsupported scheme; use a path, http(s):// or oci://`,
    );
  return { kind: "path", path: text };
}

/** Source text safe for messages: a URL without credentials or query (which may carry tokens). */
function describe(parsed: Parsed): string {
  switch (parsed.kind) {
    case "bytes":
      return `bundle (${parsed.bytes.length} bytes)`;
    case "path":
      return `bundle ${parsed.path}`;
    case "url": {
      const u = new URL(parsed.url);
      return `bundle ${u.protocol}//${u.host}${u.pathname}`;
    }
    case "oci":
      return `bundle ${parsed.reference}`;
  }
}

async function loadBytes(
  parsed: Parsed,
  config: Config,
  what: string,
  root: string | undefined,
): Promise<Uint8Array> {
  if (parsed.kind === "bytes") return parsed.bytes;
  if (parsed.kind === "path") {
    let size: number;
    try {
      const info = await stat(parsed.path);
      if (!info.isFile())
        throw new MountError("EINVAL", `${what} is not a regular file`, { path: root, root });
      size = info.size;
    } catch (error) {
      if (MountError.isInstance(error)) throw error;
      const code =
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? "ENOENT"
          : (error as NodeJS.ErrnoException).code === "EACCES"
            ? "EACCES"
            : "EIO";
      throw new MountError(code, `${what} cannot be read: ${(error as Error).message}`, {
        path: root,
        root,
        cause: error,
      });
    }
    if (size > config.maxArchiveBytes)
      throw new MountError(
        "EDQUOT",
        `${what} is ${size} bytes, above maxArchiveBytes ${config.maxArchiveBytes}`,
        { path: root, root },
      );
    const bytes = await readFile(parsed.path);
    if (bytes.length > config.maxArchiveBytes)
      throw new MountError(
        "EDQUOT",
        `${what} grew above maxArchiveBytes ${config.maxArchiveBytes} while read`,
        { path: root, root },
      );
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  if (parsed.kind === "url") {
    const result = await httpGet(parsed.url, {
      headers: { ...config.headers },
      maxBytes: config.maxArchiveBytes,
      timeoutMs: config.timeoutMs,
    });
    if (result.status !== 200) throw statusError(result.status, what, root);
    return result.body;
  }
  throw new Error("unreachable");
}

/** Reads, verifies and checks the whole bundle, then writes it: a refused bundle writes nothing. */
async function materializeBundle(
  parsed: Parsed,
  config: Config,
  writer: TreeWriter,
  root: string | undefined,
): Promise<void> {
  const what = describe(parsed);
  const diagnose = config.options.onDiagnostic;
  const budget = new InflateBudget(config.limits, root);
  const tree = new BundleTree(config.policy, budget, diagnose, root);
  if (parsed.kind === "oci") {
    const client = new OciRegistryClient(
      parseOciReference(parsed.reference),
      config.registry,
      config.timeoutMs,
      root,
    );
    await pullOci(client, tree, budget, {
      platform: config.platform,
      sha256: config.sha256,
      maxArchiveBytes: config.maxArchiveBytes,
      diagnose,
    });
  } else {
    const bytes = await loadBytes(parsed, config, what, root);
    if (config.sha256 !== undefined) {
      const actual = createHash("sha256").update(bytes).digest("hex");
      if (actual !== config.sha256) {
        throw new MountError(
          "EIO",
          `${what} does not match its sha256: expected ${config.sha256}, got ${actual}; nothing was mounted`,
          { path: root, root },
        );
      }
    }
    const format = chooseFormat(bytes, config.format, what, root);
    if (format === "zip") await readZip(bytes, tree, budget, what);
    else await readTar(bytes, format === "tar.gz", tree, budget, what);
  }
  tree.finish();
  tree.write(writer);
}

/**
 * An eager mount of an archive bundle: tar, tar.gz or zip from a file, bytes or a URL, or an OCI
 * image or artifact from a registry. The whole bundle is read, verified and checked before the first
 * write, so a damaged or hostile bundle is refused with a coded error and leaves nothing behind.
 */
export function ArtifactBundle(source: ArtifactSource, options: ArtifactBundleOptions = {}): EagerMount {
  const config = resolveConfig(options);
  const parsed = parseSource(source);
  // A bundle has no upstream to write back to: the mount is read-only whatever `mode` says, so the
  // host answers writes with EROFS instead of debouncing them into a void.
  const { mode: _mode, ...common } = options;
  const secrets = [
    options.registry?.password,
    options.registry?.token,
    ...Object.values(options.headers ?? {}),
    parsed.kind === "url" ? new URL(parsed.url).password || undefined : undefined,
  ];
  // The kit's writer takes relative paths and does not say the root, but errors must name a path
  // (the mount root, for a bundle-level failure). `definition.materialize` is called synchronously
  // from the kit's `materialize(api)`, so the root is handed over through this slot.
  let nextRoot: string | undefined;
  const mount = defineEagerMount({
    kind: "artifact",
    options: common,
    secrets: () => secrets,
    materialize(writer) {
      const root = nextRoot;
      nextRoot = undefined;
      return materializeBundle(parsed, config, writer, root);
    },
  });
  const materialize = mount.materialize;
  Object.defineProperty(mount, "materialize", {
    value: (api: MountWriteApi): Promise<void> => {
      nextRoot = api.root;
      return materialize.call(mount, api);
    },
  });
  return mount;
}
