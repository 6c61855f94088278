// A leaver's number and the licences it needs go together: Teams takes a Calling Plan number away with the Calling Plan
// licence, and a Direct Routing number out of the tenant with Phone System (docs/phone-numbers.md). So when dialtone
// does not give the number back itself (numbering off in this deployment, or Teams refusing the unassignment), the
// release activity keeps every phone licence of the row and flags it; against real Azurite and the Graph simulator.
import { stableGuid } from '../../local/graph-sim/tenant';
import type { GraphSimulator } from '../../local/graph-sim/server';
import { startActivitiesStack, type ActivitiesStack } from '../support/activities';
import { tenantSkus } from '../support/tenant';
import { adapterFor } from '../support/graph';

let stack: ActivitiesStack;
let sim: GraphSimulator;
const userId = (upn: string) => stableGuid(`user:${upn}`);
const PHONE = ['MCOEV', 'MCOPSTN1'];

const leaver = (upn: string, runKey: string) => stack.leaverWork(upn, runKey, PHONE);
const writesFor = (upn: string) => sim.record.stateChangingWrites.filter((w) => w.userId === userId(upn));
const held = (upn: string) => [...sim.tenant.licences(sim.tenant.findUser(upn)!).keys()].length;

beforeAll(async () => {
  stack = await startActivitiesStack({
    skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
    users: ['off', 'raced', 'plain'].map((u) => ({
      userPrincipalName: `${u}@contoso.com`,
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', ...PHONE],
    })),
    numbers: [
      {
        telephoneNumber: '+12065550100',
        numberType: 'callingPlan',
        isoCountryCode: 'US',
        assignedTo: 'off@contoso.com',
      },
      {
        telephoneNumber: '+12065550101',
        numberType: 'callingPlan',
        isoCountryCode: 'US',
        assignedTo: 'raced@contoso.com',
      },
      {
        telephoneNumber: '+12065550102',
        numberType: 'callingPlan',
        isoCountryCode: 'US',
        assignedTo: 'plain@contoso.com',
      },
    ],
  });
  ({ sim } = stack);
});
afterAll(() => stack?.stop());

describe('a leaver whose number dialtone does not give back keeps the licences the number needs', () => {
  it('with numbering off, sends nothing and keeps the number and every phone licence', async () => {
    const activities = stack.activitiesWith({ releaseNumbers: false });
    const r = await activities.assign(await leaver('off@contoso.com', 'hr/off/20261207T100000Z-0001'));
    expect(r).toMatchObject({ outcome: 'flagged', reason: 'number_release_failed' });
    expect((r as { message: string }).message).toMatch(
      /^kept \+12065550100 \(numbering is off.*; kept MCOEV, MCOPSTN1: /,
    );
    expect(writesFor('off@contoso.com')).toEqual([]);
    expect(held('off@contoso.com')).toBe(3);
    expect(sim.tenant.numbers.find('+12065550100')!.assignedTo).not.toBeNull();
  });

  it('when Teams refuses the unassignment, removes no licence', async () => {
    // Another order for the same number, started first, makes the activity's own fail ("not assigned").
    const first = await adapterFor(sim).startNumberUnassignment('+12065550101', 'callingPlan');
    expect(first.ok).toBe(true);
    const r = await stack.activities.assign(await leaver('raced@contoso.com', 'hr/raced/20261207T100000Z-0002'));
    expect(r).toMatchObject({ outcome: 'flagged', reason: 'number_release_failed' });
    expect(writesFor('raced@contoso.com').map((w) => w.kind)).not.toContain('assignLicense');
    expect(held('raced@contoso.com')).toBe(3);
  });

  it('gives the number back first and then the licences, when Teams takes it', async () => {
    const r = await stack.activities.assign(await leaver('plain@contoso.com', 'hr/plain/20261207T100000Z-0003'));
    expect(r).toMatchObject({ outcome: 'released', releasedNumber: '+12065550102', releasedSkus: PHONE });
    expect(writesFor('plain@contoso.com').map((w) => w.kind)).toEqual(['unassignNumber', 'assignLicense']);
    expect(held('plain@contoso.com')).toBe(1);
  });
});
