import { MountError } from "@ws/core";
import { attemptsOf, interceptMount, type LayeredOperation, type MountLayer } from "./wrap-mount.js";

/** One finished call on a mount, or (with `retryInMs`) one failed attempt that will be retried. */
export interface ObserveEvent {
  readonly root: string;
  readonly op: LayeredOperation;
  /** Relative to the root; `""` for list and materialize. */
  readonly path: string;
  /** Bytes fetched or put (0 for list, delete and materialize). */
  readonly bytes: number;
  /** Entries a list returned. */
  readonly entries?: number | undefined;
  /** (ws mounts) Every path of a batched delete (`deleteMany`); `path` is the first of them. */
  readonly paths?: readonly string[] | undefined;
  /** Wall time of the call, retries and back-off included (of the attempt, for a retry event). */
  readonly ms: number;
  /** Attempts the call took (the failed attempt's number, for a retry event). */
  readonly attempt: number;
  readonly error?: MountError | undefined;
  /** Set on retry events: the wait before the next attempt. */
  readonly retryInMs?: number | undefined;
}

export type ObserveSink = (event: ObserveEvent) => void;

const asMountError = (error: unknown): MountError =>
  MountError.isInstance(error)
    ? error
    : new MountError("EIO", error instanceof Error ? error.message : String(error), { cause: error });

/**
 * One event per call, success or failure, into `sink`. The outermost layer, so `ms` is what the
 * caller waited and `attempt` how many attempts the retry layer made. A throwing sink is ignored.
 */
export function observeLayer(sink: ObserveSink): MountLayer {
  return (mount, { root }) =>
    interceptMount(mount, async (op, path, call, detail) => {
      const started = performance.now();
      const promise = call();
      const emit = (result: unknown, error: unknown): void => {
        const event: ObserveEvent = {
          root,
          op,
          path,
          bytes:
            op === "fetch" && result instanceof Uint8Array
              ? result.byteLength
              : op === "fetch" && (result as { bytes?: unknown } | undefined)?.bytes instanceof Uint8Array
                ? (result as { bytes: Uint8Array }).bytes.byteLength
                : op === "put" && error === undefined
                  ? (detail.bytes?.byteLength ?? detail.size ?? 0)
                  : 0,
          ...(op === "list" && Array.isArray(result) ? { entries: result.length } : {}),
          ...(detail.paths === undefined ? {} : { paths: detail.paths }),
          ms: performance.now() - started,
          attempt: attemptsOf(promise),
          ...(error === undefined ? {} : { error: asMountError(error) }),
        };
        try {
          sink(event);
        } catch {
          // Observation never changes the outcome.
        }
      };
      try {
        const result = await promise;
        emit(result, undefined);
        return result;
      } catch (error) {
        emit(undefined, error);
        throw error;
      }
    });
}
