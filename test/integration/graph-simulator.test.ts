// The simulator speaks Graph's wire format and enforces Graph's licensing rules; driven over HTTPS with raw requests
// so that what is checked is the wire, not the adapter.
import { Agent, fetch } from 'undici';
import { SkipAheadClock } from '../../local/clock';
import { startGraphSimulator, type GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { appToken, graphDoc } from '../support/graph';
import { skuIdOf, tenantSkus } from '../support/tenant';

const doc = graphDoc;

const tenant: TenantFile = {
  skus: tenantSkus({
    ENTERPRISEPACK: 10,
    ENTERPRISEPREMIUM: 10,
    MCOEV: 10,
    MCOPSTN1: 1,
    MCOPSTN2: 5,
    MCOMEETACPEA: 5,
    MCOPSTNC: 5,
  }),
  users: [
    { userPrincipalName: 'adele@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 120 },
    { userPrincipalName: 'nolocation@contoso.com', usageLocation: null },
    {
      userPrincipalName: 'e5@contoso.com',
      usageLocation: 'GB',
      assignedSkus: ['ENTERPRISEPREMIUM'],
      teamsProvisioningMinutes: null,
    },
    { userPrincipalName: 'second@contoso.com', usageLocation: 'US' },
  ],
};

let sim: GraphSimulator;
let clock: SkipAheadClock;
let agent: Agent;
let token: string;

async function call(
  method: string,
  path: string,
  body?: unknown,
  auth = true,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    dispatcher: agent,
    headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
const assign = (user: string, parts: string[], remove: string[] = []) =>
  call('POST', `/v1.0/users/${user}/assignLicense`, {
    addLicenses: parts.map((p) => ({ skuId: skuIdOf(p), disabledPlans: [] })),
    removeLicenses: remove,
  });

beforeEach(async () => {
  clock = new SkipAheadClock();
  sim = await startGraphSimulator({ tenant, clock });
  agent = new Agent({ connect: { ca: sim.caPem } });
  token = await appToken(sim);
});
afterEach(async () => {
  await sim.close();
  await agent.close();
});

function expectSameShape(actual: Record<string, unknown>, documented: Record<string, unknown>) {
  for (const [k, v] of Object.entries(documented)) {
    expect(actual).toHaveProperty([k]);
    expect([k, Array.isArray(actual[k]) ? 'array' : typeof actual[k]]).toEqual([
      k,
      Array.isArray(v) ? 'array' : typeof v,
    ]);
  }
}

describe('Graph simulator: wire format', () => {
  it('answers 401 with Graph error shape without a bearer token', async () => {
    const r = await call('GET', '/v1.0/subscribedSkus', undefined, false);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('InvalidAuthenticationToken');
  });

  it('matches the documented shapes of subscribedSkus, a $select-ed user, a Teams user configuration and an error', async () => {
    const skus = await call('GET', '/v1.0/subscribedSkus');
    expectSameShape(skus.body, doc('subscribedSkus.json'));
    expectSameShape(skus.body.value[0], (doc('subscribedSkus.json')['value'] as Record<string, unknown>[])[0]!);
    const user = await call(
      'GET',
      '/v1.0/users/e5@contoso.com?$select=id,userPrincipalName,usageLocation,assignedLicenses,assignedPlans',
    );
    expectSameShape(user.body, doc('user-select.json'));
    expect(Object.keys(user.body).sort()).toEqual(Object.keys(doc('user-select.json')).sort());
    // The documented response wraps the configuration in "value" (teamsadministration-teamsuserconfiguration-get.md).
    const cfg = await call('GET', `/v1.0/admin/teams/userConfigurations/${user.body.id}`);
    expectSameShape(cfg.body, doc('teamsUserConfiguration.json'));
    expectSameShape(cfg.body.value, doc('teamsUserConfiguration.json')['value'] as Record<string, unknown>);
    const err = await assign('nolocation@contoso.com', ['ENTERPRISEPACK']);
    expectSameShape(err.body, doc('error.json'));
    expectSameShape(err.body.error, doc('error.json')['error'] as Record<string, unknown>);
    const batch = await call('POST', '/v1.0/$batch', {
      requests: [{ id: '1', method: 'GET', url: '/users/adele@contoso.com' }],
    });
    expectSameShape(batch.body, doc('batch-response.json'));
  });

  it('returns usageLocation and licences only when $select asks for them, as Graph does', async () => {
    const r = await call('GET', '/v1.0/users/adele@contoso.com');
    expect(r.body).not.toHaveProperty('usageLocation');
    expect(r.body.userPrincipalName).toBe('adele@contoso.com');
  });

  it('answers bad input with Graph error shapes, never a crash', async () => {
    for (const r of [
      await call('POST', '/v1.0/users/adele@contoso.com/assignLicense', '{not json'),
      await call('POST', '/v1.0/$batch', '{"requests": 5}'),
      await call('POST', '/v1.0/$batch', {
        requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/subscribedSkus' })),
      }),
      await call('GET', '/v1.0/nothing/here'),
      await call('GET', '/beta/subscribedSkus'),
      await call('POST', '/v1.0/users/adele@contoso.com/assignLicense', {
        addLicenses: [{ skuId: 7 }],
        removeLicenses: [],
      }),
      await call('POST', '/v1.0/users/adele@contoso.com/assignLicense', { addLicenses: [] }),
    ]) {
      expect(r.status).toBe(400);
      expect(typeof r.body.error.code).toBe('string');
      expect(typeof r.body.error.message).toBe('string');
    }
    expect((await call('GET', '/v1.0/subscribedSkus')).status).toBe(200);
  });

  it('answers each $batch item with its own status and honours dependsOn with 424', async () => {
    const r = await call('POST', '/v1.0/$batch', {
      requests: [
        { id: 'a', method: 'GET', url: '/users/ghost@contoso.com' },
        { id: 'b', method: 'GET', url: '/users/adele@contoso.com', dependsOn: ['a'] },
        { id: 'c', method: 'GET', url: '/users/adele@contoso.com?$select=usageLocation' },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.responses.map((x: { id: string; status: number }) => [x.id, x.status])).toEqual([
      ['a', 404],
      ['b', 424],
      ['c', 200],
    ]);
    expect(r.body.responses[2].body.usageLocation).toBe('US');
  });
});

describe('Graph simulator: licensing rules', () => {
  it('assigns, consumes a seat only for a SKU the user did not hold, and records the state-changing write', async () => {
    expect((await assign('adele@contoso.com', ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'])).status).toBe(200);
    const again = await assign('adele@contoso.com', ['ENTERPRISEPACK']);
    expect(again.status).toBe(200);
    const skus = (await call('GET', '/v1.0/subscribedSkus')).body.value as {
      skuPartNumber: string;
      consumedUnits: number;
    }[];
    expect(skus.find((s) => s.skuPartNumber === 'ENTERPRISEPACK')!.consumedUnits).toBe(1);
    expect(sim.record.stateChangingWrites.map((w) => w.kind)).toEqual(['assignLicense']);
  });

  it('refuses without a usage location, with Graph text', async () => {
    const r = await assign('nolocation@contoso.com', ['ENTERPRISEPACK']);
    expect([r.status, r.body.error.message]).toEqual([
      400,
      'License assignment cannot be done for user with invalid usage location.',
    ]);
    expect((await call('PATCH', '/v1.0/users/nolocation@contoso.com', { usageLocation: 'DE' })).status).toBe(204);
    expect((await assign('nolocation@contoso.com', ['ENTERPRISEPACK'])).status).toBe(200);
  });

  it('refuses when no seat is left', async () => {
    expect((await assign('adele@contoso.com', ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'])).status).toBe(200);
    const r = await assign('second@contoso.com', ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    expect(r.body.error.message).toBe(
      `Subscription with SKU ${skuIdOf('MCOPSTN1')} does not have any available licenses.`,
    );
  });

  it('refuses a calling plan without Phone System, and accepts it when E5 carries Phone System', async () => {
    expect((await assign('adele@contoso.com', ['MCOPSTN2'])).body.error.message).toMatch(
      /^License assignment failed because service plan 5a10155d-f5c1-411a-a8ec-e99aae125390 depends on the service plan\(s\) 4828c8ec/,
    );
    expect((await assign('e5@contoso.com', ['MCOPSTN2'])).status).toBe(200);
  });

  it('refuses pay-per-minute conferencing without Communications Credits (MCOPSTNC carries them)', async () => {
    expect((await assign('adele@contoso.com', ['MCOMEETACPEA'])).body.error.message).toMatch(
      /depends on the service plan/,
    );
    expect((await assign('adele@contoso.com', ['MCOMEETACPEA', 'MCOPSTNC'])).status).toBe(200);
  });

  it('refuses mutually exclusive plans (from tenant data), unknown skuIds, removing what is not held, unknown users', async () => {
    expect((await assign('e5@contoso.com', ['MCOPSTN1', 'MCOPSTN2'])).body.error.message).toMatch(
      /are mutually exclusive\.$/,
    );
    const unknown = await call('POST', '/v1.0/users/adele@contoso.com/assignLicense', {
      addLicenses: [{ skuId: '11111111-1111-4111-8111-111111111111', disabledPlans: [] }],
      removeLicenses: [],
    });
    expect(unknown.body.error.message).toBe(
      'License 11111111-1111-4111-8111-111111111111 does not correspond to a valid company License.',
    );
    expect(
      (
        await call('POST', '/v1.0/users/adele@contoso.com/assignLicense', {
          addLicenses: [],
          removeLicenses: [skuIdOf('MCOEV')],
        })
      ).body.error.message,
    ).toBe('User does not have a corresponding license.');
    const ghost = await assign('ghost@contoso.com', ['MCOEV']);
    expect([ghost.status, ghost.body.error.code]).toEqual([404, 'Request_ResourceNotFound']);
    expect(sim.record.stateChangingWrites).toEqual([]);
  });
});

describe('Graph simulator: Teams provisioning and time', () => {
  it("shows CallingPlan only after the user's provisioning minutes, PhoneSystem after a short delay, and never when null", async () => {
    const adele = (await call('GET', '/v1.0/users/adele@contoso.com')).body.id as string;
    const e5 = (await call('GET', '/v1.0/users/e5@contoso.com')).body.id as string;
    await assign('adele@contoso.com', ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    await assign('e5@contoso.com', ['MCOPSTN2']);
    const features = async (id: string) =>
      (await call('GET', `/v1.0/admin/teams/userConfigurations/${id}`)).body.value.featureTypes as string[];
    expect(await features(adele)).toEqual(['Teams']);
    clock.skipTo(clock.now() + 6 * 60_000);
    expect(await features(adele)).toEqual(['Teams', 'PhoneSystem']);
    clock.skipTo(clock.now() + 113 * 60_000);
    expect(await features(adele)).not.toContain('CallingPlan');
    clock.skipTo(clock.now() + 2 * 60_000);
    expect(await features(adele)).toEqual(['Teams', 'PhoneSystem', 'CallingPlan']);
    clock.skipTo(clock.now() + 48 * 3600_000);
    expect(await features(e5)).not.toContain('CallingPlan');
    expect(sim.record.callingPlanSeenAt.has(adele)).toBe(true);
  });

  it('shares its clock offset over /_sim/clock', async () => {
    const r = await fetch(`${sim.url}/_sim/clock`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify({ offsetMs: 3_600_000 }),
    });
    expect(((await r.json()) as { offsetMs: number }).offsetMs).toBe(3_600_000);
    expect(clock.offset).toBe(3_600_000);
  });
});

describe('Graph simulator: throttling and faults', () => {
  it('limits writes to 3,000 per 150 s with 429 and Retry-After, per $batch item too, and frees the window as time passes', async () => {
    const requests = Array.from({ length: 20 }, (_, i) => ({
      id: String(i),
      method: 'PATCH',
      url: '/users/adele@contoso.com',
      body: { usageLocation: 'US' },
    }));
    for (let i = 0; i < 150; i++) expect((await call('POST', '/v1.0/$batch', { requests })).status).toBe(200);
    const over = await call('POST', '/v1.0/$batch', { requests: requests.slice(0, 2) });
    expect(over.body.responses.map((r: { status: number }) => r.status)).toEqual([429, 429]);
    expect(Number(over.body.responses[0].headers['Retry-After'])).toBeGreaterThan(100);
    const top = await call('PATCH', '/v1.0/users/adele@contoso.com', { usageLocation: 'US' });
    expect(top.status).toBe(429);
    expect(Number(top.headers.get('retry-after'))).toBeGreaterThan(0);
    clock.skipTo(clock.now() + 151_000);
    expect((await call('PATCH', '/v1.0/users/adele@contoso.com', { usageLocation: 'US' })).status).toBe(204);
    expect(sim.record.throttled).toBe(3);
  });

  it('injects 503/504 at the configured rate and 429 storms, and can switch throttling off', async () => {
    sim.faults = { errorRate: 1 };
    expect([503, 504]).toContain((await call('GET', '/v1.0/subscribedSkus')).status);
    sim.faults = { throttleStormUntil: clock.now() + 5000 };
    expect((await call('GET', '/v1.0/subscribedSkus')).status).toBe(429);
    sim.faults = {};
    sim.throttling = false;
    expect((await call('GET', '/v1.0/subscribedSkus')).status).toBe(200);
  });
});
