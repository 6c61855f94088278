// A mover's number step (docs/leavers-and-movers.md, "Movers") against Azurite and the Graph simulator: the user,
// already in GB, holds a US number; the step orders a GB pool number, and once Teams lists it the US number is the
// tenant's again (the new primary number took its place) and the row says it was given back. A retried start after
// the order landed keeps the new number and still says which number it replaced; a number of the new country is kept.
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import { createNumberActivities } from '../../activities/numbers';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import type { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import type { PhoneNumberDirectory } from '../../shared/domain/directory';
import { BlobNumberClaims } from '../../shared/adapters/number-claims';
import { simulatorWithAdapter } from '../support/graph';
import { MOVER_GB_NEW, MOVER_US_OLD, moverTenant, MOVER_GB_HELD } from '../support/tenant';

const US_OLD = MOVER_US_OLD;
const GB_NEW = MOVER_GB_NEW;
const GB_HELD = MOVER_GB_HELD;
const tenant = moverTenant();

let azurite: Azurite;
let sim: GraphSimulator;
let graph: GraphLicensingDirectory;
let clock: SkipAheadClock;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(() => azurite?.stop());
beforeEach(async () => {
  clock = new SkipAheadClock();
  ({ sim, graph } = await simulatorWithAdapter(
    { tenant, clock },
    { sleep: async (ms) => clock.skipTo(clock.now() + ms), writesPerSecond: 100_000 },
  ));
});
afterEach(() => sim.close());

let seq = 0;
const activities = (directory: PhoneNumberDirectory = graph) => {
  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  return createNumberActivities({
    graph: directory,
    releases: graph,
    claims: new BlobNumberClaims(blobs, `mover-claims-${++seq}`),
    store: new BlobBatchStore(blobs, 'mover-numbers'),
  });
};
const id = (upn: string) => sim.tenant.findUser(upn)!.id;
const gbPool = { numberType: 'callingPlan' as const, isoCountryCode: 'GB' };

describe("a mover's number step", () => {
  it('orders a number of the new country, and once Teams lists it says the old one was given back', async () => {
    const acts = activities();
    const work = { runKey: 'run-m1', row: 1, userId: id('mover@contoso.com'), number: gbPool, moving: true as const };
    const step = await acts.startNumber(work);
    expect(step).toMatchObject({ kind: 'ordered', order: { telephoneNumber: GB_NEW, replacing: US_OLD } });
    if (step.kind !== 'ordered') throw new Error('not ordered');
    // Until the order has run, the user keeps the old number.
    expect(sim.tenant.numbers.find(US_OLD)!.assignedTo).toBe(id('mover@contoso.com'));
    clock.skipTo(clock.now() + 60_000);
    const [state] = await acts.readOrders({ operationIds: [step.order.operationId] });
    expect(state!.status).toBe('succeeded');
    const [result] = await acts.confirmNumbers({
      runKey: 'run-m1',
      orders: [{ ...step.order, state: state! }],
      followedMinutes: 1,
    });
    expect(result).toMatchObject({
      outcome: 'provisioned',
      phoneNumber: GB_NEW,
      releasedNumber: US_OLD,
      message: `${GB_NEW} assigned in place of ${US_OLD}, which Teams took back`,
    });
    expect(sim.tenant.numbers.find(US_OLD)!.assignedTo).toBeNull();
    // Teams replaced it: dialtone sent no unassignNumber of its own.
    expect(sim.record.stateChangingWrites.filter((w) => w.kind === 'unassignNumber')).toEqual([]);

    // The activity run again after its order landed keeps the new number and still names the one it replaced.
    const again = await activities().startNumber(work);
    expect(again).toMatchObject({
      kind: 'done',
      result: { outcome: 'provisioned', phoneNumber: GB_NEW, releasedNumber: US_OLD },
    });
  });

  it('keeps a number of the new country the mover holds already, and gives nothing back', async () => {
    const step = await activities().startNumber({
      runKey: 'run-m2',
      row: 1,
      userId: id('there@contoso.com'),
      number: gbPool,
      moving: true,
    });
    expect(step).toMatchObject({ kind: 'done', result: { outcome: 'provisioned', phoneNumber: GB_HELD } });
    expect(step.kind === 'done' && step.result.releasedNumber).toBeUndefined();
    expect(sim.record.stateChangingWrites).toEqual([]);
  });

  /** A directory that answers the old number's record as it was before the order, still the mover's. */
  async function staleDirectory(): Promise<PhoneNumberDirectory> {
    const before = await graph.findNumber(US_OLD);
    return {
      listFreeNumbers: (...a) => graph.listFreeNumbers(...a),
      startNumberAssignment: (r) => graph.startNumberAssignment(r),
      readNumberOrder: (op) => graph.readNumberOrder(op),
      readHeldNumbers: (ids) => graph.readHeldNumbers(ids),
      assignNumber: (r) => graph.assignNumber(r),
      setEmergencyLocation: (n, l) => graph.setEmergencyLocation(n, l),
      findNumber: async (n) => (n === US_OLD ? before : graph.findNumber(n)),
    };
  }

  it('does not say the old number went back while the tenant’s record still gives it to the user: flagged, new number kept', async () => {
    const work = { runKey: 'run-m3', row: 1, userId: id('mover@contoso.com'), number: gbPool, moving: true as const };
    // Graph documents no consistency between its number records and a change just made.
    const acts = activities(await staleDirectory());
    const step = await acts.startNumber(work);
    if (step.kind !== 'ordered') throw new Error('not ordered');
    clock.skipTo(clock.now() + 60_000);
    const [state] = await acts.readOrders({ operationIds: [step.order.operationId] });
    const [result] = await acts.confirmNumbers({
      runKey: 'run-m3',
      orders: [{ ...step.order, state: state! }],
      followedMinutes: 1,
    });
    expect(result).toMatchObject({ outcome: 'flagged', reason: 'number_release_failed', phoneNumber: GB_NEW });
    expect(result!.releasedNumber).toBeUndefined();
    expect(result!.message).toMatch(new RegExp(`^\\${GB_NEW} assigned, but \\${US_OLD} is still the user's: `));
  });

  it("a start retried after its order landed reads the old number's record too, not only the user's Teams view", async () => {
    const work = { runKey: 'run-m4', row: 1, userId: id('mover@contoso.com'), number: gbPool, moving: true as const };
    const acts = activities(await staleDirectory());
    const step = await acts.startNumber(work);
    if (step.kind !== 'ordered') throw new Error('not ordered');
    clock.skipTo(clock.now() + 60_000);
    await acts.readOrders({ operationIds: [step.order.operationId] });
    // The order landed and its answer was lost: the retried start finds the new number in Teams' view of the user,
    // but the record of the old one still gives it to the user, so the row cannot say it went back.
    const again = await acts.startNumber(work);
    expect(again).toMatchObject({
      kind: 'done',
      result: { outcome: 'flagged', reason: 'number_release_failed', phoneNumber: GB_NEW },
    });
    expect(again.kind === 'done' && again.result.releasedNumber).toBeUndefined();
  });
});
