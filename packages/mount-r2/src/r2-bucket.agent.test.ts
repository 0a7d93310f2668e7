import { type MiniflareR2Server, startMiniflareR2 } from "@ws/test-servers";
import { describeAgentRoundTrips } from "@ws/testkit/vitest";
import { afterAll, beforeAll } from "vitest";
import type { R2BucketBinding } from "./r2-binding.js";
import { R2Bucket } from "./r2-bucket.js";

// Issue 17's acceptance, as an agent works: a read-write R2Bucket over Miniflare's R2 binding,
// changed through exec by one workspace, read back by a new workspace over a fresh mount.
let server: MiniflareR2Server;
let bucket: R2BucketBinding;

beforeAll(async () => {
  server = await startMiniflareR2({ buckets: ["AGENT"] });
  bucket = await server.bucket<R2BucketBinding>("AGENT");
});
afterAll(async () => {
  await server?.stop();
});

describeAgentRoundTrips(
  "R2Bucket on Miniflare",
  (prefix) => () => R2Bucket(bucket, { prefix, mode: "read-write" }),
  // The tar tree has a 0700 folder and a 0555 folder holding a file: folder modes live on markers.
  { folderModes: true },
);
