import type { MountMode } from "@ws/core";
import { CliError } from "./cli-error.js";

/** One `--mount`, parsed but not yet resolved to a provider. */
export interface MountSpec {
  /** As written on the command line, for messages. */
  readonly raw: string;
  readonly source: string;
  readonly target: string;
  readonly mode: MountMode;
  /** `type=` of the long form. */
  readonly type?: string | undefined;
  readonly ignore: readonly string[];
  readonly maxBytes?: number | undefined;
  readonly maxEntries?: number | undefined;
  /** Other `KEY=VALUE` pairs of the long form (provider options), checked against the descriptor. */
  readonly extra: Readonly<Record<string, string | true>>;
}

const LONG_KEYS = /^(type|src|source|dst|destination|target|readonly|ro|rw)(=|,|$)/;

/** True for the Docker-style long form (`type=s3,src=...,dst=...`). */
export function isLongForm(text: string): boolean {
  return LONG_KEYS.test(text) && (text.includes("=") || text.includes(","));
}

function size(name: string, value: string, raw: string): number {
  const match = /^(\d+)(k|m|g|t|kb|mb|gb|tb|kib|mib|gib|tib)?$/i.exec(value.trim());
  if (!match)
    throw new CliError(`${name}=${value} in --mount ${raw} is not a number (use 500, 10k, 20MB, 1GiB)`);
  const unit = (match[2] ?? "").toLowerCase()[0];
  const factor =
    unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : unit === "t" ? 1024 ** 4 : 1;
  return Number(match[1]) * factor;
}

function checkTarget(target: string, raw: string): string {
  if (target === "") throw new CliError(`--mount ${raw} has no DEST; write SRC:DEST, e.g. ./data:/data`);
  if (!target.startsWith("/") || target.startsWith("//")) {
    throw new CliError(
      `DEST ${JSON.stringify(target)} in --mount ${raw} is not absolute; write it as /${target.replace(/^\/+/, "")}`,
    );
  }
  return target;
}

/**
 * `SRC:DEST[:ro|:rw]`: SRC may itself contain colons (`s3://b/p`, `github:o/r@v1`), so the mode is
 * taken from the end, then DEST is what follows the last remaining colon.
 */
function parseShort(raw: string): MountSpec {
  let text = raw;
  let mode: MountMode = "read-only";
  const suffix = /:(ro|rw|readonly|read-only|read-write)$/.exec(text);
  if (suffix) {
    mode = suffix[1] === "rw" || suffix[1] === "read-write" ? "read-write" : "read-only";
    text = text.slice(0, -suffix[0].length);
  }
  const at = text.lastIndexOf(":");
  if (at <= 0) throw new CliError(`--mount ${raw} has no DEST; write SRC:DEST[:ro|:rw], e.g. ./data:/data`);
  const source = text.slice(0, at);
  const target = text.slice(at + 1);
  if (target.startsWith("//") || (target === "" && source.endsWith(":"))) {
    throw new CliError(`--mount ${raw} has no DEST; write SRC:DEST[:ro|:rw], e.g. ${raw}:/data`);
  }
  return { raw, source, target: checkTarget(target, raw), mode, ignore: [], extra: {} };
}

/** The Docker-style long form: `type=s3,src=s3://b/p,dst=/data,readonly,ignore=*.log,max-bytes=1GB`. */
function parseLong(raw: string): MountSpec {
  let source: string | undefined;
  let target: string | undefined;
  let type: string | undefined;
  let mode: MountMode = "read-only";
  let maxBytes: number | undefined;
  let maxEntries: number | undefined;
  const ignore: string[] = [];
  const extra: Record<string, string | true> = {};
  for (const part of raw.split(",")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? undefined : part.slice(eq + 1);
    switch (key) {
      case "type":
        type = value;
        break;
      case "src":
      case "source":
        source = value;
        break;
      case "dst":
      case "destination":
      case "target":
        target = value;
        break;
      case "readonly":
      case "ro":
        mode = value === undefined || value === "true" || value === "1" ? "read-only" : "read-write";
        break;
      case "rw":
        mode = value === undefined || value === "true" || value === "1" ? "read-write" : "read-only";
        break;
      case "ignore":
        if (!value) throw new CliError(`ignore= in --mount ${raw} needs a pattern`);
        ignore.push(...value.split(";").filter(Boolean));
        break;
      case "max-bytes":
        maxBytes = size("max-bytes", value ?? "", raw);
        break;
      case "max-entries":
        maxEntries = size("max-entries", value ?? "", raw);
        break;
      default:
        extra[key] = value ?? true;
    }
  }
  if (!source) throw new CliError(`--mount ${raw} has no src=; e.g. type=fs,src=./data,dst=/data`);
  if (target === undefined)
    throw new CliError(`--mount ${raw} has no dst=; e.g. type=fs,src=./data,dst=/data`);
  return {
    raw,
    source,
    target: checkTarget(target, raw),
    mode,
    ...(type ? { type } : {}),
    ignore,
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(maxEntries === undefined ? {} : { maxEntries }),
    extra,
  };
}

/** Parses one `--mount` value, short or long form. Throws a one-line `CliError`. */
export function parseMountSpec(raw: string): MountSpec {
  if (typeof raw !== "string" || raw.trim() === "")
    throw new CliError("--mount needs a value, e.g. ./data:/data");
  return isLongForm(raw) ? parseLong(raw) : parseShort(raw);
}
