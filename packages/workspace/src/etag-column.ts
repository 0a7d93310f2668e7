const NONE = 0;
/** `"` + 32 lower-case hex digits + `"`: S3's single-part ETag (an MD5), Swift's, many HTTP servers'. */
const QUOTED_MD5 = 1;
/** The same 32 digits without quotes (R2's binding, some manifests). */
const BARE_MD5 = 2;
/** Anything else, kept as the string it was. */
const OTHER = 3;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  return -1;
}

/**
 * The ETags of a listing in columns: the usual shape, an MD5 in 32 lower-case hex digits (quoted
 * or not), as its 16 bytes plus one byte of kind, and only other shapes as strings. A listing of a
 * million S3 keys then holds 17 MB of ETags, not the 48 MB of a million 34-character strings.
 * `get` gives back exactly the string that was `set` (upper-case hex is kept as a string, since
 * the bytes could not tell it apart).
 */
export class EtagColumn {
  readonly #kinds: Uint8Array;
  readonly #md5: Uint8Array;
  readonly #other = new Map<number, string>();

  constructor(length: number) {
    this.#kinds = new Uint8Array(length);
    this.#md5 = new Uint8Array(length * 16);
  }

  set(i: number, etag: string | undefined): void {
    this.#other.delete(i);
    if (etag === undefined) {
      this.#kinds[i] = NONE;
      return;
    }
    const quoted = etag.length === 34 && etag.charCodeAt(0) === 34 && etag.charCodeAt(33) === 34;
    if (quoted || etag.length === 32) {
      const from = quoted ? 1 : 0;
      const at = i * 16;
      let ok = true;
      for (let b = 0; b < 16; b++) {
        const hi = nibble(etag.charCodeAt(from + 2 * b));
        const lo = nibble(etag.charCodeAt(from + 2 * b + 1));
        if (hi < 0 || lo < 0) {
          ok = false;
          break;
        }
        this.#md5[at + b] = (hi << 4) | lo;
      }
      if (ok) {
        this.#kinds[i] = quoted ? QUOTED_MD5 : BARE_MD5;
        return;
      }
    }
    this.#kinds[i] = OTHER;
    this.#other.set(i, etag);
  }

  has(i: number): boolean {
    const kind = this.#kinds[i];
    return kind !== NONE && kind !== undefined;
  }

  get(i: number): string | undefined {
    const kind = this.#kinds[i];
    if (kind === NONE || kind === undefined) return undefined;
    if (kind === OTHER) return this.#other.get(i);
    const at = i * 16;
    let hex = "";
    for (let b = 0; b < 16; b++) hex += HEX[this.#md5[at + b]!]!;
    return kind === QUOTED_MD5 ? `"${hex}"` : hex;
  }
}
