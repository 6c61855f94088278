// The Graph permissions of infra/graph-permissions.json, end to end: the local stack's Entra ID grants the app exactly
// that list for its settings, and the whole pipeline (licences, Teams check, number) succeeds with it; then each
// permission is taken away in turn, and the run shows which step Graph refuses and what the row's outcome is. A token
// keeps the roles it was issued with, so each grant is read by a newly started app instance (a fresh sign-in).
import { startStack, type Stack } from '../../local/stack';
import { defaultGrant } from '../../local/graph-sim/permissions';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const SETTINGS = { DIALTONE_PHONE_NUMBERS: 'pool' };
const RUNS = [
  'none',
  'LicenseAssignment.Read.All',
  'LicenseAssignment.ReadWrite.All',
  'TeamsUserConfiguration.Read.All',
  'User.ReadWrite.All',
  'TeamsTelephoneNumber.ReadWrite.All',
];
const upn = (i: number) => `hire${i}@contoso.com`;
const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 20, MCOEV: 20, MCOPSTN1: 20 }),
  users: RUNS.map((_, i) => ({ userPrincipalName: upn(i), usageLocation: null, teamsProvisioningMinutes: 30 })),
  numbers: RUNS.map((_, i) => ({
    telephoneNumber: `+1425555010${i}`,
    numberType: 'callingPlan' as const,
    isoCountryCode: 'US',
  })),
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant, settings: SETTINGS });
});
afterAll(async () => {
  await stack?.stop();
});

/** One new hire's batch with the grant minus `missing`: the row's outcome, the report's error, what Graph refused. */
async function runWithout(
  i: number,
): Promise<{ outcome: string; error: string | undefined; message: string; refused: string[]; number: string | null }> {
  const missing = RUNS[i]!;
  stack.sim.permissions = defaultGrant(SETTINGS).filter((p) => p !== missing);
  await stack.crashAndRestartHost();
  const before = { ...stack.sim.record.forbiddenByKind };
  expect(
    (
      await postBatch(stack, {
        batchId: `without-${i}`,
        profile: 'phone-domestic',
        users: [{ userPrincipalName: upn(i), usageLocation: 'US' }],
      })
    ).status,
  ).toBe(202);
  const report = await waitForReport(stack, `without-${i}`, 300_000);
  const refused = Object.entries(stack.sim.record.forbiddenByKind)
    .filter(([k, n]) => n > (before[k as keyof typeof before] ?? 0))
    .map(([k]) => k)
    .sort();
  const row = report.users[0]!;
  return {
    outcome: outcomesByUpn(report)[upn(i)]!,
    error: report.error,
    message: row.message ?? '',
    refused,
    number: row.phoneNumber ?? null,
  };
}

describe('the permissions of infra/graph-permissions.json, checked by the tenant as Graph checks them', () => {
  it('grants exactly the list for the settings in force', () => {
    expect([...stack.sim.permissions].sort()).toEqual([
      'LicenseAssignment.Read.All',
      'LicenseAssignment.ReadWrite.All',
      'TeamsTelephoneNumber.ReadWrite.All',
      'TeamsUserConfiguration.Read.All',
      'User.ReadWrite.All',
    ]);
  });

  it('with all of them, the row is provisioned with a number, and Graph refused nothing', async () => {
    const r = await runWithout(0);
    expect([r.outcome, r.error, r.refused]).toEqual(['provisioned', undefined, []]);
    expect(r.number).toMatch(/^\+1425555010\d$/);
  });

  it('without LicenseAssignment.Read.All the batch stops at preflight (GET /subscribedSkus), the row failed/forbidden naming it', async () => {
    const r = await runWithout(1);
    expect([r.outcome, r.refused]).toEqual(['failed/forbidden', ['subscribedSkus']]);
    expect(r.error).toMatch(
      /^Graph answered 403 to GET \/subscribedSkus: the app's identity needs one of the application permissions LicenseAssignment\.Read\.All/,
    );
  });

  it("without LicenseAssignment.ReadWrite.All nothing fails while User.ReadWrite.All is granted: assignLicense's page lists it as a higher permission", async () => {
    const r = await runWithout(2);
    expect([r.outcome, r.refused]).toEqual(['provisioned', []]);
  });

  it('without TeamsUserConfiguration.Read.All the licences are assigned, the Teams check is refused, and the row failed/forbidden says so', async () => {
    const r = await runWithout(3);
    expect([r.outcome, r.refused]).toEqual(['failed/forbidden', ['teamsUserConfiguration']]);
    expect(r.message).toMatch(
      /^licences assigned, but Teams cannot be read to confirm the calling plan: .*TeamsUserConfiguration\.Read\.All/,
    );
    expect(
      stack.sim.record.stateChangingWrites.filter(
        (w) => w.kind === 'assignLicense' && w.userId === stack.sim.tenant.findUser(upn(3))!.id,
      ),
    ).toHaveLength(1);
  });

  it('without User.ReadWrite.All the batch stops at preflight (GET /users/{id}), before any write', async () => {
    const writes = stack.sim.record.stateChangingWrites.length;
    const r = await runWithout(4);
    expect([r.outcome, r.refused]).toEqual(['failed/forbidden', ['getUser']]);
    expect(r.error).toMatch(/^Graph answered 403 to GET \/users\/\{id\}/);
    expect(stack.sim.record.stateChangingWrites.length).toBe(writes);
  });

  it('without TeamsTelephoneNumber.ReadWrite.All the calling plan goes live, then the free-number list is refused: flagged/number_assignment_failed', async () => {
    const r = await runWithout(5);
    expect([r.outcome, r.refused, r.number]).toEqual(['flagged/number_assignment_failed', ['listNumbers'], null]);
    expect(r.message).toMatch(
      /the tenant's free numbers could not be listed: Graph answered 403 to GET \/admin\/teams\/telephoneNumberManagement\/numberAssignments/,
    );
  });
});
