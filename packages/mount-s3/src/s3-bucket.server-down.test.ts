import { startMoto } from "@ws/test-servers";
import { describe, expect, it } from "vitest";
import { backendClient, clientConfig, createBucket, errorOf, putObjects } from "../test/s3-env.js";
import { S3Bucket } from "./s3-bucket.js";

describe("S3Bucket when the server stops mid-test", () => {
  it("fails with a clear EIO (after the SDK's retries), never hangs", async () => {
    // A moto of this test's own, so stopping it does not disturb the other files.
    const moto = await startMoto();
    try {
      const backend = backendClient(moto.info());
      await createBucket(backend, "down");
      await putObjects(backend, "down", { "a.txt": "a", "b.txt": "b" });
      backend.destroy();
      const mount = S3Bucket({
        bucket: "down",
        mode: "read-write",
        timeoutMs: 5000,
        clientConfig: clientConfig(moto.info(), { maxAttempts: 2 }),
      });
      expect(await mount.list()).toHaveLength(2);
      expect(new TextDecoder().decode(await mount.fetch("a.txt"))).toBe("a");
      await moto.stop();
      for (const operation of [
        () => mount.fetch("b.txt"),
        () => mount.list(),
        () => mount.put("c.txt", new Uint8Array([1])),
      ]) {
        const error = await errorOf(operation());
        expect(error.code).toBe("EIO");
        // The real number of attempts (maxAttempts: 2), never a vague "after retries".
        expect(error.message).toMatch(/failed \(.*\(gave up after 2 attempts\)$/);
        expect(error.message).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up|EPIPE/);
        expect(error.cause).toBeInstanceOf(Error);
      }
      await mount.dispose();
    } finally {
      await moto.stop();
    }
  });
});
