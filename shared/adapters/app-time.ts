// The app's own sense of time for waiting: its shared Graph budgets (graph-budget.ts), the Graph adapter's write
// pacing and retry waits, and the Teams read slices. The wall clock in Azure. The local host's skip-ahead clock
// replaces it (followClock) so that the budgets' slots, the durable timers that wait for them and the Graph
// simulator's throttling windows all count one time, at one rate: when the local stack runs time R times faster than
// the wall clock (local/clock.ts), a wait of 1 s here takes 1/R s, as the simulator's latency does. On the wall clock
// a check deferred past a skip would wait for slots hours behind the host's time. Tests give a virtual clock instead,
// so that pacing is proven by counted slots, not by the machine's speed. Orchestrators never use this (they use
// context.df.currentUtcDateTime).

export interface AppTime {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const sleepOnWallClock = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const wallClock: AppTime = { now: () => Date.now(), sleep: sleepOnWallClock };

let current: AppTime = wallClock;

/** The app's time, following whatever clock is installed when it is called. */
export const appTime: AppTime = {
  now: () => current.now(),
  sleep: (ms) => current.sleep(ms),
};

/**
 * The local host's clock becomes the app's (local/host/host.ts, with the skip-ahead clock only). `sleep` waits that
 * clock's milliseconds; without it the app sleeps on the wall clock (a clock that runs at the wall clock's speed).
 */
export function followClock(now: () => number, sleep?: (ms: number) => Promise<void>): void {
  current = { now, sleep: sleep ?? sleepOnWallClock };
}
