import type { S3Client } from "@aws-sdk/client-s3";
import type { S3ServerInfo } from "@ws/test-servers";
import type { ConformanceHarness, HarnessContext, HarnessMountOptions } from "@ws/testkit";
import { S3Bucket, type S3BucketMount } from "../src/s3-bucket.js";
import {
  backendClient,
  bucketName,
  clientConfig,
  createBucket,
  deletePrefix,
  getObject,
  listKeys,
  putObjects,
} from "./s3-env.js";

function join(...parts: ReadonlyArray<string | undefined>): string {
  return parts.filter((p) => p !== undefined && p !== "").join("/");
}

/**
 * The conformance harness for S3Bucket on one S3-compatible server: one bucket per test file,
 * each case under its own key prefix, seeded and read back with a separate SDK client.
 */
export function s3Harness(info: S3ServerInfo): ConformanceHarness {
  let backend: S3Client;
  let bucket: string;
  let counter = 0;
  const mounts: S3BucketMount[] = [];
  return {
    async beforeAll() {
      backend = backendClient(info);
      bucket = bucketName(`conf-${info.name}`);
      await createBucket(backend, bucket);
    },
    async afterAll() {
      await Promise.all(mounts.map((m) => m.dispose()));
      backend?.destroy();
    },
    async setup(caseId: string): Promise<HarnessContext> {
      const root = `cases/${caseId}-${++counter}`;
      const mount = (options: HarnessMountOptions, secret?: string): S3BucketMount => {
        const { prefix, ...rest } = options;
        const config = clientConfig(info);
        const created = S3Bucket({
          ...rest,
          bucket,
          prefix: join(root, prefix),
          clientConfig: secret
            ? {
                ...config,
                credentials: { accessKeyId: info.accessKeyId, secretAccessKey: secret },
                maxAttempts: 1,
              }
            : config,
        });
        mounts.push(created);
        return created;
      };
      return {
        // The secret keys the mounts are given (the right one and the wrong one): errors.secrets
        // checks that no error, cause or workspace event carries them.
        secrets: [info.secretAccessKey, "wrong-secret-for-conformance"],
        seed: (files) =>
          putObjects(
            backend,
            bucket,
            Object.fromEntries(Object.entries(files).map(([k, v]) => [`${root}/${k}`, v])),
          ),
        createMount: (options = {}) => mount(options),
        readBackend: (relPath) => getObject(backend, bucket, `${root}/${relPath}`),
        async listBackend() {
          return (await listKeys(backend, bucket, `${root}/`)).map((k) => k.slice(root.length + 1));
        },
        cleanup: () => deletePrefix(backend, bucket, `${root}/`),
        // Only a server that checks signatures can deny anything: moto accepts any key.
        ...(info.name === "swift"
          ? {
              createForbiddenMount: (options: HarnessMountOptions = {}) =>
                mount(options, "wrong-secret-for-conformance"),
            }
          : {}),
      };
    },
  };
}
