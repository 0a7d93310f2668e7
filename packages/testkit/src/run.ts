import { isAvailable, type ResolvedCapabilities, resolveCapabilities } from "./capabilities.js";
import { type ConformanceCase, createCaseContext, NotApplicable } from "./case.js";
import { CASES } from "./cases/index.js";
import type { Capabilities, ConformanceHarness, ConformanceOptions } from "./harness.js";

/** PASS, FAIL; NA (does not apply: capability unsupported or wrong strategy); XFAIL (known failure, failed as expected); XPASS (known failure that passed: red, remove the declaration). */
export type Outcome = "PASS" | "FAIL" | "NA" | "XFAIL" | "XPASS";

/** Whether and how a case runs for one provider. */
export interface CasePlan {
  readonly run: boolean;
  /** Why the case does not run (NA) or why it is expected to fail. */
  readonly reason?: string | undefined;
  /** Set when the case is expected to fail: a capability it requires, or the case itself, is a known failure. */
  readonly expectFailure?: string | undefined;
}

export interface CaseResult {
  readonly id: string;
  readonly group: string;
  readonly title: string;
  readonly outcome: Outcome;
  readonly reason?: string | undefined;
  /** The failure (FAIL), the expected failure (XFAIL) or the XPASS complaint. */
  readonly error?: unknown;
}

export const DEFAULT_PAGE_SIZE = 100;

/** The cases selected by `only` (exact ids or prefixes such as `"list."`). */
export function selectCases(only?: readonly string[]): readonly ConformanceCase[] {
  if (!only || only.length === 0) return CASES;
  return CASES.filter((c) => only.some((o) => c.id === o || (o.endsWith(".") && c.id.startsWith(o))));
}

export function planCase(
  c: ConformanceCase,
  capabilities: ResolvedCapabilities,
  options: ConformanceOptions = {},
): CasePlan {
  const eager = isAvailable(capabilities, "eager");
  if (c.strategy === "lazy" && eager)
    return { run: false, reason: "lazy mounts only; this provider is eager" };
  if (c.strategy === "eager" && !eager)
    return { run: false, reason: "eager mounts only; this provider is lazy" };
  if (c.whenUnsupported && capabilities[c.whenUnsupported].status !== "unsupported") {
    return { run: false, reason: `runs only when ${c.whenUnsupported} is unsupported` };
  }
  const known: string[] = [];
  for (const id of c.requires ?? []) {
    const status = capabilities[id];
    if (status.status === "unsupported") {
      return {
        run: false,
        reason: `needs ${id}, declared unsupported${status.reason ? `: ${status.reason}` : ""}`,
      };
    }
    if (status.status === "known-failure") known.push(`${id}: ${status.reason}`);
  }
  const caseKnown = options.knownFailures?.[c.id];
  if (caseKnown) known.push(`${c.id}: ${caseKnown}`);
  return known.length > 0 ? { run: true, expectFailure: known.join("; ") } : { run: true };
}

export class XPassError extends Error {
  override readonly name: string = "XPassError";
}

/**
 * Runs one case in its own harness context and classifies the result. Never throws: the runner
 * adapter decides how each outcome shows (vitest fails FAIL and XPASS).
 */
export async function executeCase(
  c: ConformanceCase,
  harness: ConformanceHarness,
  capabilities: ResolvedCapabilities,
  options: ConformanceOptions = {},
  plan: CasePlan = planCase(c, capabilities, options),
): Promise<CaseResult> {
  const base = { id: c.id, group: c.group, title: c.title };
  if (!plan.run) return { ...base, outcome: "NA", reason: plan.reason };
  let error: unknown;
  let failed = false;
  try {
    const context = await harness.setup(c.id);
    try {
      await c.run(createCaseContext(c.id, context, capabilities, options.pageSize ?? DEFAULT_PAGE_SIZE));
    } finally {
      await context.cleanup();
    }
  } catch (e) {
    if (e instanceof NotApplicable) return { ...base, outcome: "NA", reason: e.message };
    failed = true;
    error = e;
  }
  if (plan.expectFailure !== undefined) {
    if (failed) return { ...base, outcome: "XFAIL", reason: plan.expectFailure, error };
    return {
      ...base,
      outcome: "XPASS",
      reason: plan.expectFailure,
      error: new XPassError(
        `${c.id} is declared a known failure (${plan.expectFailure}) but passed: ` +
          "remove the known-failure declaration (or mark the capability supported)",
      ),
    };
  }
  return failed ? { ...base, outcome: "FAIL", error } : { ...base, outcome: "PASS" };
}

export interface ConformanceRun {
  readonly provider: string;
  readonly server?: string | undefined;
  readonly results: readonly CaseResult[];
}

/**
 * The whole catalogue against one harness, without a test runner: for node:test, scripts, and
 * the suite's own meta-tests. Cases run one after another.
 */
export async function runConformance(
  name: string,
  harness: ConformanceHarness,
  capabilities: Capabilities = {},
  options: ConformanceOptions = {},
): Promise<ConformanceRun> {
  const resolved = resolveCapabilities(capabilities);
  const results: CaseResult[] = [];
  await harness.beforeAll?.();
  try {
    for (const c of selectCases(options.only)) results.push(await executeCase(c, harness, resolved, options));
  } finally {
    await harness.afterAll?.();
  }
  return { provider: name, server: options.server, results };
}
