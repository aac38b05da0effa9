/**
 * What `work` settles to, or `late` when it has not settled within `ms`. A rejection of `work` in
 * time is passed on. The timer is cleared as soon as either is known; `work` itself goes on (give it
 * a signal to stop it).
 */
export async function withTimeout<T, L>(work: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<L>((resolve) => {
    timer = setTimeout(() => resolve(late), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
