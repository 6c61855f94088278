// The deployment's self-check on the local stack: /api/health answers anonymously with nothing but "ok"; the deep
// check proves every dependency with a real call and, with one permission taken away from the app in the Graph
// simulator (its `permissions` switch answers Graph's documented 403 for a call none of whose permissions is granted)
// or one storage resource gone, fails that check alone with a problem entry naming what is missing and how to grant
// it. `dialtone doctor` prints the same as a table.
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { startStack, type Stack } from '../../local/stack';
import { doctor } from '../../local/doctor';
import type { HealthReport } from '../../functions/health';
import { tenantSkus } from '../support/tenant';

const ALL = [
  'LicenseAssignment.Read.All',
  'LicenseAssignment.ReadWrite.All',
  'TeamsUserConfiguration.Read.All',
  'User.ReadWrite.All',
  'TeamsTelephoneNumber.ReadWrite.All',
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant: { skus: tenantSkus({ ENTERPRISEPACK: 1 }), users: [] } });
  // In Azure the template provisions the containers and the queue (infra/app/storage.bicep); locally the app makes
  // them on first use, so a fresh stack is given them here as a deployment would have them.
  const blobs = BlobServiceClient.fromConnectionString(stack.azurite.connectionString);
  for (const c of ['license-requests', 'license-reports', 'dialtone-budgets'])
    await blobs.getContainerClient(c).createIfNotExists();
  await QueueServiceClient.fromConnectionString(stack.azurite.connectionString)
    .getQueueClient('license-flags')
    .createIfNotExists();
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const deep = async (): Promise<{ status: number; type: string | null; body: HealthReport }> => {
  const r = await fetch(`${stack.host.url}/api/health/deep`, {
    headers: { 'x-functions-key': stack.host.functionKey },
  });
  return { status: r.status, type: r.headers.get('content-type'), body: (await r.json()) as HealthReport };
};
const failed = (report: HealthReport) => report.checks.filter((c) => !c.ok).map((c) => c.check);

describe('health', () => {
  it('answers liveness anonymously, with no detail', async () => {
    const r = await fetch(`${stack.host.url}/api/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('keeps the deep check for key holders', async () => {
    expect((await fetch(`${stack.host.url}/api/health/deep`)).status).toBe(401);
  });

  it('proves every dependency with a real call when everything is granted, and leaves nothing behind', async () => {
    stack.sim.permissions = ALL;
    const r = await deep();
    expect([r.status, r.body.status, failed(r.body)]).toEqual([200, 'ok', []]);
    expect(r.body.checks.map((c) => c.check)).toEqual([
      'graph-token',
      'graph-subscribed-skus',
      'graph-teams-configuration',
      'graph-phone-numbers',
      'blob-license-reports',
      'blob-dialtone-budgets',
      'blob-license-requests',
      'flags',
      'task-hub',
    ]);
    const blobs = BlobServiceClient.fromConnectionString(stack.azurite.connectionString);
    for (const c of ['license-reports', 'dialtone-budgets']) {
      const left: string[] = [];
      for await (const b of blobs.getContainerClient(c).listBlobsFlat({ prefix: 'health-probe/' })) left.push(b.name);
      expect([c, left]).toEqual([c, []]);
    }
    const queue = QueueServiceClient.fromConnectionString(stack.azurite.connectionString).getQueueClient(
      'license-flags',
    );
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
    // The simulator saw the harmless reads: the SKU list, a Teams read (for an id that is no user), one number page.
    expect(stack.sim.record.byKind.subscribedSkus).toBeGreaterThan(0);
    expect(stack.sim.record.byKind.listNumbers).toBeGreaterThan(0);
  });

  it.each([
    ['LicenseAssignment.Read.All', 'graph-subscribed-skus'],
    ['TeamsUserConfiguration.Read.All', 'graph-teams-configuration'],
    ['TeamsTelephoneNumber.ReadWrite.All', 'graph-phone-numbers'],
  ])(
    'without %s fails %s alone, as problem+json naming the permission and the command that grants it',
    async (permission, check) => {
      // A token keeps the roles it was issued with (as Graph's do): the app signs in again after the grant changed.
      stack.sim.permissions = ALL.filter((p) => p !== permission);
      await stack.crashAndRestartHost();
      const r = await deep();
      expect([r.status, r.type, failed(r.body)]).toEqual([503, 'application/problem+json', [check]]);
      expect(r.body).toMatchObject({
        type: 'urn:dialtone:health:failed',
        status: 503,
        detail: `1 of 9 checks failed: ${check}`,
      });
      expect(r.body.problems).toEqual([
        expect.objectContaining({
          check,
          status: 403,
          type: 'urn:dialtone:health:missing-access',
          missing: `the Microsoft Graph application permission ${permission}`,
          grant: expect.stringContaining('azd hooks run postprovision'),
        }),
      ]);
      const out: string[] = [];
      expect(await doctor(['--url', stack.host.url, '--key', stack.host.functionKey], (t) => out.push(t))).toBe(1);
      expect(out.join('')).toMatch(
        new RegExp(
          `^${check}\\s+FAILED\\s+\\d+ ms\\s+the Microsoft Graph application permission ${permission.replace(/\./g, '\\.')}$`,
          'm',
        ),
      );
      expect(out.join('')).toMatch(
        /grant: azd env set DIALTONE_GRANT_GRAPH_PERMISSIONS true && azd hooks run postprovision/,
      );
      stack.sim.permissions = ALL;
      await stack.crashAndRestartHost();
    },
  );

  it('fails graph-token when the app cannot sign in, and every Graph check with it, naming what Entra ID answered', async () => {
    // The secret the host signs in with is no longer the app's (as after a rotation that missed the app's settings).
    const app = stack.sim.authority.defaultApp as { secret: string | undefined };
    const secret = app.secret;
    app.secret = 'rotated-elsewhere';
    try {
      await stack.crashAndRestartHost();
      const r = await deep();
      expect([r.status, failed(r.body)]).toEqual([
        503,
        ['graph-token', 'graph-subscribed-skus', 'graph-teams-configuration', 'graph-phone-numbers'],
      ]);
      expect(r.body.problems?.[0]).toMatchObject({
        check: 'graph-token',
        detail: expect.stringMatching(/no Microsoft Graph token .*Invalid client secret/s),
      });
    } finally {
      app.secret = secret;
      await stack.crashAndRestartHost();
    }
    expect(failed((await deep()).body)).toEqual([]);
  });

  it('fails a storage check alone when its container or queue is gone, and passes again once it is back', async () => {
    stack.sim.permissions = ALL;
    const blobs = BlobServiceClient.fromConnectionString(stack.azurite.connectionString);
    await blobs.getContainerClient('dialtone-budgets').delete();
    const queue = QueueServiceClient.fromConnectionString(stack.azurite.connectionString).getQueueClient(
      'license-flags',
    );
    await queue.delete();
    try {
      const r = await deep();
      expect([r.status, failed(r.body)]).toEqual([503, ['blob-dialtone-budgets', 'flags']]);
      expect(r.body.problems!.map((p) => [p.check, p.status, p.missing])).toEqual([
        ['blob-dialtone-budgets', 404, undefined],
        ['flags', 404, undefined],
      ]);
    } finally {
      // Azurite refuses to recreate a container just deleted for a moment (409 ContainerBeingDeleted).
      for (let i = 0; ; i++) {
        try {
          await blobs.getContainerClient('dialtone-budgets').createIfNotExists();
          break;
        } catch (e) {
          if (i > 40) throw e;
          await new Promise((res) => setTimeout(res, 250));
        }
      }
      await queue.createIfNotExists();
    }
    expect((await deep()).status).toBe(200);
  });

  it('doctor prints every check as a table and exits 0 when all pass', async () => {
    const out: string[] = [];
    expect(await doctor(['--url', stack.host.url, '--key', stack.host.functionKey], (t) => out.push(t))).toBe(0);
    const lines = out.join('').trim().split('\n');
    expect(lines[0]).toMatch(/^check\s+result\s+time\s+missing$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'graph-token ok',
      'graph-subscribed-skus ok',
      'graph-teams-configuration ok',
      'graph-phone-numbers ok',
      'blob-license-reports ok',
      'blob-dialtone-budgets ok',
      'blob-license-requests ok',
      'flags ok',
      'task-hub ok',
    ]);
  });
});
