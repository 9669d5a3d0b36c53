/**
 * Waits for `work` (which must not reject) for at most `ms`; calls `onTimeout` if the time ran out first. For the
 * writes an attempt's end or a stopping worker waits on: a slow store must not hold either for ever.
 */
export async function settleWithin(work: Promise<unknown>, ms: number, onTimeout?: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onTimeout?.();
      resolve();
    }, ms);
  });
  await Promise.race([work, timeout]);
  clearTimeout(timer);
}
