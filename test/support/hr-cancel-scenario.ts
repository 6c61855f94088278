// The HR cancellation scenario, run on the local engine (test/e2e/hr-cancel.test.ts) and on the real Durable extension
// (test/conformance/hr-extension.test.ts): a batch with a row licensed at once (then waiting for Teams), rows waiting
// for their start date and a no-show, and a callback. The no-show row is cancelled alone, then the whole batch. Rows not
// yet licensed end cancelled with nothing assigned; the licensed row keeps its licences and ends assigned; the batch's
// report is final and its chunk ends (the chunk's Teams wait is ended by an event an activity raises with the durable
// client it binds), while the slots sleep on to their next check (they take no events: see workflows/slot.ts);
// the signed callback arrives once the report is written. On the real clock: the start dates are days ahead.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { stableGuid } from '../../local/graph-sim/tenant';
import type { Stack } from '../../local/stack';
import type { BatchReport } from '../../shared/domain/report';
import { getBatch, outcomesByUpn, postBatch } from './e2e';
import { tenantSkus } from './tenant';

const DAY = 86_400_000;
export const CALLBACK_SECRET = 'hr-cancel-callback-secret-0123456789';

export const CANCEL_TENANT: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
  users: [
    { userPrincipalName: 'today@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 600 },
    { userPrincipalName: 'monday@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'noshow@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'later@contoso.com', usageLocation: 'US' },
  ],
};

export const CANCEL_SETTINGS = { DIALTONE_CALLBACK_SECRET: CALLBACK_SECRET };

/** A local HR system: takes every callback with 200 and keeps what it was sent. */
export class CallbackReceiver {
  readonly received: { headers: IncomingHttpHeaders; body: string }[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hr/dialtone`;
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** What an HR system does with a callback: recompute the signature over "timestamp.body" and compare in constant time. */
export function verifyCallback(headers: IncomingHttpHeaders, body: string): boolean {
  const timestamp = String(headers['x-dialtone-timestamp'] ?? '');
  const given = Buffer.from(String(headers['x-dialtone-signature'] ?? ''));
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', CALLBACK_SECRET).update(`${timestamp}.${body}`).digest('hex')}`,
  );
  return /^\d+$/.test(timestamp) && given.length === expected.length && timingSafeEqual(given, expected);
}

async function until<T>(what: string, timeoutMs: number, get: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const userId = (upn: string) => stableGuid(`user:${upn.toLowerCase()}`);

/** Runs the scenario on `stack` (started with CANCEL_TENANT and CANCEL_SETTINGS) and checks every step. */
export async function runCancelScenario(
  stack: Stack,
  receiver: CallbackReceiver,
  timeoutMs: number,
): Promise<BatchReport> {
  const post = async (path: string, body?: unknown) => {
    const r = await fetch(`${stack.host.url}/api/batches/${path}`, {
      method: 'POST',
      headers: { 'x-functions-key': stack.host.functionKey, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
  };
  const running = async () =>
    (
      (await (
        await fetch(
          `${stack.host.url}/runtime/webhooks/durabletask/instances?runtimeStatus=Running,Pending&code=${stack.host.functionKey}`,
        )
      ).json()) as { instanceId: string }[]
    )
      .map((i) => i.instanceId)
      .filter((id) => id.startsWith('default~cancel-1'))
      .sort();
  const day = (offset: number) => new Date(stack.clock.now() + offset * DAY).toISOString().slice(0, 10);
  const r = await postBatch(stack, {
    batchId: 'cancel-1',
    callbackUrl: receiver.url,
    users: [
      { userPrincipalName: 'today@contoso.com' },
      { userPrincipalName: 'monday@contoso.com', startDate: day(5) },
      { userPrincipalName: 'noshow@contoso.com', startDate: day(5) },
      { userPrincipalName: 'later@contoso.com', startDate: day(9) },
    ],
  });
  expect(r.status).toBe(202);
  // The row without a start date is licensed at once and then waits for Teams; the others wait for their day.
  const live = await until('the licensed row', timeoutMs, async () => {
    const s = await getBatch(stack, 'cancel-1');
    return s.body?.counts?.waiting === 1 ? s.body : undefined;
  });
  // Licensed and waiting for Teams: counted as `waiting` while the batch runs.
  expect(live.counts).toMatchObject({ scheduled: 3, waiting: 1 });
  expect(
    live.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'monday@contoso.com'),
  ).toMatchObject({ outcome: 'scheduled', scheduledFor: `${day(4)}T00:00:00.000Z` });

  // A row by its UPN in the body (never in the URL), or by its number.
  expect((await post('cancel-1/users/cancel', { userPrincipalName: 'NoShow@contoso.com' })).status).toBe(202);
  expect((await post('cancel-1/rows/3/cancel')).status).toBe(200);
  const afterNoShow = (await getBatch(stack, 'cancel-1')).body;
  expect(afterNoShow.counts).toMatchObject({ scheduled: 2, cancelled: 1, waiting: 1 });
  expect(
    afterNoShow.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'noshow@contoso.com'),
  ).toMatchObject({ outcome: 'cancelled' });
  const licensed = await post('cancel-1/rows/1/cancel');
  expect(licensed.status).toBe(409);
  expect(licensed.body.detail).toContain('licences');
  expect((await post('cancel-1/users/cancel', { userPrincipalName: 'stranger@contoso.com' })).status).toBe(404);
  expect((await post('cancel-1/rows/9/cancel')).status).toBe(404);

  // Before the cancel: the batch, its chunk and its slots run (the filter below sees them).
  const before = await running();
  expect(before).toEqual(
    expect.arrayContaining([
      'default~cancel-1',
      'default~cancel-1:chunk-0',
      'default~cancel-1:slot-0',
      'default~cancel-1:slot-1',
    ]),
  );
  expect((await post('cancel-1/cancel')).status).toBe(202);
  const report = await until('the report with its callback delivered', timeoutMs, async () => {
    const s = await getBatch(stack, 'cancel-1');
    return s.body?.phase === 'done' && s.body.finishedAt && s.body.callback?.state === 'delivered'
      ? (s.body as BatchReport)
      : undefined;
  });
  expect(outcomesByUpn(report)).toEqual({
    'today@contoso.com': 'assigned',
    'monday@contoso.com': 'cancelled',
    'noshow@contoso.com': 'cancelled',
    'later@contoso.com': 'cancelled',
  });
  const row = (upn: string) => report.users.find((u) => u.userPrincipalName === upn)!;
  expect(row('noshow@contoso.com').message).toContain('the row was cancelled');
  expect(row('monday@contoso.com').message).toContain('the batch was cancelled');
  // Licensed, waiting for Teams when the batch was cancelled: the row says the wait was not finished.
  expect(row('today@contoso.com').message).toContain('the batch was cancelled before Teams confirmed the calling plan');
  expect(row('later@contoso.com').scheduledFor).toBe(`${day(8)}T00:00:00.000Z`);
  expect(report.counts).toMatchObject({ total: 4, assigned: 1, cancelled: 3 });

  // Nothing was ever written for a cancelled row; the licensed row was written once.
  const writes = stack.sim.record.stateChangingWrites;
  for (const upn of ['monday@contoso.com', 'noshow@contoso.com', 'later@contoso.com'])
    expect(writes.filter((w) => w.userId === userId(upn))).toEqual([]);
  expect(writes.filter((w) => w.userId === userId('today@contoso.com')).map((w) => w.kind)).toEqual(['assignLicense']);

  // The chunk and the callback have ended; the two slots sleep until their next check (workflows/slot.ts), when
  // they end with their (already reported) rows cancelled without a write, and the batch instance, whose report is
  // final, waits for them.
  expect(
    await until('the chunk to end', timeoutMs, async () =>
      (await running()).join() === 'default~cancel-1,default~cancel-1:slot-0,default~cancel-1:slot-1'
        ? true
        : undefined,
    ),
  ).toBe(true);
  expect((await post('cancel-1/cancel')).status).toBe(409);

  // One signed callback, sent after the report was written, with the counts.
  expect(receiver.received).toHaveLength(1);
  const call = receiver.received[0]!;
  expect(verifyCallback(call.headers, call.body)).toBe(true);
  expect(JSON.parse(call.body)).toMatchObject({
    batchId: 'cancel-1',
    counts: { total: 4, assigned: 1, cancelled: 3 },
    users: [],
  });
  expect(report.callback).toMatchObject({
    url: receiver.url,
    state: 'delivered',
    attempts: [{ attempt: 1, status: 200, delivered: true }],
  });
  return report;
}
