import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { MountError } from "@ws/core";
import type { S3ServerInfo } from "@ws/test-servers";
import { inject } from "vitest";
import { addContentMd5ToDeleteObjects } from "../src/content-md5.js";
import { createS3Client } from "../src/sdk-client.js";

export type ServerName = "moto" | "swift";
export const SERVER_NAMES: readonly ServerName[] = ["moto", "swift"];

export function serverInfo(name: ServerName): S3ServerInfo {
  return inject("s3Servers")[name];
}

/**
 * The client configuration for one server, as a user would write it: Swift needs checksums only
 * when required (its S3 layer answers 501 to the SDK's default checksummed streaming uploads).
 * Every request has a timeout so a dead server fails a test instead of hanging it.
 */
export function clientConfig(info: S3ServerInfo, overrides: Partial<S3ClientConfig> = {}): S3ClientConfig {
  return {
    endpoint: info.endpoint,
    region: info.region,
    forcePathStyle: true,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    maxAttempts: 3,
    ...(info.quirks.streamingChecksums
      ? {}
      : { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" }),
    ...overrides,
  };
}

/** A client of the test's own, independent of the mount under test, for seeding and reading back. */
export function backendClient(info: S3ServerInfo): S3Client {
  const client = createS3Client({
    ...clientConfig(info),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5000,
      socketTimeout: 30_000,
      httpAgent: { keepAlive: true, maxSockets: 64 },
    }),
  });
  if (info.quirks.deleteObjectsNeedsContentMd5) addContentMd5ToDeleteObjects(client);
  return client;
}

/** A fresh bucket name (lowercase, DNS-safe). */
export function bucketName(label: string): string {
  return `ws-${label}-${randomBytes(4).toString("hex")}`.toLowerCase().slice(0, 63);
}

export async function createBucket(client: S3Client, name: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: name }));
}

export async function putObjects(
  client: S3Client,
  bucket: string,
  files: Readonly<Record<string, Uint8Array | string>>,
  concurrency = 32,
): Promise<void> {
  const entries = Object.entries(files);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const [key, body] = entries[next++]!;
      const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
}

export async function getObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<Uint8Array | undefined> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await response.Body!.transformToByteArray();
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return undefined;
    throw error;
  }
}

export async function listKeys(client: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function deletePrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  const keys = await listKeys(client, bucket, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}

/** The MountError a promise rejects with; any other outcome fails the test. */
export async function errorOf(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

/** The MountError code a promise rejects with, or "resolved". */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error.code;
    throw error;
  }
  return "resolved";
}
