// An identity that can do less: with its write role scoped to an administrative unit of new hires (the tenant file's
// administrativeUnit, as Graph scopes License Administrator assigned at unit scope), a user outside the unit is
// refused by Graph and fails `forbidden`, nothing written to it, while the unit's members are licensed as usual.
import { startStack, type Stack } from '../../local/stack';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    tenant: {
      skus: [{ skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: 10 }, { skuPartNumber: 'MCOEV', prepaidUnits: 10 }],
      users: [
        { userPrincipalName: 'hire@contoso.com', usageLocation: 'US' },
        { userPrincipalName: 'hire-nolocation@contoso.com', usageLocation: null },
        { userPrincipalName: 'ceo@contoso.com', usageLocation: 'US' },
        { userPrincipalName: 'cfo@contoso.com', usageLocation: null },
      ],
      administrativeUnit: { members: ['hire@contoso.com', 'Hire-NoLocation@contoso.com'] },
    },
    settings: { DIALTONE_DEFAULT_USAGE_LOCATION: 'US' },
  });
});
afterAll(() => stack?.stop());

describe('write role scoped to an administrative unit', () => {
  it("licenses the unit's members and fails everyone else forbidden, writing nothing to them", async () => {
    const users = ['hire', 'hire-nolocation', 'ceo', 'cfo'].map((u) => ({ userPrincipalName: `${u}@contoso.com`, profile: 'phone-system-only' }));
    expect((await postBatch(stack, { batchId: 'au-1', users })).status).toBe(202);
    const report = await waitForReport(stack, 'au-1');
    expect(outcomesByUpn(report)).toEqual({ 'hire@contoso.com': 'assigned', 'hire-nolocation@contoso.com': 'assigned', 'ceo@contoso.com': 'failed/forbidden', 'cfo@contoso.com': 'failed/forbidden' });
    for (const upn of ['ceo@contoso.com', 'cfo@contoso.com']) {
      const user = stack.sim.tenant.findUser(upn)!;
      expect([upn, user.assignments.length, user.usageLocation]).toEqual([upn, 0, upn === 'cfo@contoso.com' ? null : 'US']);
    }
  });
});
