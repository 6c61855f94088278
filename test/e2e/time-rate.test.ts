// The local stack run faster than the wall clock (issue 17.3): one rate for the host's timers, the simulator's
// latency and throttling windows and the app's write pacing, read budget and retry waits. Proven by counts in the
// simulator's record, in simulated time: if any part followed the wall clock instead, the app would send ten times
// its budget in a simulated 10 s window (at rate 10), or the batch would not get through its simulated hours.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateWorkload, maxInWindow } from '../../bench/workload';
import { checkRate, SkipAheadClock } from '../../local/clock';
import { startStack, type Stack } from '../../local/stack';
import { postBatch, waitForReport } from '../support/e2e';

// A low write budget, so that a few hundred writes fill many windows; the default Teams read budget (10/s, 20 reads
// to a slice), with enough pending users that one round of checks is many slices. Kept on the wall clock, either
// budget would let ten times as much through in a window of simulated time at rate 10.
const WRITES_PER_SECOND = 2;
const TEAMS_READS_PER_SECOND = 10;

describe('the local clock rate', () => {
  it('refuses a rate that is not a number above 0 and at most 1000, saying where', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1001]) expect(() => checkRate(bad, 'here')).toThrow(/^here: the time rate must be a number above 0 and at most 1000/);
    expect(() => new SkipAheadClock(0, 0)).toThrow(/SkipAheadClock: the time rate/);
    expect(checkRate(10, 'here')).toBe(10);
  });

  it('skips ahead by simulated time at any rate, never backwards', () => {
    const clock = new SkipAheadClock(0, 10);
    const t = clock.now();
    clock.skipTo(t + 3_600_000);
    expect(clock.now()).toBeGreaterThanOrEqual(t + 3_600_000);
    const after = clock.offset;
    clock.skipTo(t);
    clock.setOffset(0);
    expect(clock.offset).toBe(after);
  });

  it('is refused on the real extension, whose timers follow the wall clock', async () => {
    await expect(startStack({ tenant: { skus: [], users: [] }, engine: 'extension', timeRate: 10 })).rejects.toThrow(/a time rate other than 1 needs the skip-ahead clock/);
    await expect(startStack({ tenant: { skus: [], users: [] }, timeRate: 0 })).rejects.toThrow(/startStack: the time rate must be/);
  });
});

describe('a batch through the local stack at time rate 10', () => {
  let stack: Stack;
  const users = 250;
  const workload = generateWorkload(users, { seed: 5, provisioningMinutes: (r) => (r() < 0.05 ? null : 2 + Math.floor(r() * 50)) });

  beforeAll(async () => {
    stack = await startStack({
      tenant: workload.tenant,
      throttling: true,
      faults: { latencyMs: [150, 400] },
      timeRate: 10,
      settings: { DIALTONE_GRAPH_WRITES_PER_SECOND: String(WRITES_PER_SECOND), DIALTONE_TEAMS_READS_PER_SECOND: String(TEAMS_READS_PER_SECOND), DIALTONE_DEADLINE_HOURS: '2' },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps Graph writes and Teams reads within the budgets in every 10 s of simulated time, and every row ends with one outcome', async () => {
    const submitted = await postBatch(stack, { batchId: 'rate-10', users: workload.rows });
    expect(submitted.status).toBe(202);
    const report = await waitForReport(stack, 'rate-10', 900_000);
    // The largest durable message, as the local engine recorded it (read before the stack removes its folder).
    const payload = JSON.parse(readFileSync(join(stack.workDir, 'host', 'payload-stats.json'), 'utf8')) as { maxPayloadBytes: number; largest: string };

    expect(report.users).toHaveLength(users);
    expect(new Set(report.users.map((u) => u.userPrincipalName)).size).toBe(users);
    expect(report.counts.total).toBe(users);
    const rec = stack.sim.record;
    // Identity writes (licences and usage locations): the app's write budget, in simulated time.
    const writes = rec.stateChangingWrites.filter((w) => w.kind !== 'assignNumber').map((w) => w.at);
    expect(writes.length).toBeGreaterThan(WRITES_PER_SECOND * 10 * 3);
    // Writes go one to a slot, 1/rate apart: a 10 s window holds at most rate × 10 slots, plus one at its far edge,
    // plus one more because the simulator stamps a write after its simulated latency (150-400 ms, so two writes may
    // land up to 250 ms closer than their slots, half a slot at this rate).
    expect(maxInWindow(writes, 10_000)).toBeLessThanOrEqual(WRITES_PER_SECOND * 10 + 2);
    // Every Teams configuration read, throttled ones included: the app's read budget, in simulated time. Enough reads
    // that a budget kept on the wall clock (ten times faster here) would show.
    expect(rec.teamsReads.length).toBeGreaterThan(users * 3);
    // Each slice of 20 owns 2 s of the budget plus a 0.5 s guard (orchestrations/activities.ts), so the ceiling holds
    // exactly, with the slack of 4 slices in 10 s.
    expect(maxInWindow(rec.teamsReads.map((r) => r.at), 10_000)).toBeLessThanOrEqual(TEAMS_READS_PER_SECOND * 10);
    expect(rec.throttledByKind.assignLicense ?? 0).toBe(0);
    expect(rec.throttledByKind.teamsUserConfiguration ?? 0).toBe(0);
    // The users Teams never provisions were still checked until the 2 simulated hours ran out, which the stack got
    // through by skipping ahead.
    const never = report.users.filter((u) => stack.sim.tenant.findUser(u.userPrincipalName)?.teamsProvisioningMinutes === null && u.skus.includes('MCOPSTN1'));
    expect(never.length).toBeGreaterThan(0);
    for (const u of never) expect(u.outcome).toBe('flagged');
    // Recorded for the bench (maxDurablePayloadBytes); issue 11.7's bound on it is tested with the chunk's payloads.
    expect(payload.maxPayloadBytes).toBeGreaterThan(0);
    expect(payload.largest).toMatch(/^(input|output|activityInput|activityResult|event) of dialtone-/);
  }, 900_000);
});
