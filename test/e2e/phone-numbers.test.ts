// Phone numbers end to end: the local host, Azurite and the Graph simulator, with DIALTONE_PHONE_NUMBERS
// =pool. Teams provisioning times in the tenant order who is ready first, so each expectation is fixed, not a race.
import { BlobServiceClient } from '@azure/storage-blob';
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { outcomesByUpn, postBatch, readRunFile, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const LOCATION = '93cb8a70-b4af-41df-9928-d07607e21776';
const US = (n: number) => `+1425555${String(n).padStart(4, '0')}`;
const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 100, MCOEV: 100, MCOPSTN1: 100 }),
  users: [
    { userPrincipalName: 'own@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'pool@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 90 },
    { userPrincipalName: 'taken@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    {
      userPrincipalName: 'holder@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    {
      userPrincipalName: 'kept@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    { userPrincipalName: 'gb@contoso.com', usageLocation: 'GB', teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'hybrid@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'hybrid-pool@contoso.com', usageLocation: 'US' },
    ...Array.from({ length: 6 }, (_, i) => ({
      userPrincipalName: `c${i}@contoso.com`,
      usageLocation: 'DE',
      teamsProvisioningMinutes: 40,
    })),
  ],
  numbers: [
    { telephoneNumber: US(100), numberType: 'callingPlan', isoCountryCode: 'US' },
    { telephoneNumber: US(101), numberType: 'callingPlan', isoCountryCode: 'US' },
    { telephoneNumber: US(199), numberType: 'callingPlan', isoCountryCode: 'US', assignedTo: 'holder@contoso.com' },
    { telephoneNumber: US(198), numberType: 'callingPlan', isoCountryCode: 'US', assignedTo: 'kept@contoso.com' },
    { telephoneNumber: US(150), numberType: 'directRouting', isoCountryCode: 'US' },
    // Three German numbers for six users in two concurrent batches.
    ...[1, 2, 3].map((n) => ({
      telephoneNumber: `+4930123456${n}`,
      numberType: 'callingPlan' as const,
      isoCountryCode: 'DE',
    })),
  ],
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant, settings: { DIALTONE_PHONE_NUMBERS: 'pool' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('phone numbers after the calling plan', () => {
  it("assigns a row's own number and a pool number, refuses a number in use, keeps a held one, flags an empty pool, and gives a hybrid row its Direct Routing number", async () => {
    const r = await postBatch(stack, {
      batchId: 'numbers',
      profile: 'phone-domestic',
      users: [
        {
          userPrincipalName: 'own@contoso.com',
          phoneNumber: `tel:${US(101).slice(0, 5)} ${US(101).slice(5)}`,
          emergencyLocationId: LOCATION,
        },
        { userPrincipalName: 'pool@contoso.com' },
        { userPrincipalName: 'taken@contoso.com', phoneNumber: US(199) },
        { userPrincipalName: 'kept@contoso.com' },
        { userPrincipalName: 'gb@contoso.com' },
        {
          userPrincipalName: 'hybrid@contoso.com',
          profile: 'phone-system-only',
          onPremisesPstn: true,
          phoneNumber: US(150),
        },
        { userPrincipalName: 'hybrid-pool@contoso.com', profile: 'phone-system-only', onPremisesPstn: true },
      ],
    });
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'numbers', 180_000);
    expect(outcomesByUpn(report)).toEqual({
      'own@contoso.com': 'provisioned',
      'pool@contoso.com': 'provisioned',
      'taken@contoso.com': 'flagged/number_in_use',
      'kept@contoso.com': 'provisioned',
      'gb@contoso.com': 'flagged/no_free_number',
      'hybrid@contoso.com': 'provisioned',
      // Hybrid rows never draw from the pool: licensed, nothing to wait for.
      'hybrid-pool@contoso.com': 'assigned',
    });
    const by = new Map(report.users.map((u) => [u.userPrincipalName, u]));
    expect(by.get('own@contoso.com')!.phoneNumber).toBe(US(101));
    // own was ready an hour earlier and took +…0101, so the pool had only +…0100 left.
    expect(by.get('pool@contoso.com')!.phoneNumber).toBe(US(100));
    expect(by.get('kept@contoso.com')).toMatchObject({
      phoneNumber: US(198),
      advisories: expect.arrayContaining(['number_kept']),
    });
    expect(by.get('hybrid@contoso.com')!.phoneNumber).toBe(US(150));
    expect(by.get('taken@contoso.com')).toMatchObject({
      phoneNumber: null,
      message: expect.stringContaining(`${US(199)} belongs to another user`),
    });
    expect(by.get('gb@contoso.com')).toMatchObject({
      phoneNumber: null,
      message: expect.stringContaining('no free callingPlan number in GB'),
    });
    expect(by.get('hybrid-pool@contoso.com')!.phoneNumber).toBeNull();
    // Teams' own record agrees: each number is held by the user the report names.
    const numbers = stack.sim.tenant.numbers;
    expect(numbers.find(US(101))).toMatchObject({
      assignedTo: stack.sim.tenant.findUser('own@contoso.com')!.id,
      locationId: LOCATION,
    });
    expect(numbers.find(US(100))!.assignedTo).toBe(stack.sim.tenant.findUser('pool@contoso.com')!.id);
    expect(numbers.find(US(150))!.assignedTo).toBe(stack.sim.tenant.findUser('hybrid@contoso.com')!.id);
    expect(numbers.find(US(199))!.assignedTo).toBe(stack.sim.tenant.findUser('holder@contoso.com')!.id);
    // Three orders: own, pool, hybrid; none for the kept, in-use and empty-pool rows.
    expect(stack.sim.record.byKind.assignNumber).toBe(3);
    const csv = await readRunFile(stack, 'default', 'numbers', 'report.csv');
    expect(csv.split('\r\n')[0]).toMatch(/,phoneNumber,releasedSkus,releasedNumber$/);
    // A leading '+' is shown as text in a spreadsheet, not read as a formula.
    expect(csv).toContain(`'${US(101)}`);
    // The number step's Teams reads took their own share of the read budget (a ledger of their own, so they never
    // queue behind the checks' reservations); the checks took theirs.
    const budgets = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
      'dialtone-budgets',
    );
    const ledger = async (name: string) =>
      JSON.parse((await budgets.getBlockBlobClient(name).downloadToBuffer()).toString()) as { nextFreeAt: number };
    expect((await ledger('teams-number-reads.json')).nextFreeAt).toBeGreaterThan(0);
    expect((await ledger('teams-reads.json')).nextFreeAt).toBeGreaterThan(0);
  }, 240_000);

  it('gives no number twice when two batches draw from one pool at once', async () => {
    const before = stack.sim.record.byKind.assignNumber;
    const users = (from: number) =>
      Array.from({ length: 3 }, (_, i) => ({ userPrincipalName: `c${from + i}@contoso.com` }));
    const [a, b] = await Promise.all([
      postBatch(stack, { batchId: 'pool-a', profile: 'phone-domestic', users: users(0) }),
      postBatch(stack, { batchId: 'pool-b', profile: 'phone-domestic', users: users(3) }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const reports = await Promise.all([
      waitForReport(stack, 'pool-a', 180_000),
      waitForReport(stack, 'pool-b', 180_000),
    ]);
    const rows = reports.flatMap((r) => r.users);
    expect(rows).toHaveLength(6);
    const given = rows.filter((u) => u.outcome === 'provisioned').map((u) => u.phoneNumber);
    expect(given).toHaveLength(3);
    expect(new Set(given).size).toBe(3);
    expect(rows.filter((u) => u.outcome === 'flagged').map((u) => u.reason)).toEqual([
      'no_free_number',
      'no_free_number',
      'no_free_number',
    ]);
    // Teams agrees: each German number went to exactly the user the report names, and no order was sent for a number
    // another order had claimed (the claims kept the losers from ordering at all).
    for (const u of rows.filter((x) => x.outcome === 'provisioned'))
      expect(stack.sim.tenant.numbers.find(u.phoneNumber!)!.assignedTo).toBe(
        stack.sim.tenant.findUser(u.userPrincipalName)!.id,
      );
    expect(stack.sim.record.byKind.assignNumber - before).toBe(3);
  }, 240_000);
});
