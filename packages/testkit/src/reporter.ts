import { isAbsolute, relative, resolve } from "node:path";
import type { Reporter, TestCase, TestModule, Vitest } from "vitest/node";
import { type ReportRow, renderSummary, writeConformanceReportSync } from "./report.js";
import type { Outcome } from "./run.js";
import type { ConformanceMeta } from "./vitest.js";

export interface ConformanceReporterOptions {
  /** Where `conformance.json` and `conformance.md` go, relative to the vitest root. Default `conformance-report`. */
  readonly outputDir?: string | undefined;
  /**
   * Print where the report was written, the root causes and every NA case with its reason after
   * the run (default true). Goes to `write` (default: standard output).
   */
  readonly print?: boolean | undefined;
  readonly write?: ((text: string) => void) | undefined;
}

function outcomeOf(meta: ConformanceMeta, state: string): Outcome {
  // The test sets the outcome when it ran; a test that timed out or crashed before that is a FAIL.
  if (state === "failed") return meta.outcome === "XPASS" ? "XPASS" : "FAIL";
  if (meta.outcome) return meta.outcome;
  return state === "skipped" ? "NA" : "PASS";
}

/**
 * A vitest reporter that collects every test registered by `describeMountConformance` and writes
 * the case × provider matrix as `conformance.json` and `conformance.md`. Other tests are ignored,
 * so it can sit beside the default reporter in a repository-wide run:
 *
 * ```ts
 * reporters: ["default", new ConformanceReporter({ outputDir: "conformance-report" })]
 * ```
 */
export class ConformanceReporter implements Reporter {
  readonly #outputDir: string;
  #root: string = process.cwd();
  /** Paths written by the last run (for tests and logs). */
  written: { json: string; markdown: string } | undefined;

  readonly #print: boolean;
  readonly #write: (text: string) => void;

  constructor(options: ConformanceReporterOptions = {}) {
    this.#outputDir = options.outputDir ?? "conformance-report";
    this.#print = options.print ?? true;
    this.#write = options.write ?? ((text) => process.stdout.write(text));
  }

  onInit(vitest: Vitest): void {
    this.#root = vitest.config.root;
  }

  /** A failed shape case is announced as soon as it fails, before the flood it causes. */
  onTestCaseResult(test: TestCase): void {
    const meta = test.meta().conformance;
    if (!this.#print || !meta?.isRootCause) return;
    const result = test.result();
    const message = result.state === "failed" ? (result.errors?.[0]?.message ?? "") : "";
    const column = meta.server ? `${meta.provider} [${meta.server}]` : meta.provider;
    this.#write(
      `\nROOT CAUSE ${column}: ${meta.caseId} failed: ${message.split("\n")[0]}\n` +
        `  later failures of ${column} most likely follow from it: fix this first\n\n`,
    );
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const rows: ReportRow[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const meta = test.meta().conformance;
        if (!meta) continue;
        const result = test.result();
        const error = result.state === "failed" ? result.errors?.[0]?.message : undefined;
        rows.push({
          caseId: meta.caseId,
          group: meta.group,
          title: meta.title,
          provider: meta.provider,
          server: meta.server,
          outcome: outcomeOf(meta, result.state),
          // A test vitest skipped before it ran (-t, .only) was not judged: say so, not "not applicable".
          reason:
            meta.reason ??
            (result.state === "skipped" && meta.outcome === undefined
              ? "not run in this invocation (filtered out by -t or .only)"
              : undefined),
          error,
          rootCause: meta.rootCause,
          isRootCause: meta.isRootCause,
        });
      }
    }
    if (rows.length === 0) return;
    const dir = isAbsolute(this.#outputDir) ? this.#outputDir : resolve(this.#root, this.#outputDir);
    this.written = writeConformanceReportSync(rows, dir);
    if (this.#print) {
      const show = (p: string): string => {
        const rel = relative(process.cwd(), p);
        return rel.startsWith("..") ? p : rel;
      };
      this.#write(
        `\n${renderSummary(rows, { json: show(this.written.json), markdown: show(this.written.markdown) })}\n`,
      );
    }
  }
}

// vitest loads a reporter given by module path ("@ws/testkit/reporter") from its default export.
export default ConformanceReporter;
