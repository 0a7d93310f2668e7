import type { Capabilities, CapabilityDeclaration, CapabilityId, CapabilityStatus } from "./harness.js";

/**
 * Defaults for undeclared capabilities. The basic listing and naming behaviour is what every
 * backend the project targets can do, so it defaults to supported and a backend that cannot
 * must say so (with a reason). Writing, deleting and the optional features default to
 * unsupported: a provider that has `put` but forgets to declare `write` then fails the
 * `write.unsupported` case, so declarations cannot silently drift from the code.
 */
export const DEFAULT_CAPABILITIES: Readonly<Record<CapabilityId, CapabilityStatus>> = Object.freeze({
  write: { status: "unsupported" },
  delete: { status: "unsupported" },
  conditionalPut: { status: "unsupported" },
  forbidden: { status: "unsupported" },
  eager: { status: "unsupported" },
  eagerAtomic: { status: "supported" },
  symlinks: { status: "unsupported" },
  modes: { status: "unsupported" },
  subPrefix: { status: "supported" },
  paginationBoundary: { status: "supported" },
  caseSensitive: { status: "supported" },
  unicodeNormalization: { status: "supported" },
  longSegment: { status: "supported" },
  workspace: { status: "supported" },
  largeFiles: { status: "supported" },
  rangedReads: { status: "unsupported" },
  streamedWrites: { status: "unsupported" },
  listPageSize: {
    status: "unsupported",
    reason: "the harness does not forward pageSize to the provider (declare listPageSize once it does)",
  },
  hostileNames: { status: "supported" },
  modeRoundTrip: { status: "unsupported" },
  mtimeRoundTrip: { status: "unsupported" },
  emptyDirectories: { status: "unsupported" },
  symlinkRoundTrip: { status: "unsupported" },
});

export const CAPABILITY_IDS: readonly CapabilityId[] = Object.freeze(
  Object.keys(DEFAULT_CAPABILITIES) as CapabilityId[],
);

export type ResolvedCapabilities = Readonly<Record<CapabilityId, CapabilityStatus>>;

function normalize(id: string, declaration: CapabilityDeclaration): CapabilityStatus {
  if (declaration === "supported" || declaration === "unsupported") return { status: declaration };
  if (typeof declaration !== "object" || declaration === null) {
    throw new TypeError(
      `capability ${id}: expected "supported", "unsupported" or { status }, got ${String(declaration)}`,
    );
  }
  if (declaration.status === "known-failure" && !declaration.reason) {
    // A known failure without a reason is a TODO nobody can act on.
    throw new TypeError(`capability ${id}: a known-failure needs a reason`);
  }
  if (!["supported", "unsupported", "known-failure"].includes(declaration.status)) {
    throw new TypeError(`capability ${id}: unknown status ${JSON.stringify(declaration.status)}`);
  }
  return declaration;
}

/** Applies defaults and validates; unknown capability ids are rejected so typos do not pass silently. */
export function resolveCapabilities(capabilities: Capabilities = {}): ResolvedCapabilities {
  const out: Record<string, CapabilityStatus> = { ...DEFAULT_CAPABILITIES };
  for (const [id, declaration] of Object.entries(capabilities)) {
    if (!(id in DEFAULT_CAPABILITIES)) {
      throw new TypeError(`unknown capability ${JSON.stringify(id)}; known: ${CAPABILITY_IDS.join(", ")}`);
    }
    if (declaration !== undefined) out[id] = normalize(id, declaration);
  }
  return out as ResolvedCapabilities;
}

/** True when the capability is usable: supported, or a known failure (which still runs, expecting to fail). */
export function isAvailable(capabilities: ResolvedCapabilities, id: CapabilityId): boolean {
  return capabilities[id].status !== "unsupported";
}
