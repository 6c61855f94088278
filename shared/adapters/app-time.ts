// The app's own sense of time for waiting: its shared Graph budgets (graph-budget.ts), the Graph adapter's write
// pacing and retry waits, and the Teams read slices. The wall clock in Azure. The local host installs its skip-ahead
// clock here (installAppTime) so that the budgets' slots, the durable timers that wait for them and the Graph
// simulator's throttling windows all count one time, at one rate: when the local stack runs time R times faster than
// the wall clock (local/clock.ts), a wait of 1 s here takes 1/R s, as the simulator's latency does; and so that it can
// skip ahead while activities only wait on the clock. Tests give a virtual clock instead, so that pacing is proven by
// counted slots, not by the machine's speed. Orchestrators never use this (they use context.df.currentUtcDateTime).

export interface AppTime {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const wallClock: AppTime = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

let current: AppTime = wallClock;

/** The app's time: whatever clock is installed when it is called. */
export const appTime: AppTime = {
  now: () => current.now(),
  sleep: (ms) => current.sleep(ms),
};

/** For the local host only: the clock the app's waits (budgets, write pacing, Graph retries) follow from now on. */
export function installAppTime(time: AppTime): void {
  current = time;
}

/** Waits until `at` (epoch ms) in this time; returns at once when it has passed. */
export async function sleepUntil(time: AppTime, at: number): Promise<void> {
  const wait = at - time.now();
  if (wait > 0) await time.sleep(wait);
}
