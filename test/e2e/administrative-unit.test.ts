// An identity that can do less (docs/least-privilege.md): with the grant hook's administrative-unit option the app
// holds only the read permissions, and its writes come from License Administrator at the scope of an administrative
// unit of new hires (the tenant file's administrativeUnit). A user outside the unit is refused by Graph and fails
// `forbidden`, nothing written to it, while the unit's members are licensed as usual.
import { startStack, type Stack } from '../../local/stack';
import { defaultGrant } from '../../local/graph-sim/permissions';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const SETTINGS = { DIALTONE_DEFAULT_USAGE_LOCATION: 'US' };
const UNIT_GRANT = defaultGrant({ ...SETTINGS, DIALTONE_GRAPH_SCOPE: 'administrative-unit' });
const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10 }),
  users: [
    { userPrincipalName: 'hire@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'hire-nolocation@contoso.com', usageLocation: null },
    { userPrincipalName: 'ceo@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'cfo@contoso.com', usageLocation: null },
  ],
  administrativeUnit: { members: ['hire@contoso.com', 'Hire-NoLocation@contoso.com'] },
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant, settings: SETTINGS, graphPermissions: UNIT_GRANT });
});
afterAll(() => stack?.stop());

describe('License Administrator scoped to an administrative unit, with the read permissions only', () => {
  it('is the grant the hook makes in that mode: no tenant-wide write permission', () => {
    expect([...stack.sim.permissions].sort()).toEqual([
      'LicenseAssignment.Read.All',
      'TeamsTelephoneNumber.ReadWrite.All',
      'TeamsUserConfiguration.Read.All',
      'User.Read.All',
    ]);
  });

  it("licenses the unit's members and fails everyone else forbidden, writing nothing to them", async () => {
    const users = ['hire', 'hire-nolocation', 'ceo', 'cfo'].map((u) => ({
      userPrincipalName: `${u}@contoso.com`,
      profile: 'phone-system-only',
    }));
    expect((await postBatch(stack, { batchId: 'au-1', users })).status).toBe(202);
    const report = await waitForReport(stack, 'au-1');
    expect(outcomesByUpn(report)).toEqual({
      'hire@contoso.com': 'assigned',
      'hire-nolocation@contoso.com': 'assigned',
      'ceo@contoso.com': 'failed/forbidden',
      'cfo@contoso.com': 'failed/forbidden',
    });
    expect(stack.sim.tenant.findUser('hire-nolocation@contoso.com')!.usageLocation).toBe('US');
    for (const upn of ['ceo@contoso.com', 'cfo@contoso.com']) {
      const user = stack.sim.tenant.findUser(upn)!;
      expect([upn, user.assignments.length, user.usageLocation]).toEqual([
        upn,
        0,
        upn === 'cfo@contoso.com' ? null : 'US',
      ]);
    }
  });
});
