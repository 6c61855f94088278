// The product end to end: real Azurite, the Graph simulator over HTTPS, the local host running the app's real
// registrations and orchestrations on the real durable-functions SDK, with simulated time skipping ahead.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { parse as parseCsv } from 'csv-parse/sync';
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { getBatch, outcomesByUpn, postBatch, readRunFile, uploadBlob, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

function users(prefix: string): TenantFile['users'] {
  return [
    { userPrincipalName: `${prefix}-soon@contoso.com`, usageLocation: 'US', teamsProvisioningMinutes: 45 },
    { userPrincipalName: `${prefix}-20h@contoso.com`, usageLocation: 'US', teamsProvisioningMinutes: 20 * 60 },
    { userPrincipalName: `${prefix}-25h@contoso.com`, usageLocation: 'US', teamsProvisioningMinutes: 25 * 60 },
    { userPrincipalName: `${prefix}-hybrid@contoso.com`, usageLocation: 'US' },
    { userPrincipalName: `${prefix}-hybrid-cp@contoso.com`, usageLocation: 'US' },
    { userPrincipalName: `${prefix}-noloc@contoso.com`, usageLocation: null },
    { userPrincipalName: `${prefix}-seat1@contoso.com`, usageLocation: 'US' },
    { userPrincipalName: `${prefix}-seat2@contoso.com`, usageLocation: 'US' },
  ];
}

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 100, MCOEV: 100, MCOPSTN1: 100, MCOPSTN2: 3 }),
  users: [
    ...users('h'),
    ...users('c'),
    { userPrincipalName: 'r-once@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'r-after@contoso.com', usageLocation: 'US' },
  ],
};

const expected = (p: string) => ({
  [`${p}-soon@contoso.com`]: 'provisioned',
  [`${p}-20h@contoso.com`]: 'provisioned',
  [`${p}-25h@contoso.com`]: 'flagged/no_calling_plan',
  [`${p}-hybrid@contoso.com`]: 'assigned',
  [`${p}-hybrid-cp@contoso.com`]: 'rejected/calling_plan_not_allowed_hybrid',
  [`${p}-noloc@contoso.com`]: 'failed/usage_location_missing',
  [`${p}-ghost@contoso.com`]: 'failed/user_not_found',
  [`${p}-seat1@contoso.com`]: 'provisioned',
  [`${p}-seat2@contoso.com`]: p === 'h' ? 'provisioned' : 'failed/insufficient_licenses',
  'not-a-upn': 'rejected/invalid_upn',
});

let stack: Stack;
const hostLog: string[] = [];
beforeAll(async () => {
  stack = await startStack({ tenant, onHostLog: (line) => hostLog.push(line) });
});
afterAll(async () => {
  await stack?.stop();
});

/**
 * The HTTP batch hr-http-1, sent once and shared: the tests that read its report, its flags and its files each ask
 * for it, so any of them runs alone (jest -t) as well as in order.
 */
let httpBatchRun:
  | Promise<{ accepted: Awaited<ReturnType<typeof postBatch>>; report: Awaited<ReturnType<typeof waitForReport>> }>
  | undefined;
function httpBatch() {
  httpBatchRun ??= (async () => {
    const body = {
      batchId: 'hr-http-1',
      users: [
        { userPrincipalName: 'h-soon@contoso.com' },
        { userPrincipalName: 'h-20h@contoso.com' },
        { userPrincipalName: 'h-25h@contoso.com' },
        { userPrincipalName: 'h-hybrid@contoso.com', profile: 'phone-system-only', onPremisesPstn: true },
        { userPrincipalName: 'h-hybrid-cp@contoso.com', onPremisesPstn: true },
        { userPrincipalName: 'h-noloc@contoso.com' },
        { userPrincipalName: 'h-ghost@contoso.com' },
        { userPrincipalName: 'h-seat1@contoso.com', profile: 'phone-international' },
        { userPrincipalName: 'h-seat2@contoso.com', profile: 'phone-international' },
        { userPrincipalName: 'not-a-upn' },
      ],
    };
    const accepted = await postBatch(stack, body);
    return { accepted, report: await waitForReport(stack, 'hr-http-1') };
  })();
  return httpBatchRun;
}

describe('end to end through the local host', () => {
  it('refuses a request without a function key with 401 and starts nothing', async () => {
    const r = await postBatch(
      stack,
      { batchId: 'nokey', users: [{ userPrincipalName: 'h-soon@contoso.com' }] },
      { key: null },
    );
    expect(r.status).toBe(401);
    const wrong = await postBatch(
      stack,
      { batchId: 'nokey', users: [{ userPrincipalName: 'h-soon@contoso.com' }] },
      { key: 'wrong' },
    );
    expect(wrong.status).toBe(401);
    expect((await getBatch(stack, 'nokey')).status).toBe(404);
  });

  it('answers unusable envelopes with problem+json 400/413/415 naming the problem', async () => {
    // RFC 9457: type (about:blank: the status says it all), title, status (the response's own) and detail.
    const problem = async (
      r: Promise<{ status: number; body: any; headers: Headers }>,
      status: number,
      title: string,
      detail: RegExp,
    ) => {
      const got = await r;
      expect([got.status, got.headers.get('content-type'), got.body]).toEqual([
        status,
        'application/problem+json',
        { type: 'about:blank', title, status, detail: expect.stringMatching(detail) },
      ]);
    };
    await problem(postBatch(stack, '{"users": [', {}), 400, 'Unusable batch', /not valid JSON/);
    await problem(postBatch(stack, { users: [] }), 400, 'Unusable batch', /no users|no rows|empty/i);
    await problem(
      postBatch(stack, 'x', { contentType: 'application/xml' }),
      415,
      'Unsupported content type',
      /^send application\/json .* got "application\/xml"$/,
    );
    await problem(
      postBatch(stack, Buffer.alloc(21 * 1024 * 1024, 0x61), { contentType: 'text/plain' }),
      413,
      'Batch too large',
      /over 20971520 bytes \(20 MiB\); split the batch/,
    );
  });

  it('licenses an HTTP JSON batch: every row gets its outcome and reason, 20 h is provisioned, 25 h is flagged', async () => {
    const { accepted, report } = await httpBatch();
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe(`${stack.host.url}/api/batches/hr-http-1`);
    expect(report.counts.total).toBe(10);
    expect(report.users.map((u) => u.row)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(outcomesByUpn(report)).toEqual(expected('h'));
    const byUpn = new Map(report.users.map((u) => [u.userPrincipalName, u]));
    const late = byUpn.get('h-20h@contoso.com')!;
    const hours = (new Date(late.provisionedAt!).getTime() - new Date(late.assignedAt!).getTime()) / 3_600_000;
    expect(hours).toBeGreaterThanOrEqual(20);
    expect(hours).toBeLessThanOrEqual(22);
    expect(byUpn.get('h-soon@contoso.com')!.advisories).toContain('next_step_phone_number');
  });

  it('licenses an admin CSV upload the same way', async () => {
    const csv = [
      'User principal name;Profile;Hybrid;Usage location',
      'c-soon@contoso.com;;;',
      'c-20h@contoso.com;;;',
      'c-25h@contoso.com;;;',
      'c-hybrid@contoso.com;phone-system-only;yes;',
      'c-hybrid-cp@contoso.com;;yes;',
      'c-noloc@contoso.com;;;',
      'c-ghost@contoso.com;;;',
      'c-seat1@contoso.com;phone-international;;',
      'c-seat2@contoso.com;phone-international;;',
      'not-a-upn;;;',
    ].join('\r\n');
    await httpBatch(); // it takes two of the three MCOPSTN2 seats first
    const batchId = await uploadBlob(stack, 'onboarding.csv', `\uFEFF${csv}`);
    const report = await waitForReport(stack, batchId);
    expect(report.source).toBe('blob:license-requests/onboarding.csv');
    // seat2 fails: the HTTP batch already took two of the three MCOPSTN2 seats
    expect(outcomesByUpn(report)).toEqual(expected('c'));

    // The same batchId with other rows: refused (409), never a second run and never rows silently dropped.
    const requests = stack.sim.record.requests;
    const again = await postBatch(stack, {
      batchId: 'hr-http-1',
      users: [{ userPrincipalName: 'h-soon@contoso.com' }],
    });
    expect([again.status, again.body.title]).toEqual([409, 'Batch id in use']);
    expect((await getBatch(stack, 'hr-http-1')).body.runtimeStatus).toBe('Completed');
    expect(stack.sim.record.requests).toBe(requests);
  });

  it('starts nothing new when the same batchId is posted again: no Graph request, the report and its startedAt unchanged', async () => {
    const first = await postBatch(stack, { batchId: 'resend-1', users: [{ userPrincipalName: 'r-once@contoso.com' }] });
    expect(first.status).toBe(202);
    const done = await waitForReport(stack, 'resend-1');
    const requests = stack.sim.record.requests;
    const again = await postBatch(stack, { batchId: 'resend-1', users: [{ userPrincipalName: 'r-once@contoso.com' }] });
    expect([again.status, again.body.existing, again.body.runtimeStatus]).toEqual([200, true, 'Completed']);
    // startNew records a new run before it returns, so a second start would show here as Pending or Running.
    const after = await getBatch(stack, 'resend-1');
    expect([after.body.runtimeStatus, after.body.startedAt]).toEqual(['Completed', done.startedAt]);
    expect(stack.sim.record.requests).toBe(requests);
  });

  it('starts one run when the same upload (same name and ETag) is delivered twice: no Graph request, startedAt unchanged', async () => {
    const batchId = await uploadBlob(stack, 'redelivered.csv', 'userPrincipalName\r\nr-once@contoso.com\r\n');
    const done = await waitForReport(stack, batchId);
    const requests = stack.sim.record.requests;
    const readsOf = (upn: string) => ({ ...stack.sim.record.byUser.get(stack.sim.tenant.findUser(upn)!.id) });
    const readsBefore = readsOf('r-once@contoso.com');
    // The restarted host has forgotten what it delivered, so it delivers every upload in the container again with
    // its name and ETag, as Event Grid may (delivery is at least once:
    // https://learn.microsoft.com/azure/event-grid/delivery-and-retry).
    await stack.crashAndRestartHost(() => rmSync(join(stack.workDir, 'host', 'blobs-seen.json')));
    // Wait until the intake has handled the repeated delivery, whichever way it went.
    const handled = [
      `upload already has batch ${batchId}; not starting another`,
      `batch ${batchId} started from an upload`,
    ];
    const logged = hostLog.length;
    while (!hostLog.slice(logged).some((l) => handled.some((h) => l.includes(h))))
      await new Promise((r) => setTimeout(r, 50));
    const after = await getBatch(stack, batchId);
    expect([after.body.runtimeStatus, after.body.startedAt]).toEqual(['Completed', done.startedAt]);
    expect(stack.sim.record.requests).toBe(requests);
    // A later upload is delivered after the repeated one; once its run is done, a second run of the first would have
    // read its user by now.
    const later = await uploadBlob(stack, 'after-redelivery.csv', 'userPrincipalName\r\nr-after@contoso.com\r\n');
    await waitForReport(stack, later);
    expect(readsOf('r-once@contoso.com')).toEqual(readsBefore);
    expect((await getBatch(stack, batchId)).body.startedAt).toBe(done.startedAt);
  });

  it('publishes every failed and flagged user to the flags queue, once, with subject = outcome', async () => {
    await httpBatch();
    const queue = QueueServiceClient.fromConnectionString(stack.azurite.connectionString).getQueueClient(
      'license-flags',
    );
    const messages: { subject: string; body: { batchId: string; userPrincipalName: string } }[] = [];
    for (;;) {
      const got = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (got.receivedMessageItems.length === 0) break;
      for (const m of got.receivedMessageItems)
        messages.push(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')));
    }
    const http = messages.filter((m) => m.body.batchId === 'hr-http-1');
    expect(http.map((m) => `${m.subject}:${m.body.userPrincipalName}`).sort()).toEqual([
      'failed:h-ghost@contoso.com',
      'failed:h-noloc@contoso.com',
      'flagged:h-25h@contoso.com',
    ]);
  });

  // Formula safety, cell by cell, is proved in hostile-input.test.ts ("neutralises formula payloads…").
  it('writes report.json and report.csv, the same rows in both, to the reports container', async () => {
    await httpBatch();
    // The run's folder: <caller>/<batchId>/<run>; with DIALTONE_CALLERS unset the one caller is "default".
    const json = JSON.parse(await readRunFile(stack, 'default', 'hr-http-1', 'report.json'));
    expect(json.counts).toEqual({
      total: 10,
      provisioned: 4,
      assigned: 1,
      released: 0,
      flagged: 1,
      failed: 2,
      rejected: 2,
      cancelled: 0,
    });
    const [header, ...rows]: string[][] = parseCsv(
      (await readRunFile(stack, 'default', 'hr-http-1', 'report.csv')).replace(/^\uFEFF/, ''),
    );
    const col = (name: string) => header!.indexOf(name);
    expect(rows.map((r) => [r[col('row')], r[col('userPrincipalName')], r[col('outcome')], r[col('reason')]])).toEqual(
      json.users.map((u: { row: number; userPrincipalName: string; outcome: string; reason: string }) => [
        String(u.row),
        u.userPrincipalName,
        u.outcome,
        u.reason,
      ]),
    );
  });

  it('ends the run with a report error for a file that is no input at all', async () => {
    const batchId = await uploadBlob(
      stack,
      'phone-domestic/photo.png',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x1a]),
    );
    const report = await waitForReport(stack, batchId);
    expect(report.error).toBe('license-requests/phone-domestic/photo.png: is a picture, not a CSV');
    expect(report.counts.total).toBe(0);
  });
});
