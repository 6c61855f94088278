// The Teams user configurations' list form (GET /admin/teams/userConfigurations,
// teamsadministration-teamsadminroot-list-userconfigurations.md) in the simulator and the adapter's sweep of it: pages
// and next links, one Teams read per page, the documented query options only, $select, a filter on modifiedDateTime,
// and the permission. The real Graph client over HTTPS; time moves only when the test moves it.
import { Agent, fetch } from 'undici';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import type { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import type { GraphFailure, GraphResult, TeamsSweep } from '../../shared/domain/directory';
import { adapterFor, appToken, simulatorWithAdapter } from '../support/graph';
import { skuIdOf } from '../support/tenant';

const USERS = 45;
const tenant: TenantFile = {
  skus: [
    { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: 100 },
    { skuPartNumber: 'MCOEV', prepaidUnits: 100 },
    { skuPartNumber: 'MCOPSTN1', prepaidUnits: 100 },
  ],
  users: [
    ...Array.from({ length: USERS }, (_, i) => ({
      userPrincipalName: `u${i}@contoso.com`,
      usageLocation: 'US',
      teamsProvisioningMinutes: 10,
    })),
    { userPrincipalName: 'notinteams@contoso.com', usageLocation: 'US', teamsReadStatus: 404 as const },
  ],
  numbers: [
    { telephoneNumber: '+14255550101', numberType: 'callingPlan', isoCountryCode: 'US', assignedTo: 'u4@contoso.com' },
    { telephoneNumber: '+14255550102', numberType: 'callingPlan', isoCountryCode: 'US' },
  ],
};

class StillClock {
  t = Date.parse('2026-11-02T09:00:00Z');
  now(): number {
    return this.t;
  }
}

let sim: GraphSimulator;
let graph: GraphLicensingDirectory;
let clock: StillClock;

beforeEach(async () => {
  clock = new StillClock();
  ({ sim, graph } = await simulatorWithAdapter(
    { tenant, clock },
    { sleep: async (ms) => void (clock.t += ms), writesPerSecond: 100_000 },
  ));
});
afterEach(() => sim.close());

function swept(r: GraphResult<TeamsSweep>): TeamsSweep {
  if (!r.ok) throw new Error(`sweep failed: ${r.message}`);
  return r.value;
}
function failure<T>(r: GraphResult<T>): GraphFailure {
  if (r.ok) throw new Error('expected a failure');
  return r;
}
async function raw(path: string): Promise<{ status: number; body: any }> {
  const agent = new Agent({ connect: { ca: sim.caPem } });
  try {
    const res = await fetch(`${sim.url}${path}`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${await appToken(sim)}` },
    });
    return { status: res.status, body: JSON.parse(await res.text()) };
  } finally {
    await agent.close();
  }
}
async function idOf(upn: string): Promise<string> {
  const r = (await graph.readUsers([upn])).get(upn);
  if (!r?.ok) throw new Error(`no user ${upn}`);
  return r.value.id;
}

describe('the list of Teams user configurations', () => {
  it('pages with $top and @odata.nextLink; each page is one Teams read; $select gives only what was asked', async () => {
    const first = await raw('/v1.0/admin/teams/userConfigurations?$select=id,featureTypes&$top=20');
    expect(first.status).toBe(200);
    expect(first.body.value).toHaveLength(20);
    expect(Object.keys(first.body.value[0]).sort()).toEqual(['featureTypes', 'id']);
    expect(first.body['@odata.nextLink']).toMatch(
      /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/admin\/teams\/userConfigurations\?.*\$skiptoken=/,
    );
    const reads = sim.record.teamsReads.length;
    const r = swept(await graph.listTeamsFeatures({ top: 20, maxPages: 10 }));
    // 45 users in Teams (the one not in Teams is not listed): pages of 20, 20 and 5.
    expect(r).toMatchObject({ pages: 3, complete: true });
    expect(r.features.size).toBe(USERS);
    expect(sim.record.teamsReads.length - reads).toBe(3);
    expect(sim.record.teamsReads.slice(reads).every((t) => t.list === true && t.priority === 'low')).toBe(true);
    expect(sim.record.byKind.teamsUserConfigurationList).toBe(4);
    expect(sim.record.byKind.teamsUserConfiguration).toBe(0);
  });

  it('stops at maxPages and says the sweep is not complete', async () => {
    const r = swept(await graph.listTeamsFeatures({ top: 10, maxPages: 2 }));
    expect(r).toMatchObject({ pages: 2, complete: false });
    expect(r.features.size).toBe(20);
  });

  it('shows the calling plan once Teams does, and a modifiedDateTime filter lists only what changed since', async () => {
    const ids = await Promise.all([0, 1, 2].map((i) => idOf(`u${i}@contoso.com`)));
    const assignedAt = clock.t;
    for (const id of ids)
      expect(
        (await graph.assignLicenses(id, [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')])).ok,
      ).toBe(true);
    clock.t += 11 * 60_000;
    const all = swept(await graph.listTeamsFeatures({ top: 999, maxPages: 5 }));
    for (const id of ids) expect(all.features.get(id)).toEqual(expect.arrayContaining(['Teams', 'CallingPlan']));
    const since = swept(await graph.listTeamsFeatures({ since: assignedAt, top: 999, maxPages: 5 }));
    expect([...since.features.keys()].sort()).toEqual([...ids].sort());
    // modifiedDateTime moved when the calling plan came to show (the resource: updated "each time the user's details are changed").
    const cfg = await raw(
      `/v1.0/admin/teams/userConfigurations?$select=id,modifiedDateTime&$filter=modifiedDateTime ge ${new Date(assignedAt + 10 * 60_000).toISOString()}`,
    );
    expect(cfg.body.value.map((v: { id: string }) => v.id).sort()).toEqual([...ids].sort());
  });

  it('answers each user on a page as the per-user read does, a licence taken away and a number held included', async () => {
    const [a, b] = await Promise.all(['u4@contoso.com', 'u5@contoso.com'].map(idOf));
    const licences = [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')];
    for (const id of [a!, b!]) expect((await graph.assignLicenses(id, licences)).ok).toBe(true);
    clock.t += 11 * 60_000;
    const page = async () => {
      const all: any[] = [];
      for (let next: string | undefined = '/v1.0/admin/teams/userConfigurations?$top=7'; next;) {
        const r = await raw(next);
        expect(r.status).toBe(200);
        all.push(...r.body.value);
        next = r.body['@odata.nextLink']?.slice(sim.url.length);
      }
      return new Map(all.map((v) => [v.id as string, v]));
    };
    // The entity as its own read answers it (in "value", as the get page's example shows), less its @odata.context.
    const one = async (id: string) => {
      const { ['@odata.context']: _context, ...entity } = (await raw(`/v1.0/admin/teams/userConfigurations/${id}`)).body
        .value;
      return entity;
    };
    let listed = await page();
    // Every user once, across pages of 7 resumed after each page's last id.
    expect(listed.size).toBe(USERS);
    for (const id of [a!, b!]) expect(listed.get(id)).toEqual(await one(id));
    expect(listed.get(a!).telephoneNumbers).toEqual([
      { telephoneNumber: '+14255550101', assignmentCategory: 'primary' },
    ]);
    expect(listed.get(b!).featureTypes).toContain('CallingPlan');
    // The calling plan taken away: the next page no longer shows it (nothing the simulator kept of the user is stale).
    expect((await graph.removeLicenses(b!, [skuIdOf('MCOPSTN1')])).ok).toBe(true);
    listed = await page();
    expect(listed.get(b!).featureTypes).not.toContain('CallingPlan');
    expect(listed.get(b!)).toEqual(await one(b!));
  });

  it('answers 400 for query options the page does not document, for properties the resource has not, and for a refused filter', async () => {
    for (const q of ['$skip=10', '$count=true', '$search="u1"']) {
      const r = await raw(`/v1.0/admin/teams/userConfigurations?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/^Query option '\$(skip|count|search)' is not allowed/);
    }
    expect((await raw('/v1.0/admin/teams/userConfigurations?$select=id,displayName')).status).toBe(400);
    expect(
      (await raw("/v1.0/admin/teams/userConfigurations?$filter=userPrincipalName eq 'u1@contoso.com'")).status,
    ).toBe(400);
    sim.faults = { teamsListRefuses: ['$filter'] };
    expect(failure(await graph.listTeamsFeatures({ since: clock.t, top: 999, maxPages: 5 }))).toMatchObject({
      status: 400,
      transient: false,
    });
    // The same list without the filter is still answered; with $top refused too, no sweep is.
    expect(swept(await graph.listTeamsFeatures({ top: 999, maxPages: 5 })).complete).toBe(true);
    sim.faults = { teamsListRefuses: ['$filter', '$top'] };
    expect(failure(await graph.listTeamsFeatures({ top: 999, maxPages: 5 }))).toMatchObject({ status: 400 });
  });

  it('needs TeamsUserConfiguration.Read.All, and a 403 names it', async () => {
    sim.permissions = ['User.Read.All', 'LicenseAssignment.ReadWrite.All'];
    graph = adapterFor(sim, { writesPerSecond: 100_000 });
    const refused = failure(await graph.listTeamsFeatures({ top: 999, maxPages: 5 }));
    expect(refused).toMatchObject({ status: 403, reason: 'forbidden' });
    expect(refused.message).toMatch(
      /GET \/admin\/teams\/userConfigurations: the app's identity needs the application permission TeamsUserConfiguration\.Read\.All/,
    );
  });

  it('counts each page against the Teams limit of 30 GETs a second', async () => {
    const before = sim.record.throttledByKind.teamsUserConfigurationList ?? 0;
    const pages = await Promise.all(
      Array.from({ length: 35 }, () => raw('/v1.0/admin/teams/userConfigurations?$select=id&$top=1')),
    );
    expect(pages.filter((p) => p.status === 429)).toHaveLength(5);
    expect((sim.record.throttledByKind.teamsUserConfigurationList ?? 0) - before).toBe(5);
  });
});
