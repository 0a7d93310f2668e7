import type { MountDiagnostic } from "@ws/core";
import { MountError } from "@ws/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_BYTES, type HostileServer, startHostileServer } from "../test/hostile-server.js";
import { HttpTree, type HttpTreeOptions } from "./http-tree.js";

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer();
});
afterAll(async () => {
  await server?.stop();
});

async function errorOf(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

function tree(path: string, options: HttpTreeOptions = {}) {
  const diagnostics: MountDiagnostic[] = [];
  const mount = HttpTree(`${server.url}${path}`, {
    ...options,
    onDiagnostic: (d) => {
      diagnostics.push(d);
    },
  });
  return { mount, diagnostics };
}

describe("hostile listings", () => {
  it("an HTML index's links out of the tree never become entries, and each is reported", async () => {
    const { mount, diagnostics } = tree("escape/");
    const entries = await mount.list();
    expect(entries.map((e) => e.path)).toEqual(["good.txt"]);
    expect(entries[0]?.size).toBe(GOOD_BYTES.length);
    const reported = diagnostics.map((d) => d.key);
    for (const href of [
      "../secret.txt",
      "../../etc/passwd",
      "sub/../../x.txt",
      "%2e%2e/y.txt",
      "/other/c.txt",
      "http://evil.example/a.txt",
      "//evil.example/b.txt",
      "https://127.0.0.1/escape/https.txt",
      "good.txt?download=1",
      "good.txt#frag",
      "javascript:alert(1)",
      "a%2Fb.txt",
      "sub/deeper.txt",
    ]) {
      expect(reported, href).toContain(href);
    }
    // "../" is the parent link every index has: dropped without a diagnostic.
    expect(reported).not.toContain("../");
    for (const d of diagnostics) expect(d.message).toMatch(/skipped/);
    // Nothing outside /escape/ was ever requested.
    expect(
      server.requests.filter((r) => !r.path.startsWith("/escape/") && r.path !== "/").map((r) => r.path),
    ).toEqual([]);
    expect(await mount.fetch("good.txt")).toEqual(new TextEncoder().encode(GOOD_BYTES));
  });

  it("a JSON autoindex's names that cannot be path segments are skipped and reported", async () => {
    const { mount, diagnostics } = tree("json/", { listing: "autoindex-json" });
    expect((await mount.list()).map((e) => e.path)).toEqual(["good.txt"]);
    expect(diagnostics.map((d) => d.key).sort()).toEqual(["", ".", "..", "../x", "a/b", "nul\u0000"].sort());
  });

  it("WebDAV hrefs outside the base or on other hosts never become entries", async () => {
    const { mount, diagnostics } = tree("dav/", { listing: "webdav" });
    expect((await mount.list()).map((e) => e.path)).toEqual(["good.txt"]);
    expect(diagnostics.map((d) => d.key)).toEqual([
      "/etc/passwd",
      "/dav/../etc/shadow",
      "http://evil.example/dav/x",
      "/dav/a%2Fb",
    ]);
  });

  it("a tree that keeps getting deeper fails EIO at maxDepth instead of listing forever", async () => {
    const { mount } = tree("deep/", { maxDepth: 20 });
    const error = await errorOf(mount.list());
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/maxDepth 20/);
  });

  it("a tree that keeps getting wider fails EIO at maxFolders", async () => {
    const { mount } = tree("wide/", { maxFolders: 50 });
    const error = await errorOf(mount.list());
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/more than 50 folders \(maxFolders\)/);
  });

  it("pages linking to each other end: links that are not children are not followed", async () => {
    const { mount, diagnostics } = tree("loop/");
    expect((await mount.list()).map((e) => e.path)).toEqual(["a/x.txt"]);
    expect(diagnostics.map((d) => d.key)).toContain("/loop/b/");
  });

  it("a manifest whose pages loop fails EIO naming the loop", async () => {
    const { mount } = tree("manifest-loop/", { listing: "manifest" });
    const error = await errorOf(mount.list());
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/twice|loop/);
  });

  it("a manifest whose next page is on another origin is refused", async () => {
    const { mount } = tree("manifest-away/", { manifest: "manifest.json" });
    const error = await errorOf(mount.list());
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/leaves the base URL/);
    expect(server.requests.some((r) => r.path === "/manifest-away/page-2.json")).toBe(false);
  });

  it("a page in no known format is EIO with what to pass", async () => {
    const error = await errorOf(tree("plain/").mount.list());
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/pass listing/);
  });
});

describe("redirects", () => {
  it("are followed within the base origin", async () => {
    const { mount } = tree("redirect/");
    expect(new TextDecoder().decode(await mount.fetch("inside.txt"))).toBe("target");
  });

  it("to another origin are refused unless allowed, and credentials never go there", async () => {
    const bearer = "bearer-token-that-must-stay-home";
    const { mount } = tree("redirect/", { auth: { bearer } });
    const error = await errorOf(mount.fetch("away.txt"));
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/another origin/);

    const before = server.requests.length;
    const allowed = tree("redirect/", { auth: { bearer }, redirectOrigins: [server.otherOrigin] }).mount;
    expect(new TextDecoder().decode(await allowed.fetch("away.txt"))).toBe("target");
    const seen = server.requests.slice(before);
    expect(seen.map((r) => [r.path, r.authorization !== undefined])).toEqual([
      ["/redirect/away.txt", true],
      ["/redirect/target.txt", false],
    ]);
  });

  it("a redirect's own body does not count against the listed size", async () => {
    const { mount } = tree("manifest-redirect/", { listing: "manifest" });
    await mount.list();
    expect(new TextDecoder().decode(await mount.fetch("r.txt"))).toBe("target");
  });

  it("a redirect loop ends with EIO", async () => {
    const error = await errorOf(tree("redirect/").mount.fetch("loop.txt"));
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/redirects/);
  });

  it("a redirect to the same path with a trailing slash is a folder (EISDIR)", async () => {
    expect((await errorOf(tree("redirect/").mount.fetch("folder"))).code).toBe("EISDIR");
  });
});

describe("secrets", () => {
  const bearer = "super-secret-bearer-token-1234";
  const password = "hunter2-but-longer-password";

  it.each([
    ["status/401/", "EACCES"],
    ["status/403/", "EACCES"],
    ["status/500/", "EIO"],
  ])("errors from %s carry no credential, anywhere in the chain", async (path, code) => {
    for (const auth of [{ bearer }, { username: "user", password }]) {
      const { mount } = tree(path, { auth, headers: { "x-api-key": "header-secret-value-42" } });
      for (const error of [await errorOf(mount.fetch("a.txt")), await errorOf(mount.list())]) {
        expect(error.code).toBe(code);
        let text = "";
        for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
          text += `${String((e as Error).message)}\n${String((e as Error).stack)}\n`;
        }
        expect(text).not.toContain(bearer);
        expect(text).not.toContain(password);
        expect(text).not.toContain(Buffer.from(`user:${password}`).toString("base64"));
        expect(text).not.toContain("header-secret-value-42");
      }
    }
  });

  it("mount.options never holds credentials", () => {
    const { mount } = tree("escape/", { auth: { bearer }, headers: { authorization: "x" } });
    expect(JSON.stringify(mount.options)).not.toContain(bearer);
    expect(JSON.stringify(mount.options)).not.toContain("authorization");
  });

  it("credentials in the base URL are refused without echoing them", () => {
    try {
      HttpTree("http://user:pw-in-url-secret@127.0.0.1:1/x/");
      expect.unreachable();
    } catch (error) {
      expect(MountError.hasCode(error, "EINVAL")).toBe(true);
      expect(String((error as Error).message)).not.toContain("pw-in-url-secret");
    }
  });
});

describe("lying servers", () => {
  it("a 206 that is not the range asked for is EIO, never data", async () => {
    const { mount } = tree("ranges/", { rangeThreshold: 0, readStreams: 4 });
    expect((await mount.list()).map((e) => [e.path, e.size])).toEqual([["bad.bin", 1000]]);
    const error = await errorOf(mount.fetch("bad.bin"));
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/Content-Range|range/);
  });
});

describe("a file replaced during a ranged read", () => {
  it("ranges that carry different ETags are a transient EIO, never a mix of versions", async () => {
    const { mount } = tree("versions/", { rangeThreshold: 0, readStreams: 4 });
    await mount.list();
    const error = (await errorOf(mount.fetch("v.bin"))) as MountError & { transient?: boolean };
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/changed while it was read/);
    expect(error.transient).toBe(true);
  });

  it("a server that answers one range with 206 and another with the whole file is EIO", async () => {
    const { mount } = tree("versions/", { rangeThreshold: 0, readStreams: 4 });
    await mount.list();
    const error = await errorOf(mount.fetch("mixed.bin"));
    expect(error.code).toBe("EIO");
  });
});

describe("oversized answers", () => {
  it("a listing that announces more than 256 MiB is EIO before anything is buffered (and nothing is left uncaught)", async () => {
    const { mount } = tree("huge-dav/", { listing: "webdav" });
    const error = await errorOf(mount.list());
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/larger than maxBytes/);
  });
});
