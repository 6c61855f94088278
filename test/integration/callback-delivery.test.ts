// The callback delivery activity against real Azurite and a local receiver: each attempt is recorded in the batch
// store and in the report's callback; a re-run of an attempt already recorded sends nothing; the last failed attempt
// gives up; without a signing secret nothing is sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { createCallbackDelivery } from '../../activities/callback';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import { HttpCallbackSender } from '../../shared/adapters/callback';
import { buildReport } from '../../shared/domain/report';

let azurite: Azurite;
let receiver: Server;
let url = '';
const answers: number[] = [];
let calls = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb?token=abc`;
});

afterAll(async () => {
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  await azurite?.stop();
});

/** Each batch's run key, as the intake makes them: the report and the registration live under it, never the bare id. */
const rk = (batchId: string) => `hr-system/${batchId}/20261125T100000Z-0001`;

async function storeWithReport(batchId: string): Promise<BlobBatchStore> {
  const store = new BlobBatchStore(BlobServiceClient.fromConnectionString(azurite.connectionString), 'license-reports');
  await store.saveReport(
    rk(batchId),
    buildReport({
      batchId,
      source: 'http',
      startedAt: '2026-11-25T10:00:00Z',
      finishedAt: '2026-11-25T11:00:00Z',
      deadline: null,
      users: [],
    }),
  );
  await store.saveCallback(rk(batchId), { url, statusUrl: `https://app/api/batches/${batchId}`, attempts: [] });
  return store;
}

describe('callback delivery', () => {
  it('records every attempt, does not send an attempt twice, and ends delivered', async () => {
    const store = await storeWithReport('cbd-1');
    const deliver = createCallbackDelivery({
      store,
      sender: new HttpCallbackSender(new Map([['default', 's'.repeat(32)]]), 5_000, Date.now, true),
    });
    answers.push(500);
    calls = 0;
    expect(await deliver({ runKey: rk('cbd-1'), attempt: 1, at: '2026-11-25T11:00:00.000Z', last: false })).toEqual({
      delivered: false,
      stop: false,
    });
    expect(await deliver({ runKey: rk('cbd-1'), attempt: 1, at: '2026-11-25T11:00:00.000Z', last: false })).toEqual({
      delivered: false,
      stop: false,
    });
    expect(calls).toBe(1);
    expect((await store.readReport(rk('cbd-1')))?.callback).toMatchObject({
      url: url.replace('?token=abc', ''),
      state: 'pending',
      attempts: [{ attempt: 1, status: 500, delivered: false }],
    });
    expect(await deliver({ runKey: rk('cbd-1'), attempt: 2, at: '2026-11-25T11:01:00.000Z', last: false })).toEqual({
      delivered: true,
      stop: false,
    });
    expect(calls).toBe(2);
    const report = await store.readReport(rk('cbd-1'));
    expect(report?.callback?.state).toBe('delivered');
    expect(report?.callback?.attempts.map((a) => a.status)).toEqual([500, 200]);
    expect((await store.readCallback(rk('cbd-1')))?.attempts).toHaveLength(2);
  });

  it('gives up when the last attempt fails', async () => {
    const store = await storeWithReport('cbd-2');
    const deliver = createCallbackDelivery({
      store,
      sender: new HttpCallbackSender(new Map([['default', 's'.repeat(32)]]), 5_000, Date.now, true),
    });
    answers.push(503);
    expect(await deliver({ runKey: rk('cbd-2'), attempt: 30, at: '2026-11-26T10:59:00.000Z', last: true })).toEqual({
      delivered: false,
      stop: false,
    });
    expect((await store.readReport(rk('cbd-2')))?.callback).toMatchObject({
      state: 'gave_up',
      attempts: [{ attempt: 30, status: 503 }],
    });
  });

  it('sends nothing without a signing secret, and says so in the report', async () => {
    const store = await storeWithReport('cbd-3');
    calls = 0;
    const deliver = createCallbackDelivery({ store, sender: new HttpCallbackSender(new Map()) });
    expect(await deliver({ runKey: rk('cbd-3'), attempt: 1, at: '2026-11-25T11:00:00.000Z', last: false })).toEqual({
      delivered: false,
      stop: true,
    });
    expect(calls).toBe(0);
    expect((await store.readReport(rk('cbd-3')))?.callback).toMatchObject({
      state: 'gave_up',
      attempts: [{ status: null, message: expect.stringContaining('DIALTONE_CALLBACK_SECRET') }],
    });
  });

  it("signs with the registration's own integration's secret, never another's, and sends nothing for an integration without one", async () => {
    const store = await storeWithReport('cbd-4');
    const registration = await store.readCallback(rk('cbd-4'));
    await store.saveCallback(rk('cbd-4'), { ...registration!, integration: 'hr-b' });
    calls = 0;
    const deliver = createCallbackDelivery({
      store,
      sender: new HttpCallbackSender(new Map([['hr-a', 'a'.repeat(32)]]), 5_000, Date.now, true),
    });
    expect(await deliver({ runKey: rk('cbd-4'), attempt: 1, at: '2026-11-25T11:00:00.000Z', last: false })).toEqual({
      delivered: false,
      stop: true,
    });
    expect(calls).toBe(0);
    expect((await store.readReport(rk('cbd-4')))?.callback).toMatchObject({
      state: 'gave_up',
      attempts: [{ status: null, message: expect.stringContaining('DIALTONE_CALLBACK_SECRET_HR_B') }],
    });
  });
});
