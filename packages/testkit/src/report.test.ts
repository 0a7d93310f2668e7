import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildReport, type ReportRow, renderMarkdown, writeConformanceReport } from "./report.js";

const rows: ReportRow[] = [
  { caseId: "list.exact", group: "listing", provider: "s3", server: "moto", outcome: "PASS" },
  {
    caseId: "list.exact",
    group: "listing",
    provider: "s3",
    server: "swift",
    outcome: "FAIL",
    error: "missing | x",
  },
  { caseId: "write.conditional", group: "writing", provider: "s3", server: "moto", outcome: "PASS" },
  {
    caseId: "write.conditional",
    group: "writing",
    provider: "s3",
    server: "swift",
    outcome: "XFAIL",
    reason: "501",
  },
  { caseId: "eager.tree", group: "eager", provider: "s3", server: "swift", outcome: "NA", reason: "lazy" },
  { caseId: "names.plus", group: "names", provider: "r2", outcome: "XPASS", reason: "fixed upstream" },
];

describe("conformance report", () => {
  it("builds a case × provider/server matrix with totals", () => {
    const report = buildReport(rows, new Date(0));
    expect(report.columns).toEqual(["r2", "s3 [moto]", "s3 [swift]"]);
    expect(report.matrix["write.conditional"]?.["s3 [swift]"]).toEqual({ outcome: "XFAIL", reason: "501" });
    expect(report.totals["s3 [swift]"]).toEqual({ PASS: 0, FAIL: 1, NA: 1, XFAIL: 1, XPASS: 0 });
    expect(report.cases.map((c) => c.id)).toEqual([
      "list.exact",
      "write.conditional",
      "eager.tree",
      "names.plus",
    ]);
  });

  it("renders Markdown with failures called out and pipes escaped", () => {
    const md = renderMarkdown(buildReport(rows, new Date(0)));
    expect(md).toContain("| `list.exact` |  | PASS | **FAIL** |");
    expect(md).toContain("| `names.plus` | **XPASS** |  |  |");
    expect(md).toContain("missing \\| x");
  });

  it("writes conformance.json and conformance.md", async () => {
    const dir = await mkdtemp(join(tmpdir(), "report-"));
    try {
      const { json, markdown } = await writeConformanceReport(rows, join(dir, "out"));
      expect(JSON.parse(await readFile(json, "utf8")).rows).toHaveLength(rows.length);
      expect(await readFile(markdown, "utf8")).toMatch(/^# Mount conformance/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
