import { Miniflare } from "miniflare";
import { childProcesses, guardCleanup } from "./process-group.js";

export interface StartMiniflareR2Options {
  /** Binding names of the R2 buckets to create (default `["BUCKET"]`). */
  readonly buckets?: readonly string[];
}

/** A running Miniflare with R2 bucket bindings. `stop()` is idempotent. */
export interface MiniflareR2Server {
  readonly miniflare: Miniflare;
  readonly buckets: readonly string[];
  /**
   * The R2 binding, as a Worker sees it, proxied into Node. Typed by the caller (for example as
   * `@ws/mount-r2`'s `R2BucketBinding`): this package does not depend on the Workers types.
   */
  bucket<T = unknown>(name?: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts Miniflare (workerd, from npm) with R2 buckets held in memory, on 127.0.0.1 and a free
 * port. The binding is a proxy into this process, so it cannot cross a process boundary: start
 * one per test file (0.1-0.5 s).
 */
export async function startMiniflareR2(options: StartMiniflareR2Options = {}): Promise<MiniflareR2Server> {
  const buckets = [...(options.buckets ?? ["BUCKET"])];
  // workerd outlives a parent killed with SIGKILL (a crashed test runner): watch for that. Only
  // the workerd processes that appeared with this Miniflare are ours to kill.
  const before = new Set(childProcesses("workerd"));
  const miniflare = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("ws test-servers"); } };',
    r2Buckets: buckets,
    host: "127.0.0.1",
    port: 0,
  });
  await miniflare.ready;
  const workerd = childProcesses("workerd").filter((pid) => !before.has(pid));
  const release = guardCleanup([], undefined, workerd);
  let stopping: Promise<void> | undefined;
  return {
    miniflare,
    buckets,
    async bucket<T = unknown>(name: string = buckets[0] ?? "BUCKET"): Promise<T> {
      return (await miniflare.getR2Bucket(name)) as T;
    },
    stop(): Promise<void> {
      stopping ??= miniflare.dispose().finally(release);
      return stopping;
    },
  };
}
