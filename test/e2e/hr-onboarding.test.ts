// HR onboarding end to end on the local stack with the skip-ahead clock: rows starting in three days are licensed at
// the start of the day before (not at submission) and provisioned; an account created two hours after submission is
// waited for, licensed and provisioned; an account that never appears fails user_not_found after
// DIALTONE_ACCOUNT_WAIT_HOURS; a row without a start date whose account is missing fails at once, as before.
import { stableGuid } from '../../local/graph-sim/tenant';
import { startStack, type Stack } from '../../local/stack';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const DAY = 86_400_000;
const userId = (upn: string) => stableGuid(`user:${upn.toLowerCase()}`);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    tenant: {
      skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
      users: [
        { userPrincipalName: 'start3a@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 45 },
        { userPrincipalName: 'start3b@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 45 },
        { userPrincipalName: 'now@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 45 },
        {
          userPrincipalName: 'late@contoso.com',
          usageLocation: 'US',
          teamsProvisioningMinutes: 45,
          createdAfterMinutes: 120,
        },
      ],
    },
    settings: { DIALTONE_ACCOUNT_WAIT_HOURS: '6' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('HR onboarding: start dates and accounts created later', () => {
  it('licenses rows starting in 3 days at the start of the day before, waits for a late account, and fails one that never comes', async () => {
    const submittedAt = stack.clock.now();
    const day = (offset: number) => new Date(submittedAt + offset * DAY).toISOString().slice(0, 10);
    const r = await postBatch(stack, {
      batchId: 'onboard-1',
      users: [
        { userPrincipalName: 'start3a@contoso.com', startDate: day(3) },
        { userPrincipalName: 'now@contoso.com' },
        { userPrincipalName: 'late@contoso.com', startDate: day(0) },
        { userPrincipalName: 'never@contoso.com', startDate: day(0) },
        { userPrincipalName: 'ghost@contoso.com' },
        { userPrincipalName: 'start3b@contoso.com', startDate: `${day(3)}T09:00:00Z` },
        { userPrincipalName: 'far@contoso.com', startDate: day(200) },
        { userPrincipalName: 'bad@contoso.com', startDate: '03/12/2026' },
      ],
    });
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'onboard-1', 180_000);
    expect(outcomesByUpn(report)).toEqual({
      'start3a@contoso.com': 'provisioned',
      'now@contoso.com': 'provisioned',
      'late@contoso.com': 'provisioned',
      'never@contoso.com': 'failed/user_not_found',
      'ghost@contoso.com': 'failed/user_not_found',
      'start3b@contoso.com': 'provisioned',
      'far@contoso.com': 'rejected/invalid_start_date',
      'bad@contoso.com': 'rejected/invalid_start_date',
    });
    const row = (upn: string) => report.users.find((u) => u.userPrincipalName === upn)!;
    const dueAt = Date.parse(`${day(2)}T00:00:00Z`);
    // Scheduled for the start of the day before the start date, licensed then: not at submission, not on the day.
    for (const upn of ['start3a@contoso.com', 'start3b@contoso.com']) {
      expect(row(upn).scheduledFor).toBe(new Date(dueAt).toISOString());
      expect(Date.parse(row(upn).assignedAt!)).toBeGreaterThanOrEqual(dueAt);
      expect(Date.parse(row(upn).assignedAt!)).toBeLessThan(dueAt + DAY);
      const writes = stack.sim.record.stateChangingWrites.filter((w) => w.userId === userId(upn));
      expect(writes.map((w) => w.kind)).toEqual(['assignLicense']);
      expect(writes[0]!.at).toBeGreaterThanOrEqual(dueAt);
    }
    // The row without a start date went at once.
    expect(row('now@contoso.com').scheduledFor).toBeNull();
    expect(Date.parse(row('now@contoso.com').assignedAt!)).toBeLessThan(submittedAt + 60 * 60_000);
    // The late account was licensed once it existed, two hours after submission, and only then.
    const lateWrites = stack.sim.record.stateChangingWrites.filter((w) => w.userId === userId('late@contoso.com'));
    expect(lateWrites).toHaveLength(1);
    expect(lateWrites[0]!.at).toBeGreaterThanOrEqual(submittedAt + 120 * 60_000);
    expect(Date.parse(row('late@contoso.com').assignedAt!)).toBeGreaterThanOrEqual(submittedAt + 120 * 60_000);
    expect(row('never@contoso.com').message).toContain('within 6 hours (DIALTONE_ACCOUNT_WAIT_HOURS)');
    expect(row('ghost@contoso.com').message).not.toContain('DIALTONE_ACCOUNT_WAIT_HOURS');
    expect(row('far@contoso.com').message).toContain('row 7, field startDate');
    expect(report.counts).toMatchObject({ total: 8, provisioned: 4, failed: 2, rejected: 2, cancelled: 0 });
  });
});
