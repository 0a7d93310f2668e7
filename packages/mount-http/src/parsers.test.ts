import { describe, expect, it } from "vitest";
import { childLink, encodeSegment, keyUnderBase, urlOfKey } from "./child-link.js";
import { ListingFormatError, parseAutoindexJson } from "./parse-autoindex-json.js";
import { anchorHrefs, decodeHtmlEntities, parseHtmlIndex } from "./parse-html-index.js";
import { parseManifest } from "./parse-manifest.js";
import { parsePropfind } from "./parse-propfind.js";

const page = new URL("http://127.0.0.1:8080/base/dir/");

describe("childLink", () => {
  it.each([
    ["a.txt", { kind: "file", name: "a.txt" }],
    ["sub/", { kind: "directory", name: "sub" }],
    ["./b.txt", { kind: "file", name: "b.txt" }],
    ["/base/dir/c.txt", { kind: "file", name: "c.txt" }],
    ["http://127.0.0.1:8080/base/dir/d.txt", { kind: "file", name: "d.txt" }],
    ["q%3Fx%3D1%26y%3D2%23frag.txt", { kind: "file", name: "q?x=1&y=2#frag.txt" }],
    ["%25zz%25", { kind: "file", name: "%zz%" }],
    ["a+b%20c.txt", { kind: "file", name: "a+b c.txt" }],
    ["%E6%BC%A2%E5%AD%97/", { kind: "directory", name: "漢字" }],
  ])("%s is a child", (href, expected) => {
    expect(childLink(href, page)).toEqual(expected);
  });

  it.each([
    ["../", true],
    ["..", true],
    ["/", true],
    ["/base/", true],
    ["", true],
    ["?sort=name&order=asc", true],
    ["#top", true],
    ["./", true],
  ])("%s is navigation, dropped silently", (href, navigation) => {
    const link = childLink(href, page);
    expect(link.kind).toBe("skip");
    expect(link.kind === "skip" && link.navigation).toBe(navigation);
  });

  it.each([
    ["http://evil.example/base/dir/a.txt", /another origin/],
    ["https://127.0.0.1:8080/base/dir/a.txt", /another origin/],
    ["//evil.example/x", /another origin/],
    ["../other/a.txt", /outside|\.\./],
    ["sub/../../x.txt", /\.\./],
    ["%2e%2e/x.txt", /\.\./],
    ["/elsewhere/a.txt", /outside/],
    ["a.txt?download=1", /query/],
    ["a.txt#frag", /fragment/],
    ["sub/deeper.txt", /direct child/],
    ["%2F", /\//],
    ["a%2Fb", /\//],
    ["%zz", /percent/],
    ["%00", /NUL/],
    ["javascript:alert(1)", /another origin/],
    ["mailto:x@y", /another origin/],
    ["http://user:pw@127.0.0.1:8080/base/dir/a.txt", /credentials/],
  ])("%s is refused with a reason", (href, reason) => {
    const link = childLink(href, page);
    expect(link.kind).toBe("skip");
    if (link.kind === "skip") {
      expect(link.navigation).toBe(false);
      expect(link.reason).toMatch(reason);
    }
  });
});

describe("keyUnderBase", () => {
  const base = new URL("http://127.0.0.1:8080/dav/");
  it("keys hrefs under the base, decoded", () => {
    expect(keyUnderBase("/dav/", base, base)).toEqual({ key: "", directory: true });
    expect(keyUnderBase("/dav", base, base)).toEqual({ key: "", directory: true });
    expect(keyUnderBase("/dav/a%20b/c%25.txt", base, base)).toEqual({ key: "a b/c%.txt", directory: false });
    expect(keyUnderBase("http://127.0.0.1:8080/dav/x/", base, base)).toEqual({ key: "x", directory: true });
  });
  it("refuses hrefs that leave the base or cannot be paths", () => {
    for (const href of [
      "/other/a",
      "/dav/../etc/passwd",
      "http://evil/dav/a",
      "/dav/a%2Fb",
      "/dav/a?x",
      "/dav//a",
    ]) {
      expect(keyUnderBase(href, base, base)).toHaveProperty("skip");
    }
  });
});

describe("urlOfKey", () => {
  it("encodes every segment, so names are never decoded or re-split by the server", () => {
    const base = new URL("http://h:1/base/");
    expect(urlOfKey(base, "q?x=1&y=2#frag.txt").href).toBe("http://h:1/base/q%3Fx%3D1%26y%3D2%23frag.txt");
    expect(urlOfKey(base, "a/100%.txt").pathname).toBe("/base/a/100%25.txt");
    expect(urlOfKey(base, "c++/x").pathname).toBe("/base/c%2B%2B/x");
    expect(urlOfKey(base, "d", true).pathname).toBe("/base/d/");
    expect(encodeSegment("it's (x)*!")).toBe("it%27s%20%28x%29%2A%21");
  });
  it("a base path starting with // never changes the host", () => {
    const base = new URL("http://h:1//evil.example/x/");
    expect(urlOfKey(base, "a").host).toBe("h:1");
  });
});

describe("parseAutoindexJson", () => {
  it("reads nginx's rows and skips what cannot be a name", () => {
    const parsed = parseAutoindexJson(`[
      { "name":"sub", "type":"directory", "mtime":"Mon, 30 Nov 2026 06:02:27 GMT" },
      { "name":"a.txt", "type":"file", "mtime":"Mon, 30 Nov 2026 06:02:27 GMT", "size":5 },
      { "name":"..", "type":"directory" },
      { "name":"x/y", "type":"file", "size":1 },
      { "name":"neg", "type":"file", "size":-1 },
      { "name":"sock", "type":"other" }
    ]`);
    expect(parsed.rows).toEqual([
      { name: "sub", directory: true, mtime: Date.parse("Mon, 30 Nov 2026 06:02:27 GMT") },
      { name: "a.txt", directory: false, size: 5, mtime: Date.parse("Mon, 30 Nov 2026 06:02:27 GMT") },
    ]);
    expect(parsed.skipped.map((s) => s.name)).toEqual(["..", "x/y", "neg", "sock"]);
  });
  it("throws on a document that is not a listing", () => {
    expect(() => parseAutoindexJson("{}")).toThrow(ListingFormatError);
    expect(() => parseAutoindexJson("<html>")).toThrow(ListingFormatError);
  });
});

describe("parseHtmlIndex", () => {
  it("reads nginx's page", () => {
    const html = `<html><head><title>Index of /base/dir/</title></head><body><h1>Index of /base/dir/</h1><hr><pre><a href="../">../</a>
<a href="sub/">sub/</a>                                               30-Nov-2026 06:02                   -
<a href="%25zz%25">%zz%</a>                                               30-Nov-2026 06:02                   0
<a href="q%3Fx=1&amp;y=2%23frag.txt">q?x=1&amp;y=2#frag.txt</a>                                   30-Nov-2026 06:02                 300
</pre><hr></body></html>`;
    const parsed = parseHtmlIndex(html, page);
    expect(parsed.rows).toEqual([
      { name: "sub", directory: true },
      { name: "%zz%", directory: false, size: 0 },
      { name: "q?x=1&y=2#frag.txt", directory: false, size: 300 },
    ]);
    expect(parsed.skipped).toEqual([]);
  });
  it("takes exact sizes from rclone's rows, never rounded ones (Apache) or absent ones (python)", () => {
    const rclone = `<tr class="file"><td></td><td><svg></svg>
      <span class="name"><a href="a%2Bb.txt">a+b.txt</a></span>
      </td>
      <td data-order="1234"><size>1234</size></td></tr>`;
    expect(parseHtmlIndex(rclone, page).rows).toEqual([{ name: "a+b.txt", directory: false, size: 1234 }]);
    const apache = `<tr><td><a href="big.iso">big.iso</a></td><td align="right">2024-01-01 10:00  </td><td align="right">1.2G</td></tr>`;
    expect(parseHtmlIndex(apache, page).rows).toEqual([{ name: "big.iso", directory: false }]);
    const nginxRounded = `<pre><a href="f.bin">f.bin</a>                30-Nov-2026 06:02                 2K\n</pre>`;
    expect(parseHtmlIndex(nginxRounded, page).rows).toEqual([{ name: "f.bin", directory: false }]);
    expect(parseHtmlIndex(`<li><a href="x.txt">x.txt</a></li>`, page).rows).toEqual([
      { name: "x.txt", directory: false },
    ]);
  });
  it("reads python's and rclone's pages, dropping sort links and duplicates", () => {
    const html = `<ul><li><a href=".env">.env</a></li><li><a href='sub/'>sub/</a></li>
      <a href="?sort=name&amp;order=asc" class="order">Name</a><a href="..">Go up</a>
      <a href=a.txt><img></a><a href="a.txt">a.txt</a><!-- <a href="hidden.txt"> --></ul>`;
    const parsed = parseHtmlIndex(html, page);
    expect(parsed.rows.map((r) => r.name)).toEqual([".env", "sub", "a.txt"]);
  });
  it("reports hostile links with their reason", () => {
    const html = `<a href="http://evil.example/x">x</a><a href="../../etc/passwd">p</a><a href="/base/other/">o</a>`;
    const parsed = parseHtmlIndex(html, page);
    expect(parsed.rows).toEqual([]);
    expect(parsed.skipped.map((s) => s.name)).toEqual([
      "http://evil.example/x",
      "../../etc/passwd",
      "/base/other/",
    ]);
  });
  it("decodes entities and finds hrefs in any quoting", () => {
    expect(decodeHtmlEntities("a&amp;b&#39;c&#x2F;&unknown;")).toBe("a&b'c/&unknown;");
    expect(anchorHrefs(`<A HREF="x">a</A><a class=y href='z'>b</a><a name=n>c</a>`)).toEqual(["x", "z"]);
  });
});

describe("parsePropfind", () => {
  const base = new URL("http://127.0.0.1:8080/");
  it("reads rclone's multistatus", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><D:multistatus xmlns:D="DAV:"><D:response><D:href>/</D:href><D:propstat><D:prop><D:resourcetype><D:collection xmlns:D="DAV:"/></D:resourcetype><D:getlastmodified>Mon, 30 Nov 2026 06:02:32 GMT</D:getlastmodified></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/%25zz%25</D:href><D:propstat><D:prop><D:getcontentlength>0</D:getcontentlength><D:resourcetype></D:resourcetype><D:getetag>"18ecbd5a74db0cb30"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response><D:response><D:href>/.hidden/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`;
    const parsed = parsePropfind(xml, base, base);
    expect(parsed.resources).toEqual([
      {
        key: "",
        collection: true,
        size: undefined,
        mtime: Date.parse("Mon, 30 Nov 2026 06:02:32 GMT"),
        etag: undefined,
      },
      { key: "%zz%", collection: false, size: 0, mtime: undefined, etag: '"18ecbd5a74db0cb30"' },
      { key: ".hidden", collection: true, size: undefined, mtime: undefined, etag: undefined },
    ]);
  });
  it("ignores 404 propstats, other namespaces' prefixes and hrefs that leave the base", () => {
    const xml = `<multistatus xmlns="DAV:"><response><href>http://127.0.0.1:8080/a&amp;b.txt</href>
      <propstat><prop><getcontentlength>7</getcontentlength></prop><status>HTTP/1.1 200 OK</status></propstat>
      <propstat><prop><getetag/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
      <response><href>http://evil.example/x</href><propstat><prop><getcontentlength>1</getcontentlength></prop><status>HTTP/1.1 200 OK</status></propstat></response>
      <response><href>/nosize</href><propstat><prop/><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`;
    const parsed = parsePropfind(xml, base, base);
    expect(parsed.resources).toEqual([
      { key: "a&b.txt", collection: false, size: 7, mtime: undefined, etag: undefined },
    ]);
    expect(parsed.skipped.map((s) => s.name)).toEqual(["http://evil.example/x", "/nosize"]);
  });
  it("throws on malformed XML or another document", () => {
    expect(() => parsePropfind("<a><b></a>", base, base)).toThrow(ListingFormatError);
    expect(() => parsePropfind("<html></html>", base, base)).toThrow(ListingFormatError);
  });
});

describe("parseManifest", () => {
  it("reads files with every optional field, and the next page", () => {
    const sha = "a".repeat(64);
    const parsed = parseManifest(
      JSON.stringify({
        version: 1,
        files: [
          {
            path: "a/b.txt",
            size: 3,
            sha256: sha.toUpperCase(),
            etag: '"v1"',
            mtime: "2026-01-01T00:00:00Z",
            mode: "0755",
          },
          { path: "c", size: 0, mtime: 5, mode: 420 },
        ],
        next: "page-2.json",
      }),
    );
    expect(parsed.files).toEqual([
      {
        path: "a/b.txt",
        size: 3,
        sha256: sha,
        etag: '"v1"',
        mtime: Date.parse("2026-01-01T00:00:00Z"),
        mode: 0o755,
      },
      { path: "c", size: 0, mtime: 5, mode: 0o644 },
    ]);
    expect(parsed.next).toBe("page-2.json");
  });
  it("skips invalid files with a reason", () => {
    const parsed = parseManifest(
      JSON.stringify({
        version: 1,
        files: [
          { path: "../x", size: 1 },
          { path: "/abs", size: 1 },
          { path: "ok", size: 1.5 },
          { path: "s", size: 1, sha256: "zz" },
          { path: "m", size: 1, mode: "rwx" },
          { size: 1 },
        ],
      }),
    );
    expect(parsed.files).toEqual([]);
    expect(parsed.skipped.map((s) => s.name)).toEqual(["../x", "/abs", "ok", "s", "m", "undefined"]);
  });
  it("throws on what is not a manifest", () => {
    expect(() => parseManifest("[]")).toThrow(ListingFormatError);
    expect(() => parseManifest('{"version":2,"files":[]}')).toThrow(/version/);
    expect(() => parseManifest('{"version":1}')).toThrow(/files/);
    expect(() => parseManifest('{"version":1,"files":[],"next":3}')).toThrow(/next/);
  });
});
