// The write budget fails closed (shared/adapters/graph-budget.ts): while its shared ledger cannot be used, no write
// goes out on the process's own pace; the writes wait, the ledger is asked again after a back-off, and each failure is
// counted and reported as budget_ledger_unavailable. On a virtual clock that moves only when someone sleeps.
import type { AppTime } from '../../shared/adapters/app-time';
import {
  LEDGER_UNAVAILABLE,
  LocalRateLedger,
  WriteBudget,
  ledgerBackoffMs,
  type RateLedger,
} from '../../shared/adapters/graph-budget';

function virtualTime(start: number): AppTime & { settle(): Promise<void>; advance(): Promise<boolean> } {
  let now = start;
  const sleepers: { at: number; resolve: () => void }[] = [];
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return {
    now: () => now,
    sleep: (ms) => new Promise<void>((resolve) => sleepers.push({ at: now + Math.max(0, ms), resolve })),
    settle,
    /** Wakes the earliest sleeper; false when nobody sleeps. */
    async advance() {
      await settle();
      if (sleepers.length === 0) return false;
      sleepers.sort((a, b) => a.at - b.at);
      const s = sleepers.shift()!;
      now = Math.max(now, s.at);
      s.resolve();
      await settle();
      return true;
    },
  };
}

/** A ledger whose storage fails the first `failures` reservations, then works like the in-process one. */
class FlakyLedger implements RateLedger {
  calls = 0;
  private readonly inner: LocalRateLedger;
  constructor(
    readonly perSecond: number,
    private failures: number,
    time: AppTime,
  ) {
    this.inner = new LocalRateLedger(perSecond, time);
  }
  reserve(n: number): Promise<number> {
    this.calls++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:10000'), { code: 'ECONNREFUSED' }));
    }
    return this.inner.reserve(n);
  }
  release(key: string, from: number, end: number): Promise<void> {
    return this.inner.release(key, from, end);
  }
}

describe('the write budget when its ledger cannot be used', () => {
  it('sends nothing until the ledger answers, backs off between tries, and counts and reports every failure', async () => {
    const t0 = Date.parse('2026-12-07T08:00:00Z');
    const time = virtualTime(t0);
    const ledger = new FlakyLedger(3, 4, time);
    const events: { name: string; count: number; waitMs: number; error: string }[] = [];
    const budget = new WriteBudget(ledger, time, (e) => events.push(e));
    const sentAt: number[] = [];
    const writes = Array.from({ length: 6 }, () => budget.acquire().then(() => sentAt.push(time.now())));

    // Four failed reservations, each followed by a back-off; not one write goes out meanwhile.
    while (ledger.calls < 5) {
      expect(sentAt).toEqual([]);
      expect(await time.advance()).toBe(true);
    }
    while (await time.advance());
    await Promise.all(writes);

    expect(budget.ledgerUnavailable).toBe(4);
    expect(events.map((e) => [e.name, e.count])).toEqual([1, 2, 3, 4].map((n) => [LEDGER_UNAVAILABLE, n]));
    expect(events[0]!.error).toContain('ECONNREFUSED');
    // The back-offs grow (0.5 s, 1 s, 2 s, 4 s ceilings, each at least half of it).
    expect(events.map((e) => e.waitMs).every((w, i) => w >= 250 * 2 ** i && w <= 500 * 2 ** i)).toBe(true);
    // Once it answers, the six writes go at the ledger's rate (3/s), after the back-offs.
    // The events carry each back-off rounded to the millisecond: their sum is within half a millisecond per back-off.
    const firstSlot = t0 + events.reduce((s, e) => s + e.waitMs, 0);
    expect(sentAt[0]).toBeGreaterThanOrEqual(firstSlot - events.length * 0.5);
    for (let i = 1; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(333);
  });

  it('reports nothing while the ledger works', async () => {
    const time = virtualTime(Date.parse('2026-12-07T09:00:00Z'));
    const events: unknown[] = [];
    const budget = new WriteBudget(new FlakyLedger(18, 0, time), time, (e) => events.push(e));
    const done = Promise.all(Array.from({ length: 40 }, () => budget.acquire()));
    while (await time.advance());
    await done;
    expect(budget.ledgerUnavailable).toBe(0);
    expect(events).toEqual([]);
  });

  it('backs off from half a second, doubling to at most 30 s', () => {
    expect([1, 2, 3, 7, 20].map((n) => ledgerBackoffMs(n, () => 1))).toEqual([500, 1000, 2000, 30_000, 30_000]);
    expect(ledgerBackoffMs(1, () => 0)).toBe(250);
  });
});

describe('the write budget for a caller that must not wait (WriteBudget.book)', () => {
  it('answers a slot within the wait it allows, hands a later one back with the reservation kept, and never waits itself', async () => {
    const t0 = Date.parse('2026-12-07T10:00:00Z');
    const time = virtualTime(t0);
    const ledger = new FlakyLedger(1, 0, time);
    const budget = new WriteBudget(ledger, time);
    expect(await budget.book(1, 5_000)).toEqual({ at: t0 });
    expect(await budget.book(2, 5_000)).toEqual({ at: t0 + 1_000 });
    await ledger.reserve(10); // another instance takes ten seconds of the budget
    expect(await budget.book(1, 5_000)).toEqual({ deferredUntil: t0 + 13_000 });
    // the handed-back slot stays reserved: the next caller is behind it
    expect(await budget.book(1, 60_000)).toEqual({ at: t0 + 14_000 });
    expect(time.now()).toBe(t0);
  });

  it('reserves nothing while the ledger cannot be used: it says when to ask again (the back-off), and counts and reports the failure', async () => {
    const t0 = Date.parse('2026-12-07T11:00:00Z');
    const time = virtualTime(t0);
    const events: { name: string; count: number; waitMs: number }[] = [];
    const budget = new WriteBudget(new FlakyLedger(1, 2, time), time, (e) => events.push(e));
    const first = await budget.book(1, 5_000, 0);
    const second = await budget.book(1, 5_000, 3);
    expect(events.map((e) => [e.name, e.count])).toEqual([
      [LEDGER_UNAVAILABLE, 1],
      [LEDGER_UNAVAILABLE, 2],
    ]);
    expect(budget.ledgerUnavailable).toBe(2);
    // the back-off follows the caller's count of earlier failures (0.5 s ceiling for the first, 4 s for the fourth)
    expect('retryAt' in first && first.retryAt - t0).toBeLessThanOrEqual(500);
    expect('retryAt' in second && second.retryAt - t0).toBeGreaterThanOrEqual(2_000);
    expect(await budget.book(1, 5_000)).toEqual({ at: t0 });
    expect(time.now()).toBe(t0);
  });
});
