// The app's own sense of time for waiting on its shared Graph budgets (graph-budget.ts): the wall clock in Azure and
// locally. Tests give a virtual clock instead, so that pacing is proven by counted slots, not by the machine's speed.
// Orchestrators never use this (they use context.df.currentUtcDateTime).

export interface AppTime {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const appTime: AppTime = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
