// Licences by need, end to end through the Graph simulator: users who already hold Office 365 E5, Microsoft 365 E5,
// Business Premium, Office 365 E3, a "no Teams" suite or nothing are sent with the phone-domestic profile
// (ENTERPRISEPACK, MCOEV, MCOPSTN1). Each is sold only what it lacks; the report, its CSV and the live status say
// what was bought; the simulator's seat counts move only for SKUs that were sold.
import type { TenantFile } from '../../local/graph-sim/tenant';
import { startStack, type Stack } from '../../local/stack';
import { getBatch, outcomesByUpn, postBatch, readRunFile, waitForReport } from '../support/e2e';

const HOLDING: Record<string, string[]> = {
  'o365e5@contoso.com': ['ENTERPRISEPREMIUM'],
  'm365e5@contoso.com': ['SPE_E5'],
  'bp@contoso.com': ['SPB'],
  'e3@contoso.com': ['ENTERPRISEPACK'],
  'noteams@contoso.com': ['Microsoft_365_E3_(no_Teams)'],
  'none@contoso.com': [],
};
const SKUS = [
  'ENTERPRISEPREMIUM',
  'SPE_E5',
  'SPB',
  'ENTERPRISEPACK',
  'Microsoft_365_E3_(no_Teams)',
  'Microsoft_Teams_EEA_New',
  'MCOEV',
  'MCOPSTN1',
];

const tenant: TenantFile = {
  skus: SKUS.map((skuPartNumber) => ({ skuPartNumber, prepaidUnits: 10 })),
  // Teams shows the calling plan 10 simulated hours after it is assigned: long enough to see the rows wait.
  users: [
    ...Object.entries(HOLDING).map(([userPrincipalName, assignedSkus]) => ({
      userPrincipalName,
      usageLocation: 'US',
      assignedSkus,
      teamsProvisioningMinutes: 600,
    })),
    {
      userPrincipalName: 'ann_fabrikam.com#EXT#@contoso.onmicrosoft.com',
      userType: 'Guest' as const,
      usageLocation: null,
    },
    {
      userPrincipalName: 'member@contoso.com',
      userType: 'Member' as const,
      usageLocation: null,
      teamsProvisioningMinutes: 30,
    },
    // userType decides, not the UPN's form: a guest with a plain UPN, and a guest converted to a member (its UPN keeps #EXT#).
    { userPrincipalName: 'vendor@contoso.com', userType: 'Guest' as const, usageLocation: 'US' },
    {
      userPrincipalName: 'bo_fabrikam.com#EXT#@contoso.onmicrosoft.com',
      userType: 'Member' as const,
      usageLocation: 'US',
      teamsProvisioningMinutes: 30,
    },
  ],
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant });
});
afterAll(async () => {
  await stack?.stop();
});

function consumed(): Record<string, number> {
  return Object.fromEntries(SKUS.map((p) => [p, stack.sim.tenant.skuByPart(p)!.consumedUnits]));
}

function held(upn: string): string[] {
  const user = stack.sim.tenant.findUser(upn)!;
  return [...stack.sim.tenant.licences(user).keys()].map((id) => stack.sim.tenant.skus.get(id)!.skuPartNumber).sort();
}

describe('licences by need, end to end', () => {
  it('sells each user only what the licences it holds do not give, and says so in the report, the CSV and the live status', async () => {
    const before = consumed();
    expect(before).toEqual({
      ENTERPRISEPREMIUM: 1,
      SPE_E5: 1,
      SPB: 1,
      ENTERPRISEPACK: 1,
      'Microsoft_365_E3_(no_Teams)': 1,
      Microsoft_Teams_EEA_New: 0,
      MCOEV: 0,
      MCOPSTN1: 0,
    });
    const accepted = await postBatch(stack, {
      batchId: 'needs-1',
      profile: 'phone-domestic',
      users: Object.keys(HOLDING).map((userPrincipalName) => ({ userPrincipalName })),
    });
    expect(accepted.status).toBe(202);

    // While Teams has not shown the calling plans, licensed rows read `waiting`, as many as the counts say.
    const samples: { waiting: number; rows: number; assigned: number }[] = [];
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      const live = (await getBatch(stack, 'needs-1')).body;
      if (live?.finishedAt) break;
      if (live?.counts?.waiting > 0) {
        samples.push({
          waiting: live.counts.waiting,
          rows: live.users.filter((u: { outcome: string }) => u.outcome === 'waiting').length,
          assigned: live.users.filter((u: { outcome: string }) => u.outcome === 'assigned').length,
        });
        for (const u of live.users) expect(Array.isArray(u.addedSkus)).toBe(true);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s).toEqual({ waiting: s.waiting, rows: s.waiting, assigned: 0 });

    const report = await waitForReport(stack, 'needs-1', 120_000);
    expect(outcomesByUpn(report)).toEqual(Object.fromEntries(Object.keys(HOLDING).map((u) => [u, 'provisioned'])));
    const added = Object.fromEntries(report.users.map((u) => [u.userPrincipalName, u.addedSkus]));
    expect(added).toEqual({
      'o365e5@contoso.com': ['MCOPSTN1'],
      'm365e5@contoso.com': ['MCOPSTN1'],
      'bp@contoso.com': ['MCOEV', 'MCOPSTN1'],
      'e3@contoso.com': ['MCOEV', 'MCOPSTN1'],
      'noteams@contoso.com': ['MICROSOFT_TEAMS_EEA_NEW', 'MCOEV', 'MCOPSTN1'],
      'none@contoso.com': ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    });
    expect(report.bought).toEqual({ MCOPSTN1: 6, MCOEV: 4, MICROSOFT_TEAMS_EEA_NEW: 1, ENTERPRISEPACK: 1 });
    const o365e5 = report.users.find((u) => u.userPrincipalName === 'o365e5@contoso.com')!;
    expect(o365e5.advisories).toContain('already_covered');
    expect(o365e5.message).toContain('MCOEV not bought: already covered by ENTERPRISEPREMIUM');

    // What the simulator sold: one seat per SKU a user was sold, none for those it already had.
    expect(consumed()).toEqual({
      ENTERPRISEPREMIUM: 1,
      SPE_E5: 1,
      SPB: 1,
      ENTERPRISEPACK: 2,
      'Microsoft_365_E3_(no_Teams)': 1,
      Microsoft_Teams_EEA_New: 1,
      MCOEV: 4,
      MCOPSTN1: 6,
    });
    expect(held('o365e5@contoso.com')).toEqual(['ENTERPRISEPREMIUM', 'MCOPSTN1']);
    expect(held('m365e5@contoso.com')).toEqual(['MCOPSTN1', 'SPE_E5']);
    expect(held('bp@contoso.com')).toEqual(['MCOEV', 'MCOPSTN1', 'SPB']);
    expect(held('noteams@contoso.com')).toEqual([
      'MCOEV',
      'MCOPSTN1',
      'MICROSOFT_365_E3_(NO_TEAMS)',
      'MICROSOFT_TEAMS_EEA_NEW',
    ]);

    const csv = (await readRunFile(stack, 'default', 'needs-1', 'report.csv')).replace(/^\uFEFF/, '').split('\r\n');
    expect(csv[0]).toContain(',skus,addedSkus,outcome,');
    expect(csv.find((l) => l.includes('o365e5@contoso.com'))).toContain(
      ',ENTERPRISEPACK+MCOEV+MCOPSTN1,MCOPSTN1,provisioned,',
    );
  });

  it('never licenses a guest: the row fails guest_account with what to do, and Graph receives no write for it', async () => {
    const guest = 'ann_fabrikam.com#EXT#@contoso.onmicrosoft.com';
    const before = consumed();
    const converted = 'bo_fabrikam.com#EXT#@contoso.onmicrosoft.com';
    const accepted = await postBatch(stack, {
      batchId: 'guests-1',
      profile: 'phone-domestic',
      users: [
        { userPrincipalName: guest, usageLocation: 'GB' },
        { userPrincipalName: 'member@contoso.com', usageLocation: 'US' },
        { userPrincipalName: 'vendor@contoso.com' },
        { userPrincipalName: converted },
      ],
    });
    expect(accepted.status).toBe(202);
    const report = await waitForReport(stack, 'guests-1', 120_000);
    expect(outcomesByUpn(report)).toEqual({
      [guest.toLowerCase()]: 'failed/guest_account',
      'member@contoso.com': 'provisioned',
      'vendor@contoso.com': 'failed/guest_account',
      [converted.toLowerCase()]: 'provisioned',
    });
    const row = report.users.find((u) => u.userPrincipalName === guest)!;
    expect(row.message).toMatch(/is a guest account \(userType Guest\); dialtone does not license guests/);
    expect(row.addedSkus).toEqual([]);
    const user = stack.sim.tenant.findUser(guest)!;
    expect(stack.sim.record.stateChangingWrites.filter((w) => w.userId === user.id)).toEqual([]);
    expect(user.usageLocation).toBeNull();
    expect(held(guest)).toEqual([]);
    expect(held('vendor@contoso.com')).toEqual([]);
    // Only the members' seats were taken.
    expect(consumed()).toEqual({
      ...before,
      ENTERPRISEPACK: before.ENTERPRISEPACK! + 2,
      MCOEV: before.MCOEV! + 2,
      MCOPSTN1: before.MCOPSTN1! + 2,
    });
  });
});
