// The client half of the R2 HTTP bridge (see miniflare-r2-http.ts): an object with the methods of a
// Workers R2 bucket binding that sends each call to the real binding inside one Miniflare (workerd)
// over HTTP on 127.0.0.1. It imports nothing heavy, so separate worker processes can use it: each
// call is one request, and every object, condition and error comes from workerd's R2 implementation.

/** What crosses a process boundary to reach the bridge. */
export interface R2HttpInfo {
  /** `http://127.0.0.1:PORT` of the Miniflare that holds the buckets. */
  readonly url: string;
  /** The binding names of its buckets. */
  readonly buckets: readonly string[];
}

/** An R2 object's metadata as the bridge returns it (the fields of a Workers `R2Object`). */
export interface R2HttpObject {
  readonly key: string;
  readonly version: string;
  readonly size: number;
  /** Unquoted. */
  readonly etag: string;
  /** Quoted. */
  readonly httpEtag: string;
  readonly uploaded: Date;
  readonly customMetadata: Record<string, string>;
  readonly httpMetadata: Record<string, unknown>;
  readonly range?: { offset?: number; length?: number } | undefined;
}

/** An object with its body, read once when `get` resolves (test objects are small). */
export interface R2HttpObjectBody extends R2HttpObject {
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}

export interface R2HttpObjects {
  readonly objects: R2HttpObject[];
  readonly truncated: boolean;
  readonly cursor?: string;
  readonly delimitedPrefixes: string[];
}

/** The binding's methods (structurally an `R2BucketBinding` of `@ws/mount-r2`). */
export interface R2HttpBinding {
  list(options?: object): Promise<R2HttpObjects>;
  head(key: string): Promise<R2HttpObject | null>;
  /** As R2's: with `onlyIf`, an object without a body when the condition did not hold. */
  get(key: string, options: { onlyIf: object }): Promise<R2HttpObjectBody | R2HttpObject | null>;
  /** `null` when the key does not exist. */
  get(key: string, options?: object): Promise<R2HttpObjectBody | null>;
  /** `null` when an `onlyIf` precondition did not hold, as on R2. */
  put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | string | null,
    options?: object,
  ): Promise<R2HttpObject | null>;
  delete(keys: string | string[]): Promise<void>;
}

interface WireObject extends Omit<R2HttpObject, "uploaded"> {
  readonly uploaded: string;
}

function revive(wire: WireObject | null): R2HttpObject | null {
  return wire === null ? null : { ...wire, uploaded: new Date(wire.uploaded) };
}

/** Headers carry JSON percent-encoded: keys and metadata may hold any Unicode. */
function header(value: unknown): string {
  return encodeURIComponent(JSON.stringify(value));
}

function fromHeader<T>(value: string | null): T | null {
  return value === null ? null : (JSON.parse(decodeURIComponent(value)) as T);
}

function bodyOf(value: ArrayBuffer | ArrayBufferView | string | null): Uint8Array | string | undefined {
  if (value === null) return undefined;
  if (typeof value === "string") return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * A binding for bucket `bucket` of the bridge at `info.url` (or a URL). Errors the binding threw in
 * workerd are thrown here with the same name and message (R2's numeric codes included); a bridge
 * that cannot be reached fails like any other network error (`fetch failed`, with its cause).
 */
export function r2HttpBinding(info: R2HttpInfo | string, bucket?: string): R2HttpBinding {
  const url = typeof info === "string" ? info : info.url;
  const name = bucket ?? (typeof info === "string" ? "BUCKET" : (info.buckets[0] ?? "BUCKET"));
  const base = `${url.replace(/\/+$/, "")}/${encodeURIComponent(name)}`;

  async function call(op: string, args: unknown, body?: Uint8Array | string): Promise<Response> {
    const response = await fetch(`${base}/${op}`, {
      method: "POST",
      headers: { "x-r2-args": header(args) },
      ...(body === undefined ? {} : { body }),
    });
    if (response.status >= 400) {
      const text = await response.text();
      let failure: { name?: string; message?: string } = {};
      try {
        failure = JSON.parse(text) as typeof failure;
      } catch {
        failure = { message: `R2 bridge answered ${response.status}: ${text.slice(0, 200)}` };
      }
      const error = new Error(failure.message ?? `R2 bridge answered ${response.status}`);
      if (failure.name) error.name = failure.name;
      throw error;
    }
    return response;
  }

  return {
    async list(options = {}) {
      const wire = (await (await call("list", { options })).json()) as Omit<R2HttpObjects, "objects"> & {
        objects: WireObject[];
      };
      return { ...wire, objects: wire.objects.map((o) => revive(o)!) };
    },
    async head(key) {
      return revive((await (await call("head", { key })).json()) as WireObject | null);
    },
    get: (async (key: string, options: object = {}) => {
      const response = await call("get", { key, options });
      const object = revive(fromHeader<WireObject>(response.headers.get("x-r2-object")));
      if (object === null || response.headers.get("x-r2-body") === "none") {
        // Read the (empty) body to its end: cancelling it would drop the keep-alive connection.
        await response.arrayBuffer();
        return object;
      }
      const bytes = await response.arrayBuffer();
      return {
        ...object,
        arrayBuffer: async () => bytes.slice(0),
        text: async () => new TextDecoder().decode(bytes),
      };
      // One implementation for both overloads: the body is missing only when `onlyIf` failed.
    }) as R2HttpBinding["get"],
    async put(key, value, options = {}) {
      const body = bodyOf(value);
      const response = await call("put", { key, options, empty: body === undefined }, body);
      return revive((await response.json()) as WireObject | null);
    },
    async delete(keys) {
      await (await call("delete", { keys })).arrayBuffer();
    },
  };
}
