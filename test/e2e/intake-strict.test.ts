// The intake end to end, with the local host as strict as Azure where Azure is stricter: integrations that cannot see
// each other's batches, batch ids Azure Storage would fold together, a finished batch never started again, uploads
// as Event Grid events, the durable API behind its key, Host checked, and hostile bodies that must stay small on the
// way through (a 4 MiB header cell, an 18 MiB profile, a chunked body without end, a UPN that reorders text).
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { BlobServiceClient } from '@azure/storage-blob';
import { finishedReport } from '../../local/batch-client';
import { startStack, type Stack } from '../../local/stack';
import type { BatchReport } from '../../shared/domain/report';
import { getBatch, peakMemoryKiB, postBatch, readRunFile, runFolders, uploadBlob, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const KEY_A = randomBytes(24).toString('base64url');
const KEY_B = randomBytes(24).toString('base64url');
const KEY_STRANGER = randomBytes(24).toString('base64url');
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

const tenant = {
  skus: tenantSkus({ ENTERPRISEPACK: 50, MCOEV: 50, MCOPSTN1: 50 }),
  users: ['real', 'b', 'c'].map((u) => ({
    userPrincipalName: `${u}@contoso.com`,
    usageLocation: 'US',
    teamsProvisioningMinutes: 10,
  })),
};

let stack: Stack;
const hostLog: string[] = [];
beforeAll(async () => {
  stack = await startStack({
    tenant,
    settings: {
      // hr-a is the stack's own key (the helpers use it) and may read uploads; hr-b may not; the stranger's key
      // opens the host's routes (like a host key nobody mapped) but belongs to no integration.
      DIALTONE_LOCAL_FUNCTION_KEY: KEY_A,
      DIALTONE_LOCAL_EXTRA_KEYS: `${KEY_B},${KEY_STRANGER}`,
      DIALTONE_CALLERS: JSON.stringify({
        'hr-a': { keySha256: sha(KEY_A), uploads: true },
        'hr-b': { keySha256: sha(KEY_B) },
      }),
    },
    onHostLog: (l) => hostLog.push(l),
  });
});
afterAll(() => stack?.stop());

const asB = () => ({ url: stack.host.url, functionKey: KEY_B });
async function waitAs(host: { url: string; functionKey: string }, batchId: string): Promise<BatchReport> {
  for (let i = 0; i < 600; i++) {
    const r = await finishedReport(host, batchId);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 150));
  }
  throw new Error(`batch ${batchId} did not finish`);
}
const status = async (key: string, path: string, method = 'GET') =>
  (await fetch(`${stack.host.url}${path}`, { method, headers: { 'x-functions-key': key } })).status;

/** Integration A's finished batch only-a, made once and shared, so each test that reads it also runs alone. */
let onlyARun: Promise<unknown> | undefined;
const onlyA = () =>
  (onlyARun ??= (async () => {
    expect(
      (await postBatch(stack, { batchId: 'only-a', users: [{ userPrincipalName: 'real@contoso.com' }] })).status,
    ).toBe(202);
    await waitForReport(stack, 'only-a');
  })());

/** A raw request, so the Host header and the body's framing are exactly what the test says. */
function raw(opts: {
  path: string;
  method?: string;
  host?: string;
  headers?: Record<string, string>;
  body?: (write: (chunk: Buffer) => Promise<boolean>) => Promise<void>;
}): Promise<{ status: number; text: string; sent: number }> {
  const url = new URL(stack.host.url);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let closed = false;
    let answered: { status: number; text: string } | undefined;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: opts.path,
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { Host: opts.host } : {}), ...opts.headers },
      },
      (res) => {
        answered = { status: res.statusCode ?? 0, text: '' };
        res.on('data', (c: Buffer) => (answered!.text += c.toString()));
        res.on('end', () => resolve({ ...answered!, sent }));
        res.on('error', () => resolve({ ...answered!, sent }));
      },
    );
    // A host that refuses a body closes the connection while the client still writes: the answer counts, not the reset.
    req.on('error', (e) => (answered ? resolve({ ...answered, sent }) : reject(e)));
    req.on('close', () => {
      closed = true;
      if (answered) resolve({ ...answered, sent });
    });
    const write = (chunk: Buffer) =>
      new Promise<boolean>((res) => {
        if (closed || req.destroyed) return res(false);
        const ok = req.write(chunk, (err) => (err ? res(false) : undefined));
        sent += chunk.length;
        if (ok) res(true);
        else {
          const onDrain = () => (req.off('close', onClose), res(true));
          const onClose = () => (req.off('drain', onDrain), res(false));
          req.once('drain', onDrain).once('close', onClose);
        }
      });
    void (opts.body ? opts.body(write) : Promise.resolve()).then(() => {
      if (!closed) req.end();
    });
  });
}

describe('integrations see only their own batches (DIALTONE_CALLERS)', () => {
  it('keeps one batch id of two integrations apart: own instance, own run folder, own report', async () => {
    expect(
      (await postBatch(stack, { batchId: 'shared-1', users: [{ userPrincipalName: 'real@contoso.com' }] })).status,
    ).toBe(202);
    const b = await postBatch(
      stack,
      { batchId: 'shared-1', users: [{ userPrincipalName: 'b@contoso.com' }, { userPrincipalName: 'c@contoso.com' }] },
      { key: KEY_B },
    );
    expect([b.status, b.body.existing]).toEqual([202, false]);
    const mine = await waitForReport(stack, 'shared-1');
    const theirs = await waitAs(asB(), 'shared-1');
    expect(mine.users.map((u) => u.userPrincipalName)).toEqual(['real@contoso.com']);
    expect(theirs.users.map((u) => u.userPrincipalName)).toEqual(['b@contoso.com', 'c@contoso.com']);
    expect(await runFolders(stack, 'hr-a', 'shared-1')).toHaveLength(1);
    expect(await runFolders(stack, 'hr-b', 'shared-1')).toHaveLength(1);
  });

  it('answers another integration 404 for a batch it did not create, for reading and for recheck', async () => {
    await onlyA();
    expect(await status(KEY_B, '/api/batches/only-a')).toBe(404);
    expect(await status(KEY_B, '/api/batches/only-a/recheck', 'POST')).toBe(404);
    expect(await status(KEY_A, '/api/batches/only-a')).toBe(200);
  });

  it('refuses a key that opens the host but belongs to no integration (403), and one that opens nothing (401)', async () => {
    expect(
      (await postBatch(stack, { users: [{ userPrincipalName: 'real@contoso.com' }] }, { key: KEY_STRANGER })).status,
    ).toBe(403);
    await onlyA();
    expect(await status(KEY_STRANGER, '/api/batches/only-a')).toBe(403);
    expect(await status('not-a-key', '/api/batches/only-a')).toBe(401);
  });

  it("lets only an integration marked for uploads read an upload's batch", async () => {
    const id = await uploadBlob(stack, 'admins/one.txt', 'real@contoso.com\n');
    await waitForReport(stack, id);
    expect(await status(KEY_B, `/api/batches/${id}`)).toBe(404);
  });
});

describe('batch ids and runs', () => {
  it('refuses ids Azure Storage would fold into another (trailing dot) and ids with ".."', async () => {
    // Azure Storage drops a trailing dot of a path segment, so "hr-2026." and "hr-2026" would share one folder of
    // blobs in Azure; Azurite keeps the dot, which is why only this check, not the emulator, shows it here.
    for (const id of ['hr-2026.', 'a..b']) {
      const r = await postBatch(stack, { batchId: id, users: [{ userPrincipalName: 'real@contoso.com' }] });
      expect([r.status, r.body.detail]).toEqual([400, expect.stringMatching(/not ending with '\.'/)]);
      const q = await postBatch(stack, 'real@contoso.com\n', {
        contentType: 'text/plain',
        query: `?batchId=${encodeURIComponent(id)}`,
      });
      expect(q.status).toBe(400);
    }
  });

  it('never starts a finished batch again when it is sent again', async () => {
    // The same rows again: the finished run is the answer. Other rows under the same id: 409, nothing started.
    const again = await postBatch(stack, { batchId: 'shared-1', users: [{ userPrincipalName: 'real@contoso.com' }] });
    expect([again.status, again.body.existing, again.body.runtimeStatus]).toEqual([200, true, 'Completed']);
    const other = await postBatch(stack, { batchId: 'shared-1', users: [{ userPrincipalName: 'c@contoso.com' }] });
    expect(other.status).toBe(409);
    expect(await runFolders(stack, 'hr-a', 'shared-1')).toHaveLength(1);
    expect((await waitForReport(stack, 'shared-1')).users.map((u) => u.userPrincipalName)).toEqual([
      'real@contoso.com',
    ]);
  });

  it("runs a batch id again after its instance was purged in a new folder, leaving the first run's report alone", async () => {
    expect(
      await status(KEY_A, `/runtime/webhooks/durabletask/instances/${encodeURIComponent('hr-a~shared-1')}`, 'DELETE'),
    ).toBe(200);
    expect(
      (await postBatch(stack, { batchId: 'shared-1', users: [{ userPrincipalName: 'c@contoso.com' }] })).status,
    ).toBe(202);
    const second = await waitForReport(stack, 'shared-1');
    expect(second.users.map((u) => u.userPrincipalName)).toEqual(['c@contoso.com']);
    const runs = await runFolders(stack, 'hr-a', 'shared-1');
    expect(runs).toHaveLength(2);
    const reports = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
      'license-reports',
    );
    const first = JSON.parse(
      (await reports.getBlobClient(`${runs[0]}/report.json`).downloadToBuffer()).toString(),
    ) as BatchReport;
    expect(first.users.map((u) => u.userPrincipalName)).toEqual(['real@contoso.com']);
  });

  it('takes a corrected file uploaded under the same name as a batch of its own (a new ETag)', async () => {
    const first = await uploadBlob(stack, 'fix.csv', 'upn\nreal@contoso.com\n');
    expect((await waitForReport(stack, first)).users.map((u) => u.userPrincipalName)).toEqual(['real@contoso.com']);
    const second = await uploadBlob(stack, 'fix.csv', 'upn\nb@contoso.com\n');
    expect(second).not.toBe(first);
    expect((await waitForReport(stack, second)).users.map((u) => u.userPrincipalName)).toEqual(['b@contoso.com']);
  });
});

describe('the local host is as strict as the Functions host', () => {
  it('wants the key on the durable webhook routes, from loopback too', async () => {
    expect((await fetch(`${stack.host.url}/runtime/webhooks/durabletask/instances`)).status).toBe(401);
    expect(await status(KEY_B, '/runtime/webhooks/durabletask/instances')).toBe(401);
    expect(await status(KEY_A, '/runtime/webhooks/durabletask/instances')).toBe(200);
  });

  it('answers a request for another host name 400 (DNS rebinding), on the API and the durable routes', async () => {
    await onlyA();
    const port = new URL(stack.host.url).port;
    for (const path of [
      '/api/batches/only-a',
      `/runtime/webhooks/durabletask/instances?code=${KEY_A}`,
      '/admin/host/status',
    ]) {
      expect((await raw({ path, host: `evil.example:${port}`, headers: { 'x-functions-key': KEY_A } })).status).toBe(
        400,
      );
      expect((await raw({ path, host: `localhost:${port}`, headers: { 'x-functions-key': KEY_A } })).status).toBe(200);
    }
  });

  it('refuses a chunked body past the limit without taking all of it (413)', async () => {
    const mib = Buffer.alloc(1024 * 1024, 'a@b.com\n');
    const r = await raw({
      path: '/api/batches',
      method: 'POST',
      headers: { 'x-functions-key': KEY_A, 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
      body: async (write) => {
        for (let i = 0; i < 200; i++) if (!(await write(mib))) return;
      },
    });
    expect(r.status).toBe(413);
    // 200 MiB were on offer; the host stopped at its 21 MiB read limit (plus what the sockets had buffered).
    expect(r.sent).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('hostile input stays small on its way through', () => {
  // Bounds: every stored or echoed caller value is cut to 200 characters, every message and error to 500, a row's
  // SKU list to 20 part numbers; so a report row is at most a few KiB whatever the input, and the host's peak
  // memory stays far below what a copy per row would take (a 4 MiB cell in 2,000 rows would be 8 GiB).
  const header = `${'_'.repeat(4 * 1024 * 1024 - 64)}hybrid`;
  // The rows name a profile that does not exist, so each is rejected in preflight and the test waits on no Graph call.
  const csv = `upn,profile,${header}\n${Array.from({ length: 2_000 }, (_, i) => `ghost${i}@contoso.com,nope,maybe`).join('\n')}\n`;

  it('takes a CSV with a 4 MiB header cell by HTTP and by upload, with a report of bounded size', async () => {
    let r = await postBatch(stack, csv, { contentType: 'text/csv', query: '?batchId=wide-header' });
    // As a client should: a 503 (the batch's state could not be read) is sent again after its Retry-After.
    for (let i = 0; i < 3 && r.status === 503; i++) {
      await new Promise((res) => setTimeout(res, Number(r.headers.get('retry-after')) * 1000));
      r = await postBatch(stack, csv, { contentType: 'text/csv', query: '?batchId=wide-header' });
    }
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'wide-header', 240_000);
    expect([report.counts.total, report.counts.rejected]).toEqual([2_000, 2_000]);
    const json = await readRunFile(stack, 'hr-a', 'wide-header', 'report.json');
    expect(json.length).toBeLessThan(2_000 * 1_024);
    const uploaded = await waitForReport(stack, await uploadBlob(stack, 'wide-header.csv', csv), 240_000);
    expect(uploaded.counts.total).toBe(2_000);
    expect(JSON.stringify(uploaded).length).toBeLessThan(2_000 * 1_024);
  }, 540_000);

  it('refuses an 18 MiB profile: 400 with a short problem by HTTP, a short report error by upload', async () => {
    const body = `{"profile":"${'p'.repeat(18 * 1024 * 1024)}","users":[${Array.from({ length: 200 }, (_, i) => `{"userPrincipalName":"u${i}@contoso.com"}`).join(',')}]}`;
    const r = await postBatch(stack, body);
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(/is not a profile name/);
    expect(JSON.stringify(r.body).length).toBeLessThan(700);
    const report = await waitForReport(stack, await uploadBlob(stack, 'big-profile.json', body));
    expect(report.error).toMatch(/is not a profile name/);
    expect(JSON.stringify(report).length).toBeLessThan(2_048);
  });

  it("cuts a batch's error to 500 characters in the report and in the orchestration's custom status", async () => {
    const name = `${'n'.repeat(900)}.bin`;
    const id = await uploadBlob(stack, name, Buffer.from([0x00, 0x01, 0x02]));
    const report = await waitForReport(stack, id);
    expect(report.error!.length).toBeLessThanOrEqual(501);
    const r = await fetch(
      `${stack.host.url}/runtime/webhooks/durabletask/instances/${encodeURIComponent(`uploads~${id}`)}?code=${KEY_A}`,
    );
    const custom = ((await r.json()) as { customStatus: { error: string } }).customStatus;
    expect(custom.error.length).toBeLessThanOrEqual(501);
  });

  it('rejects a UPN with a right-to-left override deep in a file as invalid_upn, shown escaped', async () => {
    const list = `c@contoso.com\n# ${'x'.repeat(70_000)}\nceo\u202Egnp.exe@contoso.com\n`;
    const report = await waitForReport(stack, await uploadBlob(stack, 'spoof.txt', list));
    expect(report.users.map((u) => [u.userPrincipalName, u.outcome])).toEqual([
      ['c@contoso.com', 'provisioned'],
      ['ceo\\u202egnp.exe@contoso.com', 'rejected'],
    ]);
    expect(report.users[1]!.reason).toBe('invalid_upn');
    expect(JSON.stringify(report)).not.toContain('\u202E');
  });

  it('takes constructor, __proto__ and toString as unknown profiles from a folder, the query and a row', async () => {
    const fromFolder = await waitForReport(stack, await uploadBlob(stack, 'constructor/hires.txt', 'b@contoso.com\n'));
    expect(fromFolder.users.map((u) => [u.outcome, u.reason])).toEqual([['rejected', 'unknown_profile']]);
    const badFolder = await waitForReport(stack, await uploadBlob(stack, 'Bad Folder!/hires.txt', 'b@contoso.com\n'));
    expect(badFolder.users.map((u) => [u.outcome, u.reason])).toEqual([['rejected', 'unknown_profile']]);
    expect(badFolder.users[0]!.message).toMatch(/is not a profile name/);
    expect(
      (
        await postBatch(stack, 'b@contoso.com\n', {
          contentType: 'text/plain',
          query: '?batchId=proto-q&profile=__proto__',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await postBatch(stack, 'b@contoso.com\n', {
          contentType: 'text/plain',
          query: '?batchId=proto-q&profile=constructor',
        })
      ).status,
    ).toBe(202);
    expect((await waitForReport(stack, 'proto-q')).users.map((u) => u.reason)).toEqual(['unknown_profile']);
    expect(
      (
        await postBatch(stack, {
          batchId: 'proto-row',
          users: [{ userPrincipalName: 'b@contoso.com', profile: 'toString' }],
        })
      ).status,
    ).toBe(202);
    expect((await waitForReport(stack, 'proto-row')).users.map((u) => u.reason)).toEqual(['unknown_profile']);
    expect(
      (await postBatch(stack, 'b@contoso.com\n', { contentType: 'text/plain', query: `?profile=${'x'.repeat(65)}` }))
        .status,
    ).toBe(400);
  });

  it('is still up, with bounded peak memory, and never logged a UPN or a key', async () => {
    await onlyA();
    expect((await getBatch(stack, 'only-a')).status).toBe(200);
    const peakKiB = peakMemoryKiB(stack.host.child.pid);
    expect(peakKiB).toBeGreaterThan(0);
    process.stderr.write(`intake-strict: local host peak RSS ${Math.round(peakKiB / 1024)} MiB\n`);
    expect(peakKiB).toBeLessThan(1024 * 1024);
    const log = hostLog.join('\n');
    for (const secret of ['@contoso.com', KEY_A, KEY_B, KEY_STRANGER]) expect(log).not.toContain(secret);
  });
});
