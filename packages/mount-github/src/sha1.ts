/**
 * SHA-1 over byte ranges, with the digest written into the caller's array: hashing allocates
 * nothing. Git names every object by the SHA-1 of `<type> <size>\0` and its bytes, and a clone
 * computes one per object of the pack.
 *
 * Why not node:crypto for every object: its one-shot `hash()` needs a view of the range and
 * returns a new string or Buffer, and `createHash` a Hash object with its native state: a few
 * hundred bytes on the V8 heap per object, 0.6 MiB for the 3,300 objects of the benchmark's pack,
 * most of what indexing allocated and enough to make V8 grow its young generation (and the RSS)
 * during a clone. node:crypto is faster, so big objects still go there (see the pack store).
 *
 * The 32-bit words are kept as 16-bit halves. Not for speed (it costs about half of it), but so
 * that every value is a small integer ("Smi") that V8 never boxes: before V8 has optimised this
 * code, and during the first clone of a process it has not, each 32-bit result outside the Smi
 * range (2^30) was a new heap number, 1.1 MiB of them over one clone.
 */
export class Sha1 {
  /** The state, five words as (high, low) halves. */
  readonly #h = new Int32Array(10);
  /** The message schedule, 80 words as (high, low) halves. */
  readonly #w = new Int32Array(160);
  /** The bytes of an unfinished 64-byte block (and the padding at the end). */
  readonly #block = new Uint8Array(64);
  #blockLength = 0;
  #length = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    const h = this.#h;
    h[0] = 0x6745;
    h[1] = 0x2301;
    h[2] = 0xefcd;
    h[3] = 0xab89;
    h[4] = 0x98ba;
    h[5] = 0xdcfe;
    h[6] = 0x1032;
    h[7] = 0x5476;
    h[8] = 0xc3d2;
    h[9] = 0xe1f0;
    this.#blockLength = 0;
    this.#length = 0;
  }

  /** Adds `data[start, start + length)`. */
  update(data: Uint8Array, start: number, length: number): void {
    this.#length += length;
    let pos = start;
    const end = start + length;
    const block = this.#block;
    if (this.#blockLength > 0) {
      while (pos < end && this.#blockLength < 64) block[this.#blockLength++] = data[pos++] as number;
      if (this.#blockLength < 64) return;
      this.#compress(block, 0);
      this.#blockLength = 0;
    }
    for (; pos + 64 <= end; pos += 64) this.#compress(data, pos);
    while (pos < end) block[this.#blockLength++] = data[pos++] as number;
  }

  /** Adds one byte. */
  byte(value: number): void {
    this.#length++;
    this.#block[this.#blockLength++] = value;
    if (this.#blockLength === 64) {
      this.#compress(this.#block, 0);
      this.#blockLength = 0;
    }
  }

  /** Writes the digest of what was added into `out[at, at + 20)`, then starts over. */
  digestInto(out: Uint8Array, at: number): void {
    const length = this.#length;
    const block = this.#block;
    let n = this.#blockLength;
    block[n++] = 0x80;
    if (n > 56) {
      block.fill(0, n, 64);
      this.#compress(block, 0);
      n = 0;
    }
    block.fill(0, n, 56);
    // The length in bits, big-endian over 8 bytes, from the byte count (no 32-bit product).
    let rest = length;
    for (let k = 63; k >= 56; k--) {
      const low = k === 63 ? (rest % 32) * 8 : rest % 256;
      block[k] = low;
      rest = k === 63 ? (rest - (rest % 32)) / 32 : (rest - low) / 256;
    }
    this.#compress(block, 0);
    const h = this.#h;
    for (let k = 0; k < 10; k++) {
      const half = h[k] as number;
      out[at + 2 * k] = half >> 8;
      out[at + 2 * k + 1] = half & 0xff;
    }
    this.reset();
  }

  /** One 64-byte block at `data[pos, pos + 64)`. */
  #compress(data: Uint8Array, pos: number): void {
    const w = this.#w;
    for (let t = 0; t < 16; t++) {
      const p = pos + 4 * t;
      w[2 * t] = ((data[p] as number) << 8) | (data[p + 1] as number);
      w[2 * t + 1] = ((data[p + 2] as number) << 8) | (data[p + 3] as number);
    }
    for (let t = 16; t < 80; t++) {
      const xh =
        (w[2 * t - 6] as number) ^
        (w[2 * t - 16] as number) ^
        (w[2 * t - 28] as number) ^
        (w[2 * t - 32] as number);
      const xl =
        (w[2 * t - 5] as number) ^
        (w[2 * t - 15] as number) ^
        (w[2 * t - 27] as number) ^
        (w[2 * t - 31] as number);
      w[2 * t] = ((xh << 1) | (xl >>> 15)) & 0xffff;
      w[2 * t + 1] = ((xl << 1) | (xh >>> 15)) & 0xffff;
    }
    const h = this.#h;
    let ah = h[0] as number;
    let al = h[1] as number;
    let bh = h[2] as number;
    let bl = h[3] as number;
    let ch = h[4] as number;
    let cl = h[5] as number;
    let dh = h[6] as number;
    let dl = h[7] as number;
    let eh = h[8] as number;
    let el = h[9] as number;
    // temp = rotl(a, 5) + f + e + k + w[t], in halves with the carry; c = rotl(b, 30) = rotr(b, 2).
    // Four loops, one per round function (no branch per step).
    for (let t = 0; t < 20; t++) {
      const fh = (bh & ch) | (~bh & dh);
      const fl = (bl & cl) | (~bl & dl);
      const sl = (((al << 5) | (ah >>> 11)) & 0xffff) + fl + el + 0x7999 + (w[2 * t + 1] as number);
      const sh =
        ((((ah << 5) | (al >>> 11)) & 0xffff) + fh + eh + 0x5a82 + (w[2 * t] as number) + (sl >>> 16)) &
        0xffff;
      eh = dh;
      el = dl;
      dh = ch;
      dl = cl;
      ch = ((bh >>> 2) | (bl << 14)) & 0xffff;
      cl = ((bl >>> 2) | (bh << 14)) & 0xffff;
      bh = ah;
      bl = al;
      ah = sh;
      al = sl & 0xffff;
    }
    for (let t = 20; t < 40; t++) {
      const fh = bh ^ ch ^ dh;
      const fl = bl ^ cl ^ dl;
      const sl = (((al << 5) | (ah >>> 11)) & 0xffff) + fl + el + 0xeba1 + (w[2 * t + 1] as number);
      const sh =
        ((((ah << 5) | (al >>> 11)) & 0xffff) + fh + eh + 0x6ed9 + (w[2 * t] as number) + (sl >>> 16)) &
        0xffff;
      eh = dh;
      el = dl;
      dh = ch;
      dl = cl;
      ch = ((bh >>> 2) | (bl << 14)) & 0xffff;
      cl = ((bl >>> 2) | (bh << 14)) & 0xffff;
      bh = ah;
      bl = al;
      ah = sh;
      al = sl & 0xffff;
    }
    for (let t = 40; t < 60; t++) {
      const fh = (bh & ch) | (bh & dh) | (ch & dh);
      const fl = (bl & cl) | (bl & dl) | (cl & dl);
      const sl = (((al << 5) | (ah >>> 11)) & 0xffff) + fl + el + 0xbcdc + (w[2 * t + 1] as number);
      const sh =
        ((((ah << 5) | (al >>> 11)) & 0xffff) + fh + eh + 0x8f1b + (w[2 * t] as number) + (sl >>> 16)) &
        0xffff;
      eh = dh;
      el = dl;
      dh = ch;
      dl = cl;
      ch = ((bh >>> 2) | (bl << 14)) & 0xffff;
      cl = ((bl >>> 2) | (bh << 14)) & 0xffff;
      bh = ah;
      bl = al;
      ah = sh;
      al = sl & 0xffff;
    }
    for (let t = 60; t < 80; t++) {
      const fh = bh ^ ch ^ dh;
      const fl = bl ^ cl ^ dl;
      const sl = (((al << 5) | (ah >>> 11)) & 0xffff) + fl + el + 0xc1d6 + (w[2 * t + 1] as number);
      const sh =
        ((((ah << 5) | (al >>> 11)) & 0xffff) + fh + eh + 0xca62 + (w[2 * t] as number) + (sl >>> 16)) &
        0xffff;
      eh = dh;
      el = dl;
      dh = ch;
      dl = cl;
      ch = ((bh >>> 2) | (bl << 14)) & 0xffff;
      cl = ((bl >>> 2) | (bh << 14)) & 0xffff;
      bh = ah;
      bl = al;
      ah = sh;
      al = sl & 0xffff;
    }
    addInto(h, 0, ah, al);
    addInto(h, 2, bh, bl);
    addInto(h, 4, ch, cl);
    addInto(h, 6, dh, dl);
    addInto(h, 8, eh, el);
  }
}

/** `h[at, at + 1]` (a word in halves) plus the word (high, low), modulo 2^32. */
function addInto(h: Int32Array, at: number, high: number, low: number): void {
  const l = (h[at + 1] as number) + low;
  h[at] = ((h[at] as number) + high + (l >>> 16)) & 0xffff;
  h[at + 1] = l & 0xffff;
}
