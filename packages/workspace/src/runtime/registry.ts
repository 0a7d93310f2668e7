import {
  compileIgnore,
  composeIgnore,
  type IgnoreMatcher,
  isEagerMount,
  listenMountDiagnostics,
  type Mount,
  type MountDiagnostic,
  MountError,
  type MountFactory,
  MountTable,
  normalizeAbsolutePath,
  type ResolvedMountOptions,
  resolveMountOptions,
  type VFS,
  validateMountRoot,
} from "@ws/core";
import { applyLayers, type Limiter, type ObserveSink, type RetryLayerOptions } from "@ws/provider-kit";

const NO_IGNORE: IgnoreMatcher = () => false;

/**
 * One mount as the registry knows it: where it is, what it is, its options and whether it is
 * indexed. Only the registry resolves it; only the indexer marks it indexed.
 */
export class MountRecord {
  readonly root: string;
  readonly source: Mount | MountFactory;
  #raw: Mount | undefined;
  #mount: Mount | undefined;
  #type: "directory" | "file";
  #phase: "pending" | "ready" = "pending";
  #options: ResolvedMountOptions;
  #ignore: IgnoreMatcher = NO_IGNORE;
  #indexedAt = 0;

  constructor(root: string, source: Mount | MountFactory) {
    this.root = root;
    this.source = source;
    this.#raw = typeof source === "function" ? undefined : source;
    this.#type = typeof source === "function" ? "directory" : (source.rootType ?? "directory");
    this.#options = resolveMountOptions(typeof source === "function" ? {} : source.options);
  }

  /**
   * The mount every call goes through once it is resolved: the provider's mount wrapped in the
   * layers (observe, read-only, retry, concurrency, redact).
   */
  get mount(): Mount | undefined {
    return this.#mount;
  }
  /** The provider's own mount (the factory's result, or the object passed in): for `dispose`. */
  get raw(): Mount | undefined {
    return this.#raw;
  }
  get type(): "directory" | "file" {
    return this.#type;
  }
  get phase(): "pending" | "ready" {
    return this.#phase;
  }
  get options(): ResolvedMountOptions {
    return this.#options;
  }
  /** Workspace ignore ∪ the mount's own, relative to the root (never matches for a file mount). */
  get ignore(): IgnoreMatcher {
    return this.#ignore;
  }
  get indexedAt(): number {
    return this.#indexedAt;
  }
  get writable(): boolean {
    return this.#raw?.writable === true;
  }
  get kind(): string {
    return this.#raw?.kind ?? "unknown";
  }

  /** @internal The registry's: the mount is known (factory ran, shape checked, layers applied). */
  resolved(mount: Mount, layered: Mount, workspaceIgnore: readonly string[]): void {
    this.#raw = mount;
    this.#mount = layered;
    this.#type = mount.rootType ?? "directory";
    this.#options = resolveMountOptions(mount.options);
    this.#ignore =
      this.#type === "file" ? NO_IGNORE : compileIgnore(composeIgnore(workspaceIgnore, this.#options.ignore));
  }

  /** @internal The indexer's: the mount's listing is in the namespace. */
  indexed(at: number): void {
    this.#phase = "ready";
    this.#indexedAt = at;
  }
}

export interface RegistryConfig {
  readonly sessionId: string;
  readonly ignore: readonly string[];
  /** The workspace's `fs`, handed to factories. */
  readonly vfs: () => VFS;
  /** Called once per mount added (the other parts create their per-mount objects). */
  readonly onAdd: (record: MountRecord) => void;
  /** Keys a provider made with `defineLazyMount` skipped in its listing. */
  readonly onDiagnostic?: ((diagnostic: MountDiagnostic) => void) | undefined;
  /** Called once per mount removed. */
  readonly onRemove: (record: MountRecord) => void;
  /** The layers every mount is wrapped in (see `applyLayers`). */
  readonly layers: {
    readonly retry: RetryLayerOptions | false;
    readonly concurrency: number | Limiter | undefined;
    readonly observe: ObserveSink;
  };
}

/** Mounts added and removed, factories resolved, nesting checked, paths mapped to their owner. */
export class Registry {
  readonly #config: RegistryConfig;
  readonly #records = new Map<string, MountRecord>();
  #table = new MountTable<MountRecord>();

  constructor(config: RegistryConfig) {
    this.#config = config;
  }

  add(root: string, source: Mount | MountFactory): MountRecord {
    validateMountRoot(root);
    if (source === null || (typeof source !== "function" && typeof source !== "object")) {
      throw new MountError("EINVAL", `mount ${root} must be a Mount or a MountFactory`, { root });
    }
    const record = new MountRecord(root, source);
    try {
      this.#table.add(root, record.type, record);
    } catch (error) {
      // A factory's rootType is only known once it runs (on first index): a nested pair that
      // involves a factory is checked again then, with the real types.
      const other = MountError.isInstance(error) && error.root ? this.#records.get(error.root) : undefined;
      const involvesFactory =
        typeof source === "function" || (other !== undefined && typeof other.source === "function");
      if (!involvesFactory || (MountError.isInstance(error) && error.code === "EEXIST")) throw error;
    }
    this.#records.set(root, record);
    this.#config.onAdd(record);
    return record;
  }

  remove(root: string): void {
    const record = this.#records.get(root);
    if (!record) return;
    this.#records.delete(root);
    this.#table.remove(root);
    this.#config.onRemove(record);
  }

  get(root: string): MountRecord | undefined {
    return this.#records.get(root);
  }

  has(root: string): boolean {
    return this.#records.has(root);
  }

  /** Mount roots in the order they were added. */
  roots(): string[] {
    return [...this.#records.keys()];
  }

  records(): MountRecord[] {
    return [...this.#records.values()];
  }

  pending(): MountRecord[] {
    return this.records().filter((r) => r.phase === "pending");
  }

  /** The records a `root` argument names (all when undefined); ENOENT naming the roots otherwise. */
  select(root: string | undefined, syscall: string): MountRecord[] {
    if (root === undefined) return this.records();
    const record = this.#records.get(normalizeAbsolutePath(root));
    if (!record) {
      throw new MountError(
        "ENOENT",
        `${root} is not a mount root; mounted roots: ${this.roots().join(", ") || "none"}`,
        { path: root, syscall },
      );
    }
    return [record];
  }

  /** Runs a factory (once), checks the mount's shape and wraps it in the layers. Errors name the mount root. */
  async resolve(record: MountRecord): Promise<void> {
    if (record.mount) return;
    let mount = record.raw;
    if (!mount) {
      const factory = record.source as MountFactory;
      try {
        mount = await factory({
          sessionId: this.#config.sessionId,
          root: record.root,
          vfs: this.#config.vfs(),
        });
      } catch (error) {
        throw withRoot(error, record.root);
      }
    }
    if (
      !mount ||
      typeof mount !== "object" ||
      (isEagerMount(mount) ? typeof mount.materialize !== "function" : typeof mount.list !== "function")
    ) {
      throw new MountError(
        "EINVAL",
        `mount ${record.root} is not a Mount: a lazy mount needs list() and fetch(), an eager one materialize()`,
        { root: record.root },
      );
    }
    const onDiagnostic = this.#config.onDiagnostic;
    if (onDiagnostic) listenMountDiagnostics(mount, onDiagnostic);
    const { retry, concurrency, observe } = this.#config.layers;
    const layered = applyLayers(mount, { root: record.root, retry, concurrency, observe });
    record.resolved(mount, layered, this.#config.ignore);
  }

  /** A factory's real rootType is known now: rebuild with it (and fail here on a real nesting conflict). */
  rebuildTable(): void {
    const table = new MountTable<MountRecord>();
    for (const record of this.#records.values()) table.add(record.root, record.type, record);
    this.#table = table;
  }

  owner(abs: string): { readonly value: MountRecord; readonly relPath: string } | undefined {
    return this.#table.owner(abs);
  }

  rootsUnder(abs: string): string[] {
    return this.#table.rootsUnder(abs);
  }

  shadowedIn(root: string): string[] {
    return this.#table.shadowedIn(root);
  }
}

/**
 * The error with the mount root filled in: with several mounts, a user can tell which one failed.
 * A MountError without a root gets a copy with it (every other field kept); anything else is
 * wrapped as `EIO`.
 */
export function withRoot(error: unknown, root: string): MountError {
  if (MountError.isInstance(error)) {
    const owner = error.root ?? root;
    if (error.root !== undefined && error.message.includes(owner)) return error;
    const copy = Object.create(
      Object.getPrototypeOf(error) as object,
      Object.getOwnPropertyDescriptors(error),
    ) as MountError;
    const define = (key: string, value: unknown, enumerable: boolean): void => {
      Object.defineProperty(copy, key, { value, enumerable, writable: true, configurable: true });
    };
    define("root", owner, true);
    if (!copy.message.includes(owner)) {
      const message = `${copy.message} (mount ${owner})`;
      define("message", message, false);
      if (typeof error.stack === "string")
        define("stack", error.stack.replace(error.message, message), false);
    }
    return copy;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new MountError("EIO", `mount ${root} failed: ${reason}`, { path: root, root, cause: error });
}
