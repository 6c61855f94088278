// The simulator's Teams phone numbers (telephoneNumberManagement), driven over HTTPS with raw requests so that what
// is checked is the wire: the documented shapes, $filter/$top/$skip, assignNumber's 202 and its operation running
// over simulated seconds, Teams' refusals decided when the order runs, updateNumber, and the Teams service limit.
import { Agent, fetch } from 'undici';
import type { Clock } from '../../local/clock';
import { startGraphSimulator, type GraphSimulator, type SimulatorOptions } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { appToken } from '../support/graph';
import { tenantSkus } from '../support/tenant';

const BASE = '/v1.0/admin/teams/telephoneNumberManagement';
const LOCATION = '93cb8a70-b4af-41df-9928-d07607e21776';
const usPool = Array.from({ length: 1200 }, (_, i) => ({
  telephoneNumber: `+1206${String(i).padStart(7, '0')}`,
  numberType: 'callingPlan' as const,
  isoCountryCode: 'US',
}));

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
  users: [
    {
      userPrincipalName: 'live@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    { userPrincipalName: 'waiting@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 60 },
    {
      userPrincipalName: 'other@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
    { userPrincipalName: 'hybrid@contoso.com', usageLocation: 'US', assignedSkus: ['ENTERPRISEPACK', 'MCOEV'] },
    {
      userPrincipalName: 'held@contoso.com',
      usageLocation: 'US',
      assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    },
  ],
  numbers: [
    ...usPool,
    { telephoneNumber: '+442079460001', numberType: 'callingPlan', isoCountryCode: 'GB' },
    { telephoneNumber: '+14255550100', numberType: 'directRouting', isoCountryCode: null },
    {
      telephoneNumber: '+14255550199',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignedTo: 'held@contoso.com',
    },
  ],
};

/** Time that moves only when the test moves it, so an order's phases are checked without racing the machine. */
class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 10, 25, 9)) {}
  now(): number {
    return this.t;
  }
  skipTo(t: number): void {
    this.t = Math.max(this.t, t);
  }
}

let sim: GraphSimulator;
let clock: ManualClock;
let agent: Agent;

let token: string;

async function start(options: Partial<SimulatorOptions> = {}): Promise<void> {
  sim = await startGraphSimulator({ tenant, clock, ...options });
  agent = new Agent({ connect: { ca: sim.caPem } });
  token = await appToken(sim);
}

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(path.startsWith('https:') ? path : `${sim.url}${path}`, {
    method,
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
const idOf = async (upn: string) => (await call('GET', `/v1.0/users/${upn}`)).body.id as string;
const order = async (number: string, upn: string, numberType = 'callingPlan', extra: Record<string, unknown> = {}) =>
  call('POST', `${BASE}/numberAssignments/assignNumber`, {
    telephoneNumber: number,
    assignmentTargetId: await idOf(upn),
    numberType,
    ...extra,
  });
const operation = async (location: string) =>
  (await call('GET', location)).body.value as {
    status: string;
    numbers: { status: string; statusDetail: string | null }[];
  };
const list = async (query: string) => call('GET', `${BASE}/numberAssignments${query}`);

beforeEach(() => {
  clock = new ManualClock();
});
afterEach(async () => {
  await sim.close();
  await agent.close();
});

describe('Graph simulator: Teams phone numbers', () => {
  it('lists numbers in the documented shape, filtered and paged: $top 500 by default, 1,000 at most, $skip', async () => {
    await start();
    const all = await list('');
    expect(all.status).toBe(200);
    expect(all.body.value).toHaveLength(500);
    // Every property of numberAssignment.md's JSON representation, and nothing that is not in it.
    expect(Object.keys(all.body.value[0]).sort()).toEqual(
      [
        'id',
        'telephoneNumber',
        'operatorId',
        'numberType',
        'activationState',
        'capabilities',
        'locationId',
        'civicAddressId',
        'networkSiteId',
        'assignmentTargetId',
        'assignmentCategory',
        'portInStatus',
        'assignmentStatus',
        'isoCountryCode',
        'city',
        'numberSource',
        'supportedCustomerActions',
        'reverseNumberLookupOptions',
      ].sort(),
    );
    expect((await list('?$top=1000')).body.value).toHaveLength(1000);
    expect((await list('?$top=1000&$skip=1000')).body.value).toHaveLength(203);
    expect((await list('?$top=1001')).status).toBe(400);
    expect((await list('?$skip=-1')).status).toBe(400);
    const free = await list(
      `?$filter=${encodeURIComponent("assignmentStatus eq 'unassigned' and numberType eq 'callingPlan' and isoCountryCode eq 'US'")}&$top=1000&$skip=1190`,
    );
    expect(free.body.value.map((n: { telephoneNumber: string }) => n.telephoneNumber)).toEqual(
      usPool.slice(1190).map((n) => n.telephoneNumber),
    );
    const held = await list(`?$filter=${encodeURIComponent("telephoneNumber eq '+14255550199'")}`);
    expect(held.body.value).toEqual([
      expect.objectContaining({
        assignmentStatus: 'userAssigned',
        assignmentTargetId: await idOf('held@contoso.com'),
        assignmentCategory: 'primary',
      }),
    ]);
    // The docs' own example filters numberType eq 'DirectRouting' and capabilities/any(...).
    expect(
      (
        await list(
          `?$filter=${encodeURIComponent("numberType eq 'DirectRouting' and capabilities/any(c:c eq 'userAssignment')")}`,
        )
      ).body.value,
    ).toHaveLength(1);
    for (const bad of [
      "city eq 'Seattle'",
      'numberType ne 1',
      "id eq 'x'",
      `${"numberType eq 'x' and ".repeat(200)}x`,
    ]) {
      const r = await list(`?$filter=${encodeURIComponent(bad)}`);
      expect([bad.slice(0, 30), r.status, r.body.error.code]).toEqual([bad.slice(0, 30), 400, 'BadRequest']);
    }
  });

  it('answers assignNumber 202 with the operation in Location, and runs the order over simulated seconds', async () => {
    await start();
    const live = await idOf('live@contoso.com');
    const r = await order('12060000007', 'live@contoso.com', 'callingPlan', { locationId: LOCATION });
    expect(r.status).toBe(202);
    expect(r.body).toBeUndefined();
    const location = r.headers.get('location')!;
    expect(location).toMatch(/\/v1\.0\/admin\/teams\/telephoneNumberManagement\/operations\('[A-Za-z0-9_-]+'\)$/);
    expect(await operation(location)).toMatchObject({
      status: 'notStarted',
      numbers: [{ status: 'notStarted', statusDetail: null }],
    });
    clock.skipTo(clock.now() + 2_000);
    expect((await operation(location)).status).toBe('running');
    clock.skipTo(clock.now() + 5_000);
    expect(await operation(location)).toMatchObject({
      status: 'succeeded',
      numbers: [{ status: 'succeeded', resourceLocation: expect.stringContaining('/numberAssignments/') }],
    });
    // Also by the documented /operations/{id} form.
    const id = /'([^']+)'/.exec(location)![1]!;
    expect((await call('GET', `${BASE}/operations/${id}`)).body.value.status).toBe('succeeded');
    const number = (await list(`?$filter=${encodeURIComponent("telephoneNumber eq '+12060000007'")}`)).body.value[0];
    expect(number).toMatchObject({
      assignmentStatus: 'userAssigned',
      assignmentTargetId: live,
      activationState: 'activated',
      locationId: LOCATION,
    });
    expect((await call('GET', `/v1.0/admin/teams/userConfigurations/${live}`)).body.value.telephoneNumbers).toEqual([
      { telephoneNumber: '+12060000007', assignmentCategory: 'primary' },
    ]);
    expect(sim.record.byKind.assignNumber).toBe(1);
    expect(sim.record.stateChangingWrites.filter((w) => w.kind === 'assignNumber')).toHaveLength(1);
    expect((await call('GET', `${BASE}/operations('nope')`)).status).toBe(404);
  });

  it('refuses, when the order runs, a calling-plan number to a user whose calling plan Teams does not show yet, and the number stays free', async () => {
    await start();
    const waiting = await idOf('waiting@contoso.com');
    await call('POST', `/v1.0/users/${waiting}/assignLicense`, {
      addLicenses: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'].map((p) => ({
        skuId: sim.tenant.skuByPart(p)!.skuId,
        disabledPlans: [],
      })),
      removeLicenses: [],
    });
    const early = (await order('+12060000001', 'waiting@contoso.com')).headers.get('location')!;
    clock.skipTo(clock.now() + 10_000);
    expect(await operation(early)).toMatchObject({
      status: 'failed',
      numbers: [
        { status: 'failed', statusDetail: 'The user does not have a Calling Plan enabled in Microsoft Teams yet.' },
      ],
    });
    expect(
      (await list(`?$filter=${encodeURIComponent("telephoneNumber eq '+12060000001'")}`)).body.value[0],
    ).toMatchObject({ assignmentStatus: 'unassigned', assignmentTargetId: null, activationState: 'activated' });
    clock.skipTo(clock.now() + 61 * 60_000);
    const later = (await order('+12060000001', 'waiting@contoso.com')).headers.get('location')!;
    clock.skipTo(clock.now() + 10_000);
    expect((await operation(later)).status).toBe('succeeded');
  });

  it("gives a number to the first of two orders only, replaces a user's primary number with a new one, and refuses a wrong type, a wrong country and unknown numbers", async () => {
    await start();
    const first = (await order('+12060000002', 'live@contoso.com')).headers.get('location')!;
    const second = (await order('+12060000002', 'other@contoso.com')).headers.get('location')!;
    expect(
      (await list(`?$filter=${encodeURIComponent("telephoneNumber eq '+12060000002'")}`)).body.value[0].activationState,
    ).toBe('assignmentPending');
    clock.skipTo(clock.now() + 10_000);
    expect((await operation(first)).status).toBe('succeeded');
    expect(await operation(second)).toMatchObject({
      status: 'failed',
      numbers: [{ statusDetail: 'The telephone number +12060000002 is already assigned to another user.' }],
    });
    const again = (await order('+12060000003', 'live@contoso.com')).headers.get('location')!;
    const wrongType = (await order('+12060000004', 'other@contoso.com', 'directRouting')).headers.get('location')!;
    const wrongCountry = (await order('+442079460001', 'other@contoso.com')).headers.get('location')!;
    const unknown = (await order('+19999999999', 'other@contoso.com')).headers.get('location')!;
    clock.skipTo(clock.now() + 10_000);
    // A second primary number takes the first one's place in the same order (Teams' "change a phone number").
    expect((await operation(again)).status).toBe('succeeded');
    const holder = async (n: string) =>
      (await list(`?$filter=${encodeURIComponent(`telephoneNumber eq '${n}'`)}`)).body.value[0];
    expect(await holder('+12060000003')).toMatchObject({ assignmentStatus: 'userAssigned' });
    expect(await holder('+12060000002')).toMatchObject({ assignmentStatus: 'unassigned', assignmentTargetId: null });
    expect((await operation(wrongType)).numbers[0]!.statusDetail).toBe(
      'The telephone number +12060000004 is a callingPlan number, not directRouting.',
    );
    expect((await operation(wrongCountry)).numbers[0]!.statusDetail).toBe(
      "The user's usage location US does not match the number's country GB.",
    );
    expect((await operation(unknown)).numbers[0]!.statusDetail).toBe(
      'The telephone number +19999999999 was not found in the tenant.',
    );
  });

  it('assigns a Direct Routing number once Teams shows Phone System', async () => {
    await start();
    const dr = (await order('+14255550100', 'hybrid@contoso.com', 'directRouting')).headers.get('location')!;
    clock.skipTo(clock.now() + 10_000);
    expect((await operation(dr)).status).toBe('succeeded');
  });

  it('refuses malformed orders at once with 400, and sets, keeps and clears an emergency location with updateNumber', async () => {
    await start();
    for (const body of [
      {},
      { telephoneNumber: '+12060000005', assignmentTargetId: 'x' },
      { telephoneNumber: '+12060000005', assignmentTargetId: 'x', numberType: 'mobile' },
      { telephoneNumber: '+12060000005', assignmentTargetId: 'x', numberType: 'callingPlan', assignmentCategory: 7 },
    ]) {
      const r = await call('POST', `${BASE}/numberAssignments/assignNumber`, body);
      expect([r.status, r.body.error.code]).toEqual([400, 'BadRequest']);
    }
    const update = (body: unknown) => call('POST', `${BASE}/numberAssignments/updateNumber`, body);
    const locationOf = async () =>
      (await list(`?$filter=${encodeURIComponent("telephoneNumber eq '+12060000005'")}`)).body.value[0].locationId as
        string | null;
    expect((await update({ telephoneNumber: '+12060000005', locationId: LOCATION })).status).toBe(200);
    expect(await locationOf()).toBe(LOCATION);
    await update({ telephoneNumber: '+12060000005', locationId: null });
    expect(await locationOf()).toBe(LOCATION);
    await update({ telephoneNumber: '+12060000005', locationId: '' });
    expect(await locationOf()).toBeNull();
    expect((await update({ telephoneNumber: '+19999999999', locationId: LOCATION })).status).toBe(404);
    expect((await update({ locationId: LOCATION })).status).toBe(400);
  });

  it('counts the number calls in the Teams service limit: 30 GETs and 30 other calls a second', async () => {
    await start();
    const requests = (method: string, url: string, body?: unknown) =>
      Array.from({ length: 20 }, (_, i) => ({
        id: String(i),
        method,
        url,
        ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
      }));
    const statuses = async (reqs: unknown[]) =>
      ((await call('POST', '/v1.0/$batch', { requests: reqs })).body.responses as { status: number }[]).map(
        (r) => r.status,
      );
    const gets = [
      ...(await statuses(requests('GET', '/admin/teams/telephoneNumberManagement/numberAssignments?$top=1'))),
      ...(await statuses(requests('GET', '/admin/teams/telephoneNumberManagement/numberAssignments?$top=1'))),
    ];
    expect(gets.filter((s) => s === 200)).toHaveLength(30);
    expect(gets.filter((s) => s === 429)).toHaveLength(10);
    const posts = [
      ...(await statuses(
        requests('POST', '/admin/teams/telephoneNumberManagement/numberAssignments/updateNumber', {
          telephoneNumber: '+12060000006',
          locationId: LOCATION,
        }),
      )),
      ...(await statuses(
        requests('POST', '/admin/teams/telephoneNumberManagement/numberAssignments/updateNumber', {
          telephoneNumber: '+12060000006',
          locationId: LOCATION,
        }),
      )),
    ];
    expect(posts.filter((s) => s === 200)).toHaveLength(30);
    expect(posts.filter((s) => s === 429)).toHaveLength(10);
  });

  it('answers 403 in the Teams numbers API shape when TeamsTelephoneNumber permissions are missing', async () => {
    await start({ permissions: ['TeamsTelephoneNumber.Read.All'] });
    expect((await list('?$top=1')).status).toBe(200);
    const r = await order('+12060000008', 'live@contoso.com');
    expect([r.status, r.body.error.code, r.body.error.message]).toEqual([
      403,
      'forbidden',
      'Insufficient permission(s) for the request. API requires any of the following permission(s): TeamsTelephoneNumber.ReadWrite.All.',
    ]);
  });

  it('refuses a tenant file whose number is held by an unknown user or listed twice', async () => {
    await expect(
      startGraphSimulator({
        tenant: {
          ...tenant,
          numbers: [{ telephoneNumber: '+12065550100', numberType: 'callingPlan', assignedTo: 'ghost@contoso.com' }],
        },
      }),
    ).rejects.toThrow(/ghost@contoso.com, who is not among the tenant's users/);
    await expect(
      startGraphSimulator({
        tenant: {
          ...tenant,
          numbers: [
            { telephoneNumber: '+12065550100', numberType: 'callingPlan' },
            { telephoneNumber: '12065550100', numberType: 'callingPlan' },
          ],
        },
      }),
    ).rejects.toThrow(/listed twice/);
    await start();
  });
});
