// The adapter against the simulator, each behaviour checked against Microsoft's documented responses
// (fixtures in test/fixtures/graph-docs). The real Graph client over HTTPS; waits move a shared skip-ahead clock.
import { Agent, fetch } from 'undici';
import type { GraphSimulator } from '../../local/graph-sim/server';
import { planId, type TenantFile } from '../../local/graph-sim/tenant';
import type { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import { teamsFeatures } from '../../shared/adapters/graph/licensing';
import type { GraphFailure, GraphResult } from '../../shared/domain/directory';
import { adapterFor, appToken, graphDoc, simulatorWithAdapter } from '../support/graph';
import { skuIdOf, tenantSkus } from '../support/tenant';

const doc = graphDoc;

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, ENTERPRISEPREMIUM: 10, MCOEV: 10, MCOPSTN1: 10 }),
  users: [
    { userPrincipalName: 'adele@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0 },
    { userPrincipalName: 'nolocation@contoso.com', usageLocation: null },
    {
      userPrincipalName: 'e5off@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', disabledPlans: ['MCOEV', 'MCOSTANDARD'] }],
    },
    {
      userPrincipalName: 'e5group@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', disabledPlans: ['MCOEV'], viaGroup: 'Sales licences' }],
    },
    {
      userPrincipalName: 'e5error@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPREMIUM', viaGroup: 'Sales licences', state: 'Error', error: 'CountViolation' }],
    },
    { userPrincipalName: 'notinteams@contoso.com', usageLocation: 'US', teamsReadStatus: 404 },
    ...Array.from({ length: 45 }, (_, i) => ({ userPrincipalName: `bulk${i}@contoso.com`, usageLocation: 'US' })),
  ],
};

/** Time that moves only when a test or the adapter's waits move it, so that counts per window are exact. */
class StillClock {
  t = Date.parse('2026-11-02T09:00:00Z');
  now(): number {
    return this.t;
  }
}

let sim: GraphSimulator;
let graph: GraphLicensingDirectory;
let clock: StillClock;
const slept: number[] = [];

beforeEach(async () => {
  clock = new StillClock();
  slept.length = 0;
  ({ sim, graph } = await simulatorWithAdapter(
    { tenant, clock },
    {
      sleep: async (ms) => {
        slept.push(ms);
        clock.t += ms;
      },
      writesPerSecond: 100_000,
    },
  ));
});
afterEach(() => sim.close());

function failure<T>(r: GraphResult<T> | undefined): GraphFailure {
  if (!r || r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}
async function user(upn: string) {
  const r = (await graph.readUsers([upn])).get(upn);
  if (!r?.ok) throw new Error(`no user ${upn}`);
  return r.value;
}
const tokens = new WeakMap<GraphSimulator, Promise<string>>();
/** The simulator's app-only token, fetched once per simulator. */
function tokenFor(s: GraphSimulator): Promise<string> {
  if (!tokens.has(s)) tokens.set(s, appToken(s));
  return tokens.get(s)!;
}

async function raw(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const agent = new Agent({ connect: { ca: sim.caPem } });
  try {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      dispatcher: agent,
      headers: { authorization: `Bearer ${await tokenFor(sim)}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } finally {
    await agent.close();
  }
}

describe('1. the Teams configuration response as documented', () => {
  it('reads featureTypes from the documented value-wrapped response and from the bare entity; no featureTypes is an error', () => {
    expect(teamsFeatures(doc('teamsUserConfiguration.json'))).toEqual({ ok: true, value: ['Teams', 'CallingPlan'] });
    expect(teamsFeatures(doc('teamsUserConfiguration-bare.json'))).toEqual({
      ok: true,
      value: ['Teams', 'PhoneSystem'],
    });
    expect(failure(teamsFeatures(doc('teamsUserConfiguration-select-id.json')))).toMatchObject({
      reason: 'graph_error',
      code: 'UnexpectedResponse',
    });
    expect(teamsFeatures({ value: [] }).ok).toBe(false);
  });

  it('the simulator answers in the documented shape and the adapter finds the calling plan in it', async () => {
    const adele = await user('adele@contoso.com');
    const cfg = await raw('GET', `/v1.0/admin/teams/userConfigurations/${adele.id}`);
    expect(Object.keys(cfg.body)).toEqual(['value']);
    expect(
      await graph.assignLicenses(adele.id, [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')]),
    ).toEqual({ ok: true, value: undefined });
    expect((await graph.readTeamsFeatures([adele.id])).get(adele.id)).toEqual({
      ok: true,
      value: ['Teams', 'CallingPlan'],
    });
  });
});

describe('2. Teams read refusals', () => {
  it('a 403 on Teams reads is forbidden, naming TeamsUserConfiguration.Read.All; a 404 (not in Teams) is not', async () => {
    const adele = await user('adele@contoso.com');
    const absent = await user('notinteams@contoso.com');
    sim.tenant.teamsReadStatus = 403;
    const refused = failure((await graph.readTeamsFeatures([adele.id])).get(adele.id));
    expect(refused).toMatchObject({ reason: 'forbidden', status: 403, transient: false });
    expect(refused.message).toMatch(
      /^Graph answered 403 to GET \/admin\/teams\/userConfigurations\/\{id\}: the app's identity needs the application permission TeamsUserConfiguration\.Read\.All/,
    );
    expect(refused.message).toMatch(/Graph said: Insufficient permission\(s\) for the request\./);
    sim.tenant.teamsReadStatus = undefined;
    expect(failure((await graph.readTeamsFeatures([absent.id])).get(absent.id))).toMatchObject({
      reason: 'user_not_found',
      status: 404,
    });
  });
});

describe('3. permissions', () => {
  it('a 403 from Graph names the permission the call needs, as the docs list it', async () => {
    // A token carries the roles granted when it was issued: each grant below is read by a newly signed-in adapter.
    sim.permissions = ['User.ReadWrite.All', 'LicenseAssignment.ReadWrite.All', 'TeamsUserConfiguration.Read.All'];
    graph = adapterFor(sim, { writesPerSecond: 100_000 });
    const skus = failure(await graph.listSubscribedSkus());
    expect(skus).toMatchObject({ reason: 'forbidden', status: 403, code: 'Authorization_RequestDenied' });
    expect(skus.message).toMatch(
      /GET \/subscribedSkus: the app's identity needs one of the application permissions LicenseAssignment\.Read\.All, Organization\.Read\.All, Directory\.Read\.All/,
    );
    sim.permissions = ['Organization.Read.All'];
    expect(failure(await graph.listSubscribedSkus()).status).toBe(403);
    graph = adapterFor(sim, { writesPerSecond: 100_000 });
    expect((await graph.listSubscribedSkus()).ok).toBe(true);
    const read = failure((await graph.readUsers(['adele@contoso.com'])).get('adele@contoso.com'));
    expect(read.message).toMatch(
      /GET \/users\/\{id\}: the app's identity needs one of the application permissions User\.Read\.All/,
    );
  });
});

describe('4. usage location just set', () => {
  it('retries "invalid usage location" with a delay when this run just set it, and only then', async () => {
    sim.faults = { usageLocationLagMs: 6_000 };
    const u = await user('nolocation@contoso.com');
    expect((await graph.setUsageLocation(u.id, 'GB')).ok).toBe(true);
    expect(failure(await graph.assignLicenses(u.id, [skuIdOf('ENTERPRISEPACK')]))).toMatchObject({
      reason: 'usage_location_missing',
    });
    expect(await graph.assignLicenses(u.id, [skuIdOf('ENTERPRISEPACK')], { usageLocationJustSet: true })).toEqual({
      ok: true,
      value: undefined,
    });
    expect(slept).toEqual([2_000, 5_000]);
    expect(sim.record.byKind.assignLicense).toBe(4);
    expect(sim.record.stateChangingWrites.filter((w) => w.kind === 'assignLicense')).toHaveLength(1);
  });
});

describe('5. what a user really holds', () => {
  it('reads disabled plans and group assignments; a group assignment in Error holds nothing', async () => {
    const off = await user('e5off@contoso.com');
    expect(off.licences).toEqual([
      { skuId: skuIdOf('ENTERPRISEPREMIUM'), disabledPlanIds: [planId('MCOEV'), planId('MCOSTANDARD')] },
    ]);
    expect(off.assignments).toMatchObject([{ assignedByGroup: null, state: 'Active', error: null }]);
    const group = await user('e5group@contoso.com');
    expect(group.assignments).toMatchObject([
      {
        assignedByGroup: expect.stringMatching(/^[0-9a-f-]{36}$/),
        state: 'Active',
        disabledPlanIds: [planId('MCOEV')],
      },
    ]);
    const error = await user('e5error@contoso.com');
    expect([error.skuIds, error.assignments?.[0]?.state, error.assignments?.[0]?.error]).toEqual([
      [],
      'Error',
      'CountViolation',
    ]);
    const selected = await raw(
      'GET',
      `/v1.0/users/e5group@contoso.com?$select=id,userPrincipalName,usageLocation,assignedLicenses,assignedPlans,licenseAssignmentStates`,
    );
    const documented = doc('user-licence-states.json');
    expect(Object.keys(selected.body).sort()).toEqual(
      Object.keys(documented)
        .filter((k) => k !== '_source')
        .sort(),
    );
    expect(Object.keys(selected.body.licenseAssignmentStates[0]).sort()).toEqual(
      Object.keys((documented['licenseAssignmentStates'] as object[])[0]!).sort(),
    );
  });

  it('switches a disabled plan on by adding the SKU again with the other plans still disabled, using no seat; Teams then shows it', async () => {
    const off = await user('e5off@contoso.com');
    const e5 = skuIdOf('ENTERPRISEPREMIUM');
    const seats = () => sim.tenant.skus.get(e5)!.consumedUnits;
    const before = seats();
    expect((await graph.readTeamsFeatures([off.id])).get(off.id)).toEqual({
      ok: true,
      value: ['Teams', 'AudioConferencing'],
    });
    expect(await graph.assignLicenses(off.id, [{ skuId: e5, disabledPlanIds: [planId('MCOSTANDARD')] }])).toEqual({
      ok: true,
      value: undefined,
    });
    expect((await user('e5off@contoso.com')).licences).toEqual([
      { skuId: e5, disabledPlanIds: [planId('MCOSTANDARD')] },
    ]);
    expect(seats()).toBe(before);
    clock.t += 6 * 60_000;
    expect((await graph.readTeamsFeatures([off.id])).get(off.id)).toEqual({
      ok: true,
      value: ['Teams', 'AudioConferencing', 'PhoneSystem'],
    });
  });
});

describe('6. service plan dependencies', () => {
  it("the simulator refuses Phone System to a user with no base licence, with Graph's dependency text", async () => {
    const adele = await user('adele@contoso.com');
    const f = failure(await graph.assignLicenses(adele.id, [skuIdOf('MCOEV')]));
    expect(f).toMatchObject({ reason: 'dependency' });
    expect(f.message).toBe(
      `License assignment failed because service plan ${planId('MCOEV')} depends on the service plan(s) ${planId('MCOSTANDARD')}, ${planId('TEAMS1')}`,
    );
  });
});

describe('6b. extra dependencies from the tenant file', () => {
  it('are enforced like the documented ones', async () => {
    const extra = await simulatorWithAdapter(
      { tenant: { ...tenant, dependencies: [['MCOPSTN1', ['MCOMEETADV']]] }, clock },
      { writesPerSecond: 100_000 },
    );
    try {
      const id = (await extra.graph.readUsers(['adele@contoso.com'])).get('adele@contoso.com');
      if (!id?.ok) throw new Error('no user');
      const f = failure(
        await extra.graph.assignLicenses(id.value.id, [
          skuIdOf('ENTERPRISEPACK'),
          skuIdOf('MCOEV'),
          skuIdOf('MCOPSTN1'),
        ]),
      );
      expect(f.message).toBe(
        `License assignment failed because service plan ${planId('MCOPSTN1')} depends on the service plan(s) ${planId('MCOMEETADV')}`,
      );
      expect(
        (await extra.graph.assignLicenses(id.value.id, [skuIdOf('ENTERPRISEPREMIUM'), skuIdOf('MCOPSTN1')])).ok,
      ).toBe(true);
    } finally {
      await extra.sim.close();
    }
  });
});

describe('7. writes', () => {
  it('does not resend assignLicense after a 5xx (the write may have landed); the caller re-reads and sees it did', async () => {
    const adele = await user('adele@contoso.com');
    sim.faults = { lostWriteResponseRate: 1 };
    const f = failure(await graph.assignLicenses(adele.id, [skuIdOf('ENTERPRISEPACK')]));
    expect(f).toMatchObject({ transient: true, status: 504 });
    expect(sim.record.byKind.assignLicense).toBe(1);
    expect((await user('adele@contoso.com')).skuIds).toEqual([skuIdOf('ENTERPRISEPACK')]);
  });

  it('still resends a throttled assignLicense after Retry-After (a 429 was not processed)', async () => {
    const adele = await user('adele@contoso.com');
    sim.faults = { throttleStormUntil: clock.t + 3_000 };
    expect((await graph.assignLicenses(adele.id, [skuIdOf('ENTERPRISEPACK')])).ok).toBe(true);
    expect(slept).toEqual([3_000]);
  });

  it('never sends an assignLicense with nothing to change; Graph (and the simulator) refuse one', async () => {
    const adele = await user('adele@contoso.com');
    expect(await graph.assignLicenses(adele.id, [])).toEqual({ ok: true, value: undefined });
    expect(sim.record.byKind.assignLicense).toBe(0);
    const r = await raw('POST', `/v1.0/users/${adele.id}/assignLicense`, { addLicenses: [], removeLicenses: [] });
    expect([r.status, r.body.error.message]).toEqual([
      400,
      'No license changes provided. At least one license to add or remove must be specified.',
    ]);
  });
});

describe('8. the Teams service limit', () => {
  it('answers Teams reads beyond 30 per second with 429 and Retry-After, per $batch item; the adapter waits and finishes', async () => {
    const still = new StillClock();
    const waits: number[] = [];
    const s = await simulatorWithAdapter(
      { tenant, clock: still },
      {
        batchConcurrency: 1,
        sleep: async (ms) => {
          waits.push(ms);
          still.t += ms;
        },
      },
    );
    try {
      const ids = await s.graph.readUsers(Array.from({ length: 45 }, (_, i) => `bulk${i}@contoso.com`));
      const userIds = [...ids.values()].map((r) => (r.ok ? r.value.id : ''));
      // 45 reads in $batches of 20: 30 pass in the first second, 10 of the second batch wait one second, then the rest pass.
      const r = await s.graph.readTeamsFeatures(userIds);
      expect([...r.values()].every((x) => x.ok)).toBe(true);
      expect([s.sim.record.throttled, s.sim.record.byKind.teamsUserConfiguration, waits]).toEqual([10, 55, [1_000]]);
      still.t += 2_000;
      const agent = new Agent({ connect: { ca: s.sim.caPem } });
      const batch = async () => {
        const res = await fetch(`${s.sim.url}/v1.0/$batch`, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: `Bearer ${await tokenFor(s.sim)}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            requests: userIds
              .slice(0, 20)
              .map((id, i) => ({ id: String(i), method: 'GET', url: `/admin/teams/userConfigurations/${id}` })),
          }),
        });
        return ((await res.json()) as { responses: { status: number; headers: Record<string, string> }[] }).responses;
      };
      const first = await batch();
      const second = await batch();
      await agent.close();
      expect(first.every((x) => x.status === 200)).toBe(true);
      expect(second.map((x) => x.status)).toEqual([...Array(10).fill(200), ...Array(10).fill(429)]);
      expect(second[19]!.headers['Retry-After']).toBe('1');
    } finally {
      await s.sim.close();
    }
  });
});
