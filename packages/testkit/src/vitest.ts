import { afterAll, beforeAll, describe, it } from "vitest";
import { resolveCapabilities } from "./capabilities.js";
import type { Capabilities, ConformanceHarness, ConformanceOptions } from "./harness.js";
import type { Outcome } from "./run.js";
import { executeCase, firstLine, isRootCauseCase, markFollowing, planCase, selectCases } from "./run.js";

/** What each test carries in `task.meta.conformance`, for `ConformanceReporter`. */
export interface ConformanceMeta {
  readonly provider: string;
  readonly server?: string | undefined;
  readonly caseId: string;
  readonly group: string;
  readonly title: string;
  outcome?: Outcome | undefined;
  reason?: string | undefined;
  /** A failed shape case: the root cause the summary leads with. */
  isRootCause?: boolean | undefined;
  /** On a failure after a shape case failed: that shape failure. */
  rootCause?: string | undefined;
}

/**
 * Registers the conformance suite for one provider (and server) as vitest tests: one test per
 * case, named by its stable id. NA cases show as skipped with the reason; known failures pass
 * while they fail (XFAIL) and fail once they pass (XPASS).
 *
 * ```ts
 * describeMountConformance("s3", s3Harness(moto), { write: "supported", delete: "supported" }, { server: "moto", pageSize: 1000 });
 * ```
 */
export function describeMountConformance(
  name: string,
  harness: ConformanceHarness,
  capabilities: Capabilities = {},
  options: ConformanceOptions = {},
): void {
  const resolved = resolveCapabilities(capabilities);
  const timeout = options.timeoutMs ?? 30_000;
  const label = options.server ? `${name} [${options.server}]` : name;
  // Failed shape cases of this provider; vitest runs a file's tests in order, shape cases first.
  const rootCauses: string[] = [];
  describe(`conformance: ${label}`, () => {
    if (harness.beforeAll) beforeAll(() => harness.beforeAll?.(), timeout * 4);
    if (harness.afterAll) afterAll(() => harness.afterAll?.(), timeout * 4);
    for (const c of selectCases(options.only)) {
      const plan = planCase(c, resolved, options);
      const conformance: ConformanceMeta = {
        provider: name,
        server: options.server,
        caseId: c.id,
        group: c.group,
        title: c.title,
        outcome: plan.run ? undefined : "NA",
        reason: plan.reason,
      };
      const meta = { conformance };
      const testName = `${c.id}: ${c.title}`;
      if (!plan.run) {
        it.skip(`${testName} (NA: ${plan.reason})`, { meta }, () => {});
        continue;
      }
      it(testName, { meta, timeout }, async (context) => {
        const result = await executeCase(c, harness, resolved, options, plan);
        const own = context.task.meta.conformance;
        if (own) {
          own.outcome = result.outcome;
          own.reason = result.reason;
        }
        if (result.outcome === "NA") context.skip(result.reason);
        if (result.outcome === "FAIL" && isRootCauseCase(c)) {
          rootCauses.push(`${c.id}: ${firstLine(result.error)}`);
          if (own) own.isRootCause = true;
        } else if (result.outcome === "FAIL" && rootCauses.length > 0) {
          if (own) own.rootCause = rootCauses.join("; ");
          throw markFollowing(result.error, rootCauses);
        }
        if (result.outcome === "FAIL" || result.outcome === "XPASS") throw result.error;
      });
    }
  });
}

declare module "vitest" {
  // vitest's documented way to type custom metadata: reporters read it from testCase.meta().
  interface TaskMeta {
    conformance?: ConformanceMeta;
  }
}

export { describeAgentRoundTrips } from "./describe-agent-round-trips.js";
export type { Capabilities, ConformanceHarness, ConformanceOptions } from "./harness.js";
