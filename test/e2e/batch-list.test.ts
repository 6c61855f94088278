// GET /api/batches as a query, not a scan: by batch-id prefix and created-time window, a page at a time with a
// continuation token (every batch once, sub-orchestrations never), the uploads' batches after the caller's own for
// an integration that reads them, and 429 with Retry-After past the caller's rate, which another caller does not feel.
import { createHash, randomBytes } from 'node:crypto';
import { startStack, type Stack } from '../../local/stack';
import { postBatch, uploadBlob, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const KEY_A = randomBytes(24).toString('base64url');
const KEY_B = randomBytes(24).toString('base64url');
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    tenant: {
      skus: tenantSkus({ ENTERPRISEPACK: 50, MCOEV: 50 }),
      users: [{ userPrincipalName: 'ann@contoso.com', usageLocation: 'US' }],
    },
    settings: {
      DIALTONE_LOCAL_FUNCTION_KEY: KEY_A,
      DIALTONE_LOCAL_EXTRA_KEYS: KEY_B,
      DIALTONE_CALLERS: JSON.stringify({
        'hr-a': { keySha256: sha(KEY_A), uploads: true },
        'hr-b': { keySha256: sha(KEY_B) },
      }),
      DIALTONE_LIST_PER_MINUTE: '40',
    },
  });
});
afterAll(() => stack?.stop());

async function list(key: string, query: string): Promise<{ status: number; body: any; retryAfter: string | null }> {
  const r = await fetch(`${stack.host.url}/api/batches${query}`, { headers: { 'x-functions-key': key } });
  return { status: r.status, body: await r.json(), retryAfter: r.headers.get('retry-after') };
}

describe('the batch list', () => {
  const created = new Map<string, string>();
  let upload = '';

  beforeAll(async () => {
    const users = [{ userPrincipalName: 'ann@contoso.com', profile: 'phone-system-only' }];
    for (const id of ['p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'q-1']) {
      expect((await postBatch(stack, { batchId: id, users })).status).toBe(202);
      await waitForReport(stack, id);
    }
    expect((await postBatch(stack, { batchId: 'b-1', users }, { key: KEY_B })).status).toBe(202);
    upload = await uploadBlob(stack, 'phone-system-only/p-upload.txt', 'ann@contoso.com\n');
    await waitForReport(stack, upload);
    for (const b of (await list(KEY_A, '?top=100')).body.batches as { batchId: string; createdTime: string }[])
      created.set(b.batchId, b.createdTime);
  });

  it("pages through every batch once with the continuation token, own batches first, then the uploads'", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await list(KEY_A, `?top=2${token ? `&continuationToken=${token}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.batches.length).toBeLessThanOrEqual(2);
      seen.push(
        ...r.body.batches.map(
          (b: { batchId: string; upload?: boolean }) => `${b.batchId}${b.upload ? ' (upload)' : ''}`,
        ),
      );
      token = r.body.continuationToken;
      pages++;
    } while (token && pages < 20);
    expect(token).toBeUndefined();
    expect(seen.slice(0, 6).sort()).toEqual(['p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'q-1']);
    expect(seen.slice(6)).toEqual([`${upload} (upload)`]);
  });

  it('narrows by batch-id prefix and created-time window, and hr-b sees only its own', async () => {
    expect((await list(KEY_A, '?prefix=p-')).body.batches.map((b: { batchId: string }) => b.batchId).sort()).toEqual(
      ['p-1', 'p-2', 'p-3', 'p-4', 'p-5', upload].filter((id) => id.startsWith('p-')).sort(),
    );
    const from = created.get('p-3')!;
    const to = created.get('p-5')!;
    const windowed = await list(KEY_A, `?createdFrom=${encodeURIComponent(from)}&createdTo=${encodeURIComponent(to)}`);
    expect(windowed.body.batches.map((b: { batchId: string }) => b.batchId)).toEqual(['p-5', 'p-4', 'p-3']);
    expect((await list(KEY_B, '')).body.batches.map((b: { batchId: string }) => b.batchId)).toEqual(['b-1']);
  });

  it.each([
    ['?prefix=a~b', /prefix must be the start of a batch id/],
    ['?createdFrom=yesterday', /createdFrom must be an ISO 8601 date-time/],
    ['?createdFrom=2026-12-02T00:00:00Z&createdTo=2026-12-01T00:00:00Z', /createdFrom is after createdTo/],
    ['?continuationToken=eyJwIjo5OX0', /continuationToken is not one this list returned/],
    ['?continuationToken=%7B%7D', /continuationToken is not one this list returned/],
  ])('refuses %s with a 400 naming the parameter', async (query, detail) => {
    const r = await list(KEY_A, query);
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(detail);
  });

  it("answers a missing or wrong key with the host's empty 401 (no problem document)", async () => {
    for (const headers of [{}, { 'x-functions-key': 'not-a-key' }] as Record<string, string>[]) {
      const r = await fetch(`${stack.host.url}/api/batches`, { headers });
      expect([r.status, await r.text(), r.headers.get('content-type')]).toEqual([401, '', null]);
    }
  });

  it("answers 429 with Retry-After past the caller's rate, and only to that caller", async () => {
    let limited: Awaited<ReturnType<typeof list>> | undefined;
    for (let i = 0; i < 60 && !limited; i++) {
      const r = await list(KEY_B, '?top=1');
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(200);
    }
    expect(limited).toBeDefined();
    expect(Number(limited!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(limited!.body.detail).toMatch(/more than 40 batch lists a minute for hr-b/);
    expect((await list(KEY_A, '?top=1')).status).toBe(200);
  });
});
