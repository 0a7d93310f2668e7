import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MountError } from "./errors.js";
import {
  isValidRelativePath,
  isWithinRoot,
  joinMountPath,
  normalizeAbsolutePath,
  relativeToRoot,
  validateMountRoot,
} from "./paths.js";

// Segments drawn from an alphabet rich in the characters that break naive path code.
const nasty = fc.constantFrom(
  "",
  ".",
  "..",
  "a",
  "b",
  "...",
  ".git",
  "%2e%2e",
  "\\",
  "x y",
  "日",
  "🙂",
  "\0",
  "+",
);
const segment = fc.oneof(nasty, fc.string({ maxLength: 6 }));
const rawPath = fc.array(segment, { maxLength: 8 }).map((segments) => segments.join("/"));
const roots = fc.constantFrom("/w", "/workspace/data", "/a/b/c", "/日本");

describe("path properties", () => {
  it("joinMountPath never escapes the root: it throws EINVAL or returns a path strictly below it", () => {
    fc.assert(
      fc.property(
        roots,
        fc.oneof(
          rawPath,
          rawPath.map((p) => `/${p}`),
          rawPath.map((p) => `../${p}`),
        ),
        (root, rel) => {
          let joined: string;
          try {
            joined = joinMountPath(root, rel);
          } catch (error) {
            expect(MountError.hasCode(error, "EINVAL")).toBe(true);
            return;
          }
          expect(joined.startsWith(`${root}/`)).toBe(true);
          // Normalising the result must not move it: nothing in it climbs or collapses.
          expect(normalizeAbsolutePath(joined)).toBe(joined);
          expect(relativeToRoot(root, joined)).toBe(rel);
          expect(isWithinRoot(root, normalizeAbsolutePath(joined))).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("normalizeAbsolutePath is idempotent and yields a valid root or /", () => {
    fc.assert(
      fc.property(rawPath, (p) => {
        const input = `/${p}`;
        if (input.includes("\0")) return;
        const once = normalizeAbsolutePath(input);
        expect(normalizeAbsolutePath(once)).toBe(once);
        expect(once.startsWith("/")).toBe(true);
        expect(once === "/" || !once.endsWith("/")).toBe(true);
        expect(
          once
            .split("/")
            .slice(1)
            .every((s) => s !== "" && s !== "." && s !== "..") || once === "/",
        ).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it("a normalised path with short segments is a valid mount root (or /)", () => {
    fc.assert(
      fc.property(rawPath, (p) => {
        if (p.includes("\0")) return;
        const n = normalizeAbsolutePath(`/${p}`);
        if (n === "/") return;
        expect(validateMountRoot(n)).toBe(n);
        expect(isValidRelativePath(n.slice(1))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
