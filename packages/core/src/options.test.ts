import { describe, expect, it } from "vitest";
import { MountError } from "./errors.js";
import { DEFAULT_MOUNT_OPTIONS, pickMountOptions, resolveMountOptions } from "./options.js";
import type { MountOptions } from "./types.js";

describe("resolveMountOptions", () => {
  it("applies the seed's defaults", () => {
    expect(resolveMountOptions()).toEqual({
      mode: "read-only",
      ignore: [],
      writeBack: "debounce",
      writeBackMs: 500,
      maxBytes: Number.POSITIVE_INFINITY,
      maxEntries: Number.POSITIVE_INFINITY,
    });
    expect(DEFAULT_MOUNT_OPTIONS.writeBackMs).toBe(500);
  });

  it("keeps given values", () => {
    expect(
      resolveMountOptions({
        mode: "read-write",
        ignore: [".git"],
        writeBack: "manual",
        writeBackMs: 0,
        maxBytes: 0,
        maxEntries: 5,
      }),
    ).toEqual({
      mode: "read-write",
      ignore: [".git"],
      writeBack: "manual",
      writeBackMs: 0,
      maxBytes: 0,
      maxEntries: 5,
    });
  });

  it.each<[string, MountOptions]>([
    ["mode", { mode: "rw" as never }],
    ["writeBack", { writeBack: "later" as never }],
    ["writeBackMs", { writeBackMs: -1 }],
    ["writeBackMs", { writeBackMs: Number.NaN }],
    ["maxBytes", { maxBytes: -1 }],
    ["maxBytes", { maxBytes: 1.5 }],
    ["maxEntries", { maxEntries: Number.NaN }],
    ["ignore", { ignore: "node_modules" as never }],
  ])("rejects a bad %s with EINVAL naming it", (name, options) => {
    try {
      resolveMountOptions(options);
      expect.unreachable();
    } catch (error) {
      expect(MountError.hasCode(error, "EINVAL")).toBe(true);
      expect((error as Error).message).toContain(name);
    }
  });

  it("accepts Infinity as an explicit unbounded limit", () => {
    expect(resolveMountOptions({ maxBytes: Number.POSITIVE_INFINITY }).maxBytes).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});

describe("pickMountOptions", () => {
  it("keeps only the common options, never provider configuration", () => {
    const picked = pickMountOptions({
      mode: "read-write",
      ignore: [".git"],
      maxBytes: 10,
      secretAccessKey: "s3cr3t",
      files: {},
    } as MountOptions);
    expect(picked).toEqual({ mode: "read-write", ignore: [".git"], maxBytes: 10 });
  });
});
