import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

// The AWS SDK's own switch for its Node-version warning. SDK releases since late 2025 print
// "NodeVersionSupportWarning ... will require node >=22" when a client is created on Node 20,
// which this project supports (and the SDK does until its releases of January 2027).
const QUIET = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/**
 * `new S3Client(config)` without the SDK's Node-version warning: the switch is set only while the
 * client is created and restored afterwards; a value the user set is left as it is. The SDK
 * remembers that the check ran, so it stays quiet for the rest of the process.
 */
export function createS3Client(config: S3ClientConfig): S3Client {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const before = env?.[QUIET];
  if (env && before === undefined) env[QUIET] = "true";
  try {
    return new S3Client(config);
  } finally {
    if (env && before === undefined) delete env[QUIET];
  }
}
