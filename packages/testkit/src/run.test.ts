import { describe, expect, it } from "vitest";
import { resolveCapabilities } from "./capabilities.js";
import type { ConformanceCase } from "./case.js";
import { CASES } from "./cases/index.js";
import { planCase, selectCases } from "./run.js";

const byId = (id: string): ConformanceCase => {
  const c = CASES.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
};

describe("planCase", () => {
  it("marks lazy cases NA for eager providers and eager cases NA for lazy ones", () => {
    expect(planCase(byId("list.exact"), resolveCapabilities({ eager: "supported" })).run).toBe(false);
    expect(planCase(byId("eager.tree"), resolveCapabilities({})).run).toBe(false);
    expect(planCase(byId("eager.tree"), resolveCapabilities({ eager: "supported" })).run).toBe(true);
  });

  it("runs clean-failure cases only for unsupported capabilities", () => {
    expect(planCase(byId("write.unsupported"), resolveCapabilities({})).run).toBe(true);
    expect(planCase(byId("write.unsupported"), resolveCapabilities({ write: "supported" })).run).toBe(false);
  });

  it("expects a failure when a required capability or the case is a known failure", () => {
    const caps = resolveCapabilities({
      write: "supported",
      conditionalPut: { status: "known-failure", reason: "501" },
    });
    expect(planCase(byId("write.conditional"), caps)).toEqual({
      run: true,
      expectFailure: "conditionalPut: 501",
    });
    expect(
      planCase(byId("names.plus"), caps, { knownFailures: { "names.plus": "form-decoded" } }).expectFailure,
    ).toBe("names.plus: form-decoded");
  });

  it("has unique, dotted case ids", () => {
    const ids = CASES.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+(\.[a-z0-9-]+)+$/);
    expect(selectCases(["list."]).every((c) => c.id.startsWith("list."))).toBe(true);
  });
});
