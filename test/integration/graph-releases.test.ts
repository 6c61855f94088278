// Giving seats and numbers back through the Graph adapter (removeLicenses, changeLicenses, unassignNumber), with the
// real Graph client over HTTPS against the simulator, and the simulator's answers to what the adapter never sends
// (bad bodies), as Graph's pages document them: user-assignlicense.md and
// teamsadministration-numberassignment-unassignnumber.md.
import { Agent, fetch } from 'undici';
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import type { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import type { GraphResult } from '../../shared/domain/directory';
import { appToken, simulatorWithAdapter } from '../support/graph';
import { skuIdOf, tenantSkus } from '../support/tenant';

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10, MCOPSTN2: 1 }),
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
      userPrincipalName: 'both@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', { sku: 'MCOEV', viaGroup: 'Voice users' }],
    },
    { userPrincipalName: 'router@contoso.com', usageLocation: 'US', assignedSkus: ['ENTERPRISEPACK', 'MCOEV'] },
    {
      userPrincipalName: 'other@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
  ],
  numbers: [
    {
      telephoneNumber: '+12065550100',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignedTo: 'leaver@contoso.com',
    },
    {
      telephoneNumber: '+12065550101',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignedTo: 'other@contoso.com',
    },
    { telephoneNumber: '+12065550102', numberType: 'callingPlan', isoCountryCode: 'US' },
    { telephoneNumber: '+14255550100', numberType: 'directRouting', assignedTo: 'both@contoso.com' },
    { telephoneNumber: '+14255550101', numberType: 'directRouting', assignedTo: 'router@contoso.com' },
    ...Array.from({ length: 40 }, (_, i) => ({
      telephoneNumber: `+1206555${String(200 + i).padStart(4, '0')}`,
      numberType: 'callingPlan' as const,
      isoCountryCode: 'US',
    })),
  ],
};

let sim: GraphSimulator;
let graph: GraphLicensingDirectory;
let clock: SkipAheadClock;

async function start(options: { permissions?: string[]; pollDelaysMs?: number[] } = {}): Promise<void> {
  clock = new SkipAheadClock();
  // The adapter's waits move the shared clock, so following an operation costs no wall time.
  ({ sim, graph } = await simulatorWithAdapter(
    { tenant, clock, ...(options.permissions ? { permissions: options.permissions } : {}) },
    {
      sleep: async (ms) => clock.skipTo(clock.now() + ms),
      writesPerSecond: 100_000,
      ...(options.pollDelaysMs ? { numberOrderPollDelaysMs: options.pollDelaysMs } : {}),
    },
  ));
}
afterEach(() => sim.close());

function value<T>(r: GraphResult<T> | undefined): T {
  if (!r?.ok) throw new Error(`expected a value, got ${JSON.stringify(r)}`);
  return r.value;
}
const idOf = async (upn: string) => value((await graph.readUsers([upn])).get(upn)).id;
/** skuIds the user holds directly, and those it holds through a group. */
async function holdings(upn: string): Promise<{ direct: string[]; group: string[] }> {
  const u = value((await graph.readUsers([upn])).get(upn));
  const of = (group: boolean) =>
    (u.assignments ?? []).filter((a) => (a.assignedByGroup !== null) === group).map((a) => a.skuId);
  return { direct: of(false), group: of(true) };
}
/** consumedUnits per part number, as subscribedSkus shows them. */
async function consumed(): Promise<Record<string, number>> {
  const skus = value(await graph.listSubscribedSkus());
  return Object.fromEntries(skus.map((s) => [s.skuPartNumber, s.consumedUnits]));
}

/** A request by hand, for bodies the adapter never sends. */
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const agent = new Agent({ connect: { ca: sim.caPem } });
  try {
    const res = await fetch(`${sim.url}/v1.0${path}`, {
      method,
      dispatcher: agent,
      headers: { authorization: `Bearer ${await appToken(sim)}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } finally {
    await agent.close();
  }
}
const UNASSIGN = '/admin/teams/telephoneNumberManagement/numberAssignments/unassignNumber';

describe('Graph adapter: giving licences back', () => {
  beforeEach(() => start());

  it('removes direct licences in one assignLicense and returns their seats to subscribedSkus', async () => {
    const before = await consumed();
    const id = await idOf('leaver@contoso.com');
    const voice = async () =>
      value((await graph.readTeamsFeatures([id])).get(id)).filter((f) => f === 'PhoneSystem' || f === 'CallingPlan');
    expect((await voice()).sort()).toEqual(['CallingPlan', 'PhoneSystem']);
    value(await graph.removeLicenses(id, [skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')]));
    expect((await holdings('leaver@contoso.com')).direct).toEqual([skuIdOf('ENTERPRISEPACK')]);
    const after = await consumed();
    expect([after['MCOEV'], after['MCOPSTN1'], after['ENTERPRISEPACK']]).toEqual([
      before['MCOEV']! - 1,
      before['MCOPSTN1']! - 1,
      before['ENTERPRISEPACK'],
    ]);
    expect(sim.record.byKind.assignLicense).toBe(1);
    expect(sim.record.removeLicensesSent).toEqual([skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')]);
    // Teams no longer shows the plans that went with the seats.
    expect(await voice()).toEqual([]);
    // Nothing to remove sends nothing (Graph refuses an assignLicense that changes nothing).
    value(await graph.removeLicenses(id, []));
    expect(sim.record.byKind.assignLicense).toBe(1);
  });

  it('says a licence the user does not hold was not held, and changes nothing', async () => {
    const before = await consumed();
    const r = await graph.removeLicenses(await idOf('leaver@contoso.com'), [skuIdOf('MCOPSTN2')]);
    expect(r).toMatchObject({
      ok: false,
      status: 400,
      transient: false,
      refusal: 'licence_not_held',
      message: 'User does not have a corresponding license.',
    });
    expect(await consumed()).toEqual(before);
  });

  it('says a licence held only through a group cannot be removed from the user, and keeps the seat', async () => {
    const before = await consumed();
    const r = await graph.removeLicenses(await idOf('grouped@contoso.com'), [skuIdOf('MCOPSTN1')]);
    expect(r).toMatchObject({ ok: false, status: 400, refusal: 'licence_held_by_group' });
    expect(!r.ok && r.message).toMatch(/inherited from a group membership/);
    expect(await holdings('grouped@contoso.com')).toEqual({
      direct: [skuIdOf('ENTERPRISEPACK')],
      group: [skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')],
    });
    expect(await consumed()).toEqual(before);
  });

  it('removes the direct assignment of a licence also held through a group, which keeps its one seat', async () => {
    const before = await consumed();
    value(await graph.removeLicenses(await idOf('both@contoso.com'), [skuIdOf('MCOEV')]));
    expect(await holdings('both@contoso.com')).toEqual({
      direct: [skuIdOf('ENTERPRISEPACK')],
      group: [skuIdOf('MCOEV')],
    });
    // Entra: a user holding a product directly and through a group uses one licence; the group's keeps it.
    expect(await consumed()).toEqual(before);
    // Phone System is still there (through the group), so the Direct Routing number stays.
    expect(value(await graph.findNumber('+14255550100'))).toMatchObject({ assignmentStatus: 'userAssigned' });
  });

  it('refuses to remove Phone System while the Calling Plan that depends on it stays, and removes both together', async () => {
    const id = await idOf('leaver@contoso.com');
    const r = await graph.removeLicenses(id, [skuIdOf('MCOEV')]);
    expect(r).toMatchObject({ ok: false, status: 400, reason: 'dependency', refusal: 'dependent_plan' });
    expect(!r.ok && r.message).toMatch(
      /^License assignment failed because service plan [0-9a-f-]{36} depends on the service plan\(s\) /,
    );
    expect((await holdings('leaver@contoso.com')).direct).toContain(skuIdOf('MCOEV'));
    value(await graph.removeLicenses(id, [skuIdOf('MCOPSTN1'), skuIdOf('MCOEV')]));
    expect((await holdings('leaver@contoso.com')).direct).toEqual([skuIdOf('ENTERPRISEPACK')]);
  });

  it('swaps a calling plan for another in one request, which Graph applies whole or refuses whole', async () => {
    const id = await idOf('leaver@contoso.com');
    // The two plans cannot be held together: added alone, the new one is refused.
    expect(await graph.assignLicenses(id, [skuIdOf('MCOPSTN2')])).toMatchObject({
      ok: false,
      reason: 'mutually_exclusive',
    });
    const before = await consumed();
    value(await graph.changeLicenses(id, { add: [skuIdOf('MCOPSTN2')], remove: [skuIdOf('MCOPSTN1')] }));
    expect((await holdings('leaver@contoso.com')).direct.sort()).toEqual(
      [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOEV'), skuIdOf('MCOPSTN2')].sort(),
    );
    const after = await consumed();
    expect([after['MCOPSTN1'], after['MCOPSTN2']]).toEqual([before['MCOPSTN1']! - 1, before['MCOPSTN2']! + 1]);
    // Teams' "How licensing affects phone number management": a change saved at once keeps the user's number.
    expect(value(await graph.findNumber('+12065550100'))).toMatchObject({ assignmentTargetId: id });
    // The last MCOPSTN2 seat is gone: the next swap is refused, and its removal not applied either.
    const other = await idOf('other@contoso.com');
    const r = await graph.changeLicenses(other, { add: [skuIdOf('MCOPSTN2')], remove: [skuIdOf('MCOPSTN1')] });
    expect(r).toMatchObject({ ok: false, reason: 'insufficient_licenses' });
    expect(!r.ok && r.refusal).toBeUndefined();
    expect((await holdings('other@contoso.com')).direct).toContain(skuIdOf('MCOPSTN1'));
    expect(await consumed()).toEqual(after);
  });

  it('takes the number away with the licence it needs, as Teams documents: a Calling Plan number is unassigned, a Direct Routing number leaves the tenant', async () => {
    // Teams' "How licensing affects phone number management": removing a prerequisite licence unassigns the number
    // (Calling Plan, Operator Connect) or removes it from the phone number database (Direct Routing).
    const leaver = await idOf('leaver@contoso.com');
    value(await graph.removeLicenses(leaver, [skuIdOf('MCOPSTN1')]));
    expect(value(await graph.findNumber('+12065550100'))).toMatchObject({
      assignmentStatus: 'unassigned',
      assignmentTargetId: null,
    });
    value(await graph.removeLicenses(await idOf('router@contoso.com'), [skuIdOf('MCOEV')]));
    expect(value(await graph.findNumber('+14255550101'))).toBeNull();
    // Removing the licence and adding it back in two requests loses the number; it is not given back.
    const other = await idOf('other@contoso.com');
    value(await graph.removeLicenses(other, [skuIdOf('MCOPSTN1')]));
    value(await graph.assignLicenses(other, [skuIdOf('MCOPSTN1')]));
    expect(value(await graph.findNumber('+12065550101'))).toMatchObject({ assignmentStatus: 'unassigned' });
    expect(sim.record.byKind.unassignNumber).toBe(0);
  });

  it('refuses an assignLicense whose removeLicenses is not a list of skuIds, or is missing', async () => {
    const id = await idOf('leaver@contoso.com');
    expect(await call('POST', `/users/${id}/assignLicense`, { addLicenses: [], removeLicenses: [7] })).toMatchObject({
      status: 400,
      body: { error: { code: 'Request_BadRequest', message: 'Invalid license assignment payload.' } },
    });
    const missing = await call('POST', `/users/${id}/assignLicense`, { addLicenses: [] });
    expect([missing.status, missing.body.error.message]).toEqual([
      400,
      "One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: removeLicenses.",
    ]);
    expect((await holdings('leaver@contoso.com')).direct).toHaveLength(3);
  });
});

describe('Graph adapter: giving a Teams phone number back', () => {
  it("unassigns the user's number, following the operation to the end; the number is the tenant's again", async () => {
    await start();
    const id = await idOf('leaver@contoso.com');
    const r = value(await graph.unassignNumber({ telephoneNumber: '+12065550100', userId: id }));
    expect(r).toMatchObject({ outcome: 'released', telephoneNumber: '+12065550100', numberType: 'callingPlan' });
    // The documented Location names an operation whose id is base64 of "Unassignment|…".
    expect(Buffer.from(r.outcome === 'released' ? r.operationId : '', 'base64url').toString()).toMatch(
      /^Unassignment\|/,
    );
    expect(value(await graph.findNumber('+12065550100'))).toMatchObject({
      assignmentStatus: 'unassigned',
      assignmentTargetId: null,
      activationState: 'activated',
    });
    expect(value((await graph.readHeldNumbers([id])).get(id))).toEqual([]);
    expect(value(await graph.listFreeNumbers('callingPlan', 'US', 100)).map((n) => n.telephoneNumber)).toContain(
      '+12065550100',
    );
    expect(sim.record.stateChangingWrites.filter((w) => w.kind === 'unassignNumber')).toEqual([
      { kind: 'unassignNumber', userId: id, at: expect.any(Number) },
    ]);
    expect(sim.record.byKind.unassignNumber).toBe(1);
  });

  it("sends nothing for a number that is not the user's, and says why", async () => {
    await start();
    const id = await idOf('leaver@contoso.com');
    const skipped = async (telephoneNumber: string, numberType?: 'callingPlan' | 'directRouting') => {
      const r = value(
        await graph.unassignNumber({ telephoneNumber, userId: id, ...(numberType ? { numberType } : {}) }),
      );
      return r.outcome === 'skipped' ? r.reason : r.outcome;
    };
    expect(await skipped('+19995550100')).toBe('number_not_in_tenant');
    expect(await skipped('+12065550102')).toBe('not_assigned');
    expect(await skipped('+12065550101')).toBe('held_by_another_user');
    expect(await skipped('+12065550100', 'directRouting')).toBe('other_type');
    expect(sim.record.byKind.unassignNumber).toBe(0);
    expect(value(await graph.findNumber('+12065550101'))).toMatchObject({
      assignmentTargetId: await idOf('other@contoso.com'),
    });
  });

  it('reads a failed unassignment with its detail: a number nobody holds, or named with another type', async () => {
    await start();
    const free = value(await graph.startNumberUnassignment('+12065550102', 'callingPlan'));
    const wrongType = value(await graph.startNumberUnassignment('+14255550100', 'callingPlan'));
    expect([free.status, wrongType.status]).toEqual(['notStarted', 'notStarted']);
    clock.skipTo(clock.now() + 60_000);
    expect(value(await graph.readNumberOrder(free.operationId))).toMatchObject({
      status: 'failed',
      detail: 'The telephone number +12065550102 is not assigned.',
    });
    expect(value(await graph.readNumberOrder(wrongType.operationId))).toMatchObject({
      status: 'failed',
      detail: 'The telephone number +14255550100 is a directRouting number, not callingPlan.',
    });
    expect(value(await graph.findNumber('+14255550100'))).toMatchObject({ assignmentStatus: 'userAssigned' });
  });

  it('reports an unassignment raced by another one as failed, the number released once', async () => {
    await start();
    const id = await idOf('leaver@contoso.com');
    const first = value(await graph.startNumberUnassignment('+12065550100', 'callingPlan'));
    const r = value(await graph.unassignNumber({ telephoneNumber: '+12065550100', userId: id }));
    expect(r).toMatchObject({ outcome: 'failed', detail: 'The telephone number +12065550100 is not assigned.' });
    expect(value(await graph.readNumberOrder(first.operationId)).status).toBe('succeeded');
  });

  it('returns an unassignment still running when its patience runs out, to be read again later', async () => {
    await start({ pollDelaysMs: [500] });
    const r = value(
      await graph.unassignNumber({ telephoneNumber: '+12065550100', userId: await idOf('leaver@contoso.com') }),
    );
    expect(r).toMatchObject({ outcome: 'unfinished', status: 'notStarted' });
    clock.skipTo(clock.now() + 60_000);
    expect(value(await graph.readNumberOrder(r.outcome === 'unfinished' ? r.operationId : ''))).toMatchObject({
      status: 'succeeded',
    });
  });

  it('answers 400 to an unassignNumber body without a number or a valid number type', async () => {
    await start();
    const cases: [unknown, string][] = [
      [{ numberType: 'callingPlan' }, 'Missing mandatory parameter(s): telephoneNumber.'],
      [{ telephoneNumber: '+12065550100' }, 'Missing mandatory parameter(s): numberType.'],
      [
        { telephoneNumber: '+12065550100', numberType: 'CallingPlanX' },
        "Invalid value 'CallingPlanX' for parameter numberType.",
      ],
    ];
    for (const [body, message] of cases)
      expect(await call('POST', UNASSIGN, body)).toMatchObject({
        status: 400,
        body: { error: { code: 'BadRequest', message } },
      });
    expect((await call('POST', UNASSIGN, '{not json')).status).toBe(400);
    expect(sim.record.stateChangingWrites).toEqual([]);
    expect(value(await graph.findNumber('+12065550100'))).toMatchObject({ assignmentStatus: 'userAssigned' });
  });

  it('answers 202 with the Location of the operation, and no body', async () => {
    await start();
    const r = await call('POST', UNASSIGN, { telephoneNumber: '12065550100', numberType: 'callingPlan' });
    expect(r.status).toBe(202);
    expect(r.body).toBeUndefined();
  });

  it('counts unassignNumber among the Teams calls that are not GETs: 30 a second', async () => {
    await start();
    const requests = (from: number) =>
      Array.from({ length: 20 }, (_, i) => ({
        id: String(i),
        method: 'POST',
        url: UNASSIGN,
        headers: { 'content-type': 'application/json' },
        body: { telephoneNumber: `+1206555${String(200 + from + i).padStart(4, '0')}`, numberType: 'callingPlan' },
      }));
    const statuses = async (reqs: unknown[]) =>
      ((await call('POST', '/$batch', { requests: reqs })).body.responses as { status: number }[]).map((r) => r.status);
    const all = [...(await statuses(requests(0))), ...(await statuses(requests(20)))];
    expect(all.filter((s) => s === 202)).toHaveLength(30);
    expect(all.filter((s) => s === 429)).toHaveLength(10);
  });

  it('names TeamsTelephoneNumber.ReadWrite.All when Graph refuses the unassignment', async () => {
    await start({ permissions: ['User.Read.All', 'TeamsTelephoneNumber.Read.All'] });
    const r = await graph.unassignNumber({ telephoneNumber: '+12065550100', userId: await idOf('leaver@contoso.com') });
    expect(r).toMatchObject({ ok: false, reason: 'forbidden', status: 403, transient: false });
    expect(!r.ok && r.message).toMatch(
      /^Graph answered 403 to POST \/admin\/teams\/telephoneNumberManagement\/numberAssignments\/unassignNumber: the app's identity needs the application permission TeamsTelephoneNumber\.ReadWrite\.All/,
    );
    expect(sim.record.forbiddenByKind.unassignNumber).toBe(1);
    expect(value(await graph.findNumber('+12065550100'))).toMatchObject({ assignmentStatus: 'userAssigned' });
  });
});
