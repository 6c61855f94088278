// The finish activity against real Azurite: every planned row ends in the report exactly once, also when its chunk
// failed outright (no result at all, or assigned but never confirmed in Teams).
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type Azurite } from '../../local/azurite';
import { createActivities } from '../../activities/batch';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import { StorageQueueFlagPublisher, sentFlagLedgerIn } from '../../shared/adapters/flags';
import type { LicensingDirectory } from '../../shared/domain/directory';
import type { AssignmentPlan } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';

describe('finish', () => {
  let azurite: Azurite;
  beforeAll(async () => (azurite = await startAzurite()));
  afterAll(() => azurite?.stop());

  const row = (n: number, pollTeams: boolean): AssignmentPlan => ({
    kind: 'assign',
    row: n,
    userPrincipalName: `u${n}@contoso.com`,
    profile: 'phone-domestic',
    skus: ['MCOPSTN1'],
    userId: `id-${n}`,
    addSkuIds: ['s'],
    enable: [],
    setUsageLocation: null,
    pollTeams,
    advisories: [],
  });

  it('reports the rows of a failed chunk as failed or flagged, naming the chunk failure', async () => {
    const store = new BlobBatchStore(
      BlobServiceClient.fromConnectionString(azurite.connectionString),
      'license-reports',
    );
    const flags = new StorageQueueFlagPublisher(
      QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('license-flags'),
      sentFlagLedgerIn(store),
    );
    const graph = {} as LicensingDirectory; // finish reads no Graph: any call would throw
    const activities = createActivities({
      graph,
      store,
      flags,
      profiles: BUILT_IN_PROFILES,
      defaultProfile: 'phone-domestic',
      defaultUsageLocation: undefined,
    });
    // chunk size 2: chunk 0 = rows 1, 2 (completed); chunk 1 = rows 3, 4 (failed after assigning row 3)
    const run = 'caller/f1/r1';
    await store.savePlan(run, {
      batchId: 'f1',
      source: 'http',
      startedAt: 'x',
      deadline: 'y',
      chunkSize: 2,
      rows: [row(1, true), row(2, true), row(3, true), row(4, true)],
    });
    await store.saveChunk(run, 0, [
      { row: 1, outcome: 'provisioned', reason: '', message: '', assignedAt: 'a', provisionedAt: 'p' },
      { row: 2, outcome: 'flagged', reason: 'no_calling_plan', message: 'late', assignedAt: 'a', provisionedAt: null },
    ]);
    await store.saveChunk(run, 1, [
      { row: 3, outcome: 'assigned', reason: '', message: '', assignedAt: 'a', provisionedAt: null },
    ]);
    const counts = await activities.finish({
      batchId: 'f1',
      runKey: run,
      finishedAt: 'z',
      failedChunks: [{ chunk: 1, message: 'storage unavailable' }],
    });
    expect(counts).toMatchObject({ total: 4, provisioned: 1, flagged: 2, failed: 1 });
    const report = (await store.readReport(run))!;
    expect(report.users.map((u) => [u.row, u.outcome, u.reason])).toEqual([
      [1, 'provisioned', ''],
      [2, 'flagged', 'no_calling_plan'],
      [3, 'flagged', 'no_calling_plan'],
      [4, 'failed', 'graph_error'],
    ]);
    expect(report.users[2]!.message).toContain('storage unavailable');
    expect(report.users[3]!.message).toContain('storage unavailable');
  });

  it("says of a cancelled batch's licensed rows that Teams was not waited for, and only of those that waited", async () => {
    const store = new BlobBatchStore(
      BlobServiceClient.fromConnectionString(azurite.connectionString),
      'license-reports',
    );
    const flags = new StorageQueueFlagPublisher(
      QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('license-flags'),
      sentFlagLedgerIn(store),
    );
    const activities = createActivities({
      graph: {} as LicensingDirectory,
      store,
      flags,
      profiles: BUILT_IN_PROFILES,
      defaultProfile: 'phone-domestic',
      defaultUsageLocation: undefined,
    });
    const run = 'caller/f2/r1';
    await store.savePlan(run, {
      batchId: 'f2',
      source: 'http',
      startedAt: 'x',
      deadline: 'y',
      chunkSize: 3,
      rows: [row(1, true), row(2, false), row(3, true)],
    });
    await store.saveChunk(run, 0, [
      { row: 1, outcome: 'assigned', reason: '', message: '', assignedAt: 'a', provisionedAt: null },
      { row: 2, outcome: 'assigned', reason: '', message: '', assignedAt: 'a', provisionedAt: null },
      { row: 3, outcome: 'provisioned', reason: '', message: '', assignedAt: 'a', provisionedAt: 'p' },
    ]);
    await store.addCancellation(run, { batch: true });
    await activities.finish({ batchId: 'f2', runKey: run, finishedAt: 'z' });
    const report = (await store.readReport(run))!;
    expect(report.users.map((u) => [u.outcome, u.message])).toEqual([
      [
        'assigned',
        'licences assigned; the batch was cancelled before Teams confirmed the calling plan, so it was not waited for: check the user in the Teams admin center (the licences were kept)',
      ],
      ['assigned', ''],
      ['provisioned', ''],
    ]);
  });
});
