import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { checkMountNesting, type Mount, type MountDiagnostic, MountError } from "@ws/core";
import { CliError, oneLine } from "./cli-error.js";
import type { MountSpec } from "./mount-spec.js";
import type { ProviderDescriptor, ProviderRegistry } from "./provider-registry.js";

export interface ResolvedMount {
  readonly spec: MountSpec;
  readonly descriptor: ProviderDescriptor;
  readonly mount: Mount;
}

/** Rejects DESTs that nest or repeat, naming both, before any provider is created. */
export function checkDestinations(specs: readonly MountSpec[]): void {
  try {
    checkMountNesting(specs.map((s) => ({ root: s.target, type: "directory" as const })));
  } catch (error) {
    if (!MountError.isInstance(error)) throw error;
    const a = error.root ?? "";
    const b = error.path ?? "";
    if (error.code === "EEXIST") {
      throw new CliError(`two mounts have the DEST ${a}; give each mount its own DEST`);
    }
    if (error.code === "EINVAL" && a && b) {
      throw new CliError(
        `nested DESTs: ${a} and ${b}; mounts may not sit inside each other (use sibling paths such as /data and /out)`,
      );
    }
    throw new CliError(oneLine(error).replace(/^E[A-Z]+: /, ""));
  }
}

function parseOptions(
  spec: MountSpec,
  descriptor: ProviderDescriptor,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(spec.extra)) {
    const option = descriptor.options.find((o) => o.name === key);
    if (!option) {
      const known = [
        "readonly",
        "ignore",
        "max-bytes",
        "max-entries",
        ...descriptor.options.map((o) => o.name),
      ];
      throw new CliError(
        `unknown option ${key} for type=${descriptor.kind} in --mount ${spec.raw}; known: ${known.join(", ")}`,
      );
    }
    const type = option.type ?? "string";
    if (type === "flag" || type === "boolean") {
      out[key] = value === true || value === "true" || value === "1" || value === "yes";
    } else if (value === true) {
      throw new CliError(`${key} in --mount ${spec.raw} needs a value (${key}=...)`);
    } else if (type === "number") {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new CliError(`${key}=${value} in --mount ${spec.raw} is not a number`);
      out[key] = n;
    } else {
      out[key] = value;
    }
  }
  return out;
}

export interface ResolveOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly onDiagnostic?: ((diagnostic: MountDiagnostic) => void) | undefined;
}

/** Each spec's provider and mount. Throws a one-line `CliError` naming the `--mount` at fault. */
export async function resolveMounts(
  specs: readonly MountSpec[],
  registry: ProviderRegistry,
  options: ResolveOptions,
): Promise<ResolvedMount[]> {
  checkDestinations(specs);
  const out: ResolvedMount[] = [];
  for (const spec of specs) {
    const descriptor = spec.type ? registry.byKind(spec.type) : registry.forSource(spec.source);
    const providerOptions = parseOptions(spec, descriptor);
    let mount: Mount;
    try {
      mount = await descriptor.create({
        source: spec.source,
        mode: spec.mode,
        ignore: spec.ignore,
        maxBytes: spec.maxBytes,
        maxEntries: spec.maxEntries,
        options: providerOptions,
        env: options.env,
        cwd: options.cwd,
        onDiagnostic: options.onDiagnostic,
      });
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`--mount ${spec.raw}: ${oneLine(error)}`, { cause: error });
    }
    out.push({ spec, descriptor, mount });
  }
  return out;
}

/**
 * Loads third-party descriptors: each module exports `wsProviders` (an array), `wsProvider`, or a
 * default descriptor. Modules are resolved from the current directory first (a project's own
 * node_modules), then from the CLI's.
 */
export async function loadProviderModules(
  specifiers: readonly string[],
  registry: ProviderRegistry,
  cwd: string,
): Promise<void> {
  for (const specifier of specifiers) {
    let mod: Record<string, unknown>;
    try {
      let url: string = specifier;
      try {
        url = pathToFileURL(createRequire(join(cwd, "package.json")).resolve(specifier)).href;
      } catch {
        // not resolvable from cwd: let import() try from here
      }
      mod = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`cannot load provider ${specifier}: ${oneLine(error)}`, { cause: error });
    }
    const found = (mod["wsProviders"] ?? mod["wsProvider"] ?? mod["default"]) as
      | ProviderDescriptor
      | ProviderDescriptor[]
      | undefined;
    const list = Array.isArray(found) ? found : found ? [found] : [];
    if (list.length === 0) {
      throw new CliError(
        `provider module ${specifier} exports no wsProvider, wsProviders or default descriptor`,
      );
    }
    for (const descriptor of list) registry.register(descriptor);
  }
}
