import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  type EagerMount,
  type MountContext,
  MountError,
  type MountFactory,
  type MountOptions,
  type MountWriteApi,
  normalizeKeyPrefix,
  pickMountOptions,
  resolveMountOptions,
} from "@ws/core";
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
import { httpGet, httpStatusError } from "./http-get.js";
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
  throw new MountError(
    "EINVAL",
    `ArtifactBundle option ${name} is ${JSON.stringify(value) ?? String(value)}; expected ${allowed}`,
  );
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (value === Number.POSITIVE_INFINITY && max === Number.MAX_SAFE_INTEGER) return value;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    invalidOption(name, value, `an integer from ${min} to ${max}`);
  return value;
}

function choice<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value))
    invalidOption(name, value, allowed.map((a) => JSON.stringify(a)).join(" or "));
  return value;
}

function resolveConfig(options: ArtifactBundleOptions): Config {
  resolveMountOptions(options);
  let sha256: string | undefined;
  if (options.sha256 !== undefined) {
    const m =
      typeof options.sha256 === "string" ? /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(options.sha256) : null;
    if (!m) invalidOption("sha256", options.sha256, "64 hex digits, optionally prefixed sha256:");
    sha256 = (m[1] as string).toLowerCase();
  }
  const format =
    options.format === undefined ? undefined : choice("format", options.format, ARCHIVE_FORMATS, "tar");
  const maxExpansion = options.maxExpansion ?? DEFAULT_MAX_EXPANSION;
  if (typeof maxExpansion !== "number" || Number.isNaN(maxExpansion) || maxExpansion < 1)
    invalidOption("maxExpansion", maxExpansion, "a number >= 1");
  const platform = options.platform ?? "linux/amd64";
  if (typeof platform !== "string" || !/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(platform))
    invalidOption("platform", platform, 'os/architecture[/variant], such as "linux/amd64"');
  return {
    sha256,
    format,
    policy: {
      setuid: choice("setuid", options.setuid, ["strip", "refuse"], "strip"),
      specialFiles: choice("specialFiles", options.specialFiles, ["refuse", "skip"], "refuse"),
      outsideLinks: choice("outsideLinks", options.outsideLinks, ["refuse", "skip"], "refuse"),
      stripComponents: integer("stripComponents", options.stripComponents, 0, 0, 1024),
      prefix: normalizeKeyPrefix(options.prefix),
    },
    limits: {
      maxBytes: integer("maxBytes", options.maxBytes, DEFAULT_MAX_BYTES, 0),
      maxEntries: integer("maxEntries", options.maxEntries, DEFAULT_MAX_ENTRIES, 0),
      maxExpansion,
      expansionFloor: EXPANSION_FLOOR,
    },
    maxArchiveBytes: integer("maxArchiveBytes", options.maxArchiveBytes, DEFAULT_MAX_ARCHIVE_BYTES, 1),
    headers: options.headers ?? {},
    timeoutMs: integer("timeoutMs", options.timeoutMs, 300_000, 1),
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

async function loadBytes(parsed: Parsed, config: Config, what: string, root: string): Promise<Uint8Array> {
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
      what,
      root,
    });
    if (result.status !== 200) throw httpStatusError(result.status, what, root);
    return result.body;
  }
  throw new Error("unreachable");
}

/** Reads, verifies and checks the whole bundle, then writes it: a refused bundle writes nothing. */
async function materializeBundle(
  parsed: Parsed,
  config: Config,
  writer: TreeWriter,
  root: string,
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
export function ArtifactBundle(source: ArtifactSource, options: ArtifactBundleOptions = {}): MountFactory {
  const config = resolveConfig(options);
  const parsed = parseSource(source);
  const common = pickMountOptions(options);
  return (context: MountContext): EagerMount => ({
    kind: "artifact",
    strategy: "eager",
    // A bundle has no upstream to write back to: the mount is read-only whatever mode says, so the
    // host answers writes with EROFS instead of debouncing them into a void.
    writable: false,
    options: common,
    async materialize(api: MountWriteApi): Promise<void> {
      const root = context.root;
      const abs = (rel: string): string => (rel === "" ? root : `${root}/${rel}`);
      const symlink = api.symlink;
      const writer: TreeWriter = {
        writeFile: (rel, bytes, mode) => api.writeFile(abs(rel), bytes, mode),
        mkdir: (rel, mode) => api.mkdir(abs(rel), mode),
        symlink: symlink ? (rel, target) => symlink.call(api, abs(rel), target) : undefined,
      };
      await materializeBundle(parsed, config, writer, root);
    },
  });
}
