// Every error the Graph simulator produces, compared with a documented or publicly recorded real one: one fixture
// per error in test/fixtures/graph-errors, each saying where its text comes from (or that no record was found).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { SkipAheadClock } from '../../local/clock';
import { startGraphSimulator, type GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { appToken, simCredential } from '../support/graph';
import { skuIdOf, tenantSkus } from '../support/tenant';

const DIR = join(__dirname, '..', 'fixtures', 'graph-errors');
interface ErrorFixture {
  source: string;
  recorded: boolean;
  status: number;
  error: { code: string; message: string };
}
const fixture = (name: string) => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as ErrorFixture;

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, ENTERPRISEPREMIUM: 10, MCOEV: 10, MCOPSTN1: 0, MCOPSTN2: 5 }),
  users: [
    { userPrincipalName: 'adele@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'nolocation@contoso.com', usageLocation: null },
    { userPrincipalName: 'e5@contoso.com', usageLocation: 'US', assignedSkus: ['ENTERPRISEPREMIUM', 'MCOPSTN2'] },
    {
      userPrincipalName: 'group@contoso.com',
      usageLocation: 'US',
      assignedSkus: [{ sku: 'ENTERPRISEPACK', viaGroup: 'All staff' }],
    },
    { userPrincipalName: 'notinteams@contoso.com', usageLocation: 'US', teamsReadStatus: 404 },
    { userPrincipalName: 'noconsent@contoso.com', usageLocation: 'US', teamsReadStatus: 403 },
    { userPrincipalName: 'badaudience@contoso.com', usageLocation: 'US', teamsReadStatus: 401 },
  ],
};

let sim: GraphSimulator;
let agent: Agent;
let token: string;
beforeAll(async () => {
  sim = await startGraphSimulator({ tenant, clock: new SkipAheadClock() });
  agent = new Agent({ connect: { ca: sim.caPem } });
  token = await appToken(sim);
});
afterAll(async () => {
  await sim.close();
  await agent.close();
});

interface Answer {
  status: number;
  error: { code: string; message: string };
}
async function call(method: string, path: string, body?: unknown, auth = true): Promise<Answer> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    dispatcher: agent,
    headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, error: ((await res.json()) as { error: Answer['error'] }).error };
}
const assign = (user: string, add: string[], remove: string[] = []) =>
  call('POST', `/v1.0/users/${user}/assignLicense`, {
    addLicenses: add.map((skuId) => ({ skuId, disabledPlans: [] })),
    removeLicenses: remove,
  });
const userId = async (upn: string) =>
  (
    (await (
      await fetch(`${sim.url}/v1.0/users/${upn}`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } })
    ).json()) as { id: string }
  ).id;
async function batchItem(requests: unknown[], id: string): Promise<Answer> {
  const res = await fetch(`${sim.url}/v1.0/$batch`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ requests }),
  });
  const item = (
    (await res.json()) as { responses: { id: string; status: number; body: { error: Answer['error'] } }[] }
  ).responses.find((r) => r.id === id)!;
  return { status: item.status, error: item.body.error };
}

/** Calls with another bearer token for a while. */
async function withToken<T>(other: string, f: () => Promise<T>): Promise<T> {
  const saved = token;
  token = other;
  try {
    return await f();
  } finally {
    token = saved;
  }
}

/** How to make the simulator produce each error. */
const PRODUCERS: Record<string, () => Promise<Answer>> = {
  'no-token': () => call('GET', '/v1.0/subscribedSkus', undefined, false),
  // A token the authority issued for another resource (Azure Storage), sent to Graph.
  'invalid-audience': async () =>
    withToken((await simCredential(sim).getToken('https://storage.azure.com/.default'))!.token, () =>
      call('GET', '/v1.0/subscribedSkus'),
    ),
  // The tenant file's teamsReadStatus 401 answers the same.
  'invalid-audience-teams': async () =>
    call('GET', `/v1.0/admin/teams/userConfigurations/${await userId('badaudience@contoso.com')}`),
  // A token whose lifetime has passed by Graph's clock.
  'expired-token': async () => {
    sim.tokenClockAheadMs = 2 * 3_600_000;
    try {
      return await call('GET', '/v1.0/subscribedSkus');
    } finally {
      sim.tokenClockAheadMs = 0;
    }
  },
  // The grant changes for tokens issued after it: a new token without any permission subscribedSkus accepts.
  'directory-forbidden': async () => {
    sim.permissions = ['User.Read.All'];
    try {
      return await withToken(await appToken(sim), () => call('GET', '/v1.0/subscribedSkus'));
    } finally {
      sim.permissions = undefined;
    }
  },
  'teams-forbidden': async () =>
    call('GET', `/v1.0/admin/teams/userConfigurations/${await userId('noconsent@contoso.com')}`),
  'teams-user-not-found': async () =>
    call('GET', `/v1.0/admin/teams/userConfigurations/${await userId('notinteams@contoso.com')}`),
  'user-not-found': () => call('GET', '/v1.0/users/ghost@contoso.com'),
  'invalid-usage-location': () => assign('nolocation@contoso.com', [skuIdOf('ENTERPRISEPACK')]),
  'no-seats': () => assign('e5@contoso.com', [skuIdOf('MCOPSTN1')], [skuIdOf('MCOPSTN2')]),
  'mutually-exclusive': () => assign('e5@contoso.com', [skuIdOf('MCOPSTN1')]),
  dependency: () => assign('adele@contoso.com', [skuIdOf('MCOEV')]),
  'unknown-sku': () => assign('adele@contoso.com', ['11111111-1111-4111-8111-111111111111']),
  'remove-not-held': () => assign('adele@contoso.com', [], [skuIdOf('MCOEV')]),
  'remove-inherited': () => assign('group@contoso.com', [], [skuIdOf('ENTERPRISEPACK')]),
  'no-license-changes': () => assign('adele@contoso.com', []),
  'missing-parameters': () => call('POST', '/v1.0/users/adele@contoso.com/assignLicense', { addLicenses: [] }),
  'invalid-payload': () =>
    call('POST', '/v1.0/users/adele@contoso.com/assignLicense', { addLicenses: [{ skuId: 7 }], removeLicenses: [] }),
  'invalid-usage-location-value': () => call('PATCH', '/v1.0/users/adele@contoso.com', { usageLocation: 'USA' }),
  'empty-patch': () => call('PATCH', '/v1.0/users/adele@contoso.com'),
  'not-json': () => call('POST', '/v1.0/users/adele@contoso.com/assignLicense', '{not json'),
  'unknown-segment': () => call('GET', '/v1.0/nothing/here'),
  'invalid-version': () => call('GET', '/beta/subscribedSkus'),
  'batch-too-large': () =>
    call('POST', '/v1.0/$batch', {
      requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/subscribedSkus' })),
    }),
  'batch-failed-dependency': () =>
    batchItem(
      [
        { id: 'a', method: 'GET', url: '/users/ghost@contoso.com' },
        { id: 'b', method: 'GET', url: '/users/adele@contoso.com', dependsOn: ['a'] },
      ],
      'b',
    ),
  throttled: async () => {
    sim.faults = { throttleStormUntil: sim.clock.now() + 60_000 };
    try {
      return await call('GET', '/v1.0/subscribedSkus');
    } finally {
      sim.faults = {};
    }
  },
  unavailable: async () => {
    sim.faults = { errorRate: 1 };
    try {
      for (;;) {
        const r = await call('GET', '/v1.0/subscribedSkus');
        if (r.status === 503) return r;
      }
    } finally {
      sim.faults = {};
    }
  },
};

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

describe('every simulator error has a fixture saying where its text comes from', () => {
  const names = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();

  it('has one fixture per error the simulator produces, each with a source', () => {
    expect(names).toEqual(Object.keys(PRODUCERS).sort());
    for (const n of names) expect(fixture(n).source.length).toBeGreaterThan(20);
  });

  it.each(Object.keys(PRODUCERS).sort())(
    '%s: the simulator answers with the recorded status, code and text',
    async (name) => {
      const want = fixture(name);
      const got = await PRODUCERS[name]!();
      expect({ status: got.status, code: got.error.code, message: got.error.message.replace(GUID, '<guid>') }).toEqual({
        status: want.status,
        code: want.error.code,
        message: want.error.message,
      });
    },
  );
});
