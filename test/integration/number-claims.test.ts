// Pool number claims against Azurite, and the number step's activities against Azurite and the Graph simulator:
// one winner among concurrent claims, a retried activity finding its own claim (a crash between claim and order), a
// claim of a run that died lapsing, and a failed order giving its number back.
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { claimOwner, createNumberActivities } from '../../activities/numbers';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import type { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import { BlobNumberClaims } from '../../shared/adapters/number-claims';
import { CLAIM_HOLD_MINUTES } from '../../shared/domain/phone-numbers';
import { simulatorWithAdapter } from '../support/graph';
import { tenantSkus } from '../support/tenant';

const T0 = new Date('2026-11-25T12:00:00Z');
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

let azurite: Azurite;
let claims: BlobNumberClaims;
let containerSeq = 0;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(() => azurite?.stop());
beforeEach(() => {
  claims = new BlobNumberClaims(
    BlobServiceClient.fromConnectionString(azurite.connectionString),
    `claims-${++containerSeq}`,
  );
});

describe('number claims in storage', () => {
  it('gives a number to one of twenty owners claiming it at once, and again to the same owner when it asks twice', async () => {
    const won = await Promise.all(
      Array.from({ length: 20 }, (_, i) => claims.claim('+14255550100', `run#${i}`, T0, true)),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = `run#${won.indexOf(true)}`;
    expect(await claims.claim('+14255550100', winner, later(1), true)).toBe(true);
    expect(await claims.claim('+14255550100', 'other#1', later(1), true)).toBe(false);
  });

  it('releases only for the owner; a released number can be claimed again', async () => {
    expect(await claims.claim('+14255550101', 'a#1', T0, true)).toBe(true);
    await claims.release('+14255550101', 'b#1');
    expect(await claims.claim('+14255550101', 'b#1', T0, true)).toBe(false);
    await claims.release('+14255550101', 'a#1');
    expect(await claims.claim('+14255550101', 'b#1', T0, true)).toBe(true);
  });

  it(`lets a claim lapse after ${CLAIM_HOLD_MINUTES} minutes only while Graph lists the number as free, and only one taker wins it`, async () => {
    expect(await claims.claim('+14255550102', 'dead#1', T0, true)).toBe(true);
    expect(await claims.claim('+14255550102', 'new#1', later(CLAIM_HOLD_MINUTES - 1), true)).toBe(false);
    expect(await claims.claim('+14255550102', 'new#1', later(CLAIM_HOLD_MINUTES + 1), false)).toBe(false);
    const takers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        claims.claim('+14255550102', `taker#${i}`, later(CLAIM_HOLD_MINUTES + 1), true),
      ),
    );
    expect(takers.filter(Boolean)).toHaveLength(1);
  });
});

describe('the number step against the simulator', () => {
  const tenant: TenantFile = {
    skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
    users: [
      {
        userPrincipalName: 'live@contoso.com',
        usageLocation: 'US',
        assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
      },
      {
        userPrincipalName: 'live2@contoso.com',
        usageLocation: 'US',
        assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
      },
      { userPrincipalName: 'noplan@contoso.com', usageLocation: 'US', assignedSkus: ['ENTERPRISEPACK', 'MCOEV'] },
    ],
    numbers: [{ telephoneNumber: '+14255550100', numberType: 'callingPlan', isoCountryCode: 'US' }],
  };
  let sim: GraphSimulator;
  let graph: GraphLicensingDirectory;
  let clock: SkipAheadClock;
  let now: Date;
  beforeEach(async () => {
    clock = new SkipAheadClock();
    ({ sim, graph } = await simulatorWithAdapter(
      { tenant, clock },
      { sleep: async (ms) => clock.skipTo(clock.now() + ms), writesPerSecond: 100_000 },
    ));
    now = T0;
  });
  afterEach(() => sim.close());
  const activities = () =>
    createNumberActivities({
      graph,
      claims,
      store: new BlobBatchStore(BlobServiceClient.fromConnectionString(azurite.connectionString), 'unused'),
      now: () => now,
    });
  const id = (upn: string) => sim.tenant.findUser(upn)!.id;
  const pool = { numberType: 'callingPlan' as const, isoCountryCode: 'US' };

  it('orders the number its own claim holds when the activity runs again after a crash between claim and order', async () => {
    expect(await claims.claim('+14255550100', claimOwner('run-a', 1), now, true)).toBe(true);
    const step = await activities().startNumber({
      runKey: 'run-a',
      row: 1,
      userId: id('live@contoso.com'),
      number: pool,
    });
    expect(step).toMatchObject({ kind: 'ordered', order: { telephoneNumber: '+14255550100' } });
  });

  it('leaves a number claimed by a run that died to no one until the claim lapses, then gives it to the next row', async () => {
    expect(await claims.claim('+14255550100', claimOwner('dead-run', 7), now, true)).toBe(true);
    const first = await activities().startNumber({
      runKey: 'run-b',
      row: 1,
      userId: id('live@contoso.com'),
      number: pool,
    });
    expect(first).toMatchObject({ kind: 'done', result: { outcome: 'flagged', reason: 'no_free_number' } });
    now = later(CLAIM_HOLD_MINUTES + 5);
    const second = await activities().startNumber({
      runKey: 'run-b',
      row: 1,
      userId: id('live@contoso.com'),
      number: pool,
    });
    expect(second).toMatchObject({ kind: 'ordered', order: { telephoneNumber: '+14255550100' } });
    expect(sim.record.byKind.assignNumber).toBe(1);
  });

  it("takes a slot of the app's Teams read budget for every Teams GET of the number step", async () => {
    let reserved = 0;
    const teamsReads = {
      perSecond: 10,
      reserve: (n: number) => ((reserved += n), Promise.resolve(Date.now())),
      release: () => Promise.resolve(),
    };
    const acts = createNumberActivities({
      graph,
      claims,
      store: new BlobBatchStore(BlobServiceClient.fromConnectionString(azurite.connectionString), 'unused'),
      now: () => now,
      teamsReads,
    });
    const teamsGets = () =>
      sim.record.byKind.teamsUserConfiguration + sim.record.byKind.listNumbers + sim.record.byKind.numberOperation;
    const before = teamsGets();
    const step = await acts.startNumber({ runKey: 'run-d', row: 1, userId: id('live@contoso.com'), number: pool });
    if (step.kind !== 'ordered') throw new Error(`expected an order, got ${JSON.stringify(step)}`);
    clock.skipTo(clock.now() + 60_000);
    const states = await acts.readOrders({ operationIds: [step.order.operationId] });
    await acts.confirmNumbers({ runKey: 'run-d', orders: [{ ...step.order, state: states[0]! }], followedMinutes: 1 });
    const own = await acts.startNumber({
      runKey: 'run-d',
      row: 2,
      userId: id('live2@contoso.com'),
      number: { ...pool, telephoneNumber: '+14255550100' },
    });
    expect(own.kind).toBe('done');
    // the user's numbers, the free list, the order, the read back; then the second row's numbers and its number
    expect(teamsGets() - before).toBe(6);
    expect(reserved).toBe(teamsGets() - before);
  });

  it('gives the number back when its order fails, so the next row gets it', async () => {
    const acts = activities();
    const step = await acts.startNumber({ runKey: 'run-c', row: 1, userId: id('noplan@contoso.com'), number: pool });
    if (step.kind !== 'ordered') throw new Error(`expected an order, got ${JSON.stringify(step)}`);
    clock.skipTo(clock.now() + 60_000);
    const [state] = await acts.readOrders({ operationIds: [step.order.operationId] });
    expect(state).toMatchObject({ status: 'failed', detail: expect.stringContaining('Calling Plan') });
    const [result] = await acts.confirmNumbers({
      runKey: 'run-c',
      orders: [{ ...step.order, state: state! }],
      followedMinutes: 1,
    });
    expect(result).toMatchObject({
      outcome: 'flagged',
      reason: 'number_assignment_failed',
      message: expect.stringContaining('Calling Plan'),
    });
    const next = await acts.startNumber({ runKey: 'run-c', row: 2, userId: id('live2@contoso.com'), number: pool });
    expect(next).toMatchObject({ kind: 'ordered', order: { telephoneNumber: '+14255550100' } });
    clock.skipTo(clock.now() + 60_000);
    const [done] = await acts.readOrders({ operationIds: [next.kind === 'ordered' ? next.order.operationId : ''] });
    const [confirmed] = await acts.confirmNumbers({
      runKey: 'run-c',
      orders: [{ ...(next.kind === 'ordered' ? next.order : step.order), state: done! }],
      followedMinutes: 1,
    });
    expect(confirmed).toMatchObject({ outcome: 'provisioned', phoneNumber: '+14255550100' });
  });
});
