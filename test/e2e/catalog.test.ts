// Today's licences end to end: a tenant whose SKUs carry the service plans Microsoft's licensing table lists
// (the simulator's defaults), batches naming Microsoft 365 E5, a "no Teams" suite and the two PSTN usage SKUs.
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const upns = ['e5', 'noteams', 'noteams-profile', 'pp', 'credits'].map((p) => `${p}@contoso.com`);

const tenant: TenantFile = {
  skus: tenantSkus({
    SPE_E5: 10,
    'Microsoft_365_E5_(no_Teams)': 10,
    Microsoft_Teams_EEA_New: 10,
    MCOEV: 10,
    MCOPSTN1: 10,
    MCOPSTNPP: 10,
    MCOPSTNC: 10,
  }),
  users: upns.map((userPrincipalName) => ({ userPrincipalName, usageLocation: 'US', teamsProvisioningMinutes: 30 })),
};

let stack: Stack;
beforeAll(async () => {
  // Rows here list suites among their own skus: the operator's list widens a row's own part numbers to them.
  stack = await startStack({ tenant, settings: { DIALTONE_EXTRA_ROW_SKUS: 'SPE_E5,Microsoft_365_E5_(no_Teams)' } });
});
afterAll(async () => {
  await stack?.stop();
});

/** The part numbers a user holds in the simulator, sorted. */
function held(upn: string): string[] {
  const user = stack.sim.tenant.findUser(upn);
  return [...(user ? stack.sim.tenant.licences(user).keys() : [])]
    .map((id) => stack.sim.tenant.skus.get(id)!.skuPartNumber)
    .sort();
}

describe("licences from Microsoft's table, end to end", () => {
  it('provisions an E5 user with a Calling Plan and no MCOEV, refuses a "no Teams" suite without a Teams SKU, and keeps MCOPSTNPP and MCOPSTNC apart', async () => {
    const accepted = await postBatch(stack, {
      batchId: 'catalog-1',
      users: [
        { userPrincipalName: 'e5@contoso.com', profile: 'm365-e5-phone-domestic' },
        { userPrincipalName: 'noteams@contoso.com', skus: ['Microsoft_365_E5_(no_Teams)', 'MCOPSTN1'] },
        { userPrincipalName: 'noteams-profile@contoso.com', profile: 'm365-e5-no-teams-phone-domestic' },
        { userPrincipalName: 'pp@contoso.com', skus: ['SPE_E5', 'MCOPSTNPP'] },
        { userPrincipalName: 'credits@contoso.com', skus: ['SPE_E5', 'MCOPSTNC'] },
      ],
    });
    expect(accepted.status).toBe(202);
    const report = await waitForReport(stack, 'catalog-1');
    expect(outcomesByUpn(report)).toEqual({
      'e5@contoso.com': 'provisioned',
      'noteams@contoso.com': 'rejected/missing_prerequisite',
      'noteams-profile@contoso.com': 'provisioned',
      'pp@contoso.com': 'provisioned',
      'credits@contoso.com': 'assigned',
    });
    const byUpn = new Map(report.users.map((u) => [u.userPrincipalName, u]));
    expect(byUpn.get('noteams@contoso.com')!.message).toMatch(/needs Teams/);
    // SPE_E5 carries Phone System, so the E5 rows need no MCOEV; E5 without credits gets the recommendation.
    expect(byUpn.get('e5@contoso.com')!.advisories).toContain('communications_credits_recommended');
    expect(byUpn.get('credits@contoso.com')!.advisories).not.toContain('communications_credits_recommended');
    expect(byUpn.get('pp@contoso.com')!.advisories).not.toContain('mcopstnpp_read_as_mcopstnc');

    expect(held('e5@contoso.com')).toEqual(['MCOPSTN1', 'SPE_E5']);
    expect(held('noteams@contoso.com')).toEqual([]);
    expect(held('noteams-profile@contoso.com')).toEqual([
      'MCOPSTN1',
      'MICROSOFT_365_E5_(NO_TEAMS)',
      'MICROSOFT_TEAMS_EEA_NEW',
    ]);
    expect(held('pp@contoso.com')).toEqual(['MCOPSTNPP', 'SPE_E5']);
    expect(held('credits@contoso.com')).toEqual(['MCOPSTNC', 'SPE_E5']);
    const mcoev = stack.sim.tenant.skuByPart('MCOEV')!;
    expect(mcoev.consumedUnits).toBe(0);
  });
});
