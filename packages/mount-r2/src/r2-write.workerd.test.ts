import { readdir, readFile } from "node:fs/promises";
import { Miniflare } from "miniflare";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// writeObjectStream run where R2Bucket runs in production: inside workerd, on the real Workers R2
// binding (Miniflare's), where `FixedLengthStream` exists. The module and @ws/core are transpiled
// from their sources here and loaded into the Worker as they are (only core's glob library,
// which this path never calls, is left out). workerd resolves a bare import relative to the
// importing module's folder, so the modules are laid out for that: "@ws/core" from the root,
// "picomatch" from @ws/core's folder.

const here = new URL(".", import.meta.url);
const coreSrc = new URL("../../core/src/", import.meta.url);

async function esm(url: URL): Promise<string> {
  return ts.transpileModule(await readFile(url, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
}

const WORKER = `
import { writeObjectStream } from "./r2-write.js";
import { MountError } from "@ws/core";

const MiB = 1024 * 1024;
const byteAt = (i) => (i * 31 + (i >>> 13)) & 0xff;
/** size bytes of a pattern in extents (all when absent), zeros elsewhere; onRead sees each range read. */
function source(size, extents, onRead) {
  const data = extents ?? [[0, size]];
  const s = {
    size,
    ...(extents ? { extents } : {}),
    read_: 0,
    async read(start, end) {
      await onRead?.(start, end);
      s.read_ += end - start;
      const out = new Uint8Array(end - start);
      for (const [a, b] of data) for (let i = Math.max(a, start); i < Math.min(b, end); i++) out[i - start] = byteAt(i);
      return out;
    },
    whole() {
      const out = new Uint8Array(size);
      for (const [a, b] of data) for (let i = a; i < b; i++) out[i] = byteAt(i);
      return out;
    },
  };
  return s;
}
const hex = async (bytes) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
const codeOf = (p) => p.then(() => "resolved", (e) => (MountError.isInstance(e) ? e.code : "not a MountError: " + e));
const settings = { partSize: 5 * MiB, classify: (e) => new MountError("EIO", String(e)) };

export default {
  async fetch(request, env) {
    const B = env.B;
    const out = { fixedLengthStream: typeof FixedLengthStream };
    const stored = async (key) => {
      const o = await B.get(key);
      return o === null ? null : new Uint8Array(await o.arrayBuffer());
    };
    // A conditional write: one streamed put, not a multipart upload (whose etag ends "-<parts>").
    const first = source(12 * MiB + 3, [[0, 100], [7 * MiB, 7 * MiB + 4096]]);
    const put = await writeObjectStream(B, "cond.bin", first, { ifNoneMatch: "*", mode: 0o100640 }, settings);
    out.conditional = {
      etag: put.etag,
      read: first.read_,
      same: (await hex(await stored("cond.bin"))) === (await hex(first.whole())),
      meta: (await B.head("cond.bin")).customMetadata,
    };
    out.exists = await codeOf(writeObjectStream(B, "cond.bin", source(6 * MiB, [[0, 1]]), { ifNoneMatch: "*" }, settings));
    out.stale = await codeOf(writeObjectStream(B, "cond.bin", source(6 * MiB, [[0, 1]]), { ifMatch: "0123" }, settings));
    // Another write lands while the stream goes up: R2 checks the precondition when the put ends.
    let other;
    const racing = source(12 * MiB, undefined, async (start) => {
      if (start === 6 * MiB) other = (await B.put("cond.bin", "another writer")).etag;
    });
    out.race = await codeOf(writeObjectStream(B, "cond.bin", racing, { ifMatch: put.etag }, settings));
    out.afterRace = { text: new TextDecoder().decode(await stored("cond.bin")), isOther: (await B.head("cond.bin")).etag === other };
    // A source that fails half way: nothing is stored.
    const failing = source(12 * MiB, undefined, (start) => {
      if (start >= 6 * MiB) throw new Error("the source failed");
    });
    out.failing = await writeObjectStream(B, "fail.bin", failing, { ifNoneMatch: "*" }, settings).then(
      () => "resolved",
      (e) => String(e.message ?? e),
    );
    out.failedStored = await stored("fail.bin");
    // Without a precondition: the multipart upload, as in Node.
    const plain = source(12 * MiB + 3);
    const multi = await writeObjectStream(B, "plain.bin", plain, {}, settings);
    out.plain = { etag: multi.etag, same: (await hex(await stored("plain.bin"))) === (await hex(plain.whole())) };
    return Response.json(out);
  },
};
`;

describe("writeObjectStream inside workerd (Miniflare's real R2 binding)", { timeout: 120_000 }, () => {
  let mf: Miniflare;
  beforeAll(async () => {
    const files = (await readdir(coreSrc)).filter((f) => f.endsWith(".ts") && !f.includes(".test."));
    const root = "/ws-virtual";
    const modules = [
      { type: "ESModule" as const, path: `${root}/worker.js`, contents: WORKER },
      {
        type: "ESModule" as const,
        path: `${root}/r2-write.js`,
        contents: await esm(new URL("r2-write.ts", here)),
      },
      { type: "ESModule" as const, path: `${root}/@ws/core`, contents: 'export * from "./core/index.js";' },
      {
        type: "ESModule" as const,
        path: `${root}/@ws/core/picomatch`,
        contents:
          'export default function picomatch() { throw new Error("picomatch is not loaded in this Worker"); }',
      },
      ...(await Promise.all(
        files.map(async (f) => ({
          type: "ESModule" as const,
          path: `${root}/@ws/core/${f.replace(/\.ts$/, ".js")}`,
          contents: await esm(new URL(f, coreSrc)),
        })),
      )),
    ];
    mf = new Miniflare({ modules, modulesRoot: root, r2Buckets: ["B"], host: "127.0.0.1", port: 0 });
    await mf.ready;
  });
  afterAll(async () => {
    await mf?.dispose();
  });

  it("a conditional write is one atomic streamed put through FixedLengthStream; others are multipart", async () => {
    const response = await mf.dispatchFetch("http://localhost/");
    const out = (await response.json()) as Record<string, unknown>;
    expect(out["fixedLengthStream"]).toBe("function");
    // One put (no "-<parts>" etag), holes never read, bytes and metadata as sent.
    expect(out["conditional"]).toMatchObject({
      read: 100 + 4096,
      same: true,
      meta: { mode: String(0o100640) },
    });
    expect((out["conditional"] as { etag: string }).etag).not.toMatch(/-\d+$/);
    expect([out["exists"], out["stale"]]).toEqual(["EEXIST", "ESTALE"]);
    // The write that landed during the stream is kept: no window between a check and the commit.
    expect(out["race"]).toBe("ESTALE");
    expect(out["afterRace"]).toEqual({ text: "another writer", isOther: true });
    expect(out["failing"]).toMatch(/the source failed/);
    expect(out["failedStored"]).toBeNull();
    expect(out["plain"]).toMatchObject({ same: true });
    expect((out["plain"] as { etag: string }).etag).toMatch(/-3$/);
  });
});
