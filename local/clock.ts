// Time for the local runtime. Simulated time runs at `rate` times the wall clock (1 by default) from a shared epoch,
// plus an offset that the local host moves forward when it has nothing to do but wait (for a durable timer, or for
// activities that only sleep on the clock), so 24 simulated hours pass in seconds. The Graph simulator and the host
// share epoch, rate and offset (over the simulator's /_sim/clock endpoint), so both see one time. sleep() waits
// simulated milliseconds, so the host's timers, the simulator's latency and throttling windows, and the app's write
// pacing and retry waits all follow the same rate. Graph's quotas are counted in simulated time, so they hold exactly
// as documented at any rate (what a faster rate changes is how much of the machine's own work fits in a simulated
// second: see bench/README.md).

export interface Clock {
  now(): number;
  /** Waits `ms` of this clock's time (a clock without it runs at the wall clock's speed). */
  sleep?(ms: number): Promise<void>;
  /** Simulated milliseconds per wall-clock millisecond (1 when absent). */
  readonly rate?: number;
}

export class RealClock implements Clock {
  readonly rate = 1;

  now(): number {
    return Date.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  }
}

/** A clock rate must be a finite number above 0 (and no more than 1,000: beyond that a millisecond timer is too coarse). */
export function checkRate(rate: number, where: string): number {
  if (!Number.isFinite(rate) || !(rate > 0) || rate > 1000)
    throw new Error(`${where}: the time rate must be a number above 0 and at most 1000, got ${String(rate)}`);
  return rate;
}

/** What two processes exchange to count one simulated time: now = epoch + offsetMs + (wall - epoch) × rate. */
export interface ClockState {
  offsetMs: number;
  rate: number;
  epoch: number;
}

export class SkipAheadClock implements Clock {
  private currentRate: number;
  /** The latest time this clock has given: it never gives an earlier one (a rate lowered elsewhere may lag here). */
  private last = 0;

  constructor(
    private offsetMs = 0,
    rate = 1,
    /** Wall-clock time from which the rate applies. */
    private epochMs = Date.now(),
  ) {
    this.currentRate = checkRate(rate, 'SkipAheadClock');
  }

  get rate(): number {
    return this.currentRate;
  }

  get epoch(): number {
    return this.epochMs;
  }

  now(): number {
    const t = this.formula();
    if (t > this.last) this.last = t;
    return this.last;
  }

  /** Time by the epoch, offset and rate, before holding at the latest time given. */
  private formula(): number {
    const real = Date.now();
    return this.epochMs + this.offsetMs + (real - this.epochMs) * this.currentRate;
  }

  /** Waits `ms` of this clock's time, also when the rate changes meanwhile. */
  async sleep(ms: number): Promise<void> {
    const until = this.now() + Math.max(0, ms);
    for (let left = until - this.now(); left > 0; left = until - this.now()) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, left / this.currentRate)));
    }
  }

  get offset(): number {
    return this.offsetMs;
  }

  state(): ClockState {
    return { offsetMs: this.offsetMs, rate: this.currentRate, epoch: this.epochMs };
  }

  /** Moves time forward to `t` (never backwards). */
  skipTo(t: number): void {
    const gap = t - this.formula();
    if (gap > 0) this.offsetMs += gap;
  }

  setOffset(offsetMs: number): void {
    if (offsetMs > this.offsetMs) this.offsetMs = offsetMs;
  }

  /** From now on time runs `rate` times the wall clock; what has passed stays passed. */
  setRate(rate: number): void {
    checkRate(rate, 'SkipAheadClock.setRate');
    const t = this.now();
    const real = Date.now();
    this.epochMs = real;
    this.offsetMs = t - real;
    this.currentRate = rate;
  }

  /** Takes another process's clock (its rate, epoch and offset); time here still never runs backwards. */
  setState(state: ClockState): void {
    checkRate(state.rate, 'SkipAheadClock.setState');
    this.epochMs = state.epoch;
    this.offsetMs = state.offsetMs;
    this.currentRate = state.rate;
  }
}

/**
 * A local-runtime device with no Azure counterpart (Azure runs on the wall clock; rate 1 and the real extension
 * never govern). Keeps simulated time from running ahead of the work. At rate R, a stall of the host's event loop of d wall-clock ms
 * is R·d simulated ms in which nothing the host owes happens (a budget turn's send, a timer's episode), so on a busy
 * machine a fast rate measures the machine, not the app. Given the event loop's delays over a window, this picks the
 * rate for the next one: halved while the host's stalls (90th percentile, in simulated ms) exceed `stallMs`, raised by
 * a quarter while they stay under 40% of it, never above `maxRate` nor below 1.
 */
export function governedRate(current: number, maxRate: number, delaysMs: readonly number[], stallMs = 200): number {
  if (delaysMs.length === 0) return current;
  const sorted = [...delaysMs].sort((a, b) => a - b);
  const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]!;
  if (p90 * current > stallMs) return Math.max(1, current / 2);
  if (p90 * current < stallMs * 0.4) return Math.min(maxRate, current * 1.25);
  return current;
}
