// The read and write budgets' ledger arithmetic (graph-budget.ts): reservations queue at the rate, and slots given back
// are taken by the next reservations that fit, once each, whatever the retries.
import { teamsReadsPerSlice } from '../../activities/batch';
import { numberReadsPerGroup } from '../../activities/numbers';
import {
  LocalRateLedger,
  MAX_RETURNED,
  releaseIn,
  reserveIn,
  type LedgerState,
} from '../../shared/adapters/graph-budget';

const T0 = Date.parse('2026-11-26T08:00:00Z');

describe('rate ledger', () => {
  it('queues reservations back to back from now, or from where the queue ends', () => {
    let s: LedgerState | undefined;
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = reserveIn(s, T0, 2_000);
      starts.push(r.start);
      s = r.next;
    }
    expect(starts).toEqual([T0, T0 + 2_000, T0 + 4_000]);
    // later, with the queue empty, a reservation starts now
    expect(reserveIn(s, T0 + 60_000, 1_000).start).toBe(T0 + 60_000);
  });

  it('gives slots given back to the next reservations that fit, from their front, before the end of the queue', () => {
    // one caller holds an hour's slots from 08:00; the queue ends at 09:00
    let s = reserveIn(undefined, T0, 3_600_000).next;
    s = releaseIn(s, T0 + 1_000, 'run/0/08:00', T0, T0 + 3_600_000)!;
    expect(s.returned).toEqual([{ key: 'run/0/08:00', from: T0 + 1_000, end: T0 + 3_600_000 }]);
    const a = reserveIn(s, T0 + 2_000, 2_000);
    expect(a.start).toBe(T0 + 2_000);
    const b = reserveIn(a.next, T0 + 2_000, 2_000);
    expect(b.start).toBe(T0 + 4_000);
    // the end of the queue has not moved
    expect(b.next.nextFreeAt).toBe(T0 + 3_600_000);
  });

  it('never gives slots twice: a second release under the same key changes nothing, also after some were taken', () => {
    let s = reserveIn(undefined, T0, 10_000).next;
    s = releaseIn(s, T0, 'k', T0, T0 + 10_000)!;
    s = reserveIn(s, T0, 4_000).next;
    expect(releaseIn(s, T0 + 1_000, 'k', T0, T0 + 10_000)).toBeUndefined();
    // what is left is 6 s: a reservation of 8 s goes to the end of the queue, one of 6 s fits
    expect(reserveIn(s, T0, 8_000).start).toBe(T0 + 10_000);
    expect(reserveIn(s, T0, 6_000).start).toBe(T0 + 4_000);
  });

  it('gives back only what is still ahead, and nothing beyond the end of the queue', () => {
    const s = reserveIn(undefined, T0, 10_000).next;
    expect(releaseIn(s, T0 + 20_000, 'past', T0, T0 + 10_000)).toBeUndefined();
    expect(releaseIn(s, T0 + 3_000, 'part', T0, T0 + 60_000)!.returned).toEqual([
      { key: 'part', from: T0 + 3_000, end: T0 + 10_000 },
    ]);
    expect(releaseIn(undefined, T0, 'none', T0, T0 + 1_000)).toBeUndefined();
  });

  it('forgets given-back slots once their end has passed, and takes no more than MAX_RETURNED (a new one is not taken)', () => {
    let s = reserveIn(undefined, T0, (MAX_RETURNED + 10) * 1_000).next;
    for (let i = 0; i < MAX_RETURNED; i++) s = releaseIn(s, T0, `k${i}`, T0 + i * 1_000, T0 + i * 1_000 + 500)!;
    expect(s.returned).toHaveLength(MAX_RETURNED);
    // full: the next is refused, and every key listed stays listed (a retried release still changes nothing)
    expect(releaseIn(s, T0, 'one-more', T0 + MAX_RETURNED * 1_000, T0 + MAX_RETURNED * 1_000 + 500)).toBeUndefined();
    expect(releaseIn(s, T0, 'k0', T0, T0 + 500)).toBeUndefined();
    const later = reserveIn(s, T0 + 100_000, 100).next;
    expect(later.returned!.every((r) => r.end > T0 + 100_000)).toBe(true);
    expect(later.returned!.length).toBeLessThan(MAX_RETURNED);
  });

  it('does the same in one process (LocalRateLedger): the next reservation takes a chunk’s given-back slots', async () => {
    let now = T0;
    const ledger = new LocalRateLedger(10, { now: () => now, sleep: () => Promise.resolve() });
    const check = await ledger.reserve(36_000); // an hour of reads at 10 a second
    await ledger.release('run/3/x', check, check + 3_600_000);
    now += 1_000;
    expect(await ledger.reserve(20)).toBe(T0 + 1_000);
    expect(await ledger.reserve(20)).toBe(T0 + 3_000);
  });

  it("cuts the checks' slices and the number step's groups so that both budgets together stay within Graph's 30 a second", () => {
    // in any second: one slice (the next one is more than a second later) and up to two groups of number reads (a
    // group is a second of their budget; one may be late)
    expect(teamsReadsPerSlice(10)).toBe(20);
    expect(teamsReadsPerSlice(10, 5)).toBe(15);
    expect(numberReadsPerGroup(5)).toBe(5);
    for (const [checks, numbers] of [
      [10, 5],
      [20, 10],
      [25, 5],
      [1, 1],
      [12, 3],
    ] as const) {
      expect(teamsReadsPerSlice(checks, numbers) + 2 * numberReadsPerGroup(numbers)).toBeLessThanOrEqual(30);
      expect(teamsReadsPerSlice(checks, numbers)).toBeGreaterThanOrEqual(1);
    }
    expect(numberReadsPerGroup(Number.POSITIVE_INFINITY)).toBe(20);
    expect(numberReadsPerGroup(0.5)).toBe(1);
  });
});
