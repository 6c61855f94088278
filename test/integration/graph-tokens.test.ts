// The simulator as the tenant's Entra ID: the real Graph adapter signs in through @azure/identity against the
// simulator's authority (a client secret, a certificate, or a person's device-code sign-in), and the simulated Graph
// checks every token as Graph does: signature, audience, lifetime, the permissions of each endpoint's page, and for a
// delegated call the signed-in person's directory role.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { DeviceCodeCredential, type TokenCredential } from '@azure/identity';
import { generate } from 'selfsigned';
import { Agent, fetch } from 'undici';
import { SkipAheadClock } from '../../local/clock';
import { startGraphSimulator, type GraphSimulator } from '../../local/graph-sim/server';
import { defaultGrant, ENDPOINT_PERMISSIONS } from '../../local/graph-sim/permissions';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import { graphCredential } from '../../shared/adapters/graph-credential';
import type { GraphFailure, GraphResult } from '../../shared/domain/directory';
import { adapterFor, simCredential } from '../support/graph';
import { skuIdOf, tenantSkus } from '../support/tenant';

const APP = '5b1f4d1e-0c3a-4b55-9a7e-2f64c3e1a001';

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10 }),
  users: [{ userPrincipalName: 'adele@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0 }],
  identity: {
    admins: [
      { userPrincipalName: 'lic@contoso.com', directoryRoles: ['License Administrator'] },
      { userPrincipalName: 'teams@contoso.com', directoryRoles: ['Teams Administrator'] },
    ],
  },
};

const failure = <T>(r: GraphResult<T> | undefined): GraphFailure => {
  if (!r || r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
};
const noWait = { sleep: async () => undefined, retries: 0 };

let sim: GraphSimulator;
beforeEach(async () => {
  sim = await startGraphSimulator({ tenant, clock: new SkipAheadClock(), throttling: false });
});
afterEach(async () => {
  await sim.close();
});

describe('app-only tokens', () => {
  it('grants by default exactly infra/graph-permissions.json for the default settings, and each is one the pages list', async () => {
    expect(sim.permissions).toEqual(defaultGrant({}));
    expect(defaultGrant({ DIALTONE_SET_USAGE_LOCATION: 'false', DIALTONE_PHONE_NUMBERS: 'off' })).toEqual([
      'LicenseAssignment.Read.All',
      'LicenseAssignment.ReadWrite.All',
      'TeamsUserConfiguration.Read.All',
      'User.Read.All',
    ]);
    const listed = new Set(Object.values(ENDPOINT_PERMISSIONS).flatMap((e) => e.application));
    for (const p of sim.permissions) expect([p, listed.has(p)]).toEqual([p, true]);
    // The token carries them in `roles`, for Graph's audience and this tenant.
    const token = (await simCredential(sim).getToken(`${sim.url}/.default`))!.token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      tid: sim.authority.tenantId,
      appid: sim.authority.defaultApp.clientId,
      idtyp: 'app',
      roles: sim.permissions,
    });
    expect(claims['scp']).toBeUndefined();
  });

  it('an expired token is answered 401 InvalidAuthenticationToken, and the adapter says the token was refused', async () => {
    const graph = adapterFor(sim, noWait);
    expect((await graph.listSubscribedSkus()).ok).toBe(true);
    // Graph's clock two hours ahead of the authority's: the one-hour token the credential holds has expired for it.
    sim.tokenClockAheadMs = 2 * 3_600_000;
    const f = failure(await graph.listSubscribedSkus());
    expect(f).toMatchObject({
      ok: false,
      status: 401,
      code: 'InvalidAuthenticationToken',
      reason: 'forbidden',
      transient: false,
    });
    expect(f.message).toMatch(
      /^Graph answered 401 to GET \/subscribedSkus: it did not accept the app's token .* Graph said: Lifetime validation failed, the token is expired\.$/,
    );
    // Every item of a $batch is refused with the envelope.
    const users = failure((await graph.readUsers(['adele@contoso.com'])).get('adele@contoso.com'));
    expect([users.status, users.code]).toEqual([401, 'InvalidAuthenticationToken']);
    expect(sim.record.byKind.subscribedSkus).toBe(1);
  });

  it('a token for another resource is answered 401 "Invalid audience"', async () => {
    const real = simCredential(sim);
    const storageToken: TokenCredential = {
      getToken: (_scopes, options) => real.getToken('https://storage.azure.com/.default', options),
    };
    const graph = new GraphLicensingDirectory({
      baseUrl: sim.url,
      credential: storageToken,
      extraCaPem: sim.caPem,
      ...noWait,
    });
    const f = failure(await graph.listSubscribedSkus());
    expect([f.status, f.code]).toEqual([401, 'InvalidAuthenticationToken']);
    expect(f.message).toMatch(/Graph said: Access token validation failure\. Invalid audience\.$/);
    expect(sim.record.byKind.subscribedSkus).toBe(0);
  });

  it('a token signed by anyone but the authority is refused, and so is a resource the tenant does not hold', async () => {
    const agent = new Agent({ connect: { ca: sim.caPem } });
    try {
      const good = (await simCredential(sim).getToken(`${sim.url}/.default`))!.token;
      const [h, p] = good.split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), roles: ['Directory.ReadWrite.All'] })).toString('base64url')}.${good.split('.')[2]}`;
      const res = await fetch(`${sim.url}/v1.0/subscribedSkus`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${forged}` },
      });
      expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([
        401,
        'InvalidAuthenticationToken',
      ]);
    } finally {
      await agent.close();
    }
    await expect(simCredential(sim).getToken('https://contoso.example/.default')).rejects.toThrow(/AADSTS500011/);
  });

  it('a wrong client secret is refused by the authority (AADSTS7000215)', async () => {
    const app = sim.authority.defaultApp;
    const wrong = graphCredential(
      {
        kind: 'appRegistration',
        tenantId: sim.authority.tenantId,
        clientId: app.clientId,
        secret: 'not-the-secret',
        authorityHost: sim.url,
        instanceDiscovery: false,
      },
      sim.caPem,
    );
    await expect(wrong.getToken(`${sim.url}/.default`)).rejects.toThrow(/AADSTS7000215/);
    expect(sim.authority.issued.app).toBe(0);
    // Through the adapter: a failure that no retry mends, saying the app could not sign in; Graph saw nothing.
    const graph = new GraphLicensingDirectory({
      baseUrl: sim.url,
      credential: wrong,
      extraCaPem: sim.caPem,
      sleep: async () => undefined,
    });
    const f = failure(await graph.listSubscribedSkus());
    expect(f).toMatchObject({ status: 0, code: 'SignInFailed', reason: 'forbidden', transient: false });
    expect(f.message).toMatch(/^the app could not sign in for a Graph token; .* Entra ID said: .*AADSTS7000215/);
    expect(sim.record.requests).toBe(0);
  });

  it('signs in with a certificate (ClientCertificateCredential) and refuses one the app does not have', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialtone-cert-'));
    try {
      const make = async () => {
        const pems = await generate([{ name: 'commonName', value: 'dialtone' }], {
          keySize: 2048,
          algorithm: 'sha256',
        });
        return { cert: pems.cert, pem: `${pems.private}\n${pems.cert}` };
      };
      const registered = await make();
      const other = await make();
      await sim.close();
      sim = await startGraphSimulator({
        tenant: { ...tenant, identity: { apps: [{ clientId: APP, certificate: registered.cert }] } },
        clock: new SkipAheadClock(),
        throttling: false,
      });
      const signIn = (pem: string, name: string) => {
        writeFileSync(join(dir, name), pem);
        return graphCredential(
          {
            kind: 'appRegistration',
            tenantId: sim.authority.tenantId,
            clientId: APP,
            certificatePath: join(dir, name),
            authorityHost: sim.url,
            instanceDiscovery: false,
          },
          sim.caPem,
        );
      };
      const graph = new GraphLicensingDirectory({
        baseUrl: sim.url,
        credential: signIn(registered.pem, 'app.pem'),
        extraCaPem: sim.caPem,
        ...noWait,
      });
      expect((await graph.listSubscribedSkus()).ok).toBe(true);
      await expect(signIn(other.pem, 'other.pem').getToken(`${sim.url}/.default`)).rejects.toThrow(/AADSTS700027/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("delegated tokens: the permission in scp and the signed-in person's directory role", () => {
  /** A person's device-code sign-in, done as the browser page would (the simulator's /devicelogin). */
  function signedInAs(upn: string): TokenCredential {
    const agent = new Agent({ connect: { ca: sim.caPem } });
    return new DeviceCodeCredential({
      tenantId: sim.authority.tenantId,
      clientId: sim.authority.defaultApp.clientId,
      authorityHost: sim.url,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: [...rootCertificates, sim.caPem] },
      userPromptCallback: (info) => {
        void fetch(info.verificationUri, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user_code: info.userCode, userPrincipalName: upn }),
        })
          .then((r) => r.text())
          .catch(() => undefined)
          .finally(() => void agent.close());
      },
    });
  }
  const graphAs = (upn: string) =>
    new GraphLicensingDirectory({
      baseUrl: sim.url,
      credential: signedInAs(upn),
      extraCaPem: sim.caPem,
      writesPerSecond: 1000,
      ...noWait,
    });

  it('a License Administrator assigns licences; a Teams Administrator with the same consented scopes is refused 403', async () => {
    const lic = graphAs('lic@contoso.com');
    const adele = await lic.readUsers(['adele@contoso.com']);
    const id = (adele.get('adele@contoso.com') as { ok: true; value: { id: string } }).value.id;
    expect(await lic.assignLicenses(id, [skuIdOf('ENTERPRISEPACK')])).toEqual({ ok: true, value: undefined });
    expect(sim.authority.issued.user).toBe(1);

    const teams = graphAs('teams@contoso.com');
    const refused = failure(await teams.assignLicenses(id, [skuIdOf('ENTERPRISEPACK')]));
    expect(refused).toMatchObject({ status: 403, code: 'Authorization_RequestDenied', reason: 'forbidden' });
    expect(failure(await teams.listSubscribedSkus()).status).toBe(403);
    // Teams' own reads are the Teams Administrator's, not the License Administrator's.
    expect((await teams.readTeamsFeatures([id])).get(id)).toMatchObject({ ok: true });
    expect(failure((await lic.readTeamsFeatures([id])).get(id))).toMatchObject({ status: 403, code: 'Forbidden' });
    expect(sim.record.stateChangingWrites.filter((w) => w.kind === 'assignLicense')).toHaveLength(1);
  });

  it('a delegated token without the permission in scp is refused whatever the role', async () => {
    sim.authority.defaultApp.delegated = ['User.Read.All'];
    const lic = graphAs('lic@contoso.com');
    expect((await lic.readUsers(['adele@contoso.com'])).get('adele@contoso.com')).toMatchObject({ ok: true });
    expect(failure(await lic.listSubscribedSkus())).toMatchObject({ status: 403, code: 'Authorization_RequestDenied' });
  });
});

describe("an app holding License Administrator at an administrative unit's scope (the tenant file's administrativeUnit)", () => {
  const unitTenant: TenantFile = {
    skus: tenantSkus({ ENTERPRISEPACK: 10 }),
    users: [
      { userPrincipalName: 'hire@contoso.com', usageLocation: null },
      { userPrincipalName: 'ceo@contoso.com', usageLocation: null },
    ],
    administrativeUnit: { members: ['hire@contoso.com'] },
  };
  /** Sets a usage location and assigns a licence to each user with this grant: what Graph answered each write. */
  async function writes(permissions: readonly string[]): Promise<Record<string, (number | undefined)[]>> {
    const s = await startGraphSimulator({
      tenant: unitTenant,
      clock: new SkipAheadClock(),
      throttling: false,
      permissions,
    });
    try {
      const graph = adapterFor(s, noWait);
      const out: Record<string, (number | undefined)[]> = {};
      for (const upn of ['hire@contoso.com', 'ceo@contoso.com']) {
        const id = s.tenant.findUser(upn)!.id;
        const status = (r: GraphResult<void>) => (r.ok ? 200 : r.status);
        out[upn] = [
          status(await graph.setUsageLocation(id, 'US')),
          status(await graph.assignLicenses(id, [skuIdOf('ENTERPRISEPACK')])),
        ];
      }
      return out;
    } finally {
      await s.close();
    }
  }

  it("with the hook's unit-mode grant (reads only) writes to members through the role and is refused 403 for anyone else", async () => {
    const grant = defaultGrant({ DIALTONE_GRAPH_SCOPE: 'administrative-unit', DIALTONE_PHONE_NUMBERS: 'off' });
    expect(grant).toEqual(['LicenseAssignment.Read.All', 'TeamsUserConfiguration.Read.All', 'User.Read.All']);
    expect(await writes(grant)).toEqual({ 'hire@contoso.com': [200, 200], 'ceo@contoso.com': [403, 403] });
  });

  it('with the tenant-wide write permissions reaches every user, as an application permission does in Entra', async () => {
    expect(await writes(defaultGrant({ DIALTONE_PHONE_NUMBERS: 'off' }))).toEqual({
      'hire@contoso.com': [200, 200],
      'ceo@contoso.com': [200, 200],
    });
  });
});
