import { Miniflare } from "miniflare";
import { childProcesses, guardCleanup } from "./process-group.js";
import type { R2HttpInfo } from "./r2-http-binding.js";

export interface StartMiniflareR2HttpOptions {
  /** Binding names of the R2 buckets to create (default `["BUCKET"]`). */
  readonly buckets?: readonly string[];
}

/** A running Miniflare whose Worker serves its R2 bindings over HTTP. `stop()` is idempotent. */
export interface MiniflareR2HttpServer extends R2HttpInfo {
  readonly miniflare: Miniflare;
  /** The part that crosses a process boundary: pass it to `r2HttpBinding` in any process. */
  info(): R2HttpInfo;
  stop(): Promise<void>;
}

/**
 * The Worker inside Miniflare: one POST per binding call (`/<binding>/<op>`, arguments as
 * percent-encoded JSON in `x-r2-args`, a put's bytes as the body). It calls the real binding and
 * returns what it returned; an error the binding throws comes back as 500 with its name and
 * message. Nothing here decides anything: conditions, etags, listings and errors are workerd's.
 */
const BRIDGE_WORKER = `
const json = (value, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
const enc = (value) => encodeURIComponent(JSON.stringify(value));
function wire(o) {
  if (o === null || o === undefined) return null;
  return {
    key: o.key,
    version: o.version,
    size: o.size,
    etag: o.etag,
    httpEtag: o.httpEtag,
    uploaded: o.uploaded.toISOString(),
    customMetadata: o.customMetadata ?? {},
    httpMetadata: o.httpMetadata ?? {},
    ...(o.range ? { range: o.range } : {}),
  };
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, rawName, op] = url.pathname.split("/");
    const name = decodeURIComponent(rawName ?? "");
    const bucket = env[name];
    if (request.method !== "POST" || !bucket || typeof bucket.list !== "function") {
      return json({ name: "Error", message: "R2 bridge: POST /<binding>/<op>; no R2 binding named " + name }, 404);
    }
    try {
      const args = JSON.parse(decodeURIComponent(request.headers.get("x-r2-args") ?? "%7B%7D"));
      switch (op) {
        case "list": {
          const page = await bucket.list(args.options);
          return json({
            objects: page.objects.map(wire),
            truncated: page.truncated,
            ...(page.truncated ? { cursor: page.cursor } : {}),
            delimitedPrefixes: page.delimitedPrefixes ?? [],
          });
        }
        case "head":
          return json(wire(await bucket.head(args.key)));
        case "get": {
          const o = await bucket.get(args.key, args.options);
          if (o === null) return new Response(null, { headers: { "x-r2-object": enc(null) } });
          const headers = { "x-r2-object": enc(wire(o)) };
          if (!("body" in o)) return new Response(null, { headers: { ...headers, "x-r2-body": "none" } });
          return new Response(await o.arrayBuffer(), { headers });
        }
        case "put": {
          const value = args.empty ? null : await request.arrayBuffer();
          return json(wire(await bucket.put(args.key, value, args.options)));
        }
        case "delete":
          await bucket.delete(args.keys);
          return json(null);
        default:
          return json({ name: "Error", message: "R2 bridge: unknown operation " + op }, 404);
      }
    } catch (error) {
      return json({ name: error?.name ?? "Error", message: error?.message ?? String(error) }, 500);
    }
  },
};
`;

/**
 * Starts Miniflare (workerd, from npm) with R2 buckets held in memory and a Worker that serves
 * their bindings over HTTP on 127.0.0.1 and a free port. Unlike `startMiniflareR2`, whose binding
 * is a proxy into the process that started it, any process can reach these buckets with
 * `r2HttpBinding(server.info())`: several real processes then share one R2 implementation (one
 * Durable Object per bucket inside one workerd, so conditional puts stay atomic across them).
 */
export async function startMiniflareR2Http(
  options: StartMiniflareR2HttpOptions = {},
): Promise<MiniflareR2HttpServer> {
  const buckets = [...(options.buckets ?? ["BUCKET"])];
  // workerd outlives a parent killed with SIGKILL (a crashed test runner): watch for that. Only
  // the workerd processes that appeared with this Miniflare are ours to kill.
  const before = new Set(childProcesses("workerd"));
  const miniflare = new Miniflare({
    modules: true,
    script: BRIDGE_WORKER,
    r2Buckets: buckets,
    host: "127.0.0.1",
    port: 0,
  });
  let url: URL;
  try {
    url = await miniflare.ready;
  } catch (error) {
    await miniflare.dispose().catch(() => undefined);
    throw error;
  }
  const workerd = childProcesses("workerd").filter((pid) => !before.has(pid));
  const release = guardCleanup([], undefined, workerd);
  const info: R2HttpInfo = { url: url.origin, buckets };
  let stopping: Promise<void> | undefined;
  return {
    ...info,
    miniflare,
    info: () => ({ url: info.url, buckets: [...buckets] }),
    stop(): Promise<void> {
      stopping ??= miniflare.dispose().finally(release);
      return stopping;
    },
  };
}
