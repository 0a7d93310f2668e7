import { constants, Inflate, inflateSync } from "node:zlib";

/**
 * The native side of a zlib stream, as node:zlib's own `inflateSync` drives it: `writeSync`
 * inflates into the caller's buffer, `_writeState` holds [avail_out, avail_in] after the call,
 * and `onerror` receives zlib's message.
 */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}

/**
 * Inflates many zlib streams, one after the other, into buffers the caller owns, with one zlib
 * state for all of them.
 *
 * Why not `zlib.inflateSync` per object: each call builds a stream object and allocates its
 * output buffer and a native inflate state. For the 3,000 objects of a small pack that is
 * megabytes of garbage outside the V8 heap which the next collection, not the next object,
 * frees; the peak memory of a clone grew by the pack's inflated size. Here one native state is
 * reset between objects and the output goes where the caller says (a buffer it reuses).
 *
 * This drives the stream's native handle the way node:zlib's `inflateSync` does (an internal of
 * node:zlib, unchanged since Node 10). When a Node release changes it, `inflateInto` falls back
 * to `inflateSync` plus a copy: correct, only with the garbage again.
 */
export class Inflater {
  #stream: Inflate | undefined;
  #handle: ZlibHandle | undefined;
  #state: Uint32Array | undefined;
  #error: string | undefined;
  /** Whether the native handle is in use (false: the `inflateSync` fallback). */
  readonly native: boolean;

  constructor(options: { native?: boolean } = {}) {
    this.native = options.native ?? Inflater.#supported();
  }

  /** Whether the native handle can be driven, asked once per process (a probe is a whole zlib stream). */
  static #nativeSupported: boolean | undefined;

  static #supported(): boolean {
    Inflater.#nativeSupported ??= Inflater.#probe();
    return Inflater.#nativeSupported;
  }

  static #probe(): boolean {
    const probe = new Inflate() as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: unknown };
    const ok =
      typeof probe._handle?.writeSync === "function" &&
      typeof probe._handle.reset === "function" &&
      probe._writeState instanceof Uint32Array &&
      probe._writeState.length === 2;
    (probe as unknown as Inflate).close();
    return ok;
  }

  /** The native handle, reset (or opened), with `#state` its write state. */
  #open(): ZlibHandle {
    if (this.#handle && this.#state) {
      this.#handle.reset();
      return this.#handle;
    }
    const stream = new Inflate();
    const inner = stream as unknown as { _handle: ZlibHandle; _writeState: Uint32Array };
    const handle = inner._handle;
    // Errors come back through this callback during writeSync; the stream never sees them (no
    // 'error' event, nothing destroyed), and the handle is reset before its next use.
    handle.onerror = (message: string) => {
      this.#error = message;
    };
    this.#stream = stream;
    this.#handle = handle;
    this.#state = inner._writeState;
    return handle;
  }

  /** Bytes of the input the last `inflateInto` consumed. */
  consumed = 0;

  /**
   * Inflates the zlib stream at `input[inStart..inEnd)` into `out[outStart..outEnd)` and returns
   * the bytes written (`consumed` says how much input the stream took). Offsets, not views, so
   * that inflating an object allocates nothing. Throws when the stream is damaged or truncated;
   * a result that fills the whole room means the stream may have more to give (the caller gives
   * one byte more room than it expects, to tell).
   */
  inflateInto(
    input: Uint8Array,
    inStart: number,
    inEnd: number,
    out: Uint8Array,
    outStart: number,
    outEnd: number,
  ): number {
    if (!this.native) {
      const r = fallback(input.subarray(inStart, inEnd), out.subarray(outStart, outEnd));
      this.consumed = r.consumed;
      return r.written;
    }
    const handle = this.#open();
    const state = this.#state as Uint32Array;
    this.#error = undefined;
    handle.writeSync(constants.Z_FINISH, input, inStart, inEnd - inStart, out, outStart, outEnd - outStart);
    if (this.#error !== undefined) {
      const message = this.#error;
      this.#error = undefined;
      // A state that failed is dropped rather than trusted to reset.
      this.close();
      throw new Error(message);
    }
    this.consumed = inEnd - inStart - (state[1] ?? 0);
    return outEnd - outStart - (state[0] ?? 0);
  }

  /** Frees the native state (the next inflate opens another). */
  close(): void {
    this.#stream?.close();
    this.#stream = undefined;
    this.#handle = undefined;
    this.#state = undefined;
  }
}

function fallback(input: Uint8Array, out: Uint8Array): { written: number; consumed: number } {
  const { buffer, engine } = inflateSync(input, {
    info: true,
    chunkSize: Math.max(64, out.length),
    maxOutputLength: Math.max(1, out.length),
  }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  out.set(buffer);
  return { written: buffer.length, consumed: engine.bytesWritten };
}
