import type { Mount, MountDiagnostic, MountMode } from "@ws/core";
import { CliError } from "./cli-error.js";

/** One provider-specific option of a `--mount type=...,KEY=VALUE` long form. */
export interface ProviderOption {
  /** Kebab-case key as written on the command line (`endpoint`, `path-style`). */
  readonly name: string;
  /** One line for `ws --help` and `ws providers`. */
  readonly description: string;
  /** How the value is parsed. `"flag"` takes no value (`readonly`-style). Default `"string"`. */
  readonly type?: "string" | "number" | "boolean" | "flag" | undefined;
}

/** What `create` receives: the source, the common options, and the provider's own ones, parsed. */
export interface ProviderCreateInput {
  /** The source as written (`./data`, `s3://bucket/prefix`). */
  readonly source: string;
  readonly mode: MountMode;
  readonly ignore: readonly string[];
  readonly maxBytes?: number | undefined;
  readonly maxEntries?: number | undefined;
  /** Provider options by name (only names the descriptor declares). */
  readonly options: Readonly<Record<string, string | number | boolean>>;
  /** The environment the command runs with (credentials, endpoints). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The directory relative sources are resolved against. */
  readonly cwd: string;
  readonly onDiagnostic?: ((diagnostic: MountDiagnostic) => void) | undefined;
}

/**
 * How a provider package plugs into the `ws` command. A third-party package exports one (or an
 * array named `wsProviders`) and users load it with `--provider PACKAGE` or `WS_PROVIDERS`.
 *
 * ```js
 * export const wsProvider = {
 *   kind: "gcs",
 *   description: "a Google Cloud Storage bucket",
 *   schemes: ["gs"],
 *   example: "gs://bucket/prefix",
 *   options: [{ name: "project", description: "the billing project" }],
 *   create: ({ source, mode, options }) => GcsBucket(source, { mode, project: options.project }),
 * };
 * ```
 */
export interface ProviderDescriptor {
  /** The `type=` of the long form, and the name in messages (`fs`, `s3`). */
  readonly kind: string;
  readonly description: string;
  /** URL schemes this provider answers (`s3` for `s3://...`, `github` for `github:owner/repo`). */
  readonly schemes: readonly string[];
  /** For sources without a scheme (host paths, `bundle.tar.gz`): whether this provider takes it. */
  matches?(source: string): boolean;
  /** A source as a user would write it, for help and error messages. */
  readonly example: string;
  readonly options: readonly ProviderOption[];
  /** Builds the mount. Throw a `MountError` (or `CliError`) whose message says what to fix. */
  create(input: ProviderCreateInput): Mount | Promise<Mount>;
}

/** Identity, typed: `export const wsProvider = defineProvider({...})`. */
export function defineProvider(descriptor: ProviderDescriptor): ProviderDescriptor {
  return descriptor;
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/** The URL scheme of a source (`s3` of `s3://b`, `github` of `github:o/r`), or undefined for a path. */
export function schemeOf(source: string): string | undefined {
  const match = SCHEME.exec(source);
  // A single letter is a Windows drive, not a scheme; `./a:b` has no scheme.
  if (!match || match[1]!.length < 2) return undefined;
  return match[1]!.toLowerCase();
}

/** The installed providers. */
export class ProviderRegistry {
  readonly #byKind = new Map<string, ProviderDescriptor>();

  register(descriptor: ProviderDescriptor): void {
    if (!descriptor || typeof descriptor.kind !== "string" || typeof descriptor.create !== "function") {
      throw new CliError("a provider descriptor needs at least kind, schemes, options and create()");
    }
    const existing = this.#byKind.get(descriptor.kind);
    if (existing && existing !== descriptor) {
      throw new CliError(
        `two providers are named ${JSON.stringify(descriptor.kind)}; each kind may be registered once`,
      );
    }
    for (const scheme of descriptor.schemes) {
      const owner = this.bySchemeOrUndefined(scheme);
      if (owner && owner !== descriptor) {
        throw new CliError(`providers ${owner.kind} and ${descriptor.kind} both claim the scheme ${scheme}:`);
      }
    }
    this.#byKind.set(descriptor.kind, descriptor);
  }

  get all(): ProviderDescriptor[] {
    return [...this.#byKind.values()];
  }

  byKind(kind: string): ProviderDescriptor {
    const found = this.#byKind.get(kind);
    if (!found) {
      throw new CliError(`unknown mount type ${JSON.stringify(kind)}; installed: ${this.summary()}`);
    }
    return found;
  }

  private bySchemeOrUndefined(scheme: string): ProviderDescriptor | undefined {
    return this.all.find((d) => d.schemes.includes(scheme.toLowerCase()));
  }

  /** The provider for a source: by scheme, else the first whose `matches` accepts it. */
  forSource(source: string): ProviderDescriptor {
    const scheme = schemeOf(source);
    if (scheme !== undefined) {
      const found = this.bySchemeOrUndefined(scheme);
      if (found) return found;
      throw new CliError(
        `unknown scheme "${scheme}:" in ${source}; installed: ${this.summary()} (add one with --provider PACKAGE)`,
      );
    }
    const found = this.all.find((d) => d.matches?.(source));
    if (found) return found;
    throw new CliError(`no provider takes ${JSON.stringify(source)}; installed: ${this.summary()}`);
  }

  /** `fs (./dir, /abs), s3 (s3://bucket/prefix)`. */
  summary(): string {
    return this.all.map((d) => `${d.kind} (${d.example})`).join(", ");
  }
}
