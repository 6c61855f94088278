// The local stack run faster than the wall clock: one rate for the host's timers, the simulator's
// latency and throttling windows and the app's write pacing, read budget and retry waits. Checked by counts in the
// simulator's record, in simulated time: at rate 4 the app's writes and Teams reads stay within its budgets (no
// write refused), and a batch gets through its simulated hours with every row settled. Rate 4, not
// more: every millisecond the shared machine keeps the host or the simulator waiting is RATE simulated milliseconds,
// and the read budget's guard between slices is 500 simulated ms (bench/README.md). The exact slot counts are proven
// on a virtual clock in test/integration/graph-budget.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateWorkload, maxInWindow } from '../../bench/workload';
import { checkRate, governedRate, SkipAheadClock } from '../../local/clock';
import { startStack, type Stack } from '../../local/stack';
import { postBatch, waitForReport } from '../support/e2e';

// A low write budget, so that a few hundred writes fill many windows; the default Teams read budget (10/s, 20 reads
// to a slice), with enough pending users that one round of checks is many slices.
const WRITES_PER_SECOND = 2;
const TEAMS_READS_PER_SECOND = 10;

describe('the local clock rate', () => {
  it('refuses a rate that is not a number above 0 and at most 1000, saying where', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1001])
      expect(() => checkRate(bad, 'here')).toThrow(/^here: the time rate must be a number above 0 and at most 1000/);
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

  it('changes rate without a jump, takes another clock without running backwards, and sleeps through a change', async () => {
    let wall = 1_000_000;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => wall);
    try {
      const clock = new SkipAheadClock(0, 10, wall);
      wall += 1000;
      expect(clock.now()).toBe(1_000_000 + 10_000);
      clock.setRate(2);
      expect(clock.now()).toBe(1_010_000);
      wall += 1000;
      expect(clock.now()).toBe(1_012_000);
      // A state from before the change (another process that has not heard of it yet): time holds until it catches up.
      clock.setState({ offsetMs: 0, rate: 1, epoch: 1_000_000 });
      expect(clock.now()).toBe(1_012_000);
      wall += 20_000;
      expect(clock.now()).toBe(1_022_000);
      expect(clock.state()).toEqual({ offsetMs: 0, rate: 1, epoch: 1_000_000 });
    } finally {
      now.mockRestore();
    }
    const clock = new SkipAheadClock(0, 50);
    const start = clock.now();
    const slept = clock.sleep(2000);
    clock.setRate(1); // 40 ms of wall time at the old rate; now 2 s
    const wallStart = Date.now();
    await slept;
    expect(clock.now() - start).toBeGreaterThanOrEqual(2000);
    expect(Date.now() - wallStart).toBeGreaterThan(1000); // it did not wake at the old rate's 40 ms
  });

  it('governs the rate by the host’s stalls in simulated time: halves, raises by a quarter, stays within 1 and the maximum', () => {
    const quiet = Array.from({ length: 100 }, () => 0.5);
    const stalled = Array.from({ length: 100 }, (_, i) => (i % 5 === 0 ? 50 : 0.5)); // one tick in five 50 ms late
    expect(governedRate(16, 16, stalled)).toBe(8);
    expect(governedRate(3, 16, stalled)).toBe(3); // 150 simulated ms at 3: within the 200 allowed, over 40% of it
    expect(
      governedRate(
        1.5,
        16,
        Array.from({ length: 100 }, () => 200),
      ),
    ).toBe(1); // never below 1
    expect(governedRate(8, 16, quiet)).toBe(10);
    expect(governedRate(16, 16, quiet)).toBe(16);
    expect(governedRate(8, 16, [])).toBe(8);
    // 8 ms late at rate 16 is 128 simulated ms: between 40% of the 200 ms allowed and all of it, so the rate holds.
    expect(
      governedRate(
        16,
        16,
        Array.from({ length: 100 }, () => 8),
      ),
    ).toBe(16);
  });

  it('is lowered by the local host while its event loop stalls, shared with the simulator, and raised again after', async () => {
    const stack = await startStack({ tenant: { skus: [], users: [] }, timeRate: 16 });
    // Stop the host for 150 ms out of every 200, for 3 s: its 10 ms tick runs up to 150 ms late.
    const stall = async () => {
      const pid = stack.host.child.pid!;
      for (let i = 0; i < 15; i++) {
        process.kill(pid, 'SIGSTOP');
        await new Promise((r) => setTimeout(r, 150));
        process.kill(pid, 'SIGCONT');
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300)); // the host's clock reaches the simulator
    };
    const raisedAbove = async (rate: number) => {
      for (let i = 0; i < 100 && stack.clock.rate <= rate; i++) await new Promise((r) => setTimeout(r, 100));
      return stack.clock.rate > rate;
    };
    try {
      await stall();
      const lowered = stack.clock.rate;
      expect(lowered).toBeLessThan(16);
      expect(lowered).toBeGreaterThanOrEqual(1);
      expect(await raisedAbove(lowered)).toBe(true);
      // A host restarted while the rate is low keeps the stack's ceiling, not the rate it found.
      await stall();
      const before = stack.clock.rate;
      expect(before).toBeLessThan(16);
      await stack.crashAndRestartHost();
      expect(await raisedAbove(before)).toBe(true);
    } finally {
      await stack.stop();
    }
  }, 60_000);

  it('is refused on the real extension, whose timers follow the wall clock', async () => {
    await expect(startStack({ tenant: { skus: [], users: [] }, engine: 'extension', timeRate: 10 })).rejects.toThrow(
      /a time rate other than 1 needs the skip-ahead clock/,
    );
    await expect(startStack({ tenant: { skus: [], users: [] }, timeRate: 0 })).rejects.toThrow(
      /startStack: the time rate must be/,
    );
  });
});

const RATE = 4;

describe(`a batch through the local stack at time rate ${RATE}`, () => {
  let stack: Stack;
  const users = 250;
  const workload = generateWorkload(users, {
    seed: 5,
    provisioningMinutes: (r) => (r() < 0.05 ? null : 2 + Math.floor(r() * 50)),
  });

  beforeAll(async () => {
    stack = await startStack({
      tenant: workload.tenant,
      throttling: true,
      // The Teams list refused ($top), as a tenant may: the checks read per user, many slices a round, which is what
      // this test holds to the read budget (sweeps of the list are held to it in test/e2e/teams-sweep.test.ts).
      faults: { latencyMs: [150, 400], teamsListRefuses: ['$top'] },
      timeRate: RATE,
      settings: {
        DIALTONE_GRAPH_WRITES_PER_SECOND: String(WRITES_PER_SECOND),
        DIALTONE_TEAMS_READS_PER_SECOND: String(TEAMS_READS_PER_SECOND),
        DIALTONE_DEADLINE_HOURS: '2',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('keeps Graph writes and Teams reads within the budgets in simulated time, and every row ends with one outcome', async () => {
    const submitted = await postBatch(stack, { batchId: 'rate-x', users: workload.rows });
    expect(submitted.status).toBe(202);
    const report = await waitForReport(stack, 'rate-x', 900_000);
    // The largest durable message, as the local engine recorded it (read before the stack removes its folder).
    const payload = JSON.parse(readFileSync(join(stack.workDir, 'host', 'payload-stats.json'), 'utf8')) as {
      maxPayloadBytes: number;
      largest: string;
    };

    expect(report.users).toHaveLength(users);
    expect(new Set(report.users.map((u) => u.userPrincipalName)).size).toBe(users);
    expect(report.counts.total).toBe(users);
    const rec = stack.sim.record;
    // Identity writes (licences and usage locations): the app's write budget, in simulated time.
    const writes = rec.stateChangingWrites.filter((w) => w.kind !== 'assignNumber').map((w) => w.at);
    expect(writes.length).toBeGreaterThan(WRITES_PER_SECOND * 10 * 3);
    // Writes go one to a slot, 1/rate apart, but unlike read slices a write that wakes late is still sent (there is
    // no lateness check on writes), so a stall of the shared machine (each wall-clock millisecond is RATE simulated
    // ones here) sends the writes whose slots passed meanwhile together, and the simulator stamps a write after its
    // simulated latency. So this counts 30 s windows, with half a budget to spare for such bursts.
    expect(maxInWindow(writes, 30_000)).toBeLessThanOrEqual(WRITES_PER_SECOND * 30 * 1.5);
    // Every Teams configuration read, throttled ones included: the app's read budget, in simulated time.
    expect(rec.teamsReads.length).toBeGreaterThan(users * 3);
    // Each slice of 20 owns 2 s of the budget plus a 0.5 s guard (activities/batch.ts) and is checked against
    // its slot before it is sent; a stall of the shared machine between that check and the simulator's stamp is RATE
    // times longer in simulated time and can push one slice into the next one's window (measured: 110 in 10 s during
    // a full `npm test` at load 16). So: the budget plus at most one slice.
    expect(
      maxInWindow(
        rec.teamsReads.map((r) => r.at),
        10_000,
      ),
    ).toBeLessThanOrEqual(TEAMS_READS_PER_SECOND * 10 + 20);
    expect(rec.throttledByKind.assignLicense ?? 0).toBe(0);
    // The same stall can bring two slices within one simulated second at the simulator, past Graph's 30 Teams GETs a
    // second (seen once on a quiet machine: 10 reads refused, retried, every row settled): at most one slice's worth.
    expect(rec.throttledByKind.teamsUserConfiguration ?? 0).toBeLessThanOrEqual(20);
    // The users Teams never provisions were still checked until the 2 simulated hours ran out, which the stack got
    // through by skipping ahead.
    const never = report.users.filter(
      (u) =>
        stack.sim.tenant.findUser(u.userPrincipalName)?.teamsProvisioningMinutes === null &&
        u.skus.includes('MCOPSTN1'),
    );
    expect(never.length).toBeGreaterThan(0);
    for (const u of never) expect(u.outcome).toBe('flagged');
    // Recorded for the bench (maxDurablePayloadBytes); the 45,000-byte bound on it is tested with the chunk's
    // payloads (test/unit/durable-payloads.test.ts).
    expect(payload.maxPayloadBytes).toBeGreaterThan(0);
    expect(payload.largest).toMatch(/^(input|output|activityInput|activityResult|event) of dialtone-/);
  }, 900_000);
});
