import { CreateBucketCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { R2Bucket } from "@ws/mount-r2";
import { S3Bucket } from "@ws/mount-s3";
import { type PostgresInfo, type R2HttpInfo, r2HttpBinding, type S3ServerInfo } from "@ws/test-servers";
import { PostgresMetadata } from "../src/postgres-metadata.js";
import { SharedMount, type SharedMountInstance } from "../src/shared-mount.js";

/** Everything a process needs to open the same shared mount (crosses the fork boundary as JSON). */
export interface MountConfig {
  readonly tier: 1 | 2;
  /** The bucket: an S3 server (moto, Swift)... */
  readonly s3?: S3ServerInfo | undefined;
  /** ...or Miniflare's R2 over the HTTP bridge, reachable from every process. */
  readonly r2?: R2HttpInfo | undefined;
  /** The S3 bucket, or the key prefix in the R2 bucket (one per test). */
  readonly bucket: string;
  readonly postgres?: PostgresInfo | undefined;
  readonly table?: string | undefined;
  readonly pollMs?: number | undefined;
  readonly reconcileMs?: number | undefined;
  readonly externalGraceMs?: number | undefined;
  readonly checkpointEvery?: number | undefined;
  readonly readOnly?: boolean | undefined;
  readonly writer?: string | undefined;
}

export function s3ClientConfig(info: S3ServerInfo): S3ClientConfig {
  return {
    endpoint: info.endpoint,
    region: info.region,
    forcePathStyle: true as const,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    maxAttempts: 3,
    ...(info.quirks.streamingChecksums
      ? {}
      : {
          requestChecksumCalculation: "WHEN_REQUIRED" as const,
          responseChecksumValidation: "WHEN_REQUIRED" as const,
        }),
  };
}

export async function createBucket(info: S3ServerInfo, label: string): Promise<string> {
  const name = `ws-${label}-${Math.random().toString(16).slice(2, 10)}`.toLowerCase().slice(0, 63);
  const client = new S3Client(s3ClientConfig(info));
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
  return name;
}

/** A fresh key prefix in the bridge's R2 bucket: the R2 counterpart of `createBucket`. */
export function r2Prefix(label: string): string {
  return `ws-${label}-${Math.random().toString(16).slice(2, 10)}`;
}

export function openShared(config: MountConfig): SharedMountInstance {
  const inner = config.r2
    ? R2Bucket(r2HttpBinding(config.r2), { mode: "read-write", prefix: config.bucket })
    : S3Bucket({
        bucket: config.bucket,
        clientConfig: s3ClientConfig(config.s3!),
        mode: "read-write",
      });
  return SharedMount(inner, {
    mode: config.readOnly ? "read-only" : "read-write",
    pollMs: config.pollMs ?? 50,
    reconcileMs: config.reconcileMs ?? 0,
    externalGraceMs: config.externalGraceMs ?? 30_000,
    ...(config.checkpointEvery !== undefined ? { checkpointEvery: config.checkpointEvery } : {}),
    ...(config.writer ? { writer: config.writer } : {}),
    ...(config.tier === 2
      ? {
          metadata: PostgresMetadata({
            connectionString: config.postgres!.connectionString,
            table: config.table ?? "ws",
            gcDelayMs: 5000,
            // The tests run on a shared 2-core machine that is sometimes very loaded.
            connectTimeoutMs: 30_000,
          }),
        }
      : {}),
  });
}
