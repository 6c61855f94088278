// HR's routes under the per-integration rule (DIALTONE_CALLERS): listing, cancelling a batch and cancelling one row act
// only on the calling integration's own batches (and on uploads' batches for an integration allowed to read them),
// exactly as the status route decides; hostile query and path values get a 400 that says what is wrong.
// On the real clock, so that rows with a start date days ahead are certainly still waiting.
import { createHash, randomBytes } from 'node:crypto';
import { startStack, type Stack } from '../../local/stack';
import { getBatch, postBatch, uploadBlob, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const KEY_A = randomBytes(24).toString('base64url');
const KEY_B = randomBytes(24).toString('base64url');
const KEY_STRANGER = randomBytes(24).toString('base64url');
const sha = (k: string) => createHash('sha256').update(k).digest('hex');
const DAY = 86_400_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    skipAhead: false,
    tenant: {
      skus: tenantSkus({ ENTERPRISEPACK: 20, MCOEV: 20, MCOPSTN1: 20 }),
      users: ['ann', 'bob', 'cy', 'dee'].map((u) => ({
        userPrincipalName: `${u}@contoso.com`,
        usageLocation: 'US',
        teamsProvisioningMinutes: 0,
      })),
    },
    settings: {
      DIALTONE_LOCAL_FUNCTION_KEY: KEY_A,
      DIALTONE_LOCAL_EXTRA_KEYS: `${KEY_B},${KEY_STRANGER}`,
      // hr-a reads uploads (not manages them) and may list its rows' own skus; hr-b may do neither.
      DIALTONE_CALLERS: JSON.stringify({
        'hr-a': { keySha256: sha(KEY_A), uploads: true, skus: true },
        'hr-b': { keySha256: sha(KEY_B) },
      }),
    },
  });
});
afterAll(() => stack?.stop());

async function call(key: string, path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${stack.host.url}/api/${path}`, {
    method,
    headers: { 'x-functions-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
}
const ids = (r: { body: any }) =>
  (r.body.batches as { batchId: string; upload?: boolean }[]).map((b) => `${b.batchId}${b.upload ? ' (upload)' : ''}`);

describe("HR routes act only on the caller's own batches", () => {
  let upload = '';

  beforeAll(async () => {
    const day = (offset: number) => new Date(stack.clock.now() + offset * DAY).toISOString().slice(0, 10);
    // The same batch id for both integrations: each is its own batch.
    expect(
      (
        await postBatch(stack, {
          batchId: 'hires',
          users: [
            { userPrincipalName: 'ann@contoso.com', startDate: day(5) },
            { userPrincipalName: 'bob@contoso.com', startDate: day(6) },
          ],
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await postBatch(
          stack,
          { batchId: 'hires', users: [{ userPrincipalName: 'cy@contoso.com', startDate: day(5) }] },
          { key: KEY_B },
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await postBatch(
          stack,
          { batchId: 'b-only', users: [{ userPrincipalName: 'dee@contoso.com', startDate: day(7) }] },
          { key: KEY_B },
        )
      ).status,
    ).toBe(202);
    // No calling plan in the profile (the folder): nothing to wait for on the real clock.
    upload = await uploadBlob(stack, 'phone-system-only/list.txt', 'dee@contoso.com\n');
    await waitForReport(stack, upload);
  });

  it('lists to each integration its own batches only, and uploads only to the one allowed to read them', async () => {
    const a = await call(KEY_A, 'batches');
    expect(a.status).toBe(200);
    expect(ids(a).sort()).toEqual(['hires', `${upload} (upload)`].sort());
    const b = await call(KEY_B, 'batches');
    expect(ids(b).sort()).toEqual(['b-only', 'hires']);
    expect(ids(await call(KEY_B, 'batches?status=completed'))).toEqual([]);
    expect(ids(await call(KEY_A, 'batches?status=running'))).toEqual(['hires']);
    expect((await call(KEY_STRANGER, 'batches')).status).toBe(403);
  });

  it('answers another integration 404 for cancelling a batch or a row it did not create, and leaves the batch running', async () => {
    expect((await call(KEY_A, 'batches/b-only/cancel', 'POST')).status).toBe(404);
    expect(
      (await call(KEY_A, 'batches/b-only/users/cancel', 'POST', { userPrincipalName: 'dee@contoso.com' })).status,
    ).toBe(404);
    expect((await call(KEY_A, 'batches/b-only/rows/1/cancel', 'POST')).status).toBe(404);
    expect((await call(KEY_STRANGER, 'batches/hires/cancel', 'POST')).status).toBe(403);
    // hr-b's "hires" holds cy only: ann is not its row, whatever hr-a's "hires" holds.
    const notTheirs = await call(KEY_B, 'batches/hires/users/cancel', 'POST', { userPrincipalName: 'ann@contoso.com' });
    expect([notTheirs.status, notTheirs.body.detail]).toEqual([404, 'batch hires has no row for ann@contoso.com']);
    const still = await call(KEY_B, 'batches/b-only');
    expect([still.body.runtimeStatus, still.body.counts.scheduled, still.body.counts.cancelled]).toEqual([
      'Running',
      1,
      0,
    ]);
  });

  it("cancels the caller's own batch of a shared id and nobody else's", async () => {
    const row = await call(KEY_A, 'batches/hires/users/cancel', 'POST', { userPrincipalName: 'BOB@contoso.com' });
    expect([row.status, row.body.row, row.body.cancelled]).toEqual([202, 2, true]);
    const b = await call(KEY_B, 'batches/hires/cancel', 'POST');
    expect([b.status, b.body.cancelled]).toEqual([202, true]);
    // hr-a's "hires" still runs (ann waits, bob is cancelled); hr-b's ends with cy cancelled.
    const mine = await getBatch(stack, 'hires');
    expect([mine.body.runtimeStatus, mine.body.counts.scheduled, mine.body.counts.cancelled]).toEqual([
      'Running',
      1,
      1,
    ]);
    // Its report is final at once (the instance itself ends with its slot, at the slot's next check).
    let bReport: any;
    for (let i = 0; i < 600 && bReport?.phase !== 'done'; i++) {
      bReport = (await call(KEY_B, 'batches/hires')).body;
      if (bReport.phase !== 'done') await new Promise((r) => setTimeout(r, 150));
    }
    expect([bReport.phase, typeof bReport.finishedAt]).toEqual(['done', 'string']);
    expect(bReport.users.map((u: any) => `${u.userPrincipalName} ${u.outcome}`)).toEqual(['cy@contoso.com cancelled']);
    expect((await call(KEY_A, 'batches/hires/cancel', 'POST')).status).toBe(202);
  });
});

// One legitimate integration trying to harm another or to spend the tenant's money. The cross-integration callback is
// in callbacks-per-integration.test.ts (it needs a receiver and secrets), the `..` event subject in
// integration/intake-functions.test.ts (the local host delivers events only for real uploads), and the oversized
// Retry-After in integration/graph-adapter.test.ts.
describe('hostile callers', () => {
  it('rejects own skus that are not Teams phone or meeting SKUs, and every own sku of an integration not allowed any (sku_not_allowed, nothing sent to Graph)', async () => {
    const users = (p: string) => [
      { userPrincipalName: 'ann@contoso.com', skus: ['SPE_E5'] },
      { userPrincipalName: 'bob@contoso.com', skus: ['Microsoft_365_Copilot', 'MCOEV'] },
      { userPrincipalName: 'cy@contoso.com', profile: p },
    ];
    const writesBefore = stack.sim.record.byKind.assignLicense;
    expect((await postBatch(stack, { batchId: 'own-skus', users: users('phone-system-only') })).status).toBe(202);
    expect(
      (
        await postBatch(
          stack,
          { batchId: 'own-skus', users: [{ userPrincipalName: 'dee@contoso.com', skus: ['MCOEV'] }] },
          { key: KEY_B },
        )
      ).status,
    ).toBe(202);
    const a = await waitForReport(stack, 'own-skus');
    expect(a.users.map((u) => `${u.userPrincipalName} ${u.outcome}${u.reason ? `/${u.reason}` : ''}`)).toEqual([
      'ann@contoso.com rejected/sku_not_allowed',
      'bob@contoso.com rejected/sku_not_allowed',
      expect.stringMatching(/^cy@contoso.com (assigned|provisioned)/),
    ]);
    expect(a.users[1]!.message).toContain('MICROSOFT_365_COPILOT is not a Teams phone or meeting SKU');
    let b: any;
    for (let i = 0; i < 600 && b?.phase !== 'done'; i++) {
      b = (await call(KEY_B, 'batches/own-skus')).body;
      if (b.phase !== 'done') await new Promise((r) => setTimeout(r, 150));
    }
    expect(b.users.map((u: any) => `${u.outcome}/${u.reason}`)).toEqual(['rejected/sku_not_allowed']);
    expect(b.users[0].message).toBe(
      'row 1: hr-b may not list its own skus; name a profile or ask the operator to allow its own skus',
    );
    // Only cy's licences were written.
    expect(stack.sim.record.byKind.assignLicense - writesBefore).toBe(1);
  });

  it("lets an integration that only reads uploads read an upload's batch but not cancel it, a row of it, or recheck it", async () => {
    const day = new Date(stack.clock.now() + 5 * DAY).toISOString().slice(0, 10);
    const running = await uploadBlob(
      stack,
      'phone-system-only/later.csv',
      `userPrincipalName,startDate\nann@contoso.com,${day}\n`,
    );
    let seen = await call(KEY_A, `batches/${running}`);
    for (let i = 0; i < 600 && seen.body?.counts?.scheduled !== 1; i++) {
      await new Promise((r) => setTimeout(r, 150));
      seen = await call(KEY_A, `batches/${running}`);
    }
    expect([seen.status, seen.body.counts.scheduled]).toEqual([200, 1]);
    expect((await call(KEY_A, `batches/${running}/cancel`, 'POST')).status).toBe(404);
    expect((await call(KEY_A, `batches/${running}/recheck`, 'POST')).status).toBe(404);
    expect((await call(KEY_A, `batches/${running}/rows/1/cancel`, 'POST')).status).toBe(404);
    expect(
      (await call(KEY_A, `batches/${running}/users/cancel`, 'POST', { userPrincipalName: 'ann@contoso.com' })).status,
    ).toBe(404);
    const still = await call(KEY_A, `batches/${running}`);
    expect([still.body.runtimeStatus, still.body.counts.scheduled, still.body.counts.cancelled]).toEqual([
      'Running',
      1,
      0,
    ]);
  });
});

describe('hostile values on the HR routes', () => {
  it.each([
    ['a top with 20 digits', 'batches?top=99999999999999999999', /top must be a whole number from 1 to 100/],
    ['top=0', 'batches?top=0', /top must be/],
    ['top=-1', 'batches?top=-1', /top must be/],
    ['top=1e3', 'batches?top=1e3', /top must be/],
    ['top=101', 'batches?top=101', /top must be/],
    [
      'a status of 4,000 characters',
      `batches?status=${'x'.repeat(4_000)}`,
      /^status must be running or completed; got "x{40}…"$/,
    ],
    ['a status with a NUL', 'batches?status=Running%00', /got "Running\\u0000"/],
  ])('GET with %s → 400, saying what is wrong in a short detail', async (_label, path, detail) => {
    const r = await call(KEY_A, path);
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(detail);
    expect(r.body.detail.length).toBeLessThan(200);
  });

  it.each([
    [`${'a'.repeat(2_000)}@contoso.com`, /is not a user principal name/],
    ['not-a-upn', /"not-a-upn" is not a user principal name/],
    ['ann@contoso.com\u202e', /\\u202e/],
    ['<script>@contoso.com', /is not a user principal name/],
  ])('refuses the user %# in the body with a 400 that stays short', async (upn, detail) => {
    const r = await call(KEY_A, 'batches/hires/users/cancel', 'POST', { userPrincipalName: upn });
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(detail);
    expect(r.body.detail.length).toBeLessThan(300);
  });

  it('answers a malformed percent escape in the path as any unknown batch id or bad UPN, on every batch route (no 500)', async () => {
    const cases = [
      ['batches/hr%zz', 'GET', 404],
      ['batches/hr%', 'GET', 404],
      ['batches/hr%E0%A4%A/recheck', 'POST', 404],
      ['batches/hr%zz/cancel', 'POST', 404],
      ['batches/hr-1/rows/1%zz/cancel', 'POST', 400],
    ] as const;
    for (const [path, method, status] of cases) {
      const r = await call(KEY_A, path, method);
      expect([path, r.status]).toEqual([path, status]);
      expect(r.body.detail.length).toBeLessThan(300);
    }
  });

  it('never takes a UPN in a URL: the old path form is no route, and a row is named by number or in the body', async () => {
    const r = await call(KEY_A, 'batches/hires/users/ann%40contoso.com/cancel', 'POST');
    expect(r.status).toBe(404);
    expect(r.body.detail).not.toContain('ann@contoso.com');
    for (const bad of ['0', '-1', 'ann@contoso.com', '1.5', '9999999'])
      expect([bad, (await call(KEY_A, `batches/hires/rows/${encodeURIComponent(bad)}/cancel`, 'POST')).status]).toEqual(
        [bad, 400],
      );
  });

  it('answers a batch id that cannot be one 404 on both cancel routes, without echoing it whole', async () => {
    const long = 'x'.repeat(3_000);
    for (const path of [`batches/${long}/cancel`, `batches/${long}/rows/1/cancel`]) {
      const r = await call(KEY_A, path, 'POST');
      expect(r.status).toBe(404);
      expect(r.body.detail.length).toBeLessThan(200);
    }
  });
});
