import { MemoryMount } from "@ws/core";
import { describe, expect, it } from "vitest";
import { memoryHarness } from "../reference/memory-harness.js";
import { memoryTreeHarness } from "../reference/memory-tree-harness.js";
import { type ConformanceRun, runConformance } from "../run.js";
import { BROKEN_PROVIDERS, EAGER_CAPABILITIES, LAZY_CAPABILITIES } from "./broken-providers.js";

const failing = (run: ConformanceRun): string[] =>
  run.results.filter((r) => r.outcome === "FAIL" || r.outcome === "XPASS").map((r) => r.id);

describe("the suite can fail", () => {
  it("has at least 12 broken providers, each with its own defect and an existing target case", async () => {
    expect(BROKEN_PROVIDERS.length).toBeGreaterThanOrEqual(12);
    expect(new Set(BROKEN_PROVIDERS.map((b) => b.id)).size).toBe(BROKEN_PROVIDERS.length);
    const { CASES } = await import("../cases/index.js");
    const ids = new Set(CASES.map((c) => c.id));
    for (const b of BROKEN_PROVIDERS) expect(ids, b.id).toContain(b.target);
  });

  for (const broken of BROKEN_PROVIDERS) {
    it(`catches ${broken.id} (${broken.defect}) with ${broken.target}`, async () => {
      const run = await runConformance(broken.id, broken.harness(), broken.capabilities);
      const target = run.results.find((r) => r.id === broken.target);
      expect(target?.outcome, `${broken.target} against ${broken.id}`).toBe("FAIL");
    });
  }

  it("passes the positive controls (MemoryMount, the reference eager mount) on every case", async () => {
    const lazy = await runConformance(
      "memory",
      memoryHarness({ createMount: (o) => MemoryMount(o) }),
      LAZY_CAPABILITIES,
    );
    expect(failing(lazy)).toEqual([]);
    const eager = await runConformance("memory-tree", memoryTreeHarness(), EAGER_CAPABILITIES);
    expect(failing(eager)).toEqual([]);
    // Nothing in the lazy catalogue is silently not run for MemoryMount except the eager cases,
    // (and their options variants), and the unsupported-capability cases.
    const na = lazy.results.filter((r) => r.outcome === "NA");
    for (const r of na)
      expect(r.id).toMatch(
        /^(eager\.|options\.eager\.|write\.unsupported|delete\.unsupported|write\.conditional\.unsupported|fidelity\.)/,
      );
  });
});

describe("tri-state capabilities", () => {
  it("a known failure that fails is XFAIL; one that passes is XPASS (red)", async () => {
    const broken = BROKEN_PROVIDERS.find((b) => b.id === "plus-to-space")!;
    const xfail = await runConformance("plus", broken.harness(), broken.capabilities, {
      only: ["names.plus"],
      knownFailures: { "names.plus": "decodes + as a space" },
    });
    expect(xfail.results.map((r) => r.outcome)).toEqual(["XFAIL"]);
    const xpass = await runConformance(
      "memory",
      memoryHarness(),
      { ...LAZY_CAPABILITIES, caseSensitive: { status: "known-failure", reason: "assumed" } },
      {
        only: ["names.case-twins"],
      },
    );
    expect(xpass.results.map((r) => r.outcome)).toEqual(["XPASS"]);
  });

  it("an unsupported capability runs the clean-failure case, which fails when the operation succeeds", async () => {
    // MemoryMount writes fine, so declaring write unsupported must turn write.unsupported red.
    const run = await runConformance(
      "memory",
      memoryHarness(),
      { delete: "supported" },
      { only: ["write.unsupported"] },
    );
    expect(run.results.map((r) => r.outcome)).toEqual(["FAIL"]);
    const declared = await runConformance("memory", memoryHarness(), LAZY_CAPABILITIES, {
      only: ["write.unsupported"],
    });
    expect(declared.results.map((r) => r.outcome)).toEqual(["NA"]);
  });

  it("rejects unknown capability ids and known failures without a reason", async () => {
    await expect(runConformance("x", memoryHarness(), { writes: "supported" } as never)).rejects.toThrow(
      /unknown capability/,
    );
    await expect(
      runConformance("x", memoryHarness(), { write: { status: "known-failure", reason: "" } }),
    ).rejects.toThrow(/needs a reason/);
  });
});
