// The real Graph client and adapter, over HTTPS, against the simulator: no mocked fetch, no stubbed client.
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { MAX_RETRY_AFTER_SECONDS } from '../../shared/adapters/graph/client';
import { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import type { GraphFailure, GraphResult } from '../../shared/domain/directory';
import { simCredential, simulatorWithAdapter } from '../support/graph';
import { skuIdOf, tenantSkus } from '../support/tenant';

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 5000, MCOEV: 10, MCOPSTN1: 1, MCOPSTN2: 5 }),
  users: [
    { userPrincipalName: 'adele@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 60 },
    { userPrincipalName: 'nolocation@contoso.com', usageLocation: null },
    { userPrincipalName: 'second@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'holder@contoso.com', usageLocation: 'US', assignedSkus: ['MCOEV', 'MCOPSTN1'] },
    ...Array.from({ length: 45 }, (_, i) => ({ userPrincipalName: `bulk${i}@contoso.com`, usageLocation: 'US' })),
  ],
};

let sim: GraphSimulator;
let graph: GraphLicensingDirectory;
let clock: SkipAheadClock;
const slept: number[] = [];

beforeEach(async () => {
  clock = new SkipAheadClock();
  slept.length = 0;
  // The adapter's waits move the shared clock instead of the wall clock, so Retry-After of minutes costs nothing.
  ({ sim, graph } = await simulatorWithAdapter(
    { tenant, clock },
    {
      sleep: async (ms) => {
        slept.push(ms);
        clock.skipTo(clock.now() + ms);
      },
      writesPerSecond: 100_000,
    },
  ));
});
afterEach(() => sim.close());

function failure<T>(r: GraphResult<T> | undefined): GraphFailure {
  if (!r || r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}
async function idOf(upn: string): Promise<string> {
  const r = (await graph.readUsers([upn])).get(upn);
  if (!r?.ok) throw new Error('no user');
  return r.value.id;
}

describe('Graph adapter against the simulator', () => {
  it('lists subscribed SKUs with seats and service plans', async () => {
    const r = await graph.listSubscribedSkus();
    if (!r.ok) throw new Error(r.message);
    expect(r.value.map((s) => [s.skuPartNumber, s.prepaidUnits.enabled, s.consumedUnits])).toEqual([
      ['ENTERPRISEPACK', 5000, 0],
      ['MCOEV', 10, 1],
      ['MCOPSTN1', 1, 1],
      ['MCOPSTN2', 5, 0],
    ]);
    expect(r.value[1]!.servicePlans?.map((p) => p.servicePlanName)).toEqual(['MCOEV']);
  });

  it('reads users in $batch requests of at most 20, with usage location and licences; unknown users are user_not_found', async () => {
    const upns = [
      'holder@contoso.com',
      'ghost@contoso.com',
      ...Array.from({ length: 45 }, (_, i) => `BULK${i}@contoso.com`),
    ];
    const users = await graph.readUsers(upns);
    expect(users.size).toBe(47);
    expect(users.get('holder@contoso.com')).toMatchObject({
      ok: true,
      value: { usageLocation: 'US', skuIds: [skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')] },
    });
    expect(failure(users.get('ghost@contoso.com'))).toMatchObject({
      reason: 'user_not_found',
      transient: false,
      status: 404,
    });
    expect(users.get('BULK44@contoso.com')).toMatchObject({
      ok: true,
      value: { userPrincipalName: 'bulk44@contoso.com' },
    });
    expect(sim.record.byKind.batch).toBe(3);
    expect(sim.record.byKind.getUser).toBe(47);
  });

  it('sets usage location and assigns licences, sending both arrays', async () => {
    const id = await idOf('nolocation@contoso.com');
    expect(await graph.setUsageLocation(id, 'GB')).toEqual({ ok: true, value: undefined });
    const r = await graph.assignLicenses(id, [skuIdOf('ENTERPRISEPACK')]);
    expect(r).toEqual({ ok: true, value: undefined });
    expect((await graph.readUsers([id])).get(id)).toMatchObject({
      ok: true,
      value: { usageLocation: 'GB', skuIds: [skuIdOf('ENTERPRISEPACK')] },
    });
  });

  it("turns each Graph refusal into its domain reason, keeping Graph's message", async () => {
    const second = await idOf('second@contoso.com');
    expect(
      failure(await graph.assignLicenses(await idOf('nolocation@contoso.com'), [skuIdOf('ENTERPRISEPACK')])),
    ).toMatchObject({
      reason: 'usage_location_missing',
      message: 'License assignment cannot be done for user with invalid usage location.',
    });
    expect(
      failure(await graph.assignLicenses(second, [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')])),
    ).toMatchObject({ reason: 'insufficient_licenses', transient: false });
    expect(failure(await graph.assignLicenses(second, [skuIdOf('MCOPSTN2')]))).toMatchObject({ reason: 'dependency' });
    expect(failure(await graph.assignLicenses(await idOf('holder@contoso.com'), [skuIdOf('MCOPSTN2')]))).toMatchObject({
      reason: 'mutually_exclusive',
    });
    expect(failure(await graph.assignLicenses(second, ['11111111-1111-4111-8111-111111111111']))).toMatchObject({
      reason: 'unknown_sku',
    });
    expect(failure(await graph.assignLicenses('ghost@contoso.com', [skuIdOf('MCOEV')]))).toMatchObject({
      reason: 'user_not_found',
      status: 404,
    });
    expect(sim.record.stateChangingWrites).toEqual([]);
  });

  it('reports forbidden when Graph refuses the token', async () => {
    const anonymous = new GraphLicensingDirectory({
      baseUrl: sim.url,
      extraCaPem: sim.caPem,
      credential: { getToken: async () => ({ token: '', expiresOnTimestamp: Date.now() + 60_000 }) },
    });
    expect(failure(await anonymous.listSubscribedSkus())).toMatchObject({ reason: 'forbidden', status: 401 });
  });

  it('marks Teams reads low priority, batches them, and returns featureTypes', async () => {
    const adele = await idOf('adele@contoso.com');
    await graph.assignLicenses(adele, [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOEV'), skuIdOf('MCOPSTN2')]);
    clock.skipTo(clock.now() + 61 * 60_000);
    const batchesBefore = sim.record.byKind.batch;
    const r = await graph.readTeamsFeatures([adele, 'no-such-id']);
    expect(r.get(adele)).toEqual({ ok: true, value: ['Teams', 'PhoneSystem', 'CallingPlan'] });
    expect(failure(r.get('no-such-id')).reason).toBe('user_not_found');
    // Both reads went as items of one $batch, each with the priority header Graph documents (throttling.md: low
    // priority requests are throttled first, so polling never crowds out the licence writes).
    expect(sim.record.byKind.batch - batchesBefore).toBe(1);
    expect(sim.record.teamsReads.map(({ priority, inBatch }) => ({ priority, inBatch }))).toEqual([
      { priority: 'low', inBatch: true },
      { priority: 'low', inBatch: true },
    ]);
    // 25 users (under Teams' 30 reads a second): two $batch requests (20 and 5), every item low priority.
    sim.record.teamsReads.length = 0;
    const bulk = await Promise.all(Array.from({ length: 25 }, (_, i) => idOf(`bulk${i}@contoso.com`)));
    const before25 = sim.record.byKind.batch;
    expect((await graph.readTeamsFeatures(bulk)).size).toBe(25);
    expect(sim.record.byKind.batch - before25).toBe(2);
    expect(sim.record.teamsReads.map(({ priority, inBatch }) => ({ priority, inBatch }))).toEqual(
      Array.from({ length: 25 }, () => ({ priority: 'low', inBatch: true })),
    );
  });

  it('retries a 429 inside a $batch after its Retry-After', async () => {
    sim.faults = { throttleStormUntil: clock.now() + 7_000 };
    const users = await graph.readUsers(['adele@contoso.com', 'second@contoso.com']);
    expect([...users.values()].every((u) => u.ok)).toBe(true);
    expect(slept[0]).toBe(7_000);
    expect(sim.record.throttled).toBe(2);
  });

  it('does not wait out a Retry-After over two minutes (an hour, or past 2^31 ms): it gives the failure back as transient at once, for the durable retry', async () => {
    sim.faults = { throttleStormUntil: clock.now() + 3_600_000 };
    const skus = failure(await graph.listSubscribedSkus());
    expect(skus).toMatchObject({ status: 429, transient: true, retryAfterSeconds: 3_600 });
    const users = await graph.readUsers(['adele@contoso.com']);
    expect(failure(users.get('adele@contoso.com'))).toMatchObject({ status: 429, transient: true });
    expect(slept).toEqual([]);
    sim.faults = { throttleStormUntil: clock.now() + 3_000_000_000 };
    expect(failure(await graph.listSubscribedSkus())).toMatchObject({
      status: 429,
      transient: true,
      retryAfterSeconds: 3_000_000,
    });
    expect(slept).toEqual([]);
    // Up to the cap it is still waited out in the activity.
    sim.faults = { throttleStormUntil: clock.now() + MAX_RETRY_AFTER_SECONDS * 1000 };
    expect((await graph.listSubscribedSkus()).ok).toBe(true);
    expect(slept).toEqual([MAX_RETRY_AFTER_SECONDS * 1000]);
  });

  it('retries 503/504 for reads and usage-location writes, sends an assignLicense once after a 5xx, and reports a transient failure once retries run out', async () => {
    const ids = await Promise.all(['adele', 'second'].map((u) => idOf(`${u}@contoso.com`)));
    // Every request fails: a read and a PATCH are each sent 7 times (1 + 6 retries), then given up. An assignLicense
    // answered 5xx may have landed, so the adapter does not resend it blindly: the assign activity reads the user
    // again first (e2e/graph-documented.test.ts: "re-reads the user after a lost assignLicense response…").
    sim.faults = { errorRate: 1 };
    const f = failure(await graph.listSubscribedSkus());
    expect(f).toMatchObject({ transient: true, reason: 'graph_error' });
    expect([503, 504]).toContain(f.status);
    expect(failure(await graph.setUsageLocation(ids[0]!, 'US'))).toMatchObject({
      transient: true,
      reason: 'graph_error',
    });
    expect(failure(await graph.assignLicenses(ids[0]!, [skuIdOf('ENTERPRISEPACK')]))).toMatchObject({
      transient: true,
      reason: 'graph_error',
    });
    expect([sim.record.byKind.subscribedSkus, sim.record.byKind.patchUser, sim.record.byKind.assignLicense]).toEqual([
      7, 7, 1,
    ]);
    expect([slept.length, sim.record.faults, sim.record.stateChangingWrites]).toEqual([12, 15, []]);
    // Some requests fail: each write is sent again until it passes; the simulator saw one request per fault more.
    sim.faults = { errorRate: 0.5 };
    const faultsBefore = sim.record.faults;
    const patchesBefore = sim.record.byKind.patchUser;
    for (const id of ids) expect(await graph.setUsageLocation(id, 'CA')).toEqual({ ok: true, value: undefined });
    const faults = sim.record.faults - faultsBefore;
    expect(faults).toBeGreaterThan(0); // the seeded fault generator fails some of these: the retry path ran
    expect(sim.record.byKind.patchUser - patchesBefore).toBe(ids.length + faults);
    expect(sim.record.stateChangingWrites.map((w) => [w.kind, w.userId])).toEqual(ids.map((id) => ['patchUser', id]));
  });

  it('finishes a burst of writes beyond the write quota with no request lost', async () => {
    const id = await idOf('adele@contoso.com');
    const start = clock.now();
    const results = await Promise.all(
      Array.from({ length: 3100 }, (_, i) => graph.setUsageLocation(id, i % 2 === 0 ? 'US' : 'CA')),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(sim.record.throttled).toBeGreaterThan(0);
    // The writes beyond 3,000 could only pass once the first left the 150 s window: the adapter waited that out.
    expect(clock.now() - start).toBeGreaterThanOrEqual(150_000);
  });

  it('paces writes at 18 a second by default: each write 1/18 s of simulated time after the last', async () => {
    // Virtual time that moves only when this test moves it: the pacer's sleeps wait for the test, which moves the
    // clock to the earliest slot asked for, releases that write, and moves on once it has reached the simulator. A
    // pacer that let writes through early would put more than 18 into some second of this clock.
    let virtual = Date.parse('2026-11-25T08:00:00Z');
    const vclock = { now: () => virtual };
    const { sim: vsim } = await simulatorWithAdapter({ tenant, clock: vclock });
    const waiters: { at: number; release: () => void }[] = [];
    try {
      const paced = new GraphLicensingDirectory({
        baseUrl: vsim.url,
        credential: simCredential(vsim),
        extraCaPem: vsim.caPem,
        now: vclock.now,
        sleep: (ms) => new Promise<void>((release) => waiters.push({ at: virtual + ms, release })),
      });
      const read = await paced.readUsers(Array.from({ length: 45 }, (_, i) => `bulk${i}@contoso.com`));
      const bulk = [...read.values()].map((r) => (r.ok ? r.value.id : ''));
      const writes = () => vsim.record.byKind.patchUser + vsim.record.byKind.assignLicense;
      let done = false;
      const all = Promise.all([
        ...bulk.map((id) => paced.setUsageLocation(id, 'CA')),
        ...bulk.map((id) => paced.assignLicenses(id, [skuIdOf('ENTERPRISEPACK')])),
      ]).finally(() => (done = true));
      const tick = () => new Promise((r) => setTimeout(r, 5));
      while (!done) {
        // Every write not waiting for its slot has reached the simulator before the clock moves (one request each:
        // this simulator injects no faults).
        while (writes() < 90 - waiters.length && !done) await tick();
        if (waiters.length === 0) {
          await tick();
          continue;
        }
        waiters.sort((a, b) => a.at - b.at);
        const next = waiters.shift()!;
        virtual = Math.max(virtual, next.at);
        next.release();
      }
      const results = await all;
      expect(results.filter((r) => !r.ok)).toEqual([]);
      const at = vsim.record.stateChangingWrites.map((w) => w.at).sort((a, b) => a - b);
      expect(at).toHaveLength(90);
      // Each write at least 1/18 s after the one before (to a microsecond: the slots are k × 55.5… ms in floating
      // point), so no second holds more than 18; and no slower than that: 90 writes span 89/18 s.
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      expect(Math.min(...gaps)).toBeGreaterThan(1000 / 18 - 0.001);
      expect(at[89]! - at[0]!).toBeCloseTo((89 * 1000) / 18, 0);
    } finally {
      await vsim.close();
    }
  });

  it('classifies a refused connection as transient', async () => {
    await sim.close();
    const f = failure(await graph.listSubscribedSkus());
    expect(f).toMatchObject({ transient: true, status: 0, reason: 'graph_error' });
  });
});
