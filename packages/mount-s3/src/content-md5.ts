import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";

/**
 * Adds a `Content-MD5` header to `DeleteObjects` requests. S3 itself now accepts a CRC checksum
 * instead, and current SDKs no longer send MD5; OpenStack Swift's S3 API still rejects a batch
 * delete without it. Returns the client for chaining.
 */
export function addContentMd5ToDeleteObjects(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === "DeleteObjectsCommand" && request.headers && request.body !== undefined) {
        const body = request.body;
        if (typeof body === "string" || body instanceof Uint8Array) {
          request.headers["content-md5"] = createHash("md5").update(body).digest("base64");
        }
      }
      return next(args);
    },
    { step: "build", name: "wsAddContentMd5ToDeleteObjects", priority: "low" },
  );
  return client;
}
