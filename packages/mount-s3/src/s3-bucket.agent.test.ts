import type { S3Client } from "@aws-sdk/client-s3";
import { describeAgentRoundTrips } from "@ws/testkit/vitest";
import { afterAll, beforeAll } from "vitest";
import { backendClient, bucketName, clientConfig, createBucket, serverInfo } from "../test/s3-env.js";
import { S3Bucket } from "./s3-bucket.js";

// Issue 17's acceptance, as an agent works: a read-write S3Bucket on moto, changed through exec by
// one workspace, read back by a new workspace over a fresh mount of the same bucket and prefix.
const info = serverInfo("moto");
let backend: S3Client;
let bucket: string;

beforeAll(async () => {
  backend = backendClient(info);
  bucket = bucketName("agent");
  await createBucket(backend, bucket);
});
afterAll(() => backend?.destroy());

describeAgentRoundTrips(
  "S3Bucket on moto",
  (prefix) => () => S3Bucket({ bucket, prefix, mode: "read-write", clientConfig: clientConfig(info) }),
  // The tar tree has a 0700 folder and a 0555 folder holding a file: folder modes live on markers.
  { folderModes: true },
);
