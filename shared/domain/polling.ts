// When to look at Teams again. A pure function of (assignedAt, now, deadline) so that an orchestrator can call it
// with context.df.currentUtcDateTime and replay to the same timers. Checks are dense while most users are still
// being provisioned (the first hours) and sparse in the long tail, so a user who never gets a calling plan costs
// about thirty reads over 24 hours. The schedule is written for a 24-hour wait; a shorter wait (a deadline closer
// than 24 hours after assignment, as in tests on the real Durable extension, whose timers follow the wall clock)
// shrinks the whole grid in proportion, so that a 3-minute wait still gets the same number of checks.

const MINUTE = 60_000;

/** [until this many minutes after assignment, check every this many minutes]. */
export const POLL_SCHEDULE: readonly (readonly [number, number])[] = [
  [60, 10],
  [180, 15],
  [360, 30],
  [Number.POSITIVE_INFINITY, 120],
];

/** The wait the schedule is written for; a shorter one scales the grid down. */
export const SCHEDULE_SPAN_MINUTES = 24 * 60;
/** However short the wait, checks are at least this far apart. */
const MIN_INTERVAL_MS = 1_000;

export function pollIntervalMinutes(elapsedMinutes: number): number {
  for (const [until, every] of POLL_SCHEDULE) if (elapsedMinutes < until) return every;
  return POLL_SCHEDULE[POLL_SCHEDULE.length - 1]![1];
}

/**
 * The next time to check Teams, on the schedule's grid counted from assignedAt, never after the deadline; null once
 * the deadline has been reached.
 */
export function nextPollAt(assignedAt: Date, now: Date, deadline: Date): Date | null {
  if (now.getTime() >= deadline.getTime()) return null;
  const scale = Math.min(1, (deadline.getTime() - assignedAt.getTime()) / (SCHEDULE_SPAN_MINUTES * MINUTE));
  let t = assignedAt.getTime();
  while (t <= now.getTime()) t += Math.max(MIN_INTERVAL_MS, pollIntervalMinutes((t - assignedAt.getTime()) / MINUTE / scale) * MINUTE * scale);
  return new Date(Math.min(t, deadline.getTime()));
}

/** How many checks a user who is never provisioned costs between assignment and deadline (the final check included). */
export function pollsUntilDeadline(assignedAt: Date, deadline: Date): number {
  let n = 0;
  let now = assignedAt;
  for (let next = nextPollAt(assignedAt, now, deadline); next; next = nextPollAt(assignedAt, now, deadline)) {
    n++;
    now = next;
  }
  return n;
}
