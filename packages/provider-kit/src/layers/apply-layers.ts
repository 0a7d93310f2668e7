import type { Mount } from "@ws/core";
import type { Limiter } from "../limiter.js";
import { concurrencyLayer } from "./concurrency-layer.js";
import { type ObserveSink, observeLayer } from "./observe-layer.js";
import { readOnlyLayer } from "./read-only-layer.js";
import { redactLayer } from "./redact-layer.js";
import { type RetryLayerOptions, retryLayer } from "./retry-layer.js";

export interface ApplyLayersOptions {
  /** The absolute mount root. */
  readonly root: string;
  /** Retry options, or `false` for none. Default: `retryLayer()` (4 attempts). */
  readonly retry?: RetryLayerOptions | false | undefined;
  /** A concurrency budget for this mount (a number or a shared `Limiter`). Default: unbounded. */
  readonly concurrency?: number | Limiter | undefined;
  /** Where call events go. Retries are reported here too, as events with `retryInMs`. */
  readonly observe?: ObserveSink | undefined;
  /** Strings scrubbed from every error leaving the mount, beside those the mount declared. */
  readonly secrets?: Iterable<string | undefined> | (() => Iterable<string | undefined>) | undefined;
}

/**
 * Wraps a mount in the standard layers, outermost first:
 * observe → read-only → retry → concurrency → redact → mount.
 *
 * - observe outermost: it sees what the caller sees (total time, attempts, the final error);
 * - read-only before retry: a refused write costs no attempt and no slot;
 * - retry outside concurrency: a call waiting out its back-off holds no slot;
 * - redact innermost: every error is scrubbed (and given the root) before any layer or listener sees it.
 */
export function applyLayers(mount: Mount, options: ApplyLayersOptions): Mount {
  const context = { root: options.root };
  const sink = options.observe;
  let layered = redactLayer(options.secrets ?? [])(mount, context);
  if (options.concurrency !== undefined) layered = concurrencyLayer(options.concurrency)(layered, context);
  if (options.retry !== false) {
    const retry = options.retry ?? {};
    const onAttempt = retry.onAttempt;
    layered = retryLayer({
      ...retry,
      onAttempt:
        sink || onAttempt
          ? (attempt) => {
              onAttempt?.(attempt);
              sink?.({
                root: attempt.root,
                op: attempt.op,
                path: attempt.path,
                bytes: 0,
                ms: 0,
                attempt: attempt.attempt,
                error: attempt.error,
                retryInMs: attempt.delayMs,
              });
            }
          : undefined,
    })(layered, context);
  }
  layered = readOnlyLayer()(layered, context);
  if (sink) layered = observeLayer(sink)(layered, context);
  return layered;
}
