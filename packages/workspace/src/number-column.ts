/** The Uint32 value that stands for NaN (no value) in the narrow form. */
const MISSING = 0xffffffff;

/**
 * A column of numbers that costs 4 bytes a value while every value fits the narrow form, and
 * becomes a Float64Array (8 bytes a value, every value exact) the first time one does not.
 *
 * - `"size"`: integers from 0 to 2^32 - 2 (files under 4 GiB), NaN allowed.
 * - `"mtime"`: whole seconds in milliseconds (what S3 and most listings give), stored as
 *   seconds from 0 to 2^32 - 2 (until 2106), NaN allowed.
 *
 * `get` always gives back exactly what was `set` (NaN for NaN).
 */
export class NumberColumn {
  readonly #scale: number;
  #narrow: Uint32Array | undefined;
  #wide: Float64Array | undefined;

  constructor(length: number, kind: "size" | "mtime") {
    this.#scale = kind === "mtime" ? 1000 : 1;
    this.#narrow = new Uint32Array(length);
  }

  get length(): number {
    return (this.#narrow ?? this.#wide)!.length;
  }

  set(i: number, value: number): void {
    const narrow = this.#narrow;
    if (narrow) {
      if (Number.isNaN(value)) {
        narrow[i] = MISSING;
        return;
      }
      const scaled = value / this.#scale;
      // The product check: a value divided may round to an integer (a tiny one, to 0) and not come back.
      if (
        Number.isInteger(scaled) &&
        scaled >= 0 &&
        scaled < MISSING &&
        scaled * this.#scale === value &&
        !Object.is(value, -0)
      ) {
        narrow[i] = scaled;
        return;
      }
      this.#widen();
    }
    this.#wide![i] = value;
  }

  get(i: number): number {
    const narrow = this.#narrow;
    if (narrow) {
      const v = narrow[i]!;
      return v === MISSING ? Number.NaN : v * this.#scale;
    }
    return this.#wide![i]!;
  }

  #widen(): void {
    const narrow = this.#narrow!;
    const wide = new Float64Array(narrow.length);
    for (let i = 0; i < narrow.length; i++) {
      const v = narrow[i]!;
      wide[i] = v === MISSING ? Number.NaN : v * this.#scale;
    }
    this.#wide = wide;
    this.#narrow = undefined;
  }
}
