import { createHash } from "node:crypto";
import { MountError } from "@ws/core";
import { type MiniflareR2Server, startMiniflareR2 } from "@ws/test-servers";
import { type MountConflict, Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { largeFileStreamed } from "../../workspace/test/exec-scenarios.js";
import { patternSource } from "../../workspace/test/pattern-source.js";
import { type Faults, recordingBinding } from "../test/recording-binding.js";
import type { R2BucketBinding, R2UploadedPartLike } from "./r2-binding.js";
import { R2Bucket } from "./r2-bucket.js";

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "resolved",
    (e: unknown) => (MountError.isInstance(e) ? e.code : `not a MountError: ${String(e)}`),
  );

describe("R2Bucket.putStream on Miniflare's R2 binding", { timeout: 120_000 }, () => {
  let server: MiniflareR2Server;
  let real: R2BucketBinding;
  let counter = 0;
  beforeAll(async () => {
    server = await startMiniflareR2({ buckets: ["STREAM"] });
    real = await server.bucket<R2BucketBinding>("STREAM");
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A read-write mount under a prefix of its own, over a binding that records its calls. */
  const setup = (faults: Faults = {}, partSize?: number) => {
    const prefix = `t${++counter}`;
    const { binding, recorded } = recordingBinding(real, faults);
    const mount = R2Bucket(binding, {
      prefix,
      mode: "read-write",
      ...(partSize === undefined ? {} : { partSize }),
    });
    const stored = async (path: string): Promise<Uint8Array | undefined> => {
      const object = await real.get(`${prefix}/${path}`);
      return object === null ? undefined : new Uint8Array(await object.arrayBuffer());
    };
    /** Whether R2 still has this upload (a part sent to an aborted or finished one is refused). */
    const uploadAlive = async (path: string, uploadId: string): Promise<boolean> => {
      const resume = (
        real as unknown as {
          resumeMultipartUpload(
            key: string,
            id: string,
          ): { uploadPart(n: number, v: Uint8Array): Promise<R2UploadedPartLike> };
        }
      ).resumeMultipartUpload(`${prefix}/${path}`, uploadId);
      try {
        await resume.uploadPart(1, new Uint8Array(1));
        return true;
      } catch (error) {
        expect(String(error)).toMatch(/does not exist\. \(10024\)/);
        return false;
      }
    };
    return { prefix, mount, recorded, stored, uploadAlive, put: mount.putStream! };
  };

  it("streams a 64 MiB file as a multipart upload of 8 MiB parts, at most 4 in flight, bytes equal", async () => {
    const { mount, recorded, stored, put } = setup();
    const source = patternSource(64 * MiB + 17);
    const { etag } = await put("big.bin", source, { mode: 0o640, mtime: 1_700_000_000_000 });
    // R2 names a multipart object's etag "<hash>-<parts>": 8 full parts and the 17 bytes left.
    expect(etag).toMatch(/-9$/);
    expect(recorded.calls.filter((c) => c.startsWith("uploadPart"))).toHaveLength(9);
    expect(recorded.maxPartsInFlight).toBeGreaterThan(1);
    expect(recorded.maxPartsInFlight).toBeLessThanOrEqual(4);
    expect(recorded.calls.some((c) => c.startsWith("put "))).toBe(false);
    const bytes = (await stored("big.bin"))!;
    expect(bytes.length).toBe(source.size);
    expect(sha256(bytes)).toBe(sha256(source.whole()));
    // The file's mode and mtime travel as custom metadata, as with put.
    const listed = (await mount.list()).find((e) => e.path === "big.bin");
    expect(listed).toMatchObject({ size: source.size, mode: 0o640, mtime: 1_700_000_000_000, etag });
  });

  it("reads only the data of a sparse source; holes go up as zeros", async () => {
    const { stored, put } = setup({}, 5 * MiB);
    const source = patternSource(12 * MiB + 3, [
      [0, 100],
      [7 * MiB, 7 * MiB + 4096],
    ]);
    await put("sparse.bin", source);
    expect(source.bytesRead).toBe(100 + 4096);
    expect(sha256((await stored("sparse.bin"))!)).toBe(sha256(source.whole()));
  });

  it("puts a source of up to partSize bytes in one request, with its precondition", async () => {
    const { recorded, stored, put } = setup({}, 5 * MiB);
    const source = patternSource(5 * MiB);
    const { etag } = await put("small.bin", source, { ifNoneMatch: "*" });
    expect(etag).not.toMatch(/-\d+$/);
    expect(recorded.calls).toEqual(["put t" + counter + "/small.bin onlyIf"]);
    expect(await codeOf(put("small.bin", source, { ifNoneMatch: "*" }))).toBe("EEXIST");
    expect(sha256((await stored("small.bin"))!)).toBe(sha256(source.whole()));
  });

  it("aborts the upload when the source fails: no object, no upload left", async () => {
    const { recorded, stored, uploadAlive, put } = setup({}, 5 * MiB);
    const error = await put("broken.bin", patternSource(30 * MiB, undefined, 17 * MiB)).catch(
      (e: unknown) => e,
    );
    expect(MountError.isInstance(error) && error.code).toBe("EIO");
    expect(String((error as Error).message)).toMatch(/the source failed at byte/);
    expect(recorded.calls.at(-1)).toBe("abort");
    expect(recorded.calls.some((c) => c.startsWith("complete"))).toBe(false);
    expect(await stored("broken.bin")).toBeUndefined();
    expect(await uploadAlive("broken.bin", recorded.uploadIds[0]!)).toBe(false);
  });

  it("aborts the upload when a part fails; the parts in flight finish first", async () => {
    const { recorded, stored, uploadAlive, put } = setup(
      {
        beforePart(n) {
          if (n === 3) throw new Error("We encountered an internal error. Please try again. (10001)");
        },
      },
      5 * MiB,
    );
    const error = await put("part.bin", patternSource(40 * MiB)).catch((e: unknown) => e);
    // R2's internal error is transient: the retry layer would send the file again.
    expect(MountError.isInstance(error) && [error.code, error.transient]).toEqual(["EIO", true]);
    expect(recorded.calls.at(-1)).toBe("abort");
    // No part was started after the failure was seen (at most the 4 in flight with it, plus one read).
    expect(recorded.calls.filter((c) => c.startsWith("uploadPart")).length).toBeLessThanOrEqual(5 + 1);
    expect(await stored("part.bin")).toBeUndefined();
    expect(await uploadAlive("part.bin", recorded.uploadIds[0]!)).toBe(false);
  });

  it("says which upload is left behind when the abort fails too", async () => {
    const { recorded, put } = setup(
      {
        beforeComplete() {
          throw new Error("Network connection lost.");
        },
        abort() {
          throw new Error("Network connection lost.");
        },
      },
      5 * MiB,
    );
    const error = await put("left.bin", patternSource(6 * MiB)).catch((e: unknown) => e);
    expect(MountError.isInstance(error) && error.code).toBe("EIO");
    expect((error as Error).message).toContain(`multipart upload ${recorded.uploadIds[0]} failed too`);
  });

  it("a conditional write: refused before any upload, or by the head right before complete", async () => {
    const { prefix, recorded, stored, put } = setup({}, 5 * MiB);
    const first = await put("cond.bin", patternSource(11 * MiB), { ifNoneMatch: "*" });
    expect(recorded.calls.slice(0, 2)).toEqual([
      `head ${prefix}/cond.bin`,
      `createMultipartUpload ${prefix}/cond.bin`,
    ]);
    expect(recorded.calls.slice(-2)).toEqual([`head ${prefix}/cond.bin`, "complete 3"]);
    // The same errors as put: EEXIST for ifNoneMatch, ESTALE for a stale ifMatch; nothing uploaded.
    recorded.calls.length = 0;
    expect(await codeOf(put("cond.bin", patternSource(11 * MiB, [[0, 1]]), { ifNoneMatch: "*" }))).toBe(
      "EEXIST",
    );
    expect(await codeOf(put("cond.bin", patternSource(11 * MiB, [[0, 1]]), { ifMatch: "0123abcd" }))).toBe(
      "ESTALE",
    );
    expect(await codeOf(put("gone.bin", patternSource(11 * MiB, [[0, 1]]), { ifMatch: first.etag }))).toBe(
      "ESTALE",
    );
    expect(recorded.calls.every((c) => c.startsWith("head "))).toBe(true);
    // A quoted etag (httpEtag) is accepted, as put accepts it.
    const second = patternSource(11 * MiB, [[5, 50]]);
    await put("cond.bin", second, { ifMatch: `"${first.etag}"` });
    expect(sha256((await stored("cond.bin"))!)).toBe(sha256(second.whole()));
  });

  it("a write that lands during a conditional upload makes it fail with ESTALE and is kept", async () => {
    let other: string | undefined;
    const { prefix, recorded, stored, uploadAlive, put } = setup(
      {
        async beforePart(n) {
          // Another client replaces the object while the parts go up.
          if (n === 2) other = (await real.put(`${prefix}/race.bin`, new Uint8Array([1, 2, 3])))!.etag;
        },
      },
      5 * MiB,
    );
    const base = (await real.put(`${prefix}/race.bin`, new Uint8Array([9])))!.etag;
    expect(await codeOf(put("race.bin", patternSource(11 * MiB), { ifMatch: base }))).toBe("ESTALE");
    expect(recorded.calls.at(-1)).toBe("abort");
    expect(recorded.calls.some((c) => c.startsWith("complete"))).toBe(false);
    expect([...(await stored("race.bin"))!]).toEqual([1, 2, 3]);
    expect((await real.head(`${prefix}/race.bin`))?.etag).toBe(other);
    expect(await uploadAlive("race.bin", recorded.uploadIds[0]!)).toBe(false);
  });

  it("a binding without createMultipartUpload gives a mount without putStream", () => {
    const { createMultipartUpload: _, ...plain } = recordingBinding(real).binding;
    expect(R2Bucket(plain as R2BucketBinding, { mode: "read-write" }).putStream).toBeUndefined();
    expect(R2Bucket(real, { mode: "read-write" }).putStream).toBeTypeOf("function");
  });

  it("refuses a part size R2 would refuse", async () => {
    expect(() => R2Bucket(real, { partSize: 4 * MiB })).toThrow(/partSize/);
  });

  it("a large file a command writes goes up part by part and stays a stub (issue 18.5)", async () => {
    const { prefix, recorded, binding } = (() => {
      const prefix = `t${++counter}`;
      return { prefix, ...recordingBinding(real) };
    })();
    const mount = () => R2Bucket(binding, { prefix, mode: "read-write", partSize: 5 * MiB });
    await largeFileStreamed(mount, 12 * MiB + 3, 6 * MiB);
    const key = `${prefix}/big.bin`;
    // The new file: a multipart upload of three parts. The command's edit: the same, with the
    // version it was based on checked by head before the upload and before complete.
    expect(
      recorded.calls.filter((c) => !c.startsWith("uploadPart") && (c.endsWith(key) || !c.includes(" t"))),
    ).toEqual([
      `createMultipartUpload ${key}`,
      "complete 3",
      `head ${key}`,
      `createMultipartUpload ${key}`,
      `head ${key}`,
      "complete 3",
    ]);
  });

  /** A workspace over a recording binding under a prefix of its own, with the conflicts it saw. */
  const execSetup = (faults: Faults = {}) => {
    const prefix = `t${++counter}`;
    const { binding, recorded } = recordingBinding(real, faults);
    const seen: MountConflict[] = [];
    const ws = new Workspace({
      mounts: { "/m": R2Bucket(binding, { prefix, mode: "read-write", partSize: 5 * MiB }) },
      onMountConflict: (c) => void seen.push(c),
    });
    return { prefix, recorded, seen, ws, key: `${prefix}/big.bin` };
  };
  const bigFile = `head -c ${11 * MiB} /dev/urandom > m/big.bin && sha256sum < m/big.bin`;

  it("a command's edit of a large file changed meanwhile by another client is a version conflict", async () => {
    const { ws, seen, key } = execSetup();
    const first = await ws.exec("sh", ["-c", bigFile], { streamBytes: 6 * MiB });
    expect([first.exitCode, first.changes.mirrored]).toEqual([0, ["/m/big.bin"]]);
    await real.put(key, new TextEncoder().encode("another client's version"));
    const edit = await ws.exec(
      "sh",
      ["-c", "printf XYZ | dd of=m/big.bin bs=1 seek=5 conv=notrunc status=none"],
      { streamBytes: 6 * MiB, hydrate: false },
    );
    // The head before the upload saw the other version: ESTALE, as put gives, so the conflict path runs.
    expect(seen.map((c) => [c.kind, c.relPath])).toEqual([["version", "big.bin"]]);
    expect(edit.changes.errors.map((e) => [e.path, MountError.isInstance(e.error) && e.error.code])).toEqual([
      ["/m/big.bin", "ESTALE"],
    ]);
    expect(new TextDecoder().decode(await (await real.get(key))!.arrayBuffer())).toBe(
      "another client's version",
    );
    await ws.close().catch(() => undefined);
  });

  it("when the streamed upload fails, the file is read whole and put: nothing is lost", async () => {
    const { ws, recorded, key } = execSetup({
      beforePart() {
        throw new Error("a part refused for this test");
      },
    });
    const r = await ws.exec("sh", ["-c", bigFile], { streamBytes: 6 * MiB });
    expect([r.exitCode, r.changes.errors, r.changes.mirrored]).toEqual([0, [], ["/m/big.bin"]]);
    // The stream was tried and aborted, then one whole put landed.
    expect(recorded.calls.filter((c) => c.includes("big.bin") || c === "abort")).toEqual([
      `createMultipartUpload ${key}`,
      "abort",
      `put ${key}`,
    ]);
    const stored = new Uint8Array(await (await real.get(key))!.arrayBuffer());
    expect(sha256(stored)).toBe(r.stdout.split(" ")[0]);
    await ws.close();
  });

  it("a transient failure of a part is retried by the workspace: the upload is aborted and sent again", async () => {
    let failed = false;
    const { ws, recorded, key } = execSetup({
      beforePart(n) {
        if (n === 2 && !failed) {
          failed = true;
          throw new Error("We encountered an internal error. Please try again. (10001)");
        }
      },
    });
    const r = await ws.exec("sh", ["-c", bigFile], { streamBytes: 6 * MiB });
    expect([r.exitCode, r.changes.errors, r.changes.mirrored]).toEqual([0, [], ["/m/big.bin"]]);
    // One aborted upload, then a whole new one: never a whole-file put.
    expect(
      recorded.calls.filter((c) => c.includes("big.bin") || c === "abort" || c.startsWith("complete")),
    ).toEqual([`createMultipartUpload ${key}`, "abort", `createMultipartUpload ${key}`, "complete 3"]);
    const stored = new Uint8Array(await (await real.get(key))!.arrayBuffer());
    expect(sha256(stored)).toBe(r.stdout.split(" ")[0]);
    await ws.close();
  });
});
