import { describe, expect, it } from "vitest";
import { memoryHarness } from "../reference/memory-harness.js";
import { runConformance } from "../run.js";
import {
  FIDELITY_BROKEN_PROVIDERS,
  FIDELITY_CAPABILITIES,
  fidelityMemoryMount,
} from "./fidelity-broken-providers.js";

describe("the fidelity cases can fail", () => {
  for (const broken of FIDELITY_BROKEN_PROVIDERS) {
    it(`catches ${broken.id} (${broken.defect}) with ${broken.target}`, async () => {
      const run = await runConformance(broken.id, broken.harness(), FIDELITY_CAPABILITIES, {
        only: ["fidelity."],
      });
      const target = run.results.find((r) => r.id === broken.target);
      expect(target?.outcome, `${broken.target} against ${broken.id}`).toBe("FAIL");
    });
  }

  it("passes on the reference (MemoryMount with folders and links kept) and is NA by name without the capabilities", async () => {
    const run = await runConformance(
      "memory-fidelity",
      memoryHarness({ createMount: (o) => fidelityMemoryMount(o) }),
      FIDELITY_CAPABILITIES,
      { only: ["fidelity."] },
    );
    expect(run.results.map((r) => [r.id, r.outcome])).toEqual([
      ["fidelity.mode-round-trip", "PASS"],
      ["fidelity.mtime-round-trip", "PASS"],
      ["fidelity.empty-directory", "PASS"],
      ["fidelity.symlink-round-trip", "PASS"],
    ]);
    const na = await runConformance("memory", memoryHarness(), {}, { only: ["fidelity."] });
    expect(na.results.map((r) => r.outcome)).toEqual(["NA", "NA", "NA", "NA"]);
  });
});
