// Leavers end to end on the local stack (docs/leavers-and-movers.md): HR posts leave rows, and dialtone gives back
// the phone licences each user holds directly (seats back in subscribedSkus) and the Teams number (unassignNumber, its
// operation followed), keeps the base licence and whatever a group gives (naming the group), waits for a leaver's end
// date like a start date, and removes nothing for a rejected row. The report, its CSV and the summary say what came
// back.
import { parse as parseCsv } from 'csv-parse/sync';
import { stableGuid } from '../../local/graph-sim/tenant';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { planFile, planSummary, planToCsv } from '../../local/plan';
import { startStack, type Stack } from '../../local/stack';
import { getBatch, outcomesByUpn, postBatch, readRunFile, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const DAY = 86_400_000;
const userId = (upn: string) => stableGuid(`user:${upn.toLowerCase()}`);
const NUMBER = '+12065550100';

const TENANT: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
  users: [
    {
      userPrincipalName: 'leaver@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    {
      userPrincipalName: 'grouped@contoso.com',
      usageLocation: 'US',
      assignedSkus: [
        'ENTERPRISEPACK',
        { sku: 'MCOEV', viaGroup: 'Voice users' },
        { sku: 'MCOPSTN1', viaGroup: 'Voice users' },
      ],
    },
    {
      userPrincipalName: 'later@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    {
      userPrincipalName: 'mover@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    {
      userPrincipalName: 'badrow@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    { userPrincipalName: 'hire@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
  ],
  numbers: [
    { telephoneNumber: NUMBER, numberType: 'callingPlan', isoCountryCode: 'US', assignedTo: 'leaver@contoso.com' },
    {
      telephoneNumber: '+12065550102',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignedTo: 'mover@contoso.com',
    },
    {
      telephoneNumber: '+12065550101',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignedTo: 'grouped@contoso.com',
    },
  ],
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant: TENANT });
});
afterAll(async () => {
  await stack?.stop();
});

const consumed = (part: string) => stack.sim.tenant.skuByPart(part)!.consumedUnits;
const writesOf = (upn: string) => stack.sim.record.stateChangingWrites.filter((w) => w.userId === userId(upn));
const heldParts = (upn: string) =>
  [...stack.sim.tenant.licences(stack.sim.tenant.findUser(upn)!).keys()]
    .map((id) => [...['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']].find((p) => stack.sim.tenant.skuByPart(p)!.skuId === id))
    .sort();

describe('leavers', () => {
  it('gives back a leaver’s number and directly held phone licences, keeps the base licence and whatever a group gives; a hire in the same batch is licensed', async () => {
    const before = {
      MCOEV: consumed('MCOEV'),
      MCOPSTN1: consumed('MCOPSTN1'),
      ENTERPRISEPACK: consumed('ENTERPRISEPACK'),
    };
    const r = await postBatch(stack, {
      batchId: 'leavers-1',
      users: [
        { userPrincipalName: 'leaver@contoso.com', action: 'leave' },
        { userPrincipalName: 'grouped@contoso.com', action: 'leave' },
        { userPrincipalName: 'badrow@contoso.com', action: 'leave', endDate: '31/12/2026' },
        { userPrincipalName: 'hire@contoso.com' },
      ],
    });
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'leavers-1', 180_000);
    expect(outcomesByUpn(report)).toEqual({
      'leaver@contoso.com': 'released',
      'grouped@contoso.com': 'released/group_licences_kept',
      'badrow@contoso.com': 'rejected/invalid_end_date',
      'hire@contoso.com': 'provisioned',
    });
    const row = (upn: string) => report.users.find((u) => u.userPrincipalName === upn)!;
    expect(row('leaver@contoso.com')).toMatchObject({
      releasedSkus: ['MCOEV', 'MCOPSTN1'],
      releasedNumber: NUMBER,
      addedSkus: [],
    });
    expect(row('leaver@contoso.com').message).toBe(`gave back MCOEV, MCOPSTN1; unassigned ${NUMBER}`);
    // The seats are back in subscribedSkus, the base licence stays, the number is the tenant's again.
    expect(heldParts('leaver@contoso.com')).toEqual(['ENTERPRISEPACK']);
    expect(stack.sim.tenant.numbers.find(NUMBER)!.assignedTo).toBeNull();
    // Licences held through a group are never touched: the group is named, and nothing was sent for them.
    const groupId = stack.sim.tenant.findUser('grouped@contoso.com')!.assignments.find((a) => a.group)!;
    expect(groupId.group).toBe('Voice users');
    expect(row('grouped@contoso.com').message).toMatch(
      /kept MCOEV \(held through group [0-9a-f-]{36}\), MCOPSTN1 \(held through group [0-9a-f-]{36}\)/,
    );
    expect(row('grouped@contoso.com')).toMatchObject({ releasedSkus: [], releasedNumber: '+12065550101' });
    expect(writesOf('grouped@contoso.com').map((w) => w.kind)).toEqual(['unassignNumber']);
    expect(heldParts('grouped@contoso.com')).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    // A rejected row: nothing was sent for it at all.
    expect(writesOf('badrow@contoso.com')).toEqual([]);
    expect(row('badrow@contoso.com').message).toMatch(/^row 3, field endDate: "31\/12\/2026" is not an end date/);
    expect(heldParts('badrow@contoso.com')).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    // Seats: the leaver's two come back, the hire took one of each.
    expect(consumed('MCOEV')).toBe(before.MCOEV - 1 + 1);
    expect(consumed('MCOPSTN1')).toBe(before.MCOPSTN1 - 1 + 1);
    expect(consumed('ENTERPRISEPACK')).toBe(before.ENTERPRISEPACK + 1);
    expect(report.released).toEqual({ seats: { MCOEV: 1, MCOPSTN1: 1 }, numbers: 2 });
    expect(report.counts).toMatchObject({ total: 4, released: 2, provisioned: 1, rejected: 1 });
    const [header, ...rows]: string[][] = parseCsv(
      (await readRunFile(stack, 'default', 'leavers-1', 'report.csv')).replace(/^\uFEFF/, ''),
    );
    const cell = (upn: string, column: string) =>
      rows.find((x) => x[header!.indexOf('userPrincipalName')] === upn)![header!.indexOf(column)];
    expect([cell('leaver@contoso.com', 'releasedSkus'), cell('leaver@contoso.com', 'releasedNumber')]).toEqual([
      'MCOEV+MCOPSTN1',
      `'${NUMBER}`,
    ]);
  });

  it('waits for a leaver’s end date, then gives the line back at the start of that day, not before', async () => {
    const submittedAt = stack.clock.now();
    const day = (offset: number) => new Date(submittedAt + offset * DAY).toISOString().slice(0, 10);
    const r = await postBatch(stack, {
      batchId: 'leavers-later',
      users: [{ userPrincipalName: 'later@contoso.com', action: 'leave', endDate: day(3) }],
    });
    expect(r.status).toBe(202);
    // While it waits, the status shows it scheduled for the start of its end date.
    const dueAt = Date.parse(`${day(3)}T00:00:00Z`);
    const live = await getBatch(stack, 'leavers-later');
    if (live.body.finishedAt === null)
      expect(live.body.users[0]).toMatchObject({ outcome: 'scheduled', scheduledFor: new Date(dueAt).toISOString() });
    const report = await waitForReport(stack, 'leavers-later', 180_000);
    expect(outcomesByUpn(report)).toEqual({ 'later@contoso.com': 'released' });
    expect(report.users[0]).toMatchObject({
      scheduledFor: new Date(dueAt).toISOString(),
      releasedSkus: ['MCOEV', 'MCOPSTN1'],
    });
    const writes = writesOf('later@contoso.com');
    expect(writes.map((w) => w.kind)).toEqual(['assignLicense']);
    expect(writes[0]!.at).toBeGreaterThanOrEqual(dueAt);
    expect(writes[0]!.at).toBeLessThan(dueAt + DAY);
    expect(heldParts('later@contoso.com')).toEqual(['ENTERPRISEPACK']);
  });

  it('dialtone plan shows the releases first, each leaver with the seats and the number it would give back, and writes nothing', async () => {
    let sim: GraphSimulator | undefined;
    let before = '';
    const plan = await planFile({
      tenant: TENANT,
      bytes: Buffer.from(
        'userPrincipalName,action,profile\nhire@contoso.com,,phone-domestic\nleaver@contoso.com,leave,\ngrouped@contoso.com,leave,\n',
      ),
      shownAs: 'hr.csv',
      json: false,
      settings: {},
      onSimulator: (s) => {
        sim = s;
        before = JSON.stringify(s.tenant.snapshot());
      },
    });
    expect(plan.counts).toMatchObject({ total: 3, release: 2, assign: 1 });
    expect(plan.rows[1]).toMatchObject({
      outcome: 'release',
      releasedSkus: ['MCOEV', 'MCOPSTN1'],
      releasedNumber: NUMBER,
    });
    expect(plan.rows[2]).toMatchObject({ outcome: 'release', releasedSkus: [], releasedNumber: '+12065550101' });
    expect(plan.rows[2]!.message).toMatch(/^would keep MCOEV \(held through group [0-9a-f-]{36}\), MCOPSTN1/);
    const text = planSummary(plan).split('\n');
    expect(text[2]).toBe('would give back (leavers): 1 × MCOEV, 1 × MCOPSTN1, 2 number(s)');
    expect(text[3]).toBe(`  row 2 leaver@contoso.com: MCOEV, MCOPSTN1, ${NUMBER}`);
    expect(text.findIndex((l) => l.startsWith('would give back'))).toBeLessThan(
      text.findIndex((l) => l.startsWith('would ') && l.includes('users')),
    );
    expect(planToCsv(plan).split('\r\n')[2]).toMatch(/,release,.*,MCOEV\+MCOPSTN1,'\+12065550100$/);
    expect(sim!.record.stateChangingWrites).toEqual([]);
    expect(JSON.stringify(sim!.tenant.snapshot())).toBe(before);
  });

  it('refuses a mover to a country where no Calling Plan is sold before any write: licences, usage location and number stay', async () => {
    const r = await postBatch(stack, {
      batchId: 'movers-br',
      users: [{ userPrincipalName: 'mover@contoso.com', action: 'move', usageLocation: 'BR' }],
    });
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'movers-br', 180_000);
    expect(outcomesByUpn(report)).toEqual({ 'mover@contoso.com': 'rejected/plan_not_available_in_country' });
    expect(report.users[0]!.message).toMatch(/MCOPSTN1 is not sold for usage location BR .*nothing was changed/);
    expect(writesOf('mover@contoso.com')).toEqual([]);
    expect(heldParts('mover@contoso.com')).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    expect(stack.sim.tenant.findUser('mover@contoso.com')!.usageLocation).toBe('US');
    expect(stack.sim.tenant.numbers.find('+12065550102')!.assignedTo).toBe(userId('mover@contoso.com'));
  });
});
