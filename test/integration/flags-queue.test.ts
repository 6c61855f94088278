// Flags on the storage queue (the publisher used without Service Bus) against Azurite: a storage queue keeps every
// message it is sent (it has no duplicate detection, unlike Service Bus), so a finish activity run again after a
// crash between publishing and marking the flags done must send nothing twice. The crash is made real by a store
// whose first `markDone('flags')` throws, as a worker dying at that point leaves the step unrecorded.
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { createActivities } from '../../activities/batch';
import { BlobBatchStore, newRunKey, type BatchStore } from '../../shared/adapters/batch-store';
import {
  FLAGS_PER_RECORD,
  FLAG_SENDS_AT_ONCE,
  StorageQueueFlagPublisher,
  flagMessageId,
  sentFlagLedgerIn,
} from '../../shared/adapters/flags';
import type { LicensingDirectory } from '../../shared/domain/directory';
import type { AssignmentPlan } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';

let azurite: Azurite;
let store: BlobBatchStore;
let queueService: QueueServiceClient;
beforeAll(async () => {
  azurite = await startAzurite();
  store = new BlobBatchStore(BlobServiceClient.fromConnectionString(azurite.connectionString), 'license-reports');
  queueService = QueueServiceClient.fromConnectionString(azurite.connectionString);
});
afterAll(() => azurite?.stop());

/** Every message on the queue, taken off it 32 at a time (a peek sees 32 at most). */
async function drained(queue: QueueClient): Promise<{ messageId: string; body: { userPrincipalName: string } }[]> {
  const all: { messageId: string; body: { userPrincipalName: string } }[] = [];
  for (;;) {
    const got = (await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 })).receivedMessageItems;
    if (got.length === 0) return all;
    for (const m of got) all.push(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')));
  }
}

/** The run's ledger records of sent flags (blobs under its `_work` folder). */
async function ledgerRecords(run: string): Promise<string[]> {
  const names: string[] = [];
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
    'license-reports',
  );
  for await (const b of container.listBlobsFlat({ prefix: `${run}/_work/flag` }))
    names.push(b.name.slice(`${run}/_work/`.length));
  return names;
}

/** Every message on the queue, read without taking any (peek shows at most 32; these tests stay under that). */
async function queued(queue: QueueClient): Promise<{ messageId: string; body: { userPrincipalName: string } }[]> {
  const peeked = await queue.peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')));
}

const row = (n: number): AssignmentPlan => ({
  kind: 'assign',
  row: n,
  userPrincipalName: `flag${n}@contoso.com`,
  profile: 'phone-domestic',
  skus: ['ENTERPRISEPACK'],
  userId: `id-${n}`,
  addSkuIds: ['sku'],
  enable: [],
  setUsageLocation: null,
  pollTeams: false,
  advisories: [],
});

/** The finish activity never touches Graph; any call here is a defect. */
const noGraph = new Proxy(
  {},
  { get: (_t, name) => () => Promise.reject(new Error(`finish called Graph (${String(name)})`)) },
) as LicensingDirectory;

describe('flags on a storage queue', () => {
  it("are published once across a crash between publishing and marking them done; a lost chunk's rows reach the report", async () => {
    const queue = queueService.getQueueClient('flags-crash');
    const runKey = newRunKey('hr-a', 'flags-crash');
    // Three rows whose chunk never recorded a result: the finish reports each failed (graph_error) and flags it.
    await store.savePlan(runKey, {
      batchId: 'flags-crash',
      source: 'http',
      startedAt: '2026-11-25T08:00:00.000Z',
      deadline: '2026-11-26T08:00:00.000Z',
      chunkSize: 200,
      rows: [row(1), row(2), row(3)],
    });
    let crashes = 0;
    const crashingStore: BatchStore = Object.assign(Object.create(store) as BatchStore, {
      markDone: async (key: string, step: string) => {
        if (step === 'flags' && crashes++ === 0) throw new Error('worker died before the flags were marked done');
        return store.markDone(key, step);
      },
    });
    const activities = createActivities({
      graph: noGraph,
      store: crashingStore,
      flags: new StorageQueueFlagPublisher(queue, sentFlagLedgerIn(store)),
      profiles: BUILT_IN_PROFILES,
      defaultProfile: 'phone-domestic',
      defaultUsageLocation: undefined,
    });

    await expect(activities.finish({ batchId: 'flags-crash', runKey })).rejects.toThrow(/worker died/);
    // (sent a few at a time: their order in the queue is not theirs in the batch)
    expect((await queued(queue)).map((m) => m.body.userPrincipalName).sort()).toEqual([
      'flag1@contoso.com',
      'flag2@contoso.com',
      'flag3@contoso.com',
    ]);
    // The durable retry (or replay) runs the finish again.
    await activities.finish({ batchId: 'flags-crash', runKey });
    const after = await queued(queue);
    expect(after.map((m) => m.body.userPrincipalName).sort()).toEqual([
      'flag1@contoso.com',
      'flag2@contoso.com',
      'flag3@contoso.com',
    ]);
    expect(after.map((m) => m.messageId).sort()).toEqual(
      [1, 2, 3].map((n) => flagMessageId(runKey, `flag${n}@contoso.com`)).sort(),
    );
    expect(await store.isDone(runKey, 'flags')).toBe(true);
    expect(crashes).toBe(2);
    // A chunk that never recorded a result (it failed outright) still reaches the report: each of its rows failed,
    // saying why and what to do.
    const report = await store.readReport(runKey);
    expect(report?.users.map((u) => [u.row, u.outcome, u.reason, u.message])).toEqual(
      [1, 2, 3].map((n) => [
        n,
        'failed',
        'graph_error',
        'no result was recorded for this row (its chunk failed); run the batch again',
      ]),
    );
  });

  it('sends only the messages a crash in the middle of publishing left unsent', async () => {
    const queue = queueService.getQueueClient('flags-midway');
    const run = newRunKey('hr-a', 'flags-midway');
    const flags = [1, 2, 3, 4].map((n) => ({
      batchId: 'flags-midway',
      run,
      row: n,
      userPrincipalName: `mid${n}@contoso.com`,
      outcome: 'failed' as const,
      reason: 'user_not_found',
      message: 'm',
    }));
    await queue.createIfNotExists();
    // The worker dies while sending the third message (the queue never got it).
    let sends = 0;
    const dying = new Proxy(queue, {
      get: (target, name, receiver) => {
        if (name !== 'sendMessage') return Reflect.get(target, name, receiver) as unknown;
        return (...args: Parameters<QueueClient['sendMessage']>) =>
          ++sends === 3 ? Promise.reject(new Error('worker died mid-send')) : target.sendMessage(...args);
      },
    });
    await expect(new StorageQueueFlagPublisher(dying, sentFlagLedgerIn(store)).publish(flags)).rejects.toThrow(
      /mid-send/,
    );
    // Sends go a few at a time: the ones that were under way beside the failed one were sent and recorded.
    const before = (await queued(queue)).map((m) => m.body.userPrincipalName);
    expect(before).not.toContain('mid3@contoso.com');
    expect(before.length).toBeGreaterThanOrEqual(2);
    await new StorageQueueFlagPublisher(queue, sentFlagLedgerIn(store)).publish(flags);
    // The replay sent only what was missing: every user once.
    expect((await queued(queue)).map((m) => m.body.userPrincipalName).sort()).toEqual([
      'mid1@contoso.com',
      'mid2@contoso.com',
      'mid3@contoso.com',
      'mid4@contoso.com',
    ]);
  });

  it('sends many flags a few at a time, each once, and no new send after a failure', async () => {
    const queue = queueService.getQueueClient('flags-many');
    const run = newRunKey('hr-a', 'flags-many');
    const flags = Array.from({ length: 100 }, (_, i) => ({
      batchId: 'flags-many',
      run,
      row: i + 1,
      userPrincipalName: `many${i + 1}@contoso.com`,
      outcome: 'flagged' as const,
      reason: 'no_calling_plan',
      message: 'm',
    }));
    await queue.createIfNotExists();
    let inFlight = 0;
    let most = 0;
    let sends = 0;
    const watched = new Proxy(queue, {
      get: (target, name, receiver) => {
        if (name !== 'sendMessage') return Reflect.get(target, name, receiver) as unknown;
        return async (...args: Parameters<QueueClient['sendMessage']>) => {
          sends++;
          most = Math.max(most, ++inFlight);
          try {
            if (sends === 60) throw new Error('queue refused');
            return await target.sendMessage(...args);
          } finally {
            inFlight--;
          }
        };
      },
    });
    let inFlightAtFailure = -1;
    await expect(
      new StorageQueueFlagPublisher(watched, sentFlagLedgerIn(store)).publish(flags).catch((e: unknown) => {
        inFlightAtFailure = inFlight;
        throw e;
      }),
    ).rejects.toThrow(/refused/);
    // the failure is thrown only once the sends under way have ended (a retry of the activity does not race them)
    expect(inFlightAtFailure).toBe(0);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(FLAG_SENDS_AT_ONCE);
    // after the failure, only the sends already under way went on
    expect(sends).toBeLessThan(60 + FLAG_SENDS_AT_ONCE);
    await new StorageQueueFlagPublisher(queue, sentFlagLedgerIn(store)).publish(flags);
    // every message, taken off the queue 32 at a time (a peek sees 32 at most)
    const names: string[] = [];
    for (;;) {
      const got = (await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 })).receivedMessageItems;
      if (got.length === 0) break;
      for (const m of got)
        names.push(
          (JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as { body: { userPrincipalName: string } })
            .body.userPrincipalName,
        );
    }
    expect(names).toHaveLength(100);
    expect(new Set(names).size).toBe(100);
  });

  it('records sent flags a group at a time (one ledger record per group, not per flag), each user once across a replay', async () => {
    const queue = queueService.getQueueClient('flags-groups');
    const run = newRunKey('hr-a', 'flags-groups');
    const count = 2 * FLAGS_PER_RECORD + 50;
    const flags = Array.from({ length: count }, (_, i) => ({
      batchId: 'flags-groups',
      run,
      row: i + 1,
      userPrincipalName: `group${i + 1}@contoso.com`,
      outcome: 'failed' as const,
      reason: 'user_not_found',
      message: 'm',
    }));
    await new StorageQueueFlagPublisher(queue, sentFlagLedgerIn(store)).publish(flags);
    const records = await ledgerRecords(run);
    expect(records).toHaveLength(3);
    expect(records.every((r) => r.startsWith('flagsent-'))).toBe(true);
    // The replay finds every message recorded and sends none.
    await new StorageQueueFlagPublisher(queue, sentFlagLedgerIn(store)).publish(flags);
    const names = (await drained(queue)).map((m) => m.body.userPrincipalName);
    expect(names).toHaveLength(count);
    expect(new Set(names).size).toBe(count);
    expect(await ledgerRecords(run)).toHaveLength(3);
  });

  it('a worker that dies before recording a group sends that group again, never loses a flag, and the copies carry the same message id', async () => {
    const queue = queueService.getQueueClient('flags-died');
    const run = newRunKey('hr-a', 'flags-died');
    const count = FLAGS_PER_RECORD + 10;
    const flags = Array.from({ length: count }, (_, i) => ({
      batchId: 'flags-died',
      run,
      row: i + 1,
      userPrincipalName: `died${i + 1}@contoso.com`,
      outcome: 'flagged' as const,
      reason: 'no_calling_plan',
      message: 'm',
    }));
    // The first group is sent, then the worker dies before its record is written (no `finally` runs in a dead process:
    // the record's write itself fails here).
    const ledger = sentFlagLedgerIn(store);
    let records = 0;
    const dying = {
      ...ledger,
      recordSent: (r: string, ids: readonly string[]) =>
        records++ === 0 ? Promise.reject(new Error('worker died before the record')) : ledger.recordSent(r, ids),
    };
    await expect(new StorageQueueFlagPublisher(queue, dying).publish(flags)).rejects.toThrow(/before the record/);
    await new StorageQueueFlagPublisher(queue, sentFlagLedgerIn(store)).publish(flags);
    const got = await drained(queue);
    // Every user at least once; the first group twice, as the same message ids (a reader drops the copies).
    expect(new Set(got.map((m) => m.body.userPrincipalName)).size).toBe(count);
    expect(got).toHaveLength(count + FLAGS_PER_RECORD);
    expect(new Set(got.map((m) => m.messageId)).size).toBe(count);
    // A third run sends nothing.
    await new StorageQueueFlagPublisher(queue, sentFlagLedgerIn(store)).publish(flags);
    expect(await drained(queue)).toHaveLength(0);
  });

  it('honours the per-flag records of runs published before groups', async () => {
    const queue = queueService.getQueueClient('flags-legacy');
    const run = newRunKey('hr-a', 'flags-legacy');
    const flags = [1, 2, 3].map((n) => ({
      batchId: 'flags-legacy',
      run,
      row: n,
      userPrincipalName: `legacy${n}@contoso.com`,
      outcome: 'failed' as const,
      reason: 'user_not_found',
      message: 'm',
    }));
    await store.markDone(run, `flag-${flagMessageId(run, 'legacy1@contoso.com')}`);
    await new StorageQueueFlagPublisher(queue, sentFlagLedgerIn(store)).publish(flags);
    expect((await drained(queue)).map((m) => m.body.userPrincipalName).sort()).toEqual([
      'legacy2@contoso.com',
      'legacy3@contoso.com',
    ]);
  });
});
