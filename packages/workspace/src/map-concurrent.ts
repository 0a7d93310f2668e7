/** Runs `fn` over `items` with at most `limit` calls in flight; resolves when all settle. */
export async function mapConcurrent<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let index = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = iterator.next();
      if (next.done) return;
      await fn(next.value, index++);
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.max(1, limit); i++) workers.push(worker());
  await Promise.all(workers);
}
