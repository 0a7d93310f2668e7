import { invalid } from "@ws/core";

/** A semaphore: at most `limit` functions run at once; the rest wait in order. */
export interface Limiter {
  run<T>(fn: () => Promise<T>): Promise<T>;
  readonly limit: number;
  /** Functions running now. */
  readonly active: number;
  /** Functions waiting for a slot. */
  readonly pending: number;
}

/** One budget of `limit` concurrent calls (first come, first served). */
export function createLimiter(limit: number): Limiter {
  if (!(Number.isSafeInteger(limit) && limit >= 1) && limit !== Number.POSITIVE_INFINITY) {
    throw invalid(`concurrency limit must be an integer >= 1 (or Infinity), got ${String(limit)}`);
  }
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return {
    limit,
    get active() {
      return active;
    },
    get pending() {
      return waiting.length;
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (active < limit) active++;
      // The slot is handed over directly by release(), so `active` stays the same.
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await fn();
      } finally {
        release();
      }
    },
  };
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight and resolves with the results in
 * input order. On the first rejection nothing new starts; the call rejects with that error once
 * the calls already in flight have settled (so no work outlives the promise).
 */
export async function mapConcurrent<T, R>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!(Number.isSafeInteger(limit) && limit >= 1) && limit !== Number.POSITIVE_INFINITY) {
    throw invalid(`concurrency limit must be an integer >= 1, got ${String(limit)}`);
  }
  const list = Array.isArray(items) ? (items as readonly T[]) : [...items];
  const results = new Array<R>(list.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < list.length) {
      const index = next++;
      try {
        results[index] = await fn(list[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, list.length)) }, worker);
  await Promise.all(workers);
  if (failure) throw failure.error;
  return results;
}
