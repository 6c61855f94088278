// A leaver's release is retried by Durable Functions after it throws (a number order still running, a transient Graph
// failure). The retry must neither send a second unassignNumber for a number whose order is still running (Teams fails
// the second, "not assigned", once the first finishes) nor forget what the first attempt gave back: the row says every
// licence and number dialtone gave back, once (docs/leavers-and-movers.md). Against real Azurite and the Graph simulator.
import { stableGuid } from '../../local/graph-sim/tenant';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { SkipAheadClock } from '../../local/clock';
import { startActivitiesStack, type ActivitiesStack } from '../support/activities';
import { tenantSkus } from '../support/tenant';
import { adapterFor } from '../support/graph';
import { TransientGraphError } from '../../activities/batch';

let stack: ActivitiesStack;
let sim: GraphSimulator;
const userId = (upn: string) => stableGuid(`user:${upn}`);
const PHONE = ['MCOEV', 'MCOPSTN1'];
const USERS = ['slow', 'failing', 'lost', 'flaky'];

const leaver = (upn: string, runKey: string) => stack.leaverWork(upn, runKey, PHONE);
const writesFor = (upn: string, kind: string) =>
  sim.record.stateChangingWrites.filter((w) => w.userId === userId(upn) && w.kind === kind);
const held = (upn: string) => [...sim.tenant.licences(sim.tenant.findUser(upn)!).keys()].length;
const clock = () => sim.clock as SkipAheadClock;
/** The simulator's Graph, following number orders on the simulator's clock (no wall time), with these waits. */
/** While set, the adapter's waits do not move the clock and every Graph request fails (503/504) from the next wait on. */
let failFromNextWait = false;
const releasesWith = (numberOrderPollDelaysMs?: number[]) =>
  stack.activitiesWith({
    releases: adapterFor(sim, {
      sleep: async (ms) => {
        if (failFromNextWait) sim.faults = { ...sim.faults, errorRate: 1 };
        else clock().skipTo(clock().now() + ms);
      },
      ...(numberOrderPollDelaysMs ? { numberOrderPollDelaysMs } : {}),
    }),
  });

beforeAll(async () => {
  stack = await startActivitiesStack({
    skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
    users: USERS.map((u) => ({
      userPrincipalName: `${u}@contoso.com`,
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', ...PHONE],
    })),
    numbers: USERS.map((u, i) => ({
      telephoneNumber: `+1206555011${i}`,
      numberType: 'callingPlan' as const,
      isoCountryCode: 'US',
      assignedTo: `${u}@contoso.com`,
    })),
  });
  ({ sim } = stack);
});
afterAll(() => stack?.stop());

describe("a leaver's retried release", () => {
  it('follows the unassignNumber order it started instead of sending a second one', async () => {
    const work = await leaver('slow@contoso.com', 'hr/slow/20261207T110000Z-0001');
    // No reads of the order: it is still notStarted when the activity stops following it.
    await expect(releasesWith([]).assign(work)).rejects.toThrow(/still notStarted; read again/);
    // Retried while Teams still lists the number as the user's: the order is read on, none sent again.
    expect(sim.tenant.numbers.find('+12065550110')!.assignedTo).not.toBeNull();
    await expect(releasesWith().assign(work)).rejects.toThrow(/still (notStarted|running); read again/);
    expect(writesFor('slow@contoso.com', 'unassignNumber')).toHaveLength(1);
    expect(held('slow@contoso.com')).toBe(3);
    clock().skipTo(clock().now() + 60_000);
    const r = await releasesWith().assign(work);
    expect(r).toMatchObject({ outcome: 'released', releasedNumber: '+12065550110', releasedSkus: PHONE });
    expect(writesFor('slow@contoso.com', 'unassignNumber')).toHaveLength(1);
    expect(held('slow@contoso.com')).toBe(1);
  });

  it('follows the order it sent when following it failed for a moment, sending none again', async () => {
    const work = await leaver('flaky@contoso.com', 'hr/flaky/20261207T110000Z-0004');
    failFromNextWait = true;
    try {
      await expect(releasesWith().assign(work)).rejects.toBeInstanceOf(TransientGraphError);
    } finally {
      failFromNextWait = false;
      sim.faults = { ...sim.faults, errorRate: 0 };
    }
    expect(writesFor('flaky@contoso.com', 'unassignNumber')).toHaveLength(1);
    expect(held('flaky@contoso.com')).toBe(3);
    clock().skipTo(clock().now() + 60_000);
    const r = await releasesWith().assign(work);
    expect(r).toMatchObject({ outcome: 'released', releasedNumber: '+12065550113', releasedSkus: PHONE });
    expect(writesFor('flaky@contoso.com', 'unassignNumber')).toHaveLength(1);
    expect(held('flaky@contoso.com')).toBe(1);
  });

  it('still reports the number it gave back when the licence removal failed and was retried', async () => {
    sim.faults = { ...sim.faults, failAssignLicenseFor: { 'failing@contoso.com': 1 } };
    const work = await leaver('failing@contoso.com', 'hr/failing/20261207T110000Z-0002');
    await expect(releasesWith().assign(work)).rejects.toBeInstanceOf(TransientGraphError);
    expect(sim.tenant.numbers.find('+12065550111')!.assignedTo).toBeNull();
    expect(held('failing@contoso.com')).toBe(3);
    const r = await releasesWith().assign(work);
    expect(r).toMatchObject({ outcome: 'released', releasedNumber: '+12065550111', releasedSkus: PHONE });
    expect((r as { message: string }).message).toBe('gave back MCOEV, MCOPSTN1; unassigned +12065550111');
    expect(writesFor('failing@contoso.com', 'unassignNumber')).toHaveLength(1);
    expect(held('failing@contoso.com')).toBe(1);
  });

  it('counts a licence removal that landed with its answer lost, once', async () => {
    sim.faults = { ...sim.faults, lostWriteResponseRate: 1 };
    const work = await leaver('lost@contoso.com', 'hr/lost/20261207T110000Z-0003');
    try {
      await expect(releasesWith().assign(work)).rejects.toBeInstanceOf(TransientGraphError);
    } finally {
      sim.faults = { ...sim.faults, lostWriteResponseRate: 0 };
    }
    expect(held('lost@contoso.com')).toBe(1);
    const r = await releasesWith().assign(work);
    expect(r).toMatchObject({ outcome: 'released', releasedNumber: '+12065550112', releasedSkus: PHONE });
    // The retry read the user and sent no second removal.
    expect(writesFor('lost@contoso.com', 'assignLicense')).toHaveLength(1);
    // A third attempt (Durable runs an activity at least once) says the same, without sending anything.
    expect(await releasesWith().assign(work)).toEqual(r);
    expect(writesFor('lost@contoso.com', 'assignLicense')).toHaveLength(1);
  });
});
