// End to end: the product against a simulated tenant that behaves as Graph documents. Teams reads refused
// (403) end the wait within one poll; an E5 user with Phone System switched off never comes back already_licensed;
// a 403 at the start of a batch names the missing permission; a write whose response was lost is not sent twice.
import { QueueServiceClient } from '@azure/storage-queue';
import { startStack, type Stack } from '../../local/stack';
import { planId, type TenantFile } from '../../local/graph-sim/tenant';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { skuIdOf, tenantSkus } from '../support/tenant';

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 20, ENTERPRISEPREMIUM: 10, MCOEV: 20, MCOPSTN1: 20, MCOMEETADV: 5 }),
  users: [
    { userPrincipalName: 'noconsent1@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'noconsent2@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    {
      userPrincipalName: 'e5off@contoso.com',
      usageLocation: 'US',
      teamsProvisioningMinutes: 30,
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', disabledPlans: ['MCOEV', 'MCOSTANDARD'] }],
    },
    {
      userPrincipalName: 'e5off-only@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', disabledPlans: ['MCOEV'] }],
    },
    {
      userPrincipalName: 'e5group-off@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', disabledPlans: ['MCOEV'], viaGroup: 'Sales licences' }],
    },
    {
      userPrincipalName: 'e5group@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', viaGroup: 'Sales licences' }],
    },
    { userPrincipalName: 'nobase@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'lost1@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'lost2@contoso.com', usageLocation: null, teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'start403@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'notinteams@contoso.com', usageLocation: 'US', teamsReadStatus: 404 },
  ],
};

let stack: Stack;
beforeAll(async () => {
  // Rows here name a suite as their own skus (ENTERPRISEPREMIUM): the operator's list widens a row's own part numbers
  // beyond Teams phone and meeting SKUs to it.
  stack = await startStack({ tenant, settings: { DIALTONE_EXTRA_ROW_SKUS: 'ENTERPRISEPREMIUM' } });
});
afterAll(async () => {
  await stack?.stop();
});

const simUser = (upn: string) => stack.sim.tenant.findUser(upn)!;

describe('Graph as documented, end to end', () => {
  it('a tenant whose Teams reads answer 403 ends the batch within one poll: forbidden rows naming the permission, not flagged 24 h later', async () => {
    stack.sim.tenant.teamsReadStatus = 403;
    try {
      expect(
        (
          await postBatch(stack, {
            batchId: 'teams-403',
            users: [{ userPrincipalName: 'noconsent1@contoso.com' }, { userPrincipalName: 'noconsent2@contoso.com' }],
          })
        ).status,
      ).toBe(202);
      const report = await waitForReport(stack, 'teams-403');
      expect(outcomesByUpn(report)).toEqual({
        'noconsent1@contoso.com': 'failed/forbidden',
        'noconsent2@contoso.com': 'failed/forbidden',
      });
      for (const u of report.users) {
        expect(u.message).toMatch(/TeamsUserConfiguration\.Read\.All/);
        expect(u.assignedAt).not.toBeNull();
        // one poll: each user's Teams configuration was read exactly once
        expect(stack.sim.record.byUser.get(simUser(u.userPrincipalName).id)?.teamsUserConfiguration).toBe(1);
      }
      expect(Date.parse(report.finishedAt!) - Date.parse(report.startedAt)).toBeLessThan(3_600_000);
    } finally {
      stack.sim.tenant.teamsReadStatus = undefined;
    }
  });

  it('a 404 on Teams reads (user not in Teams yet) keeps polling until the deadline, then flags', async () => {
    expect(
      (await postBatch(stack, { batchId: 'teams-404', users: [{ userPrincipalName: 'notinteams@contoso.com' }] }))
        .status,
    ).toBe(202);
    const report = await waitForReport(stack, 'teams-404');
    expect(outcomesByUpn(report)).toEqual({ 'notinteams@contoso.com': 'flagged/no_calling_plan' });
    expect(stack.sim.record.byUser.get(simUser('notinteams@contoso.com').id)?.teamsUserConfiguration).toBeGreaterThan(
      20,
    );
  });

  it('an E5 user with Phone System switched off is never already_licensed: the plan is switched on (others kept off) and the calling plan follows', async () => {
    const body = {
      batchId: 'e5-disabled',
      users: [
        { userPrincipalName: 'e5off@contoso.com', profile: 'e5-phone-domestic' },
        { userPrincipalName: 'e5off-only@contoso.com', skus: ['ENTERPRISEPREMIUM'] },
        { userPrincipalName: 'e5group-off@contoso.com', profile: 'e5-phone-domestic' },
        { userPrincipalName: 'e5group@contoso.com', skus: ['ENTERPRISEPREMIUM'] },
        { userPrincipalName: 'nobase@contoso.com', skus: ['MCOMEETADV'] },
      ],
    };
    const seatsBefore = stack.sim.tenant.skus.get(skuIdOf('ENTERPRISEPREMIUM'))!.consumedUnits;
    expect((await postBatch(stack, body)).status).toBe(202);
    const report = await waitForReport(stack, 'e5-disabled');
    expect(outcomesByUpn(report)).toEqual({
      'e5off@contoso.com': 'provisioned',
      'e5off-only@contoso.com': 'assigned',
      'e5group-off@contoso.com': 'failed/plan_disabled',
      'e5group@contoso.com': 'assigned/already_licensed',
      'nobase@contoso.com': 'rejected/missing_prerequisite',
    });
    const by = Object.fromEntries(report.users.map((u) => [u.userPrincipalName, u]));
    expect(by['e5off@contoso.com']!.advisories).toContain('plans_enabled');
    expect(by['e5group@contoso.com']!.advisories).toContain('licensed_by_group');
    expect(by['e5group-off@contoso.com']!.message).toMatch(
      /MCOEV is switched off in ENTERPRISEPREMIUM, which the user has only through group/,
    );
    expect(by['nobase@contoso.com']!.message).toMatch(/MCOMEETADV needs one of the service plans MCOSTANDARD, TEAMS1/);
    const licence = (upn: string) => stack.sim.tenant.licences(simUser(upn)).get(skuIdOf('ENTERPRISEPREMIUM'))!;
    expect([...licence('e5off@contoso.com').disabledPlans]).toEqual(['MCOSTANDARD']);
    expect([...licence('e5off-only@contoso.com').disabledPlans]).toEqual([]);
    expect([...licence('e5group-off@contoso.com').disabledPlans]).toEqual(['MCOEV']);
    expect(stack.sim.tenant.skus.get(skuIdOf('ENTERPRISEPREMIUM'))!.consumedUnits).toBe(seatsBefore);
    expect(planId('MCOEV')).toBe('4828c8ec-dc2e-4779-b502-87ac9ce28ab7');
  });

  it('re-reads the user after a lost assignLicense response instead of sending it again', async () => {
    stack.sim.faults = { lostWriteResponseRate: 1 };
    try {
      const body = {
        batchId: 'lost-writes',
        users: [
          { userPrincipalName: 'lost1@contoso.com' },
          { userPrincipalName: 'lost2@contoso.com', usageLocation: 'GB' },
        ],
      };
      expect((await postBatch(stack, body)).status).toBe(202);
      const report = await waitForReport(stack, 'lost-writes');
      expect(outcomesByUpn(report)).toEqual({ 'lost1@contoso.com': 'provisioned', 'lost2@contoso.com': 'provisioned' });
      for (const upn of ['lost1@contoso.com', 'lost2@contoso.com']) {
        const id = simUser(upn).id;
        expect(stack.sim.record.byUser.get(id)?.assignLicense).toBe(1);
        expect(
          stack.sim.record.stateChangingWrites.filter((w) => w.userId === id && w.kind === 'assignLicense'),
        ).toHaveLength(1);
      }
    } finally {
      stack.sim.faults = {};
    }
  });

  it('a 403 from Graph at the start of a batch names the missing permission in the report error and in each flag', async () => {
    // A token carries the roles granted when it was issued: the app's next sign-in (a new instance) gets the new grant.
    stack.sim.permissions = [
      'User.Read.All',
      'User.ReadWrite.All',
      'LicenseAssignment.ReadWrite.All',
      'TeamsUserConfiguration.Read.All',
    ];
    await stack.crashAndRestartHost();
    try {
      expect(
        (await postBatch(stack, { batchId: 'start-403', users: [{ userPrincipalName: 'start403@contoso.com' }] }))
          .status,
      ).toBe(202);
      const report = await waitForReport(stack, 'start-403');
      expect(report.error).toMatch(
        /^Graph answered 403 to GET \/subscribedSkus: the app's identity needs one of the application permissions LicenseAssignment\.Read\.All, Organization\.Read\.All, Directory\.Read\.All/,
      );
      expect(outcomesByUpn(report)).toEqual({ 'start403@contoso.com': 'failed/forbidden' });
    } finally {
      stack.sim.permissions = undefined;
      await stack.crashAndRestartHost();
    }
    const queue = QueueServiceClient.fromConnectionString(stack.azurite.connectionString).getQueueClient(
      'license-flags',
    );
    const messages: { subject: string; body: { batchId: string; reason: string; message: string } }[] = [];
    for (;;) {
      const got = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (got.receivedMessageItems.length === 0) break;
      for (const m of got.receivedMessageItems)
        messages.push(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')));
    }
    const flag = messages.find((m) => m.body.batchId === 'start-403');
    expect(flag?.body).toMatchObject({
      reason: 'forbidden',
      message: expect.stringMatching(/LicenseAssignment\.Read\.All/),
    });
    expect(messages.filter((m) => m.body.batchId === 'teams-403').map((m) => m.body.message)).toEqual([
      expect.stringMatching(/TeamsUserConfiguration\.Read\.All/),
      expect.stringMatching(/TeamsUserConfiguration\.Read\.All/),
    ]);
  });
});
