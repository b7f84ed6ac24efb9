/**
 * Resolves when `done` is signalled, or `ms` after `arm` with `timedOut: true`. The timer only bounds
 * a failure (a lost delivery would otherwise hang the run); it never decides when to measure.
 */
export function completion(ms: number): { promise: Promise<{ timedOut: boolean }>; done: () => void; arm: () => void } {
  let settled = false;
  let resolve: (v: { timedOut: boolean }) => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<{ timedOut: boolean }>((r) => (resolve = r));
  const settle = (timedOut: boolean): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    resolve({ timedOut });
  };
  return {
    promise,
    done: () => settle(false),
    arm: () => {
      if (!settled) timer = setTimeout(() => settle(true), ms);
    },
  };
}
