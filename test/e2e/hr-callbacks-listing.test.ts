// HR integration end to end on the local stack: a batch asks for a callback, the receiver fails twice and then takes
// it; each attempt is in the report and the one that arrived carries a valid signature. Batches are listed newest
// first with their counts. Also the 400s for callback URLs the operator did not allow.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startStack, type Stack } from '../../local/stack';
import { postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const SECRET = 'e2e-callback-secret-0123456789abcdef';

/** What an HR system does with a callback: recompute the signature over "timestamp.body" and compare in constant time. */
function verify(headers: IncomingHttpHeaders, body: string): boolean {
  const timestamp = String(headers['x-dialtone-timestamp'] ?? '');
  const given = Buffer.from(String(headers['x-dialtone-signature'] ?? ''));
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`);
  return /^\d+$/.test(timestamp) && given.length === expected.length && timingSafeEqual(given, expected);
}

let stack: Stack;
let receiver: Server;
let receiverUrl = '';
const received: { headers: IncomingHttpHeaders; body: string; answered: number }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const answered = received.length < 2 ? 503 : 200;
      received.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/dialtone/callback`;
  stack = await startStack({
    tenant: {
      skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
      users: [
        { userPrincipalName: 'ann@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
        { userPrincipalName: 'bob@contoso.com', usageLocation: null },
      ],
    },
    settings: { DIALTONE_CALLBACK_SECRET: SECRET, DIALTONE_CALLBACK_HOSTS: 'hr.example.com' },
  });
});

afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

describe('HR callbacks and listing', () => {
  it('refuses callback URLs the operator did not allow, naming the setting, and starts nothing', async () => {
    const r = await postBatch(stack, {
      batchId: 'cb-refused',
      callbackUrl: 'https://evil.example.net/x',
      users: [{ userPrincipalName: 'ann@contoso.com' }],
    });
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain('DIALTONE_CALLBACK_HOSTS');
    const http = await postBatch(stack, {
      batchId: 'cb-refused',
      callbackUrl: 'http://hr.example.com/x',
      users: [{ userPrincipalName: 'ann@contoso.com' }],
    });
    expect(http.status).toBe(400);
    expect(http.body.detail).toContain('must use https');
    expect(
      (
        await postBatch(stack, {
          batchId: 'cb-refused',
          callbackUrl: 7,
          users: [{ userPrincipalName: 'ann@contoso.com' }],
        })
      ).status,
    ).toBe(400);
  });

  it('delivers a signed callback after two failed attempts, every attempt recorded in the report', async () => {
    const r = await postBatch(stack, {
      batchId: 'cb-1',
      callbackUrl: receiverUrl,
      users: [
        { userPrincipalName: 'ann@contoso.com' },
        { userPrincipalName: 'bob@contoso.com' },
        { userPrincipalName: 'ghost@contoso.com' },
      ],
    });
    expect(r.status).toBe(202);
    let report = await waitForReport(stack, 'cb-1');
    const until = Date.now() + 60_000;
    while (report.callback?.state !== 'delivered' && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 200));
      report = await waitForReport(stack, 'cb-1');
    }
    expect(received.map((x) => x.answered)).toEqual([503, 503, 200]);
    expect(report.callback).toMatchObject({ url: receiverUrl, state: 'delivered' });
    expect(report.callback!.attempts.map((a) => [a.attempt, a.status, a.delivered])).toEqual([
      [1, 503, false],
      [2, 503, false],
      [3, 200, true],
    ]);
    // The retries waited on durable timers: at least 1 and then 2 minutes of orchestration time.
    const at = report.callback!.attempts.map((a) => Date.parse(a.at));
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(60_000);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(120_000);
    for (const call of received) expect(verify(call.headers, call.body)).toBe(true);
    expect(verify({ ...received[2]!.headers, 'x-dialtone-timestamp': '1' }, received[2]!.body)).toBe(false);
    const body = JSON.parse(received[2]!.body) as {
      batchId: string;
      statusUrl: string;
      counts: Record<string, number>;
      users: { userPrincipalName: string; outcome: string; reason: string }[];
    };
    expect(body.batchId).toBe('cb-1');
    expect(body.statusUrl).toBe(`${stack.host.url}/api/batches/cb-1`);
    expect(body.counts).toMatchObject({ total: 3, provisioned: 1, failed: 2 });
    expect(body.users.map((u) => `${u.userPrincipalName} ${u.outcome}/${u.reason}`).sort()).toEqual([
      'bob@contoso.com failed/usage_location_missing',
      'ghost@contoso.com failed/user_not_found',
    ]);
  });

  it('lists batches newest first with their counts, filtered by status, a page of top at a time', async () => {
    expect(
      (await postBatch(stack, { batchId: 'list-2', users: [{ userPrincipalName: 'ann@contoso.com' }] })).status,
    ).toBe(202);
    await waitForReport(stack, 'list-2');
    const get = async (query: string) => {
      const res = await fetch(`${stack.host.url}/api/batches${query}`, {
        headers: { 'x-functions-key': stack.host.functionKey },
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const all = await get('');
    expect(all.status).toBe(200);
    expect(all.body.batches.map((b: { batchId: string }) => b.batchId)).toEqual(['list-2', 'cb-1']);
    expect(all.body.batches[1]).toMatchObject({
      batchId: 'cb-1',
      runtimeStatus: 'Completed',
      phase: 'done',
      statusUrl: `${stack.host.url}/api/batches/cb-1`,
      counts: { total: 3, provisioned: 1, failed: 2 },
    });
    // A page of one, then the rest by its continuation token (pages follow the instance store's order).
    const first = await get('?status=completed&top=1');
    expect(first.body.batches).toHaveLength(1);
    const rest = await get(`?status=completed&top=1&continuationToken=${first.body.continuationToken}`);
    expect([...first.body.batches, ...rest.body.batches].map((b: { batchId: string }) => b.batchId).sort()).toEqual([
      'cb-1',
      'list-2',
    ]);
    // The list ends where a page has no token (a page may come back with fewer batches than top, even none).
    const end = rest.body.continuationToken
      ? await get(`?status=completed&top=1&continuationToken=${rest.body.continuationToken}`)
      : rest;
    expect([end.body.batches.length > 0 ? 'more' : 'none', end.body.continuationToken]).toEqual(['none', undefined]);
    expect((await get('?status=running')).body.batches).toEqual([]);
    expect((await get('?status=sleeping')).status).toBe(400);
    expect((await get('?top=0')).status).toBe(400);
    expect((await get('?top=1e3')).status).toBe(400);
    const noKey = await fetch(`${stack.host.url}/api/batches`);
    expect(noKey.status).toBe(401);
  });

  it('answers a batch’s summary view (no rows, no blob read) as the list shows it, and refuses an unknown view', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${stack.host.url}/api/batches${path}`, {
        headers: { 'x-functions-key': stack.host.functionKey },
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const listed = (await get('')).body.batches.find((b: { batchId: string }) => b.batchId === 'cb-1');
    const summary = await get('/cb-1?view=summary');
    expect(summary.status).toBe(200);
    expect(summary.body).toEqual(listed);
    expect(summary.body).not.toHaveProperty('users');
    expect(summary.body).toMatchObject({
      runtimeStatus: 'Completed',
      phase: 'done',
      counts: { total: 3, provisioned: 1, failed: 2 },
    });
    // the full view is the default, and can be asked for by name
    expect((await get('/cb-1?view=full')).body.users).toHaveLength(3);
    const bad = await get('/cb-1?view=rows');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('view must be full or summary');
    expect((await get('/no-such-batch?view=summary')).status).toBe(404);
  });
});
