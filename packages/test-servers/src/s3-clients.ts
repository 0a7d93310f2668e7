import type { S3ServerInfo } from "./s3-server.js";

/** What the AWS SDK's `S3Client` needs to talk to a test server: its endpoint, path-style, its keys. */
export interface S3ClientSettings {
  readonly endpoint: string;
  readonly region: string;
  readonly forcePathStyle: true;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** `new S3Client(s3ClientSettings(server))`: the settings every benchmark and seeder repeats. */
export function s3ClientSettings(server: S3ServerInfo): S3ClientSettings {
  return {
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  };
}

/**
 * The process environment that gives rclone a remote named `remote` (lower case in rclone's
 * paths: `moto:bucket/key`) on a test server, configured entirely through `RCLONE_CONFIG_*`
 * variables. `AWS_CA_BUNDLE` is left out: rclone 1.60 fails every S3 call when it is set
 * (LoadCustomCABundleError).
 */
export function rcloneS3Env(server: S3ServerInfo, remote = "moto"): Record<string, string | undefined> {
  const prefix = `RCLONE_CONFIG_${remote.toUpperCase()}_`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    [`${prefix}TYPE`]: "s3",
    [`${prefix}PROVIDER`]: "Other",
    [`${prefix}ENDPOINT`]: server.endpoint,
    [`${prefix}REGION`]: server.region,
    [`${prefix}ACCESS_KEY_ID`]: server.accessKeyId,
    [`${prefix}SECRET_ACCESS_KEY`]: server.secretAccessKey,
    [`${prefix}FORCE_PATH_STYLE`]: "true",
  };
  delete env["AWS_CA_BUNDLE"];
  return env;
}
