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
  /**
   * Set on a FAIL that came after a shape case failed for the same provider: the shape failure
   * (`shape.entries: list path "/a" starts with /`), which most likely explains this one too.
   */
  readonly rootCause?: string | undefined;
}

/**
 * Cases whose failure explains most others: the mount's strategy, options and entry shape. They
 * run first; when one fails, the summary leads with it and later failures point back to it.
 */
export function isRootCauseCase(c: { readonly group: string }): boolean {
  return c.group === "shape";
}

/** The first line of an error's message, for one-line summaries. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}

/**
 * Marks a failure as following from earlier root-cause failures: the message is prefixed with
 * them and the stack is dropped (its frames would point into the suite, not at the cause).
 */
export function markFollowing(error: unknown, rootCauses: readonly string[]): unknown {
  const prefix = `(likely a consequence of ${rootCauses.join("; ")}: fix that first)`;
  if (error instanceof Error) {
    error.message = `${prefix}\n${error.message}`;
    error.stack = `${error.name}: ${error.message}`;
    return error;
  }
  return new Error(`${prefix}\n${String(error)}`);
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
  /** Failed shape cases, one line each (`shape.entries: ...`): fix these first. */
  readonly rootCauses: readonly string[];
}

/**
 * A plain-text summary of one run that leads with the root cause, then counts, then every
 * failure and every not-applicable case with its reason.
 */
export function summarizeRun(run: ConformanceRun): string {
  const label = run.server ? `${run.provider} [${run.server}]` : run.provider;
  const count = (o: Outcome): number => run.results.filter((r) => r.outcome === o).length;
  const lines: string[] = [];
  const failures = run.results.filter((r) => r.outcome === "FAIL" || r.outcome === "XPASS");
  if (run.rootCauses.length > 0) {
    const following = failures.filter((r) => r.rootCause !== undefined).length;
    lines.push(
      `ROOT CAUSE ${label}: ${run.rootCauses.join("; ")}`,
      `  fix this first: ${following} later failure(s) of ${label} most likely follow from it`,
    );
  }
  lines.push(
    `conformance ${label}: ${count("PASS")} PASS, ${count("FAIL")} FAIL, ${count("NA")} NA, ${count("XFAIL")} XFAIL, ${count("XPASS")} XPASS`,
  );
  for (const r of failures) lines.push(`  ${r.outcome} ${r.id}: ${firstLine(r.error)}`);
  for (const r of run.results)
    if (r.outcome === "NA") lines.push(`  NA ${r.id}: ${r.reason ?? "not applicable"}`);
  return lines.join("\n");
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
  const rootCauses: string[] = [];
  await harness.beforeAll?.();
  try {
    // Shape cases come first in the catalogue, so a root cause is known before the rest runs.
    for (const c of selectCases(options.only)) {
      const result = await executeCase(c, harness, resolved, options);
      if (result.outcome !== "FAIL") results.push(result);
      else if (isRootCauseCase(c)) {
        rootCauses.push(`${c.id}: ${firstLine(result.error)}`);
        results.push(result);
      } else if (rootCauses.length > 0) {
        results.push({
          ...result,
          rootCause: rootCauses.join("; "),
          error: markFollowing(result.error, rootCauses),
        });
      } else results.push(result);
    }
  } finally {
    await harness.afterAll?.();
  }
  return { provider: name, server: options.server, results, rootCauses };
}
