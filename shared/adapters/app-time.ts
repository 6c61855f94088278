// The app's own sense of time for waiting on its shared Graph budgets (graph-budget.ts): the wall clock in Azure.
// The local host installs its skip-ahead clock here (installAppTime) so that the budgets' slots, the durable timers
// that wait for them and the Graph simulator's throttling windows all count one time, and so that it can skip ahead
// while activities only wait for a budget's slot. Tests give a virtual clock instead, so that pacing is proven by
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

/** For the local host only: the clock the app's budget waits follow from now on. */
export function installAppTime(time: AppTime): void {
  current = time;
}
