// When to look at Teams again for a chunk's pending users. Pure functions of (assignedAt, last check, now, deadline),
// so that an orchestrator can call them with context.df.currentUtcDateTime and replay to the same timers.
// What limits reads is the app's shared Teams read budget (graph-budget.ts), which may move a check later, never
// earlier; this schedule only says how often a user may be checked at most: every minute while most users are being
// provisioned, less often as the wait grows. No user is checked twice within the floor (a minute), a recheck included.
// The schedule is written for a 24-hour wait; a shorter wait (a deadline closer than 24 hours after assignment, as in
// tests on the real Durable extension, whose timers follow the wall clock) shrinks the grid and the floor in
// proportion (the floor never below a second), so that a 3-minute wait still gets several checks.

const MINUTE = 60_000;

/** [until this many minutes after assignment, check at most every this many minutes] (for a 24-hour wait). */
export const POLL_SCHEDULE: readonly (readonly [number, number])[] = [
  [20, 1],
  [60, 2],
  [180, 4],
  [360, 5],
  [Number.POSITIVE_INFINITY, 10],
];

/** The wait the schedule is written for; a shorter one scales the grid and the floor down. */
export const SCHEDULE_SPAN_MINUTES = 24 * 60;
/** No user is checked again sooner than this after a check (a recheck included), for a 24-hour wait. */
export const MIN_CHECK_INTERVAL_MS = MINUTE;
/** However short the wait, checks are at least this far apart. */
export const MIN_SCALED_INTERVAL_MS = 1_000;

export function pollIntervalMinutes(elapsedMinutes: number): number {
  for (const [until, every] of POLL_SCHEDULE) if (elapsedMinutes < until) return every;
  return POLL_SCHEDULE[POLL_SCHEDULE.length - 1]![1];
}

/** How much a wait shorter than the schedule's span shrinks it (1 for a wait of 24 hours or more). */
function scaleOf(assignedAt: Date, deadline: Date): number {
  return Math.max(0, Math.min(1, (deadline.getTime() - assignedAt.getTime()) / (SCHEDULE_SPAN_MINUTES * MINUTE)));
}

/** The floor between two checks of one user for this wait: a minute, scaled with a short wait, never below a second. */
export function minCheckIntervalMs(assignedAt: Date, deadline: Date): number {
  return Math.max(MIN_SCALED_INTERVAL_MS, MIN_CHECK_INTERVAL_MS * scaleOf(assignedAt, deadline));
}

/**
 * The next time on the schedule's grid (counted from assignedAt) after `now`, never after the deadline; null once the
 * deadline has been reached.
 */
export function nextPollAt(assignedAt: Date, now: Date, deadline: Date): Date | null {
  if (now.getTime() >= deadline.getTime()) return null;
  const scale = scaleOf(assignedAt, deadline);
  let t = assignedAt.getTime();
  while (t <= now.getTime())
    t += Math.max(
      MIN_SCALED_INTERVAL_MS,
      pollIntervalMinutes((t - assignedAt.getTime()) / MINUTE / Math.max(scale, 1e-9)) * MINUTE * scale,
    );
  return new Date(Math.min(t, deadline.getTime()));
}

/**
 * The next check after the last one (after assignment when there was none): on the grid, at least the floor after the
 * last check, never after the deadline; null once the deadline has been checked, or when the floor after the last
 * check falls past the deadline (that check was the last one).
 */
export function nextCheckAt(assignedAt: Date, lastCheckAt: Date | null, deadline: Date): Date | null {
  const grid = nextPollAt(assignedAt, lastCheckAt ?? assignedAt, deadline);
  if (!grid) return null;
  if (!lastCheckAt) return grid;
  const floor = lastCheckAt.getTime() + minCheckIntervalMs(assignedAt, deadline);
  if (floor > deadline.getTime()) return null;
  return new Date(Math.max(grid.getTime(), floor));
}

/**
 * Whether an overdue check found at `now` is too late to start: the deadline has passed by more than the floor (a
 * minute at 24 hours). A chunk that gets to such a check late (its number steps took the time, or its host was busy)
 * ends instead: its pending rows are flagged as of the deadline (docs/architecture.md, "Polling Teams"), rather than checked,
 * numbered and checked again for hours after it. (A check whose timer fired late is not asked about: it runs.)
 */
export function tooLateToCheck(assignedAt: Date, now: Date, deadline: Date): boolean {
  return now.getTime() > deadline.getTime() + minCheckIntervalMs(assignedAt, deadline);
}

/**
 * When a recheck asked for at `now` runs: at once, or at the floor after the last check when that was more recent
 * (rechecks within the floor of a check are folded into one check then, never a second read within the floor); null
 * when that would be past the deadline.
 */
export function recheckAt(assignedAt: Date, lastCheckAt: Date | null, now: Date, deadline: Date): Date | null {
  const t = Math.max(now.getTime(), lastCheckAt ? lastCheckAt.getTime() + minCheckIntervalMs(assignedAt, deadline) : 0);
  return t > deadline.getTime() || now.getTime() >= deadline.getTime() ? null : new Date(t);
}

/** How many checks a user who is never provisioned costs between assignment and deadline (the final check included). */
export function pollsUntilDeadline(assignedAt: Date, deadline: Date): number {
  let n = 0;
  let last: Date | null = null;
  for (let next = nextCheckAt(assignedAt, last, deadline); next; next = nextCheckAt(assignedAt, last, deadline)) {
    n++;
    last = next;
  }
  return n;
}
