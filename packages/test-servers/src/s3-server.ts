/** What a test needs to talk to an S3-compatible test server. No secret here is a real one. */
export interface S3ServerInfo {
  /** `"moto"` or `"swift"`. */
  readonly name: "moto" | "swift";
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** These servers only answer path-style requests on 127.0.0.1. */
  readonly forcePathStyle: true;
  /** Behaviours a client has to know about, as checked against the server. */
  readonly quirks: S3ServerQuirks;
  /**
   * Valid credentials of a second user that has no permission on anything, for permission-error
   * tests; present when the server checks credentials (Swift, moto with `iamAuth`).
   */
  readonly deniedCredentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /** True when the server rejects unknown keys and bad signatures. */
  readonly checksCredentials: boolean;
}

export interface S3ServerQuirks {
  /** `If-None-Match` / `If-Match` on PUT are honoured (false: Swift answers 501). */
  readonly conditionalPut: boolean;
  /** The SDK's default checksummed streaming uploads work (false: Swift answers 501). */
  readonly streamingChecksums: boolean;
  /** `DeleteObjects` is rejected without a `Content-MD5` header (Swift). */
  readonly deleteObjectsNeedsContentMd5: boolean;
}

/** A running S3-compatible server. `stop()` is idempotent. */
export interface S3TestServer extends S3ServerInfo {
  /** The temp dir holding the server's data; removed by `stop()`. */
  readonly dataDir: string;
  stop(): Promise<void>;
  /** The part that can cross a process boundary (vitest `provide`). */
  info(): S3ServerInfo;
}
