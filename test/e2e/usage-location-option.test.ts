// DIALTONE_SET_USAGE_LOCATION=false end to end: the deployment's identity then holds only User.Read.All, so the app
// must never PATCH a user. The simulator's record of requests shows it, and the row that needed a usage location
// ends usage_location_missing with a message that says what to do.
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10 }),
  users: [
    { userPrincipalName: 'located@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'unlocated@contoso.com', usageLocation: null },
  ],
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant, settings: { DIALTONE_SET_USAGE_LOCATION: 'false' } });
});
afterAll(async () => {
  await stack?.stop();
});

it('never writes a usage location when the option is off; the user without one fails usage_location_missing', async () => {
  const r = await postBatch(stack, {
    batchId: 'no-usage-location-writes',
    profile: 'phone-system-only',
    users: [
      { userPrincipalName: 'located@contoso.com' },
      { userPrincipalName: 'unlocated@contoso.com', usageLocation: 'US' },
    ],
  });
  expect(r.status).toBe(202);
  const report = await waitForReport(stack, 'no-usage-location-writes');
  expect(outcomesByUpn(report)).toEqual({
    'located@contoso.com': 'assigned',
    'unlocated@contoso.com': 'failed/usage_location_missing',
  });
  expect(report.users.find((u) => u.userPrincipalName === 'unlocated@contoso.com')?.message).toMatch(
    /DIALTONE_SET_USAGE_LOCATION=false/,
  );
  expect(stack.sim.record.byKind.patchUser).toBe(0);
  expect(stack.sim.record.stateChangingWrites.map((w) => w.kind)).toEqual(['assignLicense']);
});
