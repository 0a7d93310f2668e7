import { statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError } from "./cli-error.js";
import { defineProvider, type ProviderDescriptor, schemeOf } from "./provider-registry.js";
import { githubProvider, githubTreeProvider, httpProvider } from "./remote-providers.js";

function octal(name: string, value: string | number | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^0?o?[0-7]{1,4}$/.test(text))
    throw new CliError(`${name}=${text} is not octal permission bits (e.g. 644)`);
  return Number.parseInt(text.replace(/^0?o?/, ""), 8);
}

function integer(name: string, value: string | number | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError(`${name}=${String(value)} is not a non-negative integer`);
  return n;
}

/** The host path a `fs` source names (`./data`, `/abs`, `~/x`, `file:///abs`). */
export function hostPathOf(source: string, cwd: string): string {
  if (source.startsWith("file:")) return fileURLToPath(source);
  if (source === "~" || source.startsWith("~/")) return resolve(homedir(), source.slice(2));
  return isAbsolute(source) ? resolve(source) : resolve(cwd, source);
}

/** Host directories (`@ws/mount-fs`). */
export const hostProvider: ProviderDescriptor = defineProvider({
  kind: "fs",
  description: "a host directory (@ws/mount-fs)",
  schemes: ["file"],
  example: "./dir, /abs",
  matches: (source) => schemeOf(source) === undefined,
  options: [
    { name: "uid", description: "owner (uid) of files the command writes back", type: "number" },
    { name: "gid", description: "group (gid) of files the command writes back", type: "number" },
    { name: "file-mode", description: "permission bits of new files, octal (default 644)" },
  ],
  async create(input) {
    const path = hostPathOf(input.source, input.cwd);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new CliError(`SRC ${input.source} does not exist (${path}); create it or fix the path`);
    }
    if (!isDir) throw new CliError(`SRC ${input.source} is not a directory (${path}); mount a directory`);
    const { HostDir } = await import("@ws/mount-fs");
    const uid = integer("uid", input.options["uid"]);
    const gid = integer("gid", input.options["gid"]);
    const fileMode = octal("file-mode", input.options["file-mode"]);
    return HostDir(path, {
      mode: input.mode,
      ignore: input.ignore,
      maxBytes: input.maxBytes,
      maxEntries: input.maxEntries,
      onDiagnostic: input.onDiagnostic,
      ...(uid === undefined ? {} : { uid }),
      ...(gid === undefined ? {} : { gid }),
      ...(fileMode === undefined ? {} : { fileMode }),
    });
  },
});

/** S3 and S3-compatible buckets (`@ws/mount-s3`); credentials from the usual AWS environment. */
export const s3Provider: ProviderDescriptor = defineProvider({
  kind: "s3",
  description: "an S3 bucket or prefix, any S3-compatible endpoint (@ws/mount-s3)",
  schemes: ["s3"],
  example: "s3://bucket/prefix",
  options: [
    { name: "endpoint", description: "endpoint URL (default $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL)" },
    { name: "region", description: "region (default $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1)" },
    {
      name: "path-style",
      description: "path-style addressing (default: on when an endpoint is set)",
      type: "boolean",
    },
  ],
  async create(input) {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(input.source);
    if (!match)
      throw new CliError(`${input.source} is not an S3 URL; write s3://bucket or s3://bucket/prefix`);
    const bucket = match[1]!;
    const prefix = match[2]!;
    const env = input.env;
    const endpoint = String(
      input.options["endpoint"] ?? env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"] ?? "",
    );
    const region = String(
      input.options["region"] ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1",
    );
    const pathStyle = input.options["path-style"] ?? endpoint !== "";
    const { S3Bucket } = await import("@ws/mount-s3");
    return S3Bucket({
      bucket,
      ...(prefix ? { prefix } : {}),
      clientConfig: {
        region,
        ...(endpoint ? { endpoint } : {}),
        forcePathStyle: pathStyle === true || pathStyle === "true",
      },
      mode: input.mode,
      ignore: input.ignore,
      maxBytes: input.maxBytes,
      maxEntries: input.maxEntries,
      onDiagnostic: input.onDiagnostic,
    });
  },
});

const BUNDLE = /\.(tar|tar\.gz|tgz|zip)$/i;

/** Archive bundles (`@ws/mount-artifact`): a local tar / tar.gz / zip, or an OCI reference. */
export const artifactProvider: ProviderDescriptor = defineProvider({
  kind: "artifact",
  description: "a tar, tar.gz or zip bundle, or an OCI artifact (@ws/mount-artifact), read-only",
  schemes: ["oci"],
  example: "bundle.tar.gz, oci://host/repo:tag",
  matches: (source) => schemeOf(source) === undefined && BUNDLE.test(source),
  options: [
    { name: "sha256", description: "expected SHA-256 of the bundle, checked before it is read" },
    {
      name: "strip-components",
      description: "leading path segments dropped from every member",
      type: "number",
    },
    { name: "prefix", description: "mount only this directory of the bundle" },
  ],
  async create(input) {
    const isPath = schemeOf(input.source) === undefined || input.source.startsWith("file:");
    const source = isPath ? hostPathOf(input.source, input.cwd) : input.source;
    if (isPath) {
      try {
        statSync(source);
      } catch {
        throw new CliError(`SRC ${input.source} does not exist (${source}); create it or fix the path`);
      }
    }
    const { ArtifactBundle } = await import("@ws/mount-artifact");
    const strip = input.options["strip-components"];
    return ArtifactBundle(source, {
      mode: input.mode,
      ignore: input.ignore,
      maxBytes: input.maxBytes,
      maxEntries: input.maxEntries,
      onDiagnostic: input.onDiagnostic,
      ...(input.options["sha256"] === undefined ? {} : { sha256: String(input.options["sha256"]) }),
      ...(strip === undefined ? {} : { stripComponents: Number(strip) }),
      ...(input.options["prefix"] === undefined ? {} : { prefix: String(input.options["prefix"]) }),
    });
  },
});

/**
 * What `ws` registers before any `--provider` (bundles before host paths: both take paths). Each is
 * metadata only; its package is imported when a mount of its kind is created.
 */
export const BUILTIN_PROVIDERS: readonly ProviderDescriptor[] = [
  artifactProvider,
  hostProvider,
  s3Provider,
  httpProvider,
  githubProvider,
  githubTreeProvider,
];
