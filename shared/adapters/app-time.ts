// The app's own sense of time for waiting: its shared Graph budgets (graph-budget.ts), the Graph adapter's write
// pacing and retry waits, the Teams read slices and the recheck's record. The wall clock in Azure. It is injected:
// the composition root (app.ts) hands one AppTime to every part that waits, and the local host hands its skip-ahead
// clock there instead, so that the budgets' turns, the durable timers that wait for them and the Graph simulator's
// throttling windows all count one time, at one rate: when the local stack runs time R times faster than
// the wall clock (local/clock.ts), a wait of 1 s here takes 1/R s, as the simulator's latency does; and so that it can
// skip ahead while activities only wait on the clock. Tests give a virtual clock instead, so that pacing is proven by
// counted turns, not by the machine's speed. Orchestrators never use this (they use context.df.currentUtcDateTime).

export interface AppTime {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The wall clock: the app's time in Azure. */
export const wallClock: AppTime = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** Waits until `at` (epoch ms) in this time; returns at once when it has passed. */
export async function sleepUntil(time: AppTime, at: number): Promise<void> {
  const wait = at - time.now();
  if (wait > 0) await time.sleep(wait);
}
