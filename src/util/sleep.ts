/**
 * Waits `ms`, or less when `signal` aborts. Resolves to true once the time has passed, to false as
 * soon as `signal` aborts (at once when it already has). It never rejects: a caller that goes on
 * after an abort just awaits it; one that stops says so, e.g.
 * `if (!(await sleep(ms, signal))) throw signal.reason`.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
