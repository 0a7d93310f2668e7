import { MountError, type MountErrorCode } from "@ws/core";
import { interceptMount, type LayeredOperation, type MountLayer } from "../layers/wrap-mount.js";

/** An error to inject: a ready error, or a MountError made from these fields. */
export type InjectedError =
  | Error
  | {
      readonly code: MountErrorCode;
      readonly transient?: boolean | undefined;
      readonly message?: string | undefined;
      readonly retryAfterMs?: number | undefined;
    };

/** One fault: which calls it hits, and what it does to them. */
export interface FaultRule {
  /** The operations it applies to (default: all). */
  readonly op?: LayeredOperation | readonly LayeredOperation[] | undefined;
  /** Only calls whose relative path matches. */
  readonly path?: string | RegExp | undefined;
  /**
   * Which matching calls, counted per operation from 1 (`[1, 2]`: the first two fetches), or a
   * predicate. Default: every matching call, up to `times`.
   */
  readonly calls?: readonly number[] | ((call: number) => boolean) | undefined;
  /** Stop after hitting this many calls. Default unlimited. */
  readonly times?: number | undefined;
  /** Wait this long before the call (or before failing). */
  readonly latencyMs?: number | undefined;
  /** Fail the call with this error instead of calling the mount. */
  readonly error?: InjectedError | undefined;
  /** Fetch only: call the mount, then return only this many bytes of what it returned. */
  readonly truncateTo?: number | undefined;
}

/** The layer plus what it saw. */
export interface FaultLayer extends MountLayer {
  /** Calls seen per operation (whether or not a fault hit them). */
  readonly calls: Readonly<Record<LayeredOperation, number>>;
  /** Faults injected so far. */
  readonly injected: number;
  /** Replace the rules (for a test that changes the plan half-way). */
  setRules(rules: readonly FaultRule[]): void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function toError(injected: InjectedError, op: LayeredOperation, path: string): unknown {
  if (injected instanceof Error) return injected;
  return new MountError(injected.code, injected.message ?? `injected fault on ${op} ${path || "/"}`, {
    path,
    transient: injected.transient ?? false,
    retryAfterMs: injected.retryAfterMs,
  });
}

/**
 * Fault injection around any mount, as mountpoint-s3's `failure_client` does around its client:
 * errors (transient or not), latency, truncated bodies, chosen per operation and per call number.
 * Put it inside the layers under test (`faultLayer(...)(mount, ctx)` then `applyLayers`) to see
 * how they react, or around a provider to test the workspace.
 *
 * ```ts
 * const faults = faultLayer([{ op: "fetch", calls: [1, 2], error: { code: "EIO", transient: true } }]);
 * const mount = applyLayers(faults(MemoryMount({ files }), { root: "/m" }), { root: "/m" });
 * ```
 */
export function faultLayer(rules: readonly FaultRule[]): FaultLayer {
  let plan = [...rules];
  const hits = new Map<FaultRule, number>();
  const calls: Record<LayeredOperation, number> = { list: 0, fetch: 0, put: 0, delete: 0, materialize: 0 };
  let injected = 0;
  const matches = (rule: FaultRule, op: LayeredOperation, path: string, call: number): boolean => {
    if (rule.op !== undefined && !(typeof rule.op === "string" ? rule.op === op : rule.op.includes(op)))
      return false;
    if (
      rule.path !== undefined &&
      !(typeof rule.path === "string" ? rule.path === path : rule.path.test(path))
    )
      return false;
    if (
      rule.calls !== undefined &&
      !(typeof rule.calls === "function" ? rule.calls(call) : rule.calls.includes(call))
    )
      return false;
    if (rule.times !== undefined && (hits.get(rule) ?? 0) >= rule.times) return false;
    return true;
  };
  const layer: MountLayer = (mount) =>
    interceptMount(mount, async (op, path, call) => {
      const n = ++calls[op];
      const rule = plan.find((r) => matches(r, op, path, n));
      if (rule === undefined) return call();
      hits.set(rule, (hits.get(rule) ?? 0) + 1);
      injected++;
      if (rule.latencyMs) await sleep(rule.latencyMs);
      if (rule.error !== undefined) throw toError(rule.error, op, path);
      const result = await call();
      if (rule.truncateTo !== undefined && result instanceof Uint8Array) {
        return result.slice(0, rule.truncateTo) as typeof result;
      }
      return result;
    });
  // defineProperties rather than Object.assign: `injected` must stay a live getter.
  return Object.defineProperties(layer, {
    calls: { value: calls, enumerable: true },
    injected: { get: () => injected, enumerable: true },
    setRules: {
      value: (next: readonly FaultRule[]) => {
        plan = [...next];
        hits.clear();
      },
    },
  }) as FaultLayer;
}
