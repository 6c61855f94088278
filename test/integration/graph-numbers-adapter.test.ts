// The Graph adapter's Teams phone number calls, with the real Graph client over HTTPS against the simulator.
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import type { GraphResult } from '../../shared/domain/directory';
import { simulatorWithAdapter } from '../support/graph';
import { tenantSkus } from '../support/tenant';

const LOCATION = '93cb8a70-b4af-41df-9928-d07607e21776';
const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
  users: [
    {
      userPrincipalName: 'live@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    { userPrincipalName: 'waiting@contoso.com', usageLocation: 'US', assignedSkus: ['ENTERPRISEPACK', 'MCOEV'] },
    {
      userPrincipalName: "o'brien@contoso.com",
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
  ],
  numbers: [
    ...Array.from({ length: 1500 }, (_, i) => ({
      telephoneNumber: `+1206${String(i).padStart(7, '0')}`,
      numberType: 'callingPlan' as const,
      isoCountryCode: 'US',
      assignedTo: i === 0 ? 'live@contoso.com' : null,
    })),
    { telephoneNumber: '+442079460001', numberType: 'callingPlan', isoCountryCode: 'GB' },
    // Canadian numbers: only the last may go to a user (capabilities and activation state, as Graph names them).
    {
      telephoneNumber: '+16135550100',
      numberType: 'callingPlan',
      isoCountryCode: 'CA',
      capabilities: ['conferenceAssignment'],
    },
    {
      telephoneNumber: '+16135550101',
      numberType: 'callingPlan',
      isoCountryCode: 'CA',
      capabilities: ['voiceApplicationAssignment'],
    },
    {
      telephoneNumber: '+16135550102',
      numberType: 'callingPlan',
      isoCountryCode: 'CA',
      activationState: 'updatePending',
    },
    {
      telephoneNumber: '+16135550103',
      numberType: 'callingPlan',
      isoCountryCode: 'CA',
      capabilities: ['conferenceAssignment', 'userAssignment'],
    },
  ],
};

let sim: GraphSimulator;
let graph: GraphLicensingDirectory;
let clock: SkipAheadClock;

beforeEach(async () => {
  clock = new SkipAheadClock();
  // The adapter's waits move the shared clock, so following an operation costs no wall time.
  ({ sim, graph } = await simulatorWithAdapter(
    { tenant, clock },
    { sleep: async (ms) => clock.skipTo(clock.now() + ms), writesPerSecond: 100_000 },
  ));
});
afterEach(() => sim.close());

function value<T>(r: GraphResult<T> | undefined): T {
  if (!r?.ok) throw new Error(`expected a value, got ${JSON.stringify(r)}`);
  return r.value;
}
const idOf = async (upn: string) => value((await graph.readUsers([upn])).get(upn)).id;

describe('Graph adapter: Teams phone numbers against the simulator', () => {
  it('lists free numbers of a type and country, paging past 1,000 with $skip, and finds one number', async () => {
    const free = value(await graph.listFreeNumbers('callingPlan', 'US', 1400));
    expect(free).toHaveLength(1400);
    expect(free[0]).toEqual({
      telephoneNumber: '+12060000001',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignmentStatus: 'unassigned',
      assignmentTargetId: null,
      activationState: 'activated',
      locationId: null,
      capabilities: ['userAssignment'],
    });
    expect(new Set(free.map((n) => n.telephoneNumber)).size).toBe(1400);
    expect(sim.record.byKind.listNumbers).toBe(2);
    expect(value(await graph.listFreeNumbers('callingPlan', 'GB', 10)).map((n) => n.telephoneNumber)).toEqual([
      '+442079460001',
    ]);
    expect(value(await graph.listFreeNumbers('directRouting', 'US', 10))).toEqual([]);
    expect(value(await graph.findNumber('+12060000000'))).toMatchObject({
      assignmentStatus: 'userAssigned',
      assignmentTargetId: await idOf('live@contoso.com'),
    });
    expect(value(await graph.findNumber('+19999999999'))).toBeNull();
    // A quote in a value cannot end the OData literal.
    expect(value(await graph.findNumber("+1' or numberType eq 'callingPlan"))).toBeNull();
  });

  it("lists as free only numbers a user may have: userAssignment among their capabilities and activated, as the list page's example filters", async () => {
    const free = value(await graph.listFreeNumbers('callingPlan', 'CA', 10));
    expect(free.map((n) => [n.telephoneNumber, n.capabilities])).toEqual([
      ['+16135550103', ['conferenceAssignment', 'userAssignment']],
    ]);
    // The conference-only number is still found by its number, with what it may be assigned to.
    expect(value(await graph.findNumber('+16135550100'))).toMatchObject({
      capabilities: ['conferenceAssignment'],
      activationState: 'activated',
    });
    // And Teams refuses to give it to a user.
    const order = value(
      await graph.assignNumber({
        telephoneNumber: '+16135550100',
        userId: await idOf('live@contoso.com'),
        numberType: 'callingPlan',
      }),
    );
    expect(order).toMatchObject({ status: 'failed', detail: expect.stringMatching(/cannot be assigned to a user/) });
  });

  it('assigns a number, follows its operation to the end, sets the emergency location, and reads it back from Teams', async () => {
    const user = await idOf("o'brien@contoso.com");
    const order = value(
      await graph.assignNumber({
        telephoneNumber: '+12060000003',
        userId: user,
        numberType: 'callingPlan',
        locationId: LOCATION,
      }),
    );
    expect(order).toMatchObject({ status: 'succeeded', detail: null });
    expect(order.operationId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sim.record.byKind.numberOperation).toBeGreaterThanOrEqual(1);
    expect(value((await graph.readHeldNumbers([user])).get(user))).toEqual([
      { telephoneNumber: '+12060000003', assignmentCategory: 'primary' },
    ]);
    expect(value(await graph.findNumber('+12060000003'))).toMatchObject({
      assignmentTargetId: user,
      locationId: LOCATION,
    });
    value(await graph.setEmergencyLocation('+12060000003', ''));
    expect(value(await graph.findNumber('+12060000003'))?.locationId).toBeNull();
  });

  it("returns a failed order with Teams' statusDetail, for a user whose calling plan is not live", async () => {
    const user = await idOf('waiting@contoso.com');
    const order = value(
      await graph.assignNumber({ telephoneNumber: '+12060000005', userId: user, numberType: 'callingPlan' }),
    );
    expect(order).toMatchObject({
      status: 'failed',
      detail: 'The user does not have a Calling Plan enabled in Microsoft Teams yet.',
    });
    expect(value((await graph.readHeldNumbers([user])).get(user))).toEqual([]);
  });

  it('returns an unfinished order when its patience runs out, and the order can be read again later', async () => {
    ({ sim, graph } = await (async () => {
      await sim.close();
      return simulatorWithAdapter(
        { tenant, clock },
        { sleep: async (ms) => clock.skipTo(clock.now() + ms), numberOrderPollDelaysMs: [10] },
      );
    })());
    const order = value(
      await graph.assignNumber({
        telephoneNumber: '+12060000007',
        userId: await idOf('live@contoso.com'),
        numberType: 'callingPlan',
      }),
    );
    expect(['notStarted', 'running']).toContain(order.status);
    clock.skipTo(clock.now() + 60_000);
    // It ran to its end: the new number took the place of the one the user held (Teams' change of a primary number).
    expect(value(await graph.readNumberOrder(order.operationId)).status).toBe('succeeded');
  });

  it('names the missing permission when Graph refuses the numbers calls', async () => {
    await sim.close();
    ({ sim, graph } = await simulatorWithAdapter(
      { tenant, clock, permissions: ['User.Read.All', 'TeamsTelephoneNumber.Read.All'] },
      { sleep: async () => undefined },
    ));
    const r = await graph.startNumberAssignment({
      telephoneNumber: '+12060000009',
      userId: await idOf('live@contoso.com'),
      numberType: 'callingPlan',
    });
    expect(r).toMatchObject({ ok: false, reason: 'forbidden', status: 403, transient: false });
    expect(!r.ok && r.message).toMatch(
      /^Graph answered 403 to POST \/admin\/teams\/telephoneNumberManagement\/numberAssignments\/assignNumber: the app's identity needs the application permission TeamsTelephoneNumber\.ReadWrite\.All/,
    );
    expect(value(await graph.listFreeNumbers('callingPlan', 'US', 1))).toHaveLength(1);
  });
});
