import {
  type EagerMount,
  isEagerMount,
  type LazyMount,
  type Mount,
  type MountContext,
  MountError,
  type MountFactory,
  type VFS,
} from "@ws/core";
import { check, fail } from "./assert.js";
import type { ResolvedCapabilities } from "./capabilities.js";
import type { CapabilityId, HarnessContext, HarnessMountOptions, SeedOptions } from "./harness.js";

/** The groups of the catalogue, in report order. */
export type CaseGroup =
  | "shape"
  | "listing"
  | "reading"
  | "writing"
  | "deleting"
  | "names"
  | "errors"
  | "idempotency"
  | "concurrency"
  | "consistency"
  | "options"
  | "eager";

/** One conformance case. Runner-independent: `run` throws to fail. */
export interface ConformanceCase {
  /** Stable id (`list.pagination.boundary`): reports, known failures and `only` refer to it. */
  readonly id: string;
  readonly group: CaseGroup;
  /** One line: what the contract requires. */
  readonly title: string;
  /** Only for lazy or only for eager providers; both when omitted. */
  readonly strategy?: "lazy" | "eager" | undefined;
  /** Runs when every one is available; a known failure among them makes the case an expected failure. */
  readonly requires?: readonly CapabilityId[] | undefined;
  /** Runs only when this capability is declared unsupported, to prove the operation fails cleanly. */
  readonly whenUnsupported?: CapabilityId | undefined;
  run(t: CaseContext): Promise<void>;
}

/** The absolute mount root the suite hands to factories and to `Workspace`. */
export const CASE_ROOT = "/mnt/conformance";

/** What a case works with: the harness context plus helpers that resolve factories and check shapes. */
export interface CaseContext {
  readonly caseId: string;
  readonly harness: HarnessContext;
  readonly capabilities: ResolvedCapabilities;
  readonly pageSize: number;
  readonly root: string;
  seed(files: Readonly<Record<string, Uint8Array>>, options?: SeedOptions): Promise<void>;
  /** The mount under test (factories resolved). */
  mount(options?: HarnessMountOptions): Promise<Mount>;
  /** The mount under test, which must be lazy. */
  lazy(options?: HarnessMountOptions): Promise<LazyMount>;
  /** The mount under test, which must be eager. */
  eager(options?: HarnessMountOptions): Promise<EagerMount>;
  /** A read-write lazy mount whose `put` exists. */
  writable(options?: HarnessMountOptions): Promise<LazyMount & Required<Pick<LazyMount, "put">>>;
  /** A read-write lazy mount whose `delete` (and `put`, when `write` is available) exist. */
  deletable(options?: HarnessMountOptions): Promise<LazyMount & Required<Pick<LazyMount, "delete">>>;
  /** Resolves a mount or factory the way the host does. */
  resolve(mountOrFactory: Mount | MountFactory): Promise<Mount>;
}

function unsupportedVfs(): VFS {
  const no = async (): Promise<never> => {
    // The conformance suite gives factories a root but no real VFS: a provider must not need one
    // to construct itself; the Workspace cases use a real one.
    throw new MountError("ENOTSUP", "the conformance suite passes no VFS to mount factories", {
      path: CASE_ROOT,
    });
  };
  return { readFile: no, writeFile: no, readdir: no, stat: no, mkdir: no, rm: no, exists: no };
}

export function createCaseContext(
  caseId: string,
  harness: HarnessContext,
  capabilities: ResolvedCapabilities,
  pageSize: number,
): CaseContext {
  const resolve = async (value: Mount | MountFactory): Promise<Mount> => {
    if (typeof value === "function") {
      const context: MountContext = {
        sessionId: `conformance-${caseId}`,
        root: CASE_ROOT,
        vfs: unsupportedVfs(),
      };
      return await value(context);
    }
    return value;
  };
  const mount = async (options?: HarnessMountOptions): Promise<Mount> => {
    const m = await resolve(await harness.createMount(options));
    check(m && typeof m === "object", `createMount returned ${String(m)}, not a mount`);
    return m;
  };
  const lazy = async (options?: HarnessMountOptions): Promise<LazyMount> => {
    const m = await mount(options);
    if (isEagerMount(m)) fail(`expected a lazy mount, got strategy "eager"`);
    check(
      typeof m.list === "function" && typeof m.fetch === "function",
      "a lazy mount needs list() and fetch()",
    );
    return m;
  };
  return {
    caseId,
    harness,
    capabilities,
    pageSize,
    root: CASE_ROOT,
    seed: (files, options) => harness.seed(files, options),
    mount,
    lazy,
    resolve,
    async eager(options) {
      const m = await mount(options);
      if (!isEagerMount(m)) fail(`expected an eager mount, got strategy ${JSON.stringify(m.strategy)}`);
      check(typeof m.materialize === "function", "an eager mount needs materialize()");
      return m;
    },
    async writable(options) {
      const m = await lazy({ ...options, mode: "read-write" });
      check(m.writable === true, `a read-write mount must report writable: true, got ${String(m.writable)}`);
      check(typeof m.put === "function", "capability write is declared, but the mount has no put()");
      return m as LazyMount & Required<Pick<LazyMount, "put">>;
    },
    async deletable(options) {
      const m = await lazy({ ...options, mode: "read-write" });
      check(typeof m.delete === "function", "capability delete is declared, but the mount has no delete()");
      return m as LazyMount & Required<Pick<LazyMount, "delete">>;
    },
  };
}

/**
 * Thrown by a case when something outside the provider it tests is missing (for example
 * `@ws/workspace` is not installed). The runner reports the case as NA with this reason instead
 * of a failure of the provider.
 */
export class NotApplicable extends Error {
  override readonly name: string = "NotApplicable";
}
