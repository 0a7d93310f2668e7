/**
 * The slice of a Workers R2 bucket binding (`env.MY_BUCKET`) that R2Bucket uses, written out so
 * the package type-checks and runs without `@cloudflare/workers-types` or a Workers runtime. A
 * real binding, Miniflare's proxy of one, or any object with these methods fits.
 */
export interface R2BucketBinding {
  list(options?: R2ListOptionsLike): Promise<R2ObjectsLike>;
  get(key: string, options?: R2GetOptionsLike): Promise<R2ObjectBodyLike | null>;
  head(key: string): Promise<R2ObjectLike | null>;
  /** Resolves `null` when an `onlyIf` precondition fails. */
  put(
    key: string,
    /** A stream only of known length (workerd's `FixedLengthStream`); R2Bucket sends one only there. */
    value: ArrayBuffer | ArrayBufferView | string | null | ReadableStream<Uint8Array>,
    options?: R2PutOptionsLike,
  ): Promise<R2ObjectLike | null>;
  delete(keys: string | string[]): Promise<void>;
  /**
   * Starts a multipart upload: with it the mount has `putStream` (large files a command writes are
   * sent part by part). Real bindings and Miniflare's have it.
   */
  createMultipartUpload?(key: string, options?: R2MultipartOptionsLike): Promise<R2MultipartUploadLike>;
}

export interface R2ObjectLike {
  readonly key: string;
  readonly size: number;
  /** Unquoted. */
  readonly etag: string;
  /** Quoted, as in an HTTP `ETag` header. */
  readonly httpEtag?: string;
  readonly uploaded: Date;
  /** User metadata (`customMetadata` on put); in a listing only with `include: ["customMetadata"]`. */
  readonly customMetadata?: Record<string, string> | undefined;
}

export interface R2ObjectBodyLike extends R2ObjectLike {
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface R2ObjectsLike {
  readonly objects: readonly R2ObjectLike[];
  readonly truncated: boolean;
  readonly cursor?: string;
  readonly delimitedPrefixes?: readonly string[];
}

export interface R2ListOptionsLike {
  limit?: number;
  prefix?: string;
  cursor?: string;
  delimiter?: string;
  include?: Array<"httpMetadata" | "customMetadata">;
}

/** As in R2: `etagMatches` is If-Match, `etagDoesNotMatch` is If-None-Match (`"*"` allowed). */
export interface R2ConditionalLike {
  etagMatches?: string;
  etagDoesNotMatch?: string;
}

export interface R2GetOptionsLike {
  onlyIf?: R2ConditionalLike;
  range?: { offset?: number; length?: number; suffix?: number };
}

export interface R2PutOptionsLike {
  /** A plain object: Miniflare's proxy does not carry a `Headers` instance. */
  onlyIf?: R2ConditionalLike;
  /** Stored with the object and returned by `get`, `head` and (with `include`) `list`. */
  customMetadata?: Record<string, string>;
}

/**
 * A multipart upload in progress (`R2MultipartUpload`). Every part but the last must have the
 * same size, at least 5 MiB.
 */
export interface R2MultipartUploadLike {
  readonly key: string;
  readonly uploadId: string;
  uploadPart(partNumber: number, value: ArrayBuffer | ArrayBufferView | string): Promise<R2UploadedPartLike>;
  /** Unconditional: the binding's `complete` takes no `onlyIf`. */
  complete(uploadedParts: R2UploadedPartLike[]): Promise<R2ObjectLike>;
  abort(): Promise<void>;
}

export interface R2UploadedPartLike {
  readonly partNumber: number;
  readonly etag: string;
}

export interface R2MultipartOptionsLike {
  customMetadata?: Record<string, string>;
}
