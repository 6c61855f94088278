// The intake functions through the real durable-functions client, talking HTTP to a stand-in for the Durable
// extension's HTTP API. The stand-in answers each status request as the test scripts it (404 = no such instance,
// 500 = storage trouble, 200 = an instance) and records every request, so the tests count what the functions asked
// for: a batch starts only after a definite 404, never after an error or over a finished batch.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { createBatchApi, readCapped } from '../../functions/batches';
import { blobCreatedIn, createBlobIntake } from '../../functions/intake-blob';
import type { BatchStore, InputRef } from '../../shared/adapters/batch-store';
import { loadConfig, type AppConfig } from '../../shared/adapters/config';

interface Seen {
  method: string;
  path: string;
  body: string;
}
let server: Server;
let base = '';
const seen: Seen[] = [];
let statusAnswer: { status: number; body?: unknown } = { status: 404 };
const logs: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      seen.push({ method: req.method ?? '', path, body });
      if (req.method === 'GET') {
        res.writeHead(statusAnswer.status, { 'Content-Type': 'application/json' });
        res.end(statusAnswer.body === undefined ? '' : JSON.stringify(statusAnswer.body));
      } else {
        res.writeHead(202, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: path.split('/').pop() }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env['WEBSITE_HOSTNAME'] = new URL(base).host;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
  logs.length = 0;
  statusAnswer = { status: 404 };
});

function context(): InvocationContext {
  const clientBinding = { type: 'durableClient', name: 'starter', direction: 'in' as const };
  const ctx = new InvocationContext({
    invocationId: 'test',
    functionName: 'test',
    logHandler: (level, ...args) => logs.push(`${level}: ${args.map(String).join(' ')}`),
    options: { trigger: { type: 'httpTrigger', name: 'req' }, extraInputs: [clientBinding], extraOutputs: [] },
  });
  ctx.extraInputs.set(clientBinding, {
    taskHubName: 'hub',
    creationUrls: {},
    managementUrls: {},
    rpcBaseUrl: `${base}/durabletask/`,
  });
  return ctx;
}

/** Records what it is asked to store; the functions here only save inputs. */
class RecordingStore {
  readonly inputs: string[] = [];
  saveInput(runKey: string): Promise<InputRef> {
    this.inputs.push(runKey);
    return Promise.resolve({ container: 'license-reports', name: `${runKey}/_work/input`, etag: '"0x1"' });
  }
}

const KEY_A = 'key-of-hr-a';
const KEY_B = 'key-of-hr-b';
const sha = (k: string) => createHash('sha256').update(k).digest('hex');
const callers = JSON.stringify({ 'hr-a': { keySha256: sha(KEY_A) }, 'hr-b': { keySha256: sha(KEY_B) } });
const config: AppConfig = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', DIALTONE_CALLERS: callers });
const body = JSON.stringify({ batchId: 'hr-1', users: [{ userPrincipalName: 'a@contoso.com' }] });
const post = (key: string, text = body) =>
  new HttpRequest({
    method: 'POST',
    url: 'https://app.example/api/batches',
    headers: { 'content-type': 'application/json', 'x-functions-key': key },
    body: { string: text },
  });
const get = (key: string, id: string) =>
  new HttpRequest({
    method: 'GET',
    url: `https://app.example/api/batches/${id}?code=${key}`,
    query: { code: key },
    params: { batchId: id },
  });
const starts = () => seen.filter((s) => s.method === 'POST' && s.path.startsWith('/durabletask/orchestrators/'));

describe('starting a batch only when it definitely does not exist', () => {
  it('answers 503 with Retry-After and starts nothing when the status read fails', async () => {
    const store = new RecordingStore();
    const api = createBatchApi({ config, store: store as unknown as BatchStore });
    statusAnswer = { status: 500, body: { error: 'storage unavailable' } };
    const r = (await api.submit(post(KEY_A), context())) as HttpResponseInit & { headers: Record<string, string> };
    expect(r.status).toBe(503);
    expect(r.headers['Retry-After']).toBe('10');
    expect(starts()).toHaveLength(0);
    expect(store.inputs).toHaveLength(0);
    expect(logs).toEqual([expect.stringMatching(/^warning: batch status unknown, not starting: .*500/)]);
  });

  it('answers 200 "existing" for a completed batch and never starts it again', async () => {
    const store = new RecordingStore();
    const api = createBatchApi({ config, store: store as unknown as BatchStore });
    statusAnswer = {
      status: 200,
      body: {
        name: 'dialtone-batch',
        instanceId: 'hr-a~hr-1',
        runtimeStatus: 'Completed',
        input: { runKey: 'hr-a/hr-1/r' },
        output: { total: 1 },
        createdTime: '2026-11-25T00:00:00Z',
        lastUpdatedTime: '2026-11-25T01:00:00Z',
      },
    };
    const r = await api.submit(post(KEY_A), context());
    expect([r.status, (r.jsonBody as { existing: boolean; runtimeStatus: string }).runtimeStatus]).toEqual([
      200,
      'Completed',
    ]);
    expect(starts()).toHaveLength(0);
  });

  it("starts after a definite 404, under the caller's namespace and a run key of its own", async () => {
    const store = new RecordingStore();
    const api = createBatchApi({ config, store: store as unknown as BatchStore });
    const r = await api.submit(post(KEY_A), context());
    expect(r.status).toBe(202);
    expect(seen.filter((s) => s.method === 'GET').map((s) => s.path)).toEqual(['/durabletask/instances/hr-a~hr-1']);
    expect(starts().map((s) => s.path)).toEqual(['/durabletask/orchestrators/dialtone-batch/hr-a~hr-1']);
    const input = JSON.parse(starts()[0]!.body) as { batchId: string; runKey: string; input: InputRef };
    expect(input.batchId).toBe('hr-1');
    expect(input.runKey).toMatch(/^hr-a\/hr-1\/\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(store.inputs).toEqual([input.runKey]);
    expect(input.input.etag).toBe('"0x1"');
  });

  it('refuses a key that belongs to no configured caller (403), and 400s ids and profiles Azure would mangle', async () => {
    const api = createBatchApi({ config, store: new RecordingStore() as unknown as BatchStore });
    expect((await api.submit(post('some-other-host-key'), context())).status).toBe(403);
    expect((await api.status(get('some-other-host-key', 'hr-1'), context())).status).toBe(403);
    expect((await api.submit(post(KEY_A, body.replace('hr-1', 'hr-1.')), context())).status).toBe(400);
    const withProfile = JSON.stringify({
      profile: 'P'.repeat(18 * 1024),
      users: [{ userPrincipalName: 'a@contoso.com' }],
    });
    const r = await api.submit(post(KEY_A, withProfile), context());
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.jsonBody).length).toBeLessThan(700);
    expect(starts()).toHaveLength(0);
  });

  it("looks a batch up only in the calling integration's namespace (and 503s when it cannot tell)", async () => {
    const api = createBatchApi({ config, store: new RecordingStore() as unknown as BatchStore });
    expect((await api.status(get(KEY_B, 'hr-1'), context())).status).toBe(404);
    expect(seen.map((s) => s.path)).toEqual(['/durabletask/instances/hr-b~hr-1']);
    statusAnswer = { status: 500 };
    const r = (await api.status(get(KEY_B, 'hr-1'), context())) as HttpResponseInit & {
      headers: Record<string, string>;
    };
    expect([r.status, r.headers['Retry-After']]).toEqual([503, '10']);
  });
});

// One rule for whether a batch is open (shared/domain/batch-view.ts): a Suspended orchestration is resumed later and
// keeps what is sent to it meanwhile (Microsoft Learn, "Manage instances in Durable Functions"), so a recheck and a
// cancel are taken for it, and refused (409) once it has ended. The recheck refused a Suspended batch as finished.
describe('a suspended batch is open; an ended one is not', () => {
  /** A batch of one row licensed and waiting for Teams in its only chunk; records the rechecks and cancels asked. */
  class OpenBatchStore {
    readonly asked: string[] = [];
    readPlan() {
      return Promise.resolve({
        batchId: 'hr-1',
        source: 'http',
        startedAt: '2026-11-25T00:00:00.000Z',
        deadline: '2026-11-27T00:00:00.000Z',
        chunkSize: 1,
        rows: [
          {
            kind: 'assign',
            row: 1,
            userPrincipalName: 'a@contoso.com',
            profile: 'phone-domestic',
            skus: ['MCOEV'],
            userId: 'u1',
            addSkuIds: [],
            enable: [],
            setUsageLocation: null,
            pollTeams: true,
            advisories: [],
          },
        ],
      });
    }
    readChunks() {
      return Promise.resolve([
        {
          row: 1,
          outcome: 'assigned',
          reason: '',
          message: 'licensed',
          assignedAt: '2026-11-25T00:01:00.000Z',
          provisionedAt: null,
        },
      ]);
    }
    requestRecheck(_runKey: string, at: string) {
      this.asked.push(`recheck ${at}`);
      return Promise.resolve();
    }
    addCancellation(_runKey: string, c: { batch?: boolean }) {
      this.asked.push(`cancel ${JSON.stringify(c)}`);
      return Promise.resolve();
    }
  }
  const instance = (runtimeStatus: string) => ({
    status: 200,
    body: {
      name: 'dialtone-batch',
      instanceId: 'hr-a~hr-1',
      runtimeStatus,
      input: { runKey: 'hr-a/hr-1/r' },
      customStatus: { phase: 'licensing', chunks: 1 },
      output: null,
      createdTime: '2026-11-25T00:00:00Z',
      lastUpdatedTime: '2026-11-25T01:00:00Z',
    },
  });
  const action = (what: 'recheck' | 'cancel') =>
    new HttpRequest({
      method: 'POST',
      url: `https://app.example/api/batches/hr-1/${what}`,
      headers: { 'x-functions-key': KEY_A },
      params: { batchId: 'hr-1' },
    });
  const now = Date.parse('2026-11-25T02:00:00.000Z');
  const time = { now: () => now, sleep: () => Promise.resolve() };

  it('takes a recheck and a cancel for a Suspended batch, and records the recheck at the app time', async () => {
    const store = new OpenBatchStore();
    const api = createBatchApi({ config, store: store as unknown as BatchStore, time });
    statusAnswer = instance('Suspended');
    const recheck = await api.recheck(action('recheck'), context());
    const cancel = await api.cancel(action('cancel'), context());
    expect([recheck.status, (recheck.jsonBody as { checksRequested: number }).checksRequested, cancel.status]).toEqual([
      202, 1, 202,
    ]);
    expect(store.asked).toEqual(['recheck 2026-11-25T02:00:00.000Z', 'cancel {"batch":true}']);
  });

  it.each(['Completed', 'Failed', 'Terminated'])(
    'refuses both for a %s batch (409), changing nothing',
    async (runtimeStatus) => {
      const store = new OpenBatchStore();
      const api = createBatchApi({ config, store: store as unknown as BatchStore, time });
      statusAnswer = instance(runtimeStatus);
      const answers = [await api.recheck(action('recheck'), context()), await api.cancel(action('cancel'), context())];
      expect(answers.map((a) => [a.status, (a.jsonBody as { title: string }).title])).toEqual([
        [409, 'Batch finished'],
        [409, 'Batch finished'],
      ]);
      expect(store.asked).toEqual([]);
    },
  );
});

describe('uploads as Event Grid BlobCreated events', () => {
  const event = (name: string, extra: Record<string, unknown> = {}) => ({
    id: 'e1',
    topic: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1',
    subject: `/blobServices/default/containers/license-requests/blobs/${name}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    eventTime: '2026-11-25T08:00:00Z',
    dataVersion: '',
    metadataVersion: '1',
    data: {
      api: 'PutBlob',
      eTag: '0x8DE0C0FFEE12345',
      contentLength: 120,
      blobType: 'BlockBlob',
      url: `https://acct.blob.core.windows.net/license-requests/${name}`,
      ...extra,
    },
  });
  const intake = createBlobIntake(config);

  it("starts a batch pinned to the event's ETag, with the folder's profile, under the uploads owner", async () => {
    await intake(event('phone-domestic/new-hires.csv'), context());
    expect(starts()).toHaveLength(1);
    const input = JSON.parse(starts()[0]!.body) as { runKey: string; profile: string; input: InputRef };
    expect(starts()[0]!.path).toMatch(
      /^\/durabletask\/orchestrators\/dialtone-batch\/uploads~phone-domestic-new-hires-[0-9a-f]{12}$/,
    );
    expect(input.input).toEqual({
      container: 'license-requests',
      name: 'phone-domestic/new-hires.csv',
      etag: '0x8DE0C0FFEE12345',
    });
    expect(input.profile).toBe('phone-domestic');
    expect(input.runKey).toMatch(/^uploads\/phone-domestic-new-hires-[0-9a-f]{12}\/\d{8}T\d{6}Z-[0-9a-f]{8}$/);
  });

  it('gives a corrected file under the same name (a new ETag) a batch of its own', async () => {
    await intake(event('hires.csv'), context());
    await intake(event('hires.csv', { eTag: '0x8DE0C0FFEE99999' }), context());
    const ids = starts().map((s) => s.path.split('/').pop());
    expect(new Set(ids).size).toBe(2);
  });

  it('throws (so Event Grid delivers again) instead of starting when the status read fails', async () => {
    statusAnswer = { status: 500 };
    await expect(intake(event('a.csv'), context())).rejects.toThrow(/could not tell whether batch/);
    expect(starts()).toHaveLength(0);
  });

  it('ignores other event types, other containers, folder markers and Data Lake CreateFile events', async () => {
    await intake({ ...event('a.csv'), eventType: 'Microsoft.Storage.BlobDeleted' }, context());
    await intake({ ...event('a.csv'), subject: '/blobServices/default/containers/other/blobs/a.csv' }, context());
    await intake(event('folder/'), context());
    await intake(event('a.csv', { api: 'CreateFile', contentLength: 0 }), context());
    expect(seen).toHaveLength(0);
  });

  it('ignores an event from another account\'s topic, and subjects with ".", ".." or empty segments, backslashes or percent escapes', async () => {
    await intake(
      {
        ...event('a.csv'),
        topic: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/attacker',
      },
      context(),
    );
    await intake({ ...event('a.csv'), topic: '' }, context());
    for (const name of [
      'phone-domestic/../../license-reports/x.csv',
      '../x.csv',
      'a/./b.csv',
      'a//b.csv',
      'a\\..\\b.csv',
      'a%2F..%2Fb.csv',
    ])
      await intake(event(name), context());
    expect(seen).toHaveLength(0);
    expect(blobCreatedIn(event('a/../b.csv'), 'license-requests', 'devstoreaccount1')).toEqual({
      ok: false,
      why: expect.stringContaining('has an empty, "." or ".." segment'),
    });
    expect(blobCreatedIn(event('a.csv'), 'license-requests', 'other')).toEqual({
      ok: false,
      why: "the event's topic is not the data account other",
    });
    // The same event from the data account, with a plain path, is taken.
    expect(blobCreatedIn(event('phone-domestic/a.b.csv'), 'license-requests', 'DevStoreAccount1')).toMatchObject({
      ok: true,
    });
  });
});

describe('reading a request body', () => {
  it('stops reading a chunked body at the limit instead of buffering it all', async () => {
    let produced = 0;
    const chunk = new Uint8Array(64 * 1024);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        produced += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const limit = 1024 * 1024;
    const result = await readCapped({ headers: new Headers(), body: stream }, limit);
    expect(result).toBeUndefined();
    // The source would go on for ever; the reader took at most the limit and a few chunks of read-ahead.
    expect(produced).toBeLessThan(limit + 8 * chunk.byteLength);
  });

  it('refuses a declared Content-Length over the limit without reading at all', async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => void (pulled++, c.enqueue(new Uint8Array(10))) });
    const result = await readCapped({
      headers: new Headers({ 'content-length': String(30 * 1024 * 1024) }),
      body: stream,
    });
    expect(result).toBeUndefined();
    expect(pulled).toBeLessThanOrEqual(1);
  });
});
