// What the docs promise users (docs/testing.md's claims), each proved end to end through the local host: the profile from the upload's
// folder and from ?profile=, a rerun with a new batchId, the function key on every route (also as ?code=) with no
// Durable management URL in any answer, the 202 contract, no UPN in the host's persisted durable state, the Graph
// refusals that reach the report, a usage location kept without a PATCH, no licence ever removed, and a host that
// listens on 127.0.0.1 only. Every test uses users and batch ids of its own.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { getBatch, outcomesByUpn, postBatch, uploadBlob, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 50, MCOEV: 50, MCOPSTN1: 50, MCOPSTN2: 50, MCOMEETADV: 50 }),
  users: [
    ...['fold1', 'fold2', 'query1', 'rr-cp', 'rr-ps', 'keys1', 'upnfree1'].map((u) => ({
      userPrincipalName: `${u}@contoso.com`,
      usageLocation: 'US',
      teamsProvisioningMinutes: 30,
    })),
    { userPrincipalName: 'kept@contoso.com', usageLocation: 'GB' },
    { userPrincipalName: 'mx@contoso.com', usageLocation: 'US', assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN2'] },
    { userPrincipalName: 'dep@contoso.com', usageLocation: 'US' },
  ],
  // A dependency and a mutually exclusive pair the app's planning does not know, so that Graph (the simulator) is the
  // one to refuse them. (A user holding MCOPSTN2 asked for MCOPSTN1 is not sent it: Domestic and International
  // covers Domestic, docs/licence-needs.md.)
  dependencies: [['MCOMEETADV', ['MCOPSTN2']]],
  mutuallyExclusive: [
    ['MCOPSTN1', 'MCOPSTN2'],
    ['MCOEV', 'MCOMEETADV'],
  ],
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant });
});
afterAll(() => stack?.stop());

const idOf = (upn: string) => stack.sim.tenant.findUser(upn)!.id;
const requestsOf = (upn: string) => stack.sim.record.byUser.get(idOf(upn)) ?? {};

describe("the docs' promises, end to end", () => {
  it('takes the profile from the upload folder (license-requests/<profile>/) and from ?profile=; a row naming its own wins', async () => {
    const upload = await waitForReport(
      stack,
      await uploadBlob(
        stack,
        'phone-system-only/hires.csv',
        'upn,profile\nfold1@contoso.com,\nfold2@contoso.com,phone-domestic\n',
      ),
    );
    expect(upload.users.map((u) => [u.userPrincipalName, u.profile, u.skus.join('+'), u.outcome])).toEqual([
      ['fold1@contoso.com', 'phone-system-only', 'ENTERPRISEPACK+MCOEV', 'assigned'],
      ['fold2@contoso.com', 'phone-domestic', 'ENTERPRISEPACK+MCOEV+MCOPSTN1', 'provisioned'],
    ]);
    expect(
      (
        await postBatch(stack, 'query1@contoso.com\n', {
          contentType: 'text/plain',
          query: '?batchId=query-1&profile=phone-system-only',
        })
      ).status,
    ).toBe(202);
    const query = await waitForReport(stack, 'query-1');
    expect(query.users.map((u) => [u.profile, u.skus.join('+'), u.outcome])).toEqual([
      ['phone-system-only', 'ENTERPRISEPACK+MCOEV', 'assigned'],
    ]);
  });

  it('reruns with a new batchId: no second seat or write, already_licensed, calling-plan rows polled again; never a licence removed', async () => {
    const users = [
      { userPrincipalName: 'rr-cp@contoso.com' },
      { userPrincipalName: 'rr-ps@contoso.com', profile: 'phone-system-only' },
    ];
    expect((await postBatch(stack, { batchId: 'rerun-1', users })).status).toBe(202);
    expect(outcomesByUpn(await waitForReport(stack, 'rerun-1'))).toEqual({
      'rr-cp@contoso.com': 'provisioned',
      'rr-ps@contoso.com': 'assigned',
    });
    const consumed = () =>
      Object.fromEntries(stack.sim.tenant.subscribedSkus().map((s) => [s['skuPartNumber'], s['consumedUnits']]));
    const seatsAfterFirst = consumed();
    const teamsReadsAfterFirst = requestsOf('rr-cp@contoso.com').teamsUserConfiguration ?? 0;
    expect(teamsReadsAfterFirst).toBeGreaterThan(0);

    expect((await postBatch(stack, { batchId: 'rerun-2', users })).status).toBe(202);
    const again = await waitForReport(stack, 'rerun-2');
    expect(again.users.map((u) => [u.userPrincipalName, u.outcome, u.reason])).toEqual([
      ['rr-cp@contoso.com', 'provisioned', expect.any(String)],
      ['rr-ps@contoso.com', 'assigned', 'already_licensed'],
    ]);
    // The calling-plan row was checked in Teams again; nobody got a second assignLicense or took a second seat.
    expect(requestsOf('rr-cp@contoso.com').teamsUserConfiguration).toBeGreaterThan(teamsReadsAfterFirst);
    expect([requestsOf('rr-cp@contoso.com').assignLicense, requestsOf('rr-ps@contoso.com').assignLicense]).toEqual([
      1, 1,
    ]);
    expect(consumed()).toEqual(seatsAfterFirst);
    expect(stack.sim.record.removeLicensesSent).toEqual([]);
  });

  it('wants the function key on every route, as a header or ?code=, and never answers with a Durable management URL', async () => {
    const key = stack.host.functionKey;
    const routes: [string, string, string?][] = [
      ['POST', '/api/batches?batchId=keys-1', 'keys1@contoso.com\n'],
      ['GET', '/api/batches/keys-1'],
      ['POST', '/api/batches/keys-1/recheck'],
      ['GET', '/api/no-such-route'],
      ['GET', '/runtime/webhooks/durabletask/instances'],
    ];
    const answers: string[] = [];
    for (const [method, path, body] of routes) {
      const init = { method, headers: { 'content-type': 'text/plain' }, ...(body ? { body } : {}) };
      const without = await fetch(`${stack.host.url}${path}`, init);
      expect([method, path, without.status]).toEqual([method, path, 401]);
      await without.arrayBuffer();
      const withCode = await fetch(
        `${stack.host.url}${path}${path.includes('?') ? '&' : '?'}code=${encodeURIComponent(key)}`,
        init,
      );
      expect([method, path, withCode.status === 401]).toEqual([method, path, false]);
      if (path.startsWith('/api/')) answers.push(JSON.stringify([...withCode.headers]) + (await withCode.text()));
      else await withCode.arrayBuffer();
    }
    // Nothing with a key or the extension's management API ever goes back to a caller of /api.
    answers.push(JSON.stringify(await waitForReport(stack, 'keys-1')));
    for (const text of answers) {
      expect(text).not.toMatch(
        /runtime\/webhooks|durabletask|sendEventPostUri|terminatePostUri|purgeHistoryDeleteUri|[?&]code=/i,
      );
      expect(text).not.toContain(key);
    }
  });

  it("leaves no UPN in the host's persisted durable state (inputs, outputs, history)", async () => {
    expect(
      (
        await postBatch(stack, {
          batchId: 'upn-free-1',
          users: [{ userPrincipalName: 'upnfree1@contoso.com' }, { userPrincipalName: 'nobody-here@contoso.com' }],
        })
      ).status,
    ).toBe(202);
    await waitForReport(stack, 'upn-free-1');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(join(stack.workDir, 'host'));
    const texts = files.map((f) => readFileSync(f, 'utf8'));
    // Not vacuous: the batch's own orchestration state is among the files read.
    expect(texts.filter((t) => t.includes('upn-free-1')).length).toBeGreaterThan(0);
    expect(texts.filter((t) => /@contoso\.com/i.test(t))).toEqual([]);
  });

  it('keeps a usage location the user already has (usage_location_kept), with no PATCH to the user', async () => {
    expect(
      (
        await postBatch(stack, {
          batchId: 'kept-1',
          users: [{ userPrincipalName: 'kept@contoso.com', profile: 'phone-system-only', usageLocation: 'US' }],
        })
      ).status,
    ).toBe(202);
    const report = await waitForReport(stack, 'kept-1');
    expect(report.users.map((u) => [u.outcome, u.advisories])).toEqual([
      ['assigned', expect.arrayContaining(['usage_location_kept'])],
    ]);
    expect(requestsOf('kept@contoso.com').patchUser).toBeUndefined();
    expect(stack.sim.tenant.findUser('kept@contoso.com')!.usageLocation).toBe('GB');
  });

  it("reports Graph's refusals per row: mutually_exclusive and dependency", async () => {
    const users = [
      { userPrincipalName: 'mx@contoso.com', profile: 'audio-conferencing' },
      { userPrincipalName: 'dep@contoso.com', profile: 'audio-conferencing' },
    ];
    expect((await postBatch(stack, { batchId: 'refused-1', users })).status).toBe(202);
    const report = await waitForReport(stack, 'refused-1');
    expect(outcomesByUpn(report)).toEqual({
      'mx@contoso.com': 'failed/mutually_exclusive',
      'dep@contoso.com': 'failed/dependency',
    });
    // Graph was asked (these are its refusals, not planning's), and the refusal's text reached the row.
    expect([requestsOf('mx@contoso.com').assignLicense, requestsOf('dep@contoso.com').assignLicense]).toEqual([1, 1]);
    for (const u of report.users) expect(u.message.length).toBeGreaterThan(0);
  });

  it('listens on 127.0.0.1 only', async () => {
    const port = Number(new URL(stack.host.url).port);
    expect(new URL(stack.host.url).hostname).toBe('127.0.0.1');
    // Every other address of this machine (IPv6 loopback, and the network's if it has one) refuses the connection.
    const others = [
      '::1',
      ...Object.values(networkInterfaces()).flatMap((list) =>
        (list ?? []).filter((a) => !a.internal).map((a) => a.address),
      ),
    ];
    for (const address of others) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: address, port });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect([address, outcome]).toEqual([
        address,
        expect.stringMatching(/^(ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH|EHOSTUNREACH|EINVAL)$/),
      ]);
    }
    // …while 127.0.0.1 answers.
    expect((await getBatch(stack, 'no-such-batch')).status).toBe(404);
  });
});

describe('the 202 contract', () => {
  // A stack of its own whose simulator holds the first licence write, so that the batch is caught mid-run.
  let held: Stack;
  beforeAll(async () => {
    held = await startStack({
      tenant: {
        skus: tenant.skus,
        users: [
          { userPrincipalName: 'c1@contoso.com', usageLocation: 'US' },
          { userPrincipalName: 'c2@contoso.com', usageLocation: 'US' },
        ],
      },
      faults: { holdAssignLicense: 1 },
    });
  });
  afterAll(() => held?.stop());

  it('answers 202 with Location, Retry-After, a generated batchId, statusUrl, recheckUrl and rows; the status shows live pending counts', async () => {
    const r = await postBatch(held, {
      users: [
        { userPrincipalName: 'c1@contoso.com', profile: 'phone-system-only' },
        { userPrincipalName: 'c2@contoso.com', profile: 'phone-system-only' },
        { userPrincipalName: 'not-a-upn' },
      ],
    });
    expect(r.status).toBe(202);
    const batchId = r.body.batchId as string;
    expect(batchId).toMatch(/^b-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const statusUrl = `${held.host.url}/api/batches/${batchId}`;
    expect(r.body).toMatchObject({ batchId, statusUrl, recheckUrl: `${statusUrl}/recheck`, rows: 3, existing: false });
    expect([r.headers.get('location'), r.headers.get('retry-after')]).toEqual([statusUrl, '10']);
    // The first licence write is in Graph's hands: both users are still pending, the bad row is already settled.
    await held.sim.heldWrite;
    const live = await getBatch(held, batchId);
    expect([live.body.finishedAt, live.body.counts]).toEqual([
      null,
      expect.objectContaining({ total: 3, pending: 2, rejected: 1, assigned: 0 }),
    ]);
    // Phone System alone is not waited for in Teams: a recheck has nothing to do for this batch, and says so.
    const recheck = await fetch(`${statusUrl}/recheck`, {
      method: 'POST',
      headers: { 'x-functions-key': held.host.functionKey },
    });
    expect([recheck.status, ((await recheck.json()) as { title: string }).title]).toEqual([409, 'Nothing to recheck']);
    held.sim.releaseHeldWrite();
    const report = await waitForReport(held, batchId);
    expect(report.counts).toEqual({
      total: 3,
      provisioned: 0,
      assigned: 2,
      released: 0,
      flagged: 0,
      failed: 0,
      rejected: 1,
      cancelled: 0,
    });
  });
});
