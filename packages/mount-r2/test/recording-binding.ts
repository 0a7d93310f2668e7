import type {
  R2BucketBinding,
  R2MultipartOptionsLike,
  R2MultipartUploadLike,
  R2UploadedPartLike,
} from "../src/r2-binding.js";

/** What a recording binding saw: the calls in order, and the most parts in flight at once. */
export interface Recorded {
  readonly calls: string[];
  readonly uploadIds: string[];
  maxPartsInFlight: number;
}

/** Hooks run before the real call: throw to make it fail, or act on the bucket meanwhile. */
export interface Faults {
  beforePart?(partNumber: number): void | Promise<void>;
  beforeComplete?(): void | Promise<void>;
  abort?(): void | Promise<void>;
}

/**
 * A real R2 binding (Miniflare's) behind an object of the same shape that records each call on
 * the bucket and each multipart step, so tests can tell what reached R2 and in which order.
 * Every answer is the real binding's; `faults` only add failures a test names.
 */
export function recordingBinding(
  real: R2BucketBinding,
  faults: Faults = {},
): { binding: R2BucketBinding; recorded: Recorded } {
  const recorded: Recorded = { calls: [], uploadIds: [], maxPartsInFlight: 0 };
  let inFlight = 0;
  const wrap = (upload: R2MultipartUploadLike): R2MultipartUploadLike => ({
    key: upload.key,
    uploadId: upload.uploadId,
    async uploadPart(partNumber, value): Promise<R2UploadedPartLike> {
      recorded.calls.push(`uploadPart ${partNumber}`);
      inFlight++;
      recorded.maxPartsInFlight = Math.max(recorded.maxPartsInFlight, inFlight);
      try {
        await faults.beforePart?.(partNumber);
        return await upload.uploadPart(partNumber, value);
      } finally {
        inFlight--;
      }
    },
    async complete(parts) {
      recorded.calls.push(`complete ${parts.length}`);
      await faults.beforeComplete?.();
      return upload.complete(parts);
    },
    async abort() {
      recorded.calls.push("abort");
      await faults.abort?.();
      return upload.abort();
    },
  });
  const binding: R2BucketBinding = {
    list: (options) => real.list(options),
    get: (key, options) => real.get(key, options),
    head(key) {
      recorded.calls.push(`head ${key}`);
      return real.head(key);
    },
    put(key, value, options) {
      recorded.calls.push(`put ${key}${options?.onlyIf ? " onlyIf" : ""}`);
      return real.put(key, value, options);
    },
    delete: (keys) => real.delete(keys),
    async createMultipartUpload(key: string, options?: R2MultipartOptionsLike) {
      recorded.calls.push(`createMultipartUpload ${key}`);
      const upload = await real.createMultipartUpload!(key, options);
      recorded.uploadIds.push(upload.uploadId);
      return wrap(upload);
    },
  };
  return { binding, recorded };
}
