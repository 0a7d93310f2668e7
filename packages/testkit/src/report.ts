import { mkdirSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Outcome } from "./run.js";

/** One cell of the matrix: one case for one provider on one server. */
export interface ReportRow {
  readonly caseId: string;
  readonly group?: string | undefined;
  readonly title?: string | undefined;
  readonly provider: string;
  readonly server?: string | undefined;
  readonly outcome: Outcome;
  readonly reason?: string | undefined;
  /** The failure message for FAIL and XPASS. */
  readonly error?: string | undefined;
  /** A failed shape case: the root cause the summary leads with. */
  readonly isRootCause?: boolean | undefined;
  /** On a failure after a shape case failed: that shape failure. */
  readonly rootCause?: string | undefined;
}

export interface ConformanceReport {
  readonly version: 1;
  readonly generatedAt: string;
  /** Column keys: `provider` or `provider [server]`. */
  readonly columns: readonly string[];
  readonly cases: readonly {
    readonly id: string;
    readonly group?: string | undefined;
    readonly title?: string | undefined;
  }[];
  /** caseId → column → cell. */
  readonly matrix: Readonly<
    Record<string, Readonly<Record<string, { outcome: Outcome; reason?: string | undefined }>>>
  >;
  readonly totals: Readonly<Record<string, Readonly<Record<Outcome, number>>>>;
  readonly rows: readonly ReportRow[];
}

export function columnOf(row: Pick<ReportRow, "provider" | "server">): string {
  return row.server ? `${row.provider} [${row.server}]` : row.provider;
}

export function buildReport(rows: readonly ReportRow[], now: Date = new Date()): ConformanceReport {
  const columns = [...new Set(rows.map(columnOf))].sort();
  const cases = new Map<string, { id: string; group?: string | undefined; title?: string | undefined }>();
  const matrix: Record<string, Record<string, { outcome: Outcome; reason?: string | undefined }>> = {};
  const totals: Record<string, Record<Outcome, number>> = {};
  for (const column of columns) totals[column] = { PASS: 0, FAIL: 0, NA: 0, XFAIL: 0, XPASS: 0 };
  for (const row of rows) {
    if (!cases.has(row.caseId)) cases.set(row.caseId, { id: row.caseId, group: row.group, title: row.title });
    const column = columnOf(row);
    const line = matrix[row.caseId] ?? {};
    matrix[row.caseId] = line;
    line[column] = row.reason ? { outcome: row.outcome, reason: row.reason } : { outcome: row.outcome };
    totals[column]![row.outcome]++;
  }
  return {
    version: 1,
    generatedAt: now.toISOString(),
    columns,
    cases: [...cases.values()],
    matrix,
    totals,
    rows,
  };
}

const MARK: Record<Outcome, string> = {
  PASS: "PASS",
  FAIL: "**FAIL**",
  NA: "NA",
  XFAIL: "XFAIL",
  XPASS: "**XPASS**",
};

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

export function renderMarkdown(report: ConformanceReport): string {
  const lines = [
    "# Mount conformance",
    "",
    `Generated ${report.generatedAt} by @ws/testkit. PASS: passed; FAIL: failed; NA: does not apply ` +
      "(capability declared unsupported, or the other strategy); XFAIL: known failure, failed as declared; " +
      "XPASS: known failure that now passes (remove the declaration).",
    "",
    `| case | ${report.columns.map(cell).join(" | ")} |`,
    `|---|${report.columns.map(() => "---").join("|")}|`,
  ];
  for (const c of report.cases) {
    const cells = report.columns.map((col) => {
      const v = report.matrix[c.id]?.[col];
      return v ? MARK[v.outcome] : "";
    });
    lines.push(`| \`${c.id}\` | ${cells.join(" | ")} |`);
  }
  lines.push(
    "",
    "| totals | " + report.columns.map(cell).join(" | ") + " |",
    `|---|${report.columns.map(() => "---").join("|")}|`,
  );
  for (const outcome of ["PASS", "FAIL", "NA", "XFAIL", "XPASS"] as const) {
    lines.push(
      `| ${outcome} | ${report.columns.map((col) => String(report.totals[col]?.[outcome] ?? 0)).join(" | ")} |`,
    );
  }
  const roots = report.rows.filter((r) => r.isRootCause);
  if (roots.length > 0) {
    lines.splice(
      2,
      0,
      "## Root cause: fix these first",
      "",
      ...roots.map((r) => `- \`${r.caseId}\` on ${cell(columnOf(r))}: ${cell(r.error ?? "").slice(0, 300)}`),
      "",
    );
  }
  const notes = report.rows.filter((r) => r.outcome !== "PASS" && r.outcome !== "NA");
  if (notes.length > 0) {
    lines.push("", "## Failures and known failures", "");
    for (const r of notes) {
      lines.push(
        `- \`${r.caseId}\` on ${cell(columnOf(r))}: ${r.outcome}${r.reason ? ` (${cell(r.reason)})` : ""}${r.error ? `: ${cell(r.error).slice(0, 300)}` : ""}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Writes `conformance.json` and `conformance.md` into `dir` (created if needed); returns their paths. */
export async function writeConformanceReport(
  rows: readonly ReportRow[],
  dir: string,
): Promise<{ json: string; markdown: string }> {
  const report = buildReport(rows);
  await mkdir(dir, { recursive: true });
  const json = join(dir, "conformance.json");
  const markdown = join(dir, "conformance.md");
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdown, renderMarkdown(report));
  return { json, markdown };
}

/**
 * The text printed after a run: root causes first (a failed shape case explains most other
 * failures of that provider), then where the report is, the totals per provider, and every NA
 * case with its reason, grouped by reason.
 */
export function renderSummary(
  rows: readonly ReportRow[],
  written?: { readonly json: string; readonly markdown: string },
): string {
  const lines: string[] = [];
  const columns = [...new Set(rows.map(columnOf))].sort();
  for (const r of rows.filter((x) => x.isRootCause)) {
    const column = columnOf(r);
    const following = rows.filter((x) => columnOf(x) === column && x.rootCause !== undefined).length;
    lines.push(
      `ROOT CAUSE ${column}: ${r.caseId} failed: ${(r.error ?? "").split("\n")[0]}`,
      `  fix this first: ${following} later failure(s) of ${column} most likely follow from it`,
    );
  }
  if (written) lines.push(`conformance report written to ${written.markdown} and ${written.json}`);
  for (const column of columns) {
    const mine = rows.filter((r) => columnOf(r) === column);
    const n = (o: Outcome): number => mine.filter((r) => r.outcome === o).length;
    lines.push(
      `  ${column}: ${n("PASS")} PASS, ${n("FAIL")} FAIL, ${n("NA")} NA, ${n("XFAIL")} XFAIL, ${n("XPASS")} XPASS`,
    );
    for (const outcome of ["FAIL", "XPASS", "XFAIL", "NA"] as const) {
      const byReason = new Map<string, string[]>();
      for (const r of mine.filter((x) => x.outcome === outcome)) {
        const reason = r.reason ?? (outcome === "NA" ? "not applicable" : "");
        byReason.set(reason, [...(byReason.get(reason) ?? []), r.caseId]);
      }
      for (const [reason, ids] of byReason)
        lines.push(`    ${outcome}${reason ? ` (${reason})` : ""}: ${ids.join(", ")}`);
    }
  }
  return lines.join("\n");
}

/**
 * `writeConformanceReport`, synchronously: a reporter that writes in one go keeps its output in
 * the order the reporters were configured (vitest does not wait for one before the next).
 */
export function writeConformanceReportSync(
  rows: readonly ReportRow[],
  dir: string,
): { json: string; markdown: string } {
  const report = buildReport(rows);
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "conformance.json");
  const markdown = join(dir, "conformance.md");
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(markdown, renderMarkdown(report));
  return { json, markdown };
}
