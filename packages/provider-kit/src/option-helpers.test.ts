import { describe, expect, it } from "vitest";
import { booleanOption, enumOption, integerOption, stringOption, urlOption } from "./option-helpers.js";

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect((error as { code?: string }).code).toBe("EINVAL");
    return (error as Error).message;
  }
  throw new Error("expected EINVAL");
};

describe("option helpers", () => {
  it("integerOption applies the default and the bounds, naming option, value and range", () => {
    expect(integerOption("pageSize", undefined, { default: 1000, min: 1, max: 1000 })).toBe(1000);
    expect(integerOption("pageSize", 5, { default: 1000, min: 1, max: 1000 })).toBe(5);
    expect(message(() => integerOption("pageSize", 0, { default: 1, min: 1, max: 1000 }))).toBe(
      "EINVAL: pageSize must be an integer from 1 to 1000, got 0",
    );
    expect(message(() => integerOption("n", 1.5, { default: 1, min: 1 }))).toBe(
      "EINVAL: n must be an integer >= 1, got 1.5",
    );
    expect(message(() => integerOption("n", "3", { default: 1 }))).toBe(
      'EINVAL: n must be an integer, got "3"',
    );
    expect(() => integerOption("n", 2000, { default: 1, max: 1000 })).toThrow(/<= 1000/);
  });

  it("enumOption lists what is allowed", () => {
    expect(enumOption("retries", undefined, ["kit", "client"], "kit")).toBe("kit");
    expect(enumOption("retries", "client", ["kit", "client"], "kit")).toBe("client");
    expect(message(() => enumOption("retries", "sdk", ["kit", "client"], "kit"))).toBe(
      'EINVAL: retries must be one of "kit", "client", got "sdk"',
    );
  });

  it("stringOption, booleanOption", () => {
    expect(stringOption("bucket", "b")).toBe("b");
    expect(stringOption("ref", undefined, { default: "main" })).toBe("main");
    expect(message(() => stringOption("bucket", ""))).toMatch(/bucket must be a non-empty string/);
    expect(message(() => stringOption("bucket", undefined))).toMatch(
      /bucket must be a string, got undefined/,
    );
    expect(message(() => stringOption("name", "a b", { pattern: /^\S+$/ }))).toMatch(/must match/);
    expect(booleanOption("fast", undefined, true)).toBe(true);
    expect(booleanOption("fast", false, true)).toBe(false);
    expect(message(() => booleanOption("fast", "yes", true))).toMatch(
      /fast must be true or false, got "yes"/,
    );
  });

  it("urlOption parses, checks the protocol and refuses embedded credentials without echoing them", () => {
    expect(urlOption("baseUrl", "https://example.com/a/").href).toBe("https://example.com/a/");
    expect(message(() => urlOption("baseUrl", "not a url"))).toMatch(/baseUrl must be an absolute URL/);
    expect(message(() => urlOption("baseUrl", "ftp://x/"))).toMatch(/must use http: or https:, got ftp:/);
    const m = message(() => urlOption("baseUrl", "https://user:pa55word@example.com/"));
    expect(m).toMatch(/must not carry a user name or password/);
    expect(m).not.toContain("pa55word");
  });
});
