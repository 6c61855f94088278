// Movers end to end on the local stack with DIALTONE_PHONE_NUMBERS=pool (docs/leavers-and-movers.md, "Movers"): HR
// posts move rows naming the new country, and dialtone sets the usage location, swaps the calling plans the new
// country does not sell in one assignLicense, waits for Teams as for a hire, then assigns a number of the new country;
// the old number is given back only once the new one is in place (Teams replaces a user's primary number with the new
// one in the same order). A mover whose new number cannot be had keeps the old one and is flagged; a mover to a country
// without the calling plan is rejected with nothing written. The report, its counts and the plan say what moved.
import { stableGuid } from '../../local/graph-sim/tenant';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { planFile, planSummary } from '../../local/plan';
import { startStack, type Stack } from '../../local/stack';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const userId = (upn: string) => stableGuid(`user:${upn.toLowerCase()}`);
const US_OLD = '+12065550102';
const GB_NEW = '+442079460001';
const GB_OLD = '+442079460050';
const US_NEW = '+12065550300';
const STUCK_OLD = '+12065550103';

const TENANT: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10, MCOPSTN6: 10 }),
  users: [
    {
      userPrincipalName: 'mover@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    {
      userPrincipalName: 'swap@contoso.com',
      usageLocation: 'GB',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN6'],
    },
    {
      userPrincipalName: 'stuck@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    {
      userPrincipalName: 'nowhere@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
  ],
  numbers: [
    { telephoneNumber: US_OLD, numberType: 'callingPlan', isoCountryCode: 'US', assignedTo: 'mover@contoso.com' },
    { telephoneNumber: GB_OLD, numberType: 'callingPlan', isoCountryCode: 'GB', assignedTo: 'swap@contoso.com' },
    { telephoneNumber: STUCK_OLD, numberType: 'callingPlan', isoCountryCode: 'US', assignedTo: 'stuck@contoso.com' },
    {
      telephoneNumber: '+12065550104',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignedTo: 'nowhere@contoso.com',
    },
    // The pools: one free GB number, one free US number, none in FR.
    { telephoneNumber: GB_NEW, numberType: 'callingPlan', isoCountryCode: 'GB', assignedTo: null },
    { telephoneNumber: US_NEW, numberType: 'callingPlan', isoCountryCode: 'US', assignedTo: null },
  ],
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant: TENANT, settings: { DIALTONE_PHONE_NUMBERS: 'pool' } });
});
afterAll(async () => {
  await stack?.stop();
});

const consumed = (part: string) => stack.sim.tenant.skuByPart(part)!.consumedUnits;
const writesOf = (upn: string) => stack.sim.record.stateChangingWrites.filter((w) => w.userId === userId(upn));
const heldParts = (upn: string) => {
  const ids = new Map(
    ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1', 'MCOPSTN6'].map((p) => [stack.sim.tenant.skuByPart(p)!.skuId, p]),
  );
  return [...stack.sim.tenant.licences(stack.sim.tenant.findUser(upn)!).keys()].map((id) => ids.get(id)).sort();
};
const holder = (n: string) => stack.sim.tenant.numbers.find(n)!.assignedTo;
const history = (n: string) => stack.sim.tenant.numbers.history.filter((h) => h.telephoneNumber === n);

describe('movers', () => {
  it('moves US → GB with a GB pool number, giving the US number back only once the GB one is in place; swaps a calling plan the new country does not sell; keeps the old number when no new one can be had; rejects a move to a country without the calling plan with nothing written', async () => {
    const before = { MCOPSTN1: consumed('MCOPSTN1'), MCOPSTN6: consumed('MCOPSTN6'), MCOEV: consumed('MCOEV') };
    const r = await postBatch(stack, {
      batchId: 'movers-1',
      users: [
        { userPrincipalName: 'mover@contoso.com', action: 'move', usageLocation: 'GB' },
        // Its own number: the US pool gains the mover's old number during the run, and either could be drawn.
        { userPrincipalName: 'swap@contoso.com', action: 'move', usageLocation: 'US', phoneNumber: US_NEW },
        { userPrincipalName: 'stuck@contoso.com', action: 'move', usageLocation: 'FR' },
        { userPrincipalName: 'nowhere@contoso.com', action: 'move', usageLocation: 'BR' },
      ],
    });
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'movers-1', 240_000);
    expect(outcomesByUpn(report)).toEqual({
      'mover@contoso.com': 'provisioned',
      'swap@contoso.com': 'provisioned',
      'stuck@contoso.com': 'flagged/no_free_number',
      'nowhere@contoso.com': 'rejected/plan_not_available_in_country',
    });
    const row = (upn: string) => report.users.find((u) => u.userPrincipalName === upn)!;

    // US → GB: the usage location is GB, nothing bought or removed, the GB number assigned, the US number given back.
    expect(row('mover@contoso.com')).toMatchObject({
      addedSkus: [],
      releasedSkus: [],
      phoneNumber: GB_NEW,
      releasedNumber: US_OLD,
    });
    expect(row('mover@contoso.com').message).toBe(
      `usage location set to GB (was US); nothing was bought; ${GB_NEW} assigned in place of ${US_OLD}, which Teams took back`,
    );
    expect(stack.sim.tenant.findUser('mover@contoso.com')!.usageLocation).toBe('GB');
    expect(heldParts('mover@contoso.com')).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    expect(holder(GB_NEW)).toBe(userId('mover@contoso.com'));
    expect(holder(US_OLD)).toBeNull();
    // The order on the simulator's record: the GB number became the user's, and only then did the US number go back.
    const gb = history(GB_NEW).find((h) => h.change === 'assigned')!;
    const us = history(US_OLD).find((h) => h.change === 'unassigned')!;
    const changes = stack.sim.tenant.numbers.history;
    expect(changes.indexOf(gb)).toBeLessThan(changes.indexOf(us));
    expect(us).toMatchObject({ cause: 'replaced', operationId: gb.operationId, userId: userId('mover@contoso.com') });
    expect(us.at).toBeGreaterThanOrEqual(gb.at);
    // Writes: the PATCH first, then the number; no licence change was needed.
    expect(writesOf('mover@contoso.com').map((w) => w.kind)).toEqual(['patchUser', 'assignNumber']);

    // GB → US holding MCOPSTN6 (not sold in the US): one assignLicense adds MCOPSTN1 and removes MCOPSTN6.
    expect(row('swap@contoso.com')).toMatchObject({
      addedSkus: ['MCOPSTN1'],
      releasedSkus: ['MCOPSTN6'],
      phoneNumber: US_NEW,
      releasedNumber: GB_OLD,
    });
    expect(heldParts('swap@contoso.com')).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    expect(writesOf('swap@contoso.com').map((w) => w.kind)).toEqual(['patchUser', 'assignLicense', 'assignNumber']);
    expect(holder(GB_OLD)).toBeNull();

    // No free FR number: flagged, the old number kept (never given back without a new one).
    expect(row('stuck@contoso.com')).toMatchObject({ releasedNumber: null, releasedSkus: [] });
    expect(row('stuck@contoso.com').message).toContain(`the user keeps ${STUCK_OLD}`);
    expect(holder(STUCK_OLD)).toBe(userId('stuck@contoso.com'));
    expect(history(STUCK_OLD)).toEqual([]);

    // A country without the calling plan: rejected, nothing written for the user at all.
    expect(writesOf('nowhere@contoso.com')).toEqual([]);
    expect(stack.sim.tenant.findUser('nowhere@contoso.com')!.usageLocation).toBe('US');
    expect(holder('+12065550104')).toBe(userId('nowhere@contoso.com'));

    // Seats: MCOPSTN1 one more, MCOPSTN6 one back; never bought what a mover already had.
    expect(consumed('MCOPSTN1')).toBe(before.MCOPSTN1 + 1);
    expect(consumed('MCOPSTN6')).toBe(before.MCOPSTN6 - 1);
    expect(consumed('MCOEV')).toBe(before.MCOEV);
    // The movers' give-backs are in the batch's released counts.
    expect(report.released).toEqual({ seats: { MCOPSTN6: 1 }, numbers: 2 });
  });

  it('dialtone plan shows the moves first: what each would buy, give back and which number it would replace, and writes nothing', async () => {
    let sim: GraphSimulator | undefined;
    let before = '';
    const plan = await planFile({
      tenant: TENANT,
      bytes: Buffer.from(
        'userPrincipalName,action,usageLocation\nmover@contoso.com,move,GB\nswap@contoso.com,move,US\n',
      ),
      shownAs: 'hr.csv',
      json: false,
      settings: { DIALTONE_PHONE_NUMBERS: 'pool' },
      onSimulator: (s) => {
        sim = s;
        before = JSON.stringify(s.tenant.snapshot());
      },
    });
    expect(plan.counts).toMatchObject({ total: 2, move: 2, assign: 0 });
    expect(plan.rows[0]).toMatchObject({
      outcome: 'move',
      setUsageLocation: 'GB',
      addedSkus: [],
      releasedSkus: [],
      phoneNumber: GB_NEW,
      numberFrom: 'pool',
      releasedNumber: US_OLD,
    });
    expect(plan.rows[1]).toMatchObject({ addedSkus: ['MCOPSTN1'], releasedSkus: ['MCOPSTN6'], releasedNumber: GB_OLD });
    const text = planSummary(plan).split('\n');
    expect(text[2]).toBe('would move (movers): buy 1 × MCOPSTN1; give back 1 × MCOPSTN6, 2 number(s)');
    expect(text[3]).toBe(`  row 1 mover@contoso.com: number ${GB_NEW} in place of ${US_OLD} (would move US to GB)`);
    expect(text.findIndex((l) => l.startsWith('would move'))).toBeLessThan(
      text.findIndex((l) => l.startsWith('would ') && l.includes('users')),
    );
    expect(sim!.record.stateChangingWrites).toEqual([]);
    expect(JSON.stringify(sim!.tenant.snapshot())).toBe(before);
  });
});
