import { MemoryMount } from "@ws/core";
import { describe, expect, it } from "vitest";
import { memoryHarness } from "../reference/memory-harness.js";
import { memoryTreeHarness } from "../reference/memory-tree-harness.js";
import { type ConformanceRun, runConformance, summarizeRun } from "../run.js";
import { BROKEN_PROVIDERS, EAGER_CAPABILITIES, LAZY_CAPABILITIES } from "./broken-providers.js";
import { POSITIVE_CONTROLS } from "./controls.js";
import { FIDELITY_BROKEN_PROVIDERS } from "./fidelity-broken-providers.js";

const failing = (run: ConformanceRun): string[] =>
  run.results.filter((r) => r.outcome === "FAIL" || r.outcome === "XPASS").map((r) => r.id);

describe("the suite can fail", () => {
  it("has at least 44 broken providers, each with its own defect and an existing target case", async () => {
    expect(BROKEN_PROVIDERS.length).toBeGreaterThanOrEqual(44);
    expect(new Set(BROKEN_PROVIDERS.map((b) => b.id)).size).toBe(BROKEN_PROVIDERS.length);
    const { CASES } = await import("../cases/index.js");
    const ids = new Set(CASES.map((c) => c.id));
    for (const b of BROKEN_PROVIDERS) expect(ids, b.id).toContain(b.target);
  });

  it("every case has a broken provider aimed at it, except the older ones listed here", async () => {
    // A ratchet: a new case comes with a broken provider, and this list only shrinks.
    const WITHOUT_BROKEN_PROVIDER_YET = [
      "shape.strategy",
      "shape.capabilities",
      "list.exact",
      "list.repeatable",
      "list.sizes-match-fetch",
      "list.empty",
      "list.prefix-confusion",
      "list.deep-nesting",
      "read.size-ladder",
      "read.directory-path",
      "write.overwrite-shorter",
      "write.empty",
      "write.unsupported",
      "write.conditional",
      "delete.twice",
      "delete.unsupported",
      "names.spaces",
      "names.reserved",
      "names.quotes",
      "names.cjk",
      "names.emoji",
      "names.leading-dot",
      "names.long-segment",
      "names.write",
      "errors.not-found",
      "errors.invalid-path",
      "idempotency.fetch",
      "idempotency.put",
      "concurrency.fetch-32",
      "concurrency.fetch-same-8",
      "concurrency.put-parallel",
      "concurrency.put-delete-race",
      "consistency.after-delete",
      "options.ignore",
      "options.max-entries",
      "options.max-bytes",
      "options.mode",
      "options.write-back.debounce",
      "options.write-back.manual",
      "options.eager.ignore",
      "options.eager.max-entries",
      "options.eager.max-bytes",
      "options.eager.mode",
      "eager.tree",
      "eager.under-root",
    ];
    const { CASES } = await import("../cases/index.js");
    const targeted = new Set([...BROKEN_PROVIDERS, ...FIDELITY_BROKEN_PROVIDERS].map((b) => b.target));
    const untargeted = CASES.map((c) => c.id).filter((id) => !targeted.has(id));
    expect(untargeted).toEqual(WITHOUT_BROKEN_PROVIDER_YET);
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
        /^(eager\.|options\.eager\.|write\.unsupported|delete\.unsupported|write\.conditional\.unsupported|read\.range\.unsupported|write\.stream\.unsupported|fidelity\.)/,
      );
  });
});

describe("positive controls: correct providers that differ from the reference pass every case", () => {
  for (const control of POSITIVE_CONTROLS) {
    it(`${control.id} (${control.what})`, async () => {
      const run = await runConformance(control.id, control.harness(), control.capabilities);
      const failures = run.results
        .filter((r) => r.outcome === "FAIL" || r.outcome === "XPASS")
        .map((r) => `${r.id}: ${String(r.error)}`);
      expect(failures).toEqual([]);
      // Every NA says why.
      for (const r of run.results.filter((x) => x.outcome === "NA")) expect(r.reason, r.id).toBeTruthy();
    });
  }
});

describe("one mistake, one message", () => {
  it("a leading slash in list() is reported as the root cause, first, and later failures point to it", async () => {
    const broken = BROKEN_PROVIDERS.find((b) => b.id === "leading-slash")!;
    const run = await runConformance("leading-slash", broken.harness(), broken.capabilities);
    expect(run.rootCauses).toHaveLength(1);
    expect(run.rootCauses[0]).toMatch(/^shape\.entries: list path "\/.*" starts with \//);
    const summary = summarizeRun(run).split("\n");
    expect(summary[0]).toMatch(/^ROOT CAUSE leading-slash: shape\.entries: list path/);
    const later = run.results.filter((r) => r.outcome === "FAIL" && r.group !== "shape");
    expect(later.length).toBeGreaterThan(5);
    for (const r of later) {
      expect(r.rootCause, r.id).toMatch(/^shape\.entries/);
      expect(String((r.error as Error).message), r.id).toMatch(/^\(likely a consequence of shape\.entries/);
    }
  });

  it("a correct provider has no root cause", async () => {
    const run = await runConformance("memory", memoryHarness(), LAZY_CAPABILITIES, { only: ["shape."] });
    expect(run.rootCauses).toEqual([]);
    expect(summarizeRun(run)).not.toMatch(/ROOT CAUSE/);
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
