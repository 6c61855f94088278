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

// ---------------------------------------------------------------------------------------------------------------------
// The schedule learned from the chunk's own users (docs/teams-checks.md, "How often a user is checked"). Each check
// adds to a small histogram over fixed buckets of time since assignment (minutes of a 24-hour wait, scaled like the
// grid): how many users Teams showed ready in each bucket, and how many user-minutes users waited in it. Its size never
// depends on the number of users (a chunk carries it over continue-as-new). From it, each bucket's rate (users ready
// per user-minute waited, the piecewise-constant hazard that a right-censored wait estimates) and so the density of
// the delays; checks are then as dense as the floor where that density is highest and sparser where it is lower, the
// interval growing with the cube root of how much lower, never longer than the fixed schedule's longest interval (ten
// minutes at 24 hours), so the long tail is still checked. The cube root: a user found Δ after the last check waited
// Δ/2 on average and Δ²/3 squared, so for a given number of checks, intervals in inverse proportion to the cube root of
// the density give the smallest mean squared detection lag (the square root would give the smallest mean, but it
// leaves the thinly spread tail sparser than the fixed schedule, and its lag is what the 95th percentile measures). A
// bucket the chunk has not watched yet is taken to be like the one before it (the near future like the recent past),
// and a bucket watched only briefly is pulled toward it. Until LEARNED_AFTER_USERS users have been seen ready, the
// fixed schedule applies.

/** Upper edges of the histogram's buckets, in minutes after assignment of a 24-hour wait; the last bucket is open. */
export const DELAY_BUCKET_EDGES_MINUTES: readonly number[] = [
  10, 20, 30, 45, 60, 90, 120, 180, 240, 360, 540, 720, 1080, 1440,
];
/**
 * Users seen ready before the learned schedule replaces the fixed one. With 20, the busiest bucket's rate is known to
 * about ±1/√20 (22%), which moves an interval (a cube root) by about 7%; with a handful, one early user would
 * set the intervals. A chunk has up to 200 users: a tenth of a full chunk. A smaller chunk may never get there.
 */
export const LEARNED_AFTER_USERS = 20;
/**
 * A bucket's rate is pulled toward the rate of the bucket before it as if this many users had waited through the whole
 * bucket at that rate (a bucket not watched yet: that rate), so that its first minute does not decide it alone.
 */
const PRIOR_USERS = 2;
/** The open last bucket counts as this wide for that pull. */
const OPEN_BUCKET_MINUTES = 360;

/** What a chunk learned of its users' provisioning delays: per bucket, users seen ready and user-minutes waited. */
export interface LearnedDelays {
  readonly ready: readonly number[];
  readonly waited: readonly number[];
}

const BUCKETS = DELAY_BUCKET_EDGES_MINUTES.length + 1;
const bucketStart = (b: number) => (b === 0 ? 0 : DELAY_BUCKET_EDGES_MINUTES[b - 1]!);
const bucketEnd = (b: number) => DELAY_BUCKET_EDGES_MINUTES[b] ?? Number.POSITIVE_INFINITY;
const bucketOf = (minutes: number) => {
  const b = DELAY_BUCKET_EDGES_MINUTES.findIndex((edge) => minutes < edge);
  return b < 0 ? BUCKETS - 1 : b;
};

/** Minutes after assignment on the 24-hour schedule (a shorter wait's time stretched to it). */
function scheduleMinutes(assignedAt: Date, at: Date, deadline: Date): number {
  return Math.max(0, (at.getTime() - assignedAt.getTime()) / MINUTE / Math.max(scaleOf(assignedAt, deadline), 1e-9));
}

/**
 * The histogram after one check that read Teams for `waiting` users between `from` (the last check, or assignment) and
 * `to`: `found` were ready, `pending` still wait. A user found is taken to have become ready halfway between the two
 * checks; one that left the wait otherwise (refused) waited until then too.
 */
export function learnFromCheck(
  learned: LearnedDelays | undefined,
  check: {
    readonly assignedAt: Date;
    readonly deadline: Date;
    readonly from: Date;
    readonly to: Date;
    readonly waiting: number;
    readonly pending: number;
    readonly found: number;
  },
): LearnedDelays {
  const ready = learned?.ready.length === BUCKETS ? [...learned.ready] : new Array<number>(BUCKETS).fill(0);
  const waited = learned?.waited.length === BUCKETS ? [...learned.waited] : new Array<number>(BUCKETS).fill(0);
  const a = scheduleMinutes(check.assignedAt, check.from, check.deadline);
  const z = Math.max(a, scheduleMinutes(check.assignedAt, check.to, check.deadline));
  const mid = (a + z) / 2;
  const left = Math.max(0, check.waiting - check.pending);
  for (let b = bucketOf(a); b < BUCKETS && bucketStart(b) < z; b++) {
    const whole = Math.max(0, Math.min(z, bucketEnd(b)) - Math.max(a, bucketStart(b)));
    const half = Math.max(0, Math.min(mid, bucketEnd(b)) - Math.max(a, bucketStart(b)));
    waited[b] = Math.round((waited[b]! + check.pending * whole + left * half) * 10) / 10;
  }
  const at = bucketOf(mid);
  ready[at] = ready[at]! + Math.max(0, check.found);
  return { ready, waited };
}

/**
 * Each bucket's density of delays relative to the highest (1 there), or null while fewer than LEARNED_AFTER_USERS
 * users have been seen ready.
 */
export function learnedDensity(learned: LearnedDelays | undefined): number[] | null {
  if (!learned || learned.ready.length !== BUCKETS || learned.waited.length !== BUCKETS) return null;
  const seen = learned.ready.reduce((s, n) => s + n, 0);
  const waited = learned.waited.reduce((s, n) => s + n, 0);
  if (seen < LEARNED_AFTER_USERS || !(waited > 0)) return null;
  let rate = seen / waited;
  let cumulative = 0;
  const density: number[] = [];
  for (let b = 0; b < BUCKETS; b++) {
    const width = Math.min(bucketEnd(b) - bucketStart(b), OPEN_BUCKET_MINUTES);
    rate = (learned.ready[b]! + rate * PRIOR_USERS * width) / (learned.waited[b]! + PRIOR_USERS * width);
    // The share of users who become ready in the bucket, per minute of it: still waiting at its start, times the
    // chance of becoming ready within it at that rate.
    density.push((Math.exp(-cumulative) * -Math.expm1(-rate * width)) / width);
    cumulative += rate * width;
  }
  const peak = Math.max(...density);
  return density.map((d) => (peak > 0 ? d / peak : 0));
}

/** The fixed schedule's longest interval: no learned schedule leaves a pending user unchecked longer. */
export const MAX_INTERVAL_MINUTES = Math.max(...POLL_SCHEDULE.map(([, every]) => every));

/**
 * The next check after the last one on the schedule learned from `learned` (nextCheckAt's fixed schedule while too few
 * users have been seen): the first time, a floor at a time after the last check, by which the wait since it reaches
 * the interval the learned density asks for then (the floor where it is highest, longer as the cube root of how much
 * lower, at least half the fixed schedule's interval there, at most MAX_INTERVAL_MINUTES), so that a dense stretch ahead is not stepped over. Scaled with a short wait as
 * the fixed schedule is; never after the deadline; null when nextCheckAt would be.
 */
export function learnedNextCheckAt(
  assignedAt: Date,
  lastCheckAt: Date | null,
  deadline: Date,
  learned: LearnedDelays | undefined,
): Date | null {
  const density = learnedDensity(learned);
  if (!density) return nextCheckAt(assignedAt, lastCheckAt, deadline);
  const from = lastCheckAt ?? assignedAt;
  const floor = minCheckIntervalMs(assignedAt, deadline);
  if (from.getTime() >= deadline.getTime() || (lastCheckAt && from.getTime() + floor > deadline.getTime())) return null;
  const scale = scaleOf(assignedAt, deadline);
  const longest = Math.max(floor, MAX_INTERVAL_MINUTES * MINUTE * scale);
  const timeOf = (minutes: number) => assignedAt.getTime() + minutes * MINUTE * scale;
  // The buckets ahead, in order: the first time in one of them by which the wait since the last check reaches the
  // interval that bucket asks for.
  let next = from.getTime() + longest;
  const earliest = from.getTime() + floor;
  for (let b = bucketOf(scheduleMinutes(assignedAt, new Date(earliest), deadline)); b < BUCKETS; b++) {
    const start = Math.max(earliest, timeOf(bucketStart(b)));
    if (start >= next) break;
    const relative = density[b]!;
    // Never more than twice as often as the fixed schedule there (its steps are bucket edges), which bounds what a
    // user never provisioned costs at twice the fixed schedule's reads, however the delays are spread.
    const least = Math.max(floor, (pollIntervalMinutes(bucketStart(b)) * MINUTE * scale) / 2);
    const wanted = relative > 0 ? Math.min(longest, Math.max(least, floor / Math.cbrt(relative))) : longest;
    const t = Math.max(start, from.getTime() + wanted);
    if (t < timeOf(bucketEnd(b))) {
      next = Math.min(next, t);
      break;
    }
  }
  // The deadline is always checked (as on the fixed grid): a check that would fall within the floor before it moves to
  // it, or, when that would be longer than the longest interval, to the floor before it (not within the floor of the
  // last check, however short the wait).
  const end = deadline.getTime();
  if (next < end && end - next < floor) next = end - from.getTime() <= longest ? end : Math.max(earliest, end - floor);
  return new Date(Math.min(next, end));
}
