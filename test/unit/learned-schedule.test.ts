// The check schedule learned from a chunk's own users (shared/domain/polling.ts, docs/teams-checks.md): a chunk's
// checks simulated against users whose provisioning delays are known, on the fixed schedule and on the learned one.
import {
  DELAY_BUCKET_EDGES_MINUTES,
  LEARNED_AFTER_USERS,
  learnedDensity,
  learnedNextCheckAt,
  learnFromCheck,
  MAX_INTERVAL_MINUTES,
  minCheckIntervalMs,
  nextCheckAt,
  pollIntervalMinutes,
  pollsUntilDeadline,
  type LearnedDelays,
} from '../../shared/domain/polling';

const t0 = new Date('2026-11-25T08:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const minutesOf = (d: Date) => (d.getTime() - t0.getTime()) / 60_000;
const day = at(24 * 60);

/** A seeded generator, so that every run of the tests draws the same users. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48_271) % 2_147_483_647) / 2_147_483_647;
}

/** The bench's provisioning delays (bench/throughput.ts): 73% within the hour, 18% to 6 hours, 7% to 30 hours, 2% never. */
function benchDelay(g: () => number): number | null {
  const x = g();
  if (x < 0.02) return null;
  if (x < 0.75) return 5 + g() * 55;
  if (x < 0.93) return 60 + g() * 300;
  return 360 * Math.exp(g() * Math.log(5));
}

/**
 * One chunk waiting for users whose calling plans show `delays` minutes after assignment (null: never), checked until
 * the deadline on the learned schedule (starting from `prior`, as given) or the fixed one. Answers the checks' times,
 * each user's detection lag (minutes), and what the chunk learned.
 */
function watch(
  delays: readonly (number | null)[],
  o: { learns: boolean; prior?: LearnedDelays; deadline?: Date },
): { checks: number[]; lags: number[]; learned: LearnedDelays | undefined } {
  const deadline = o.deadline ?? day;
  let learned = o.prior;
  let last: Date | null = null;
  let pending = delays.length;
  const seen = new Set<number>();
  const checks: number[] = [];
  const lags: number[] = [];
  for (;;) {
    const next: Date | null = o.learns
      ? learnedNextCheckAt(t0, last, deadline, learned)
      : nextCheckAt(t0, last, deadline);
    if (!next) break;
    const m = minutesOf(next);
    checks.push(m);
    let found = 0;
    delays.forEach((d, i) => {
      if (d === null || seen.has(i) || d > m) return;
      seen.add(i);
      found++;
      lags.push(m - d);
    });
    const waiting = pending;
    pending -= found;
    learned = learnFromCheck(learned, {
      assignedAt: t0,
      deadline,
      from: last ?? t0,
      to: next,
      waiting,
      pending,
      found,
    });
    last = next;
  }
  return { checks, lags, learned };
}

const within = (checks: readonly number[], from: number, to: number) =>
  checks.filter((m) => m > from && m <= to).length;
const mean = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
const p95 = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(0.95 * (xs.length - 1))]!;

describe('the check schedule learned from the chunk’s own users', () => {
  const r = random(7);
  /** 200 users, every one ready between 30 and 60 minutes after assignment. */
  const halfHourToHour = Array.from({ length: 200 }, () => 30 + r() * 30);

  it('checks more often than the fixed schedule where the users it has seen became ready (30 to 60 minutes), and finds them sooner', () => {
    const fixed = watch(halfHourToHour, { learns: false });
    const learned = watch(halfHourToHour, { learns: true });
    // the fixed schedule checks every 2 minutes there (15 checks); the learned one every minute once 20 users showed
    expect(within(fixed.checks, 30, 60)).toBe(15);
    expect(within(learned.checks, 30, 60)).toBeGreaterThan(within(fixed.checks, 30, 60) + 8);
    expect(learned.lags).toHaveLength(200);
    expect(mean(learned.lags)).toBeLessThan(mean(fixed.lags) * 0.8);
    // and, nobody being ready after the hour, fewer checks over the rest of the day
    expect(within(learned.checks, 90, 24 * 60)).toBeLessThan(within(fixed.checks, 90, 24 * 60));
  });

  it('is dense only where the distribution it learned says users become ready: sparse before 30 minutes, dense to 60, sparse after', () => {
    const learned = watch(halfHourToHour, { learns: true }).learned;
    // another chunk's wait timed by that histogram from its start
    const next = watch(halfHourToHour, { learns: true, prior: learned });
    const fixed = watch(halfHourToHour, { learns: false });
    expect(within(next.checks, 0, 25)).toBeLessThan(within(fixed.checks, 0, 25) / 3);
    expect(within(next.checks, 30, 60)).toBeGreaterThanOrEqual(28);
    expect(within(next.checks, 60, 24 * 60)).toBeLessThan(within(fixed.checks, 60, 24 * 60));
    expect(mean(next.lags)).toBeLessThan(mean(fixed.lags));
  });

  it('keeps the fixed schedule until it has seen enough users ready to learn from', () => {
    // a histogram that would time checks differently once trusted: every user seen in the first ten minutes
    const few = { ready: [LEARNED_AFTER_USERS - 1, ...Array<number>(14).fill(0)], waited: Array<number>(15).fill(500) };
    const enough = { ...few, ready: [LEARNED_AFTER_USERS, ...few.ready.slice(1)] };
    expect(learnedDensity(undefined)).toBeNull();
    expect(learnedDensity(few)).toBeNull();
    expect(learnedDensity(enough)).not.toBeNull();
    for (let m = 0; m < 24 * 60; m += 3.5) {
      const last = m === 0 ? null : at(m);
      expect(learnedNextCheckAt(t0, last, day, few)).toEqual(nextCheckAt(t0, last, day));
      expect(learnedNextCheckAt(t0, last, day, undefined)).toEqual(nextCheckAt(t0, last, day));
    }
    // with one more user it no longer does (this test can fail)
    const differs = [30, 100, 400, 900].some(
      (m) => learnedNextCheckAt(t0, at(m), day, enough)?.getTime() !== nextCheckAt(t0, at(m), day)?.getTime(),
    );
    expect(differs).toBe(true);
    // a chunk of 19 users never learns: its checks are the fixed schedule's
    const small = Array.from({ length: LEARNED_AFTER_USERS - 1 }, (_, i) => 5 + i * 3);
    expect(watch(small, { learns: true }).checks).toEqual(watch(small, { learns: false }).checks);
  });

  it('never leaves a pending user unchecked longer than the fixed schedule’s longest interval, nor checks within the floor, and checks at the deadline', () => {
    const g = random(11);
    const shapes: (readonly (number | null)[])[] = [
      halfHourToHour,
      // most within the hour, a long tail to 30 hours, some never (the bench's workload)
      Array.from({ length: 200 }, () => benchDelay(g)),
      // everyone at once, early; and a chunk where 40 are ready in minutes and 160 never
      Array.from({ length: 200 }, () => 12),
      Array.from({ length: 200 }, (_, i) => (i < 40 ? 2 + g() * 3 : null)),
    ];
    for (const deadline of [day, at(3), at(30 * 60)])
      for (const delays of shapes) {
        const { checks } = watch(delays, { learns: true, deadline });
        const floor = minCheckIntervalMs(t0, deadline) / 60_000;
        const longest = Math.max(floor, MAX_INTERVAL_MINUTES * Math.min(1, minutesOf(deadline) / (24 * 60)));
        expect(checks.at(-1)).toBeCloseTo(minutesOf(deadline), 6);
        checks.forEach((m, i) => {
          const gap = m - (i === 0 ? 0 : checks[i - 1]!);
          expect(gap).toBeLessThanOrEqual(longest + 1e-9);
          if (i > 0) expect(gap).toBeGreaterThanOrEqual(Math.min(floor, minutesOf(deadline) - checks[i - 1]!) - 1e-9);
        });
      }
  });

  it('checks at most twice as often as the fixed schedule, however the delays are spread: a user never provisioned costs at most twice its reads', () => {
    // users ready evenly over the whole day, and a chunk where most are never ready: the learned density is flat
    const g = random(5);
    const evenly = Array.from({ length: 200 }, () => g() * 24 * 60);
    const mostlyNever = Array.from({ length: 200 }, (_, i) => (i < 25 ? g() * 24 * 60 : null));
    const fixed = pollsUntilDeadline(t0, day);
    for (const delays of [evenly, mostlyNever]) {
      const { checks } = watch(delays, { learns: true });
      expect(checks.length).toBeLessThanOrEqual(2 * fixed);
      // and more often than the fixed schedule where users keep becoming ready (this test can fail)
      expect(within(checks, 360, 24 * 60)).toBeGreaterThan(
        within(watch(delays, { learns: false }).checks, 360, 24 * 60),
      );
      // (the check at the deadline, and the one it may move, aside)
      checks.slice(0, -2).forEach((m, i) => {
        if (i > 0) expect(m - checks[i - 1]!).toBeGreaterThanOrEqual(pollIntervalMinutes(m) / 2 - 1e-9);
      });
    }
  });

  it('learns in a histogram of fixed size, whatever the number of users and checks', () => {
    const big = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? null : 1 + i * 7));
    const { learned, checks } = watch(big, { learns: true });
    expect(checks.length).toBeGreaterThan(150);
    expect(learned!.ready).toHaveLength(DELAY_BUCKET_EDGES_MINUTES.length + 1);
    expect(learned!.waited).toHaveLength(DELAY_BUCKET_EDGES_MINUTES.length + 1);
    expect(learned!.ready.reduce((a, n) => a + n, 0)).toBe(big.filter((d) => d !== null && d <= 24 * 60).length);
    expect(JSON.stringify(learned).length).toBeLessThan(400);
  });

  it('is a pure function of its arguments (replay-safe)', () => {
    const learned = watch(halfHourToHour, { learns: true }).learned;
    const answers = Array.from({ length: 3 }, () => learnedNextCheckAt(t0, at(33.3), day, learned)!.toISOString());
    expect(new Set(answers).size).toBe(1);
    expect(watch(halfHourToHour, { learns: true }).learned).toEqual(learned);
  });

  it('with the bench’s workload, checks the tail more often than the fixed schedule (its users are 7% of the chunk) and lowers the 95th percentile lag', () => {
    const g = random(3);
    const chunks = Array.from({ length: 10 }, () => Array.from({ length: 200 }, () => benchDelay(g)));
    const fixed = chunks.map((c) => watch(c, { learns: false }));
    const learned = chunks.map((c) => watch(c, { learns: true }));
    const lags = (ws: typeof fixed) => ws.flatMap((w) => w.lags);
    const checks = (ws: typeof fixed, from: number, to: number) =>
      ws.reduce((a, w) => a + within(w.checks, from, to), 0);
    expect(p95(lags(learned))).toBeLessThan(p95(lags(fixed)));
    expect(mean(lags(learned))).toBeLessThan(mean(lags(fixed)));
    expect(checks(learned, 360, 24 * 60)).toBeGreaterThan(checks(fixed, 360, 24 * 60));
  });
});
