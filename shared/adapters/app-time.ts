// The app's own sense of time for waiting on its shared Graph budgets (graph-budget.ts): the wall clock in Azure.
// The local host's skip-ahead clock replaces it (followClock) so that the budgets' slots, the durable timers that wait
// for them and the Graph simulator's throttling windows all count one time; on the wall clock a check deferred past a
// skip would wait for slots hours behind the host's time. Tests give a virtual clock instead, so that pacing is
// proven by counted slots, not by the machine's speed. Orchestrators never use this (they use
// context.df.currentUtcDateTime).

export interface AppTime {
  now(): number;
  sleep(ms: number): Promise<void>;
}

let clockNow: () => number = () => Date.now();

export const appTime: AppTime = {
  now: () => clockNow(),
  // A skip-ahead clock moves only while nothing runs, and a sleeping activity is running: sleeping on the wall clock
  // is sleeping on the host's.
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** The local host's clock becomes the app's (local/host/host.ts, with the skip-ahead clock only). */
export function followClock(now: () => number): void {
  clockNow = now;
}
