import { describe, expect, it } from "vitest";
import { findGitHubOperation, validateGitHubExchange } from "../../test-servers/src/index.js";

// The REST server's responses are checked against GitHub's OpenAPI description. These tests show
// the check can fail: each deliberately wrong answer must be caught.
const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
const tree = {
  sha: "a".repeat(40),
  url: "http://127.0.0.1/repos/o/r/git/trees/x",
  truncated: false,
  tree: [{ path: "a.txt", mode: "100644", type: "blob", sha: "b".repeat(40), size: 1, url: "http://x/blob" }],
};
const exchange = (over: Partial<Parameters<typeof validateGitHubExchange>[0]>) =>
  validateGitHubExchange({
    method: "GET",
    path: `/repos/o/r/git/trees/${"a".repeat(40)}`,
    query: new URLSearchParams("recursive=1"),
    requestHeaders: {},
    status: 200,
    contentType: "application/json; charset=utf-8",
    body: json(tree),
    ...over,
  });

describe("OpenAPI validation of the REST server", () => {
  it("finds the operations the mount uses", () => {
    expect(findGitHubOperation("GET", "/repos/o/r/git/trees/main")?.operationId).toBe("git/get-tree");
    expect(findGitHubOperation("GET", "/repos/o/r/git/blobs/abc")?.operationId).toBe("git/get-blob");
    expect(findGitHubOperation("GET", "/repos/o/r/commits/heads/main")?.operationId).toBe("repos/get-commit");
  });

  it("accepts a conforming tree", () => {
    expect(exchange({})).toEqual([]);
  });

  it("catches a missing required property, a wrong type, an undocumented query or status, an unknown path", () => {
    const { truncated: _, ...withoutTruncated } = tree;
    expect(exchange({ body: json(withoutTruncated) }).join()).toMatch(/required property truncated/);
    expect(exchange({ body: json({ ...tree, truncated: "no" }) }).join()).toMatch(/expected boolean/);
    expect(
      exchange({
        body: json({ ...tree, tree: [{ path: "a", mode: 100644, type: "blob", sha: "b" }] }),
      }).join(),
    ).toMatch(/tree\[0\]\.mode: expected string/);
    expect(exchange({ query: new URLSearchParams("recursive=1&depth=2") }).join()).toMatch(
      /depth is not documented/,
    );
    expect(exchange({ status: 418 }).join()).toMatch(/status 418 is not documented/);
    expect(exchange({ path: "/repos/o/r/git/forest/x" }).join()).toMatch(/no operation/);
    expect(exchange({ method: "DELETE" }).join()).toMatch(/no operation/);
  });

  it("checks media types: the sha media type of commits, raw blobs only where documented", () => {
    const commit = {
      path: "/repos/o/r/commits/main",
      query: new URLSearchParams(),
      body: Buffer.from("a".repeat(40)),
    };
    expect(exchange({ ...commit, contentType: "application/vnd.github.sha" })).toEqual([]);
    expect(exchange({ ...commit, contentType: "application/vnd.github.raw" }).join()).toMatch(
      /raw media type/,
    );
    expect(
      exchange({
        path: `/repos/o/r/git/blobs/${"b".repeat(40)}`,
        query: new URLSearchParams(),
        contentType: "application/vnd.github.raw",
        body: Buffer.from([0, 1]),
      }),
    ).toEqual([]);
  });

  it("allows a 304 only to a conditional request, and without a body", () => {
    expect(exchange({ status: 304, body: new Uint8Array(0), contentType: undefined }).join()).toMatch(
      /not conditional/,
    );
    expect(
      exchange({
        status: 304,
        body: new Uint8Array(0),
        contentType: undefined,
        requestHeaders: { "if-none-match": '"x"' },
      }),
    ).toEqual([]);
  });
});
