// Time for the local runtime. In virtual mode time runs at real speed plus an offset that the local host moves
// forward when it has nothing to do but wait for a durable timer, so 24 simulated hours pass in seconds. The Graph
// simulator and the host share the offset (over the simulator's /_sim/clock endpoint), so both see one time.

export interface Clock {
  now(): number;
}

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
}

export class SkipAheadClock implements Clock {
  constructor(private offsetMs = 0) {}

  now(): number {
    return Date.now() + this.offsetMs;
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
