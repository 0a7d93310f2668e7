import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === "string") return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/**
 * SHA-256 (or HMAC-SHA-256 with a secret) over node:crypto, in the shape of smithy's `Checksum`
 * that `@smithy/signature-v4` wants. OpenSSL's native hash is much cheaper per request than the
 * pure-JS fallback, and signing a GET is a handful of HMACs.
 */
export class NodeSha256 {
  private readonly secret: string | Uint8Array | undefined;
  private hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytesOf(secret);
    this.hash = this.fresh();
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  digest(): Promise<Uint8Array> {
    const buffer = this.hash.digest();
    return Promise.resolve(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", this.secret);
  }
}
