// A few pieces of I/O at a time: Graph's $batch requests, the flags' queue sends.

/**
 * Runs `work` on each item with at most `limit` under way at once. After a failure no new item starts, and the ones
 * under way end before the first failure is thrown (so a retry of the caller does not race them).
 */
export async function eachAtMost<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
