// Graph as documented, round 3, end to end: free numbers are only those a user may have (capabilities and activation
// state, as the numberAssignments list page's example filters them), a number Teams lists late is read back again for
// a bounded time, and a plan switched off in a group-held licence is switched on by a direct assignment of the same
// product when DIALTONE_DIRECT_FOR_GROUP_PLANS is on (one seat, as Microsoft's group licensing docs say).
import { startStack, type Stack } from '../../local/stack';
import { planId, type TenantFile } from '../../local/graph-sim/tenant';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { skuIdOf, tenantSkus } from '../support/tenant';

const N = (n: number) => `+142555501${String(n).padStart(2, '0')}`;
const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 20, ENTERPRISEPREMIUM: 5, MCOEV: 20, MCOPSTN1: 20 }),
  users: [
    { userPrincipalName: 'first@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'second@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 40 },
    { userPrincipalName: 'confrow@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'late@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'never@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    {
      userPrincipalName: 'grp@contoso.com',
      usageLocation: 'US',
      teamsProvisioningMinutes: 30,
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', disabledPlans: ['MCOEV', 'MCOSTANDARD'], viaGroup: 'Sales licences' }],
    },
  ],
  numbers: [
    // Only N(3) may go to a user: the others are for conferences or voice applications, or not activated.
    { telephoneNumber: N(0), numberType: 'callingPlan', isoCountryCode: 'US', capabilities: ['conferenceAssignment'] },
    {
      telephoneNumber: N(1),
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      capabilities: ['voiceApplicationAssignment'],
    },
    {
      telephoneNumber: N(2),
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      capabilities: ['userAssignment'],
      activationState: 'updatePending',
    },
    {
      telephoneNumber: N(3),
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      capabilities: ['conferenceAssignment', 'userAssignment'],
    },
    // Rows' own numbers, out of the calling-plan pool.
    { telephoneNumber: N(10), numberType: 'directRouting', isoCountryCode: 'US' },
    { telephoneNumber: N(11), numberType: 'directRouting', isoCountryCode: 'US' },
    { telephoneNumber: N(12), numberType: 'directRouting', isoCountryCode: 'US' },
  ],
  numberReadBackDelayMinutes: 3,
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    tenant,
    settings: { DIALTONE_PHONE_NUMBERS: 'pool', DIALTONE_DIRECT_FOR_GROUP_PLANS: 'true' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const userId = (upn: string) => stack.sim.tenant.findUser(upn)!.id;
const holder = (number: string) => stack.sim.tenant.numbers.find(number)!.assignedTo;

describe('numbers a user may have, a late read-back, a group-held licence', () => {
  it('gives a user only a number with userAssignment that is activated; the next row gets no_free_number; a row naming a conference number is flagged', async () => {
    const body = {
      batchId: 'capabilities',
      profile: 'phone-domestic',
      users: [
        { userPrincipalName: 'first@contoso.com' },
        { userPrincipalName: 'second@contoso.com' },
        { userPrincipalName: 'confrow@contoso.com', phoneNumber: N(0) },
      ],
    };
    expect((await postBatch(stack, body)).status).toBe(202);
    const report = await waitForReport(stack, 'capabilities', 300_000);
    expect(outcomesByUpn(report)).toEqual({
      'first@contoso.com': 'provisioned',
      'second@contoso.com': 'flagged/no_free_number',
      'confrow@contoso.com': 'flagged/number_assignment_failed',
    });
    const row = (upn: string) => report.users.find((u) => u.userPrincipalName === upn)!;
    expect(row('first@contoso.com').phoneNumber).toBe(N(3));
    expect(row('confrow@contoso.com').message).toMatch(
      new RegExp(`\\${N(0)} cannot be assigned to a user \\(it is for conferenceAssignment only\\)`),
    );
    for (const n of [0, 1, 2]) expect([N(n), holder(N(n))]).toEqual([N(n), null]);
    // The conference number was never ordered: refused before any assignNumber.
    expect(
      stack.sim.record.stateChangingWrites.filter(
        (w) => w.kind === 'assignNumber' && w.userId === userId('confrow@contoso.com'),
      ),
    ).toHaveLength(0);
  });

  it('reads a number Teams lists 3 minutes late back again until it is there, then flags one it never lists within the bound', async () => {
    // The first test's N(3) was already read back 3 minutes late (first@contoso.com was provisioned with it).
    stack.sim.tenant.numbers.readBackDelayMs = 3 * 60_000;
    const reads = stack.sim.record.byKind.teamsUserConfiguration;
    expect(
      (
        await postBatch(stack, {
          batchId: 'late',
          profile: 'phone-domestic',
          users: [{ userPrincipalName: 'late@contoso.com', phoneNumber: N(10), numberType: 'directRouting' }],
        })
      ).status,
    ).toBe(202);
    const late = await waitForReport(stack, 'late', 300_000);
    expect(outcomesByUpn(late)).toEqual({ 'late@contoso.com': 'provisioned' });
    expect([late.users[0]!.phoneNumber, holder(N(10))]).toEqual([N(10), userId('late@contoso.com')]);
    expect(stack.sim.record.byKind.teamsUserConfiguration - reads).toBeGreaterThan(3);

    stack.sim.tenant.numbers.readBackDelayMs = 24 * 60 * 60_000;
    expect(
      (
        await postBatch(stack, {
          batchId: 'never',
          profile: 'phone-domestic',
          users: [{ userPrincipalName: 'never@contoso.com', phoneNumber: N(11), numberType: 'directRouting' }],
        })
      ).status,
    ).toBe(202);
    const never = await waitForReport(stack, 'never', 300_000);
    expect(outcomesByUpn(never)).toEqual({ 'never@contoso.com': 'flagged/number_assignment_failed' });
    expect(never.users[0]!.message).toMatch(
      /its order succeeded but Teams does not list it on the user 9 minutes after its order succeeded/,
    );
    stack.sim.tenant.numbers.readBackDelayMs = 0;
  });

  it("switches a plan off in a group-held licence on by assigning the same product directly: no seat bought, the group's licence untouched", async () => {
    const e5 = skuIdOf('ENTERPRISEPREMIUM');
    const seats = stack.sim.tenant.skus.get(e5)!.consumedUnits;
    expect(
      (
        await postBatch(stack, {
          batchId: 'group',
          profile: 'e5-phone-domestic',
          users: [{ userPrincipalName: 'grp@contoso.com', phoneNumber: N(12), numberType: 'directRouting' }],
        })
      ).status,
    ).toBe(202);
    const report = await waitForReport(stack, 'group', 300_000);
    expect(outcomesByUpn(report)).toEqual({ 'grp@contoso.com': 'provisioned' });
    expect(report.users[0]!.advisories).toEqual(expect.arrayContaining(['plans_enabled', 'direct_beside_group']));
    const user = stack.sim.tenant.findUser('grp@contoso.com')!;
    const e5Assignments = user.assignments
      .filter((a) => a.skuId === e5)
      .map((a) => [a.group, [...a.disabledPlans].sort()]);
    expect(e5Assignments).toEqual(
      expect.arrayContaining([
        ['Sales licences', ['MCOEV', 'MCOSTANDARD']],
        [null, ['MCOSTANDARD']],
      ]),
    );
    expect(stack.sim.tenant.skus.get(e5)!.consumedUnits).toBe(seats);
    expect(stack.sim.tenant.licences(user).get(e5)!.disabledPlans.has('MCOEV')).toBe(false);
    expect(planId('MCOEV')).toBe('4828c8ec-dc2e-4779-b502-87ac9ce28ab7');
  });
});
