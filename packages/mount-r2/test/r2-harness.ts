import { type MiniflareR2Server, startMiniflareR2 } from "@ws/test-servers";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "@ws/testkit";
import type { R2BucketBinding } from "../src/r2-binding.js";
import { R2Bucket } from "../src/r2-bucket.js";

function join(...parts: ReadonlyArray<string | undefined>): string {
  return parts.filter((p) => p !== undefined && p !== "").join("/");
}

async function listAll(bucket: R2BucketBinding, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const object of page.objects) keys.push(object.key);
    if (!page.truncated || !page.cursor) return keys;
    cursor = page.cursor;
  }
}

/**
 * The conformance harness for R2Bucket on Miniflare's R2 binding: one Miniflare per test file
 * (the binding cannot cross processes), each case under its own key prefix, seeded and read back
 * through the binding itself, never through the mount.
 */
export function r2Harness(): ConformanceHarness {
  let server: MiniflareR2Server;
  let bucket: R2BucketBinding;
  let counter = 0;
  return {
    async beforeAll() {
      server = await startMiniflareR2({ buckets: ["CONFORMANCE"] });
      bucket = await server.bucket<R2BucketBinding>("CONFORMANCE");
    },
    async afterAll() {
      await server?.stop();
    },
    async setup(caseId: string): Promise<HarnessContext> {
      const root = `cases/${caseId}-${++counter}`;
      return {
        async seed(files) {
          const entries = Object.entries(files);
          for (let i = 0; i < entries.length; i += 50) {
            await Promise.all(
              // Copies: Miniflare's proxy takes a plain Uint8Array, not a Buffer or a view.
              entries
                .slice(i, i + 50)
                .map(([key, bytes]) => bucket.put(`${root}/${key}`, new Uint8Array(bytes))),
            );
          }
        },
        createMount(options: HarnessMountOptions = {}) {
          const { prefix, ...rest } = options;
          // 5 MiB parts (R2's least): the write.stream cases' 6 MiB sources go up in two.
          return R2Bucket(bucket, { partSize: 5 * 1024 * 1024, ...rest, prefix: join(root, prefix) });
        },
        async readBackend(relPath) {
          const object = await bucket.get(`${root}/${relPath}`);
          return object === null ? undefined : new Uint8Array(await object.arrayBuffer());
        },
        async listBackend() {
          return (await listAll(bucket, `${root}/`)).map((k) => k.slice(root.length + 1));
        },
        async cleanup() {
          const keys = await listAll(bucket, `${root}/`);
          for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
        },
      };
    },
  };
}
