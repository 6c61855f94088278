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
  if (!Number.isFinite(rate) || !(rate > 0) || rate > 1000) throw new Error(`${where}: the time rate must be a number above 0 and at most 1000, got ${String(rate)}`);
  return rate;
}

export class SkipAheadClock implements Clock {
  readonly rate: number;

  constructor(
    private offsetMs = 0,
    rate = 1,
    /** Wall-clock time from which the rate applies. */
    readonly epoch = Date.now(),
  ) {
    this.rate = checkRate(rate, 'SkipAheadClock');
  }

  now(): number {
    const real = Date.now();
    return real + (real - this.epoch) * (this.rate - 1) + this.offsetMs;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms) / this.rate));
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** Moves time forward to `t` (never backwards). */
  skipTo(t: number): void {
    const gap = t - this.now();
    if (gap > 0) this.offsetMs += gap;
  }

  setOffset(offsetMs: number): void {
    if (offsetMs > this.offsetMs) this.offsetMs = offsetMs;
  }
}
