// The pricing arithmetic of `npm run cost` (bench/cost-model.ts) and the billing class the storage meter gives each
// request (local/storage-meter.ts), against hand-worked sums and Microsoft's operation-to-price table for general-purpose
// v2 accounts (learn.microsoft.com, azure/storage/blobs/map-rest-apis-transaction-categories).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  biggestTerm,
  costPer1000Users,
  idleCostPerMonth,
  storageCost,
  type AzurePrices,
  type ClassCounts,
} from '../../bench/cost-model';
import { classifyStorageRequest, emptyClasses } from '../../local/storage-meter';

const prices: AzurePrices = {
  functions: { onDemandGbSecondUsd: 0.000026, perMillionExecutionsUsd: 0.4, alwaysReadyBaselineGbSecondUsd: 0.000004 },
  storagePer10kUsd: {
    blobWrite: 0.055,
    blobListCreate: 0.055,
    blobRead: 0.0044,
    blobOther: 0.0044,
    blobFree: 0,
    queueClass1: 0.004,
    queueClass2: 0.004,
    table: 0.00036,
  },
  serviceBus: {
    standardBasePerHourUsd: 0.01344,
    standardIncludedOperationsPerMonth: 13_000_000,
    standardPerMillionOperationsUsd: 0.8,
  },
};

const none: ClassCounts = emptyClasses();

const close = (actual: number, expected: number) => expect(actual).toBeCloseTo(expected, 10);

describe('storage cost', () => {
  it('prices each class per 10,000 operations and adds them', () => {
    const c = storageCost(
      { ...none, blobWrite: 20_000, queueClass2: 5_000, table: 10_000, blobFree: 1_000_000 },
      prices,
    );
    close(c.byClass.blobWrite, 0.11);
    close(c.byClass.queueClass2, 0.002);
    close(c.byClass.table, 0.00036);
    expect(c.byClass.blobFree).toBe(0);
    close(c.totalUsd, 0.11 + 0.002 + 0.00036);
  });
});

describe('a batch per 1,000 users', () => {
  it('scales every term by 1,000 / users', () => {
    // 400 users: 40,000 queue class 1 operations ($0.016), 2,000,000 executions ($0.80), 100 busy seconds of a 2 GB
    // instance (200 GB-s, $0.0052); per 1,000 users each times 2.5.
    const t = costPer1000Users(
      {
        users: 400,
        storage: { ...none, queueClass1: 40_000 },
        executions: 2_000_000,
        busySeconds: 100,
        serviceBusOperations: 10,
      },
      prices,
      { instanceMemoryGb: 2, alwaysReadyInstances: 1, serviceBus: true },
    );
    close(t.storageUsd, 0.016 * 2.5);
    close(t.storageByClassUsd.queueClass1, 0.016 * 2.5);
    close(t.executionsUsd, 0.8 * 2.5);
    close(t.gbSecondsUsd, 0.0052 * 2.5);
    expect(t.serviceBusUsd).toBe(0);
    close(t.totalUsd, (0.016 + 0.8 + 0.0052) * 2.5);
  });

  it('refuses a batch of no users', () => {
    expect(() =>
      costPer1000Users({ users: 0, storage: none, executions: 1, busySeconds: 1, serviceBusOperations: 0 }, prices, {
        instanceMemoryGb: 2,
        alwaysReadyInstances: 0,
        serviceBus: false,
      }),
    ).toThrow(/users must be above 0/);
  });
});

describe('an idle month', () => {
  it('is 730 hours of the measured polling, the always-ready baseline and the Service Bus base charge', () => {
    // Half an hour measured: 1,800 queue class 2 and 900 table operations, so 3,600 and 1,800 an hour;
    // 730 hours: 2,628,000 queue operations ($1.0512) and 1,314,000 table operations ($0.047304).
    const t = idleCostPerMonth(
      { storage: { ...none, queueClass2: 1_800, table: 900 }, executions: 0, hours: 0.5 },
      prices,
      {
        instanceMemoryGb: 2,
        alwaysReadyInstances: 1,
        serviceBus: true,
      },
    );
    close(t.storageByClassUsd.queueClass2, 1.0512);
    close(t.storageByClassUsd.table, 0.047304);
    close(t.storageUsd, 1.0512 + 0.047304);
    // One always-ready 2 GB instance: 2 × 730 × 3,600 GB-s at $0.000004 = $21.024.
    close(t.alwaysReadyBaselineUsd, 21.024);
    // Service Bus Standard: 730 hours at $0.01344 = $9.8112.
    close(t.serviceBusBaseUsd, 9.8112);
    close(t.totalUsd, 1.0512 + 0.047304 + 21.024 + 9.8112);
    expect(
      biggestTerm({ storage: t.storageUsd, baseline: t.alwaysReadyBaselineUsd, bus: t.serviceBusBaseUsd }),
    ).toEqual({
      name: 'baseline',
      usd: t.alwaysReadyBaselineUsd,
    });
  });

  it('has no baseline without always-ready instances and no base charge without Service Bus', () => {
    const t = idleCostPerMonth({ storage: none, executions: 0, hours: 1 }, prices, {
      instanceMemoryGb: 2,
      alwaysReadyInstances: 0,
      serviceBus: false,
    });
    expect(t.totalUsd).toBe(0);
  });
});

describe('the prices file', () => {
  it('names a page and a source for every service and has a price for every billing class', () => {
    const j = JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'azure-prices.json'), 'utf8')) as Record<
      string,
      { page?: string; source?: string; per10kOperationsUsd?: Record<string, number> }
    >;
    for (const k of ['functions', 'storage', 'serviceBus']) {
      expect(j[k]?.page).toMatch(/^https:\/\/azure\.microsoft\.com\/pricing\//);
      expect(j[k]?.source?.length).toBeGreaterThan(40);
    }
    expect(Object.keys(j['storage']!.per10kOperationsUsd!).sort()).toEqual(Object.keys(none).sort());
    expect(j['read']).toBe('2026-12-07');
  });
});

describe('billing class of a storage request', () => {
  const q = (s = '') => new URLSearchParams(s);
  const cases: [Parameters<typeof classifyStorageRequest>, string, string][] = [
    [['blob', 'PUT', '/devstoreaccount1/c/b', q()], 'PutBlob', 'blobWrite'],
    [['blob', 'PUT', '/devstoreaccount1/c/b', q('comp=block&blockid=x')], 'PutBlock', 'blobWrite'],
    [['blob', 'PUT', '/devstoreaccount1/c/b', q('comp=blocklist')], 'PutBlockList', 'blobWrite'],
    [['blob', 'GET', '/devstoreaccount1/c/b', q()], 'GetBlob', 'blobRead'],
    [['blob', 'HEAD', '/devstoreaccount1/c/b', q()], 'GetBlobProperties', 'blobOther'],
    [['blob', 'PUT', '/devstoreaccount1/c/b', q('comp=metadata')], 'SetBlobMetadata', 'blobOther'],
    [['blob', 'DELETE', '/devstoreaccount1/c/b', q()], 'DeleteBlob', 'blobFree'],
    [['blob', 'PUT', '/devstoreaccount1/c', q('restype=container')], 'CreateContainer', 'blobListCreate'],
    [['blob', 'GET', '/devstoreaccount1/c', q('restype=container&comp=list')], 'ListBlobs', 'blobListCreate'],
    [['blob', 'GET', '/devstoreaccount1', q('comp=list')], 'ListContainers', 'blobListCreate'],
    [['blob', 'DELETE', '/devstoreaccount1/c', q('restype=container')], 'DeleteContainer', 'blobFree'],
    [
      ['blob', 'PUT', '/devstoreaccount1/c', q('restype=container&comp=lease'), { 'x-ms-lease-action': 'renew' }],
      'RenewContainerLease',
      'blobOther',
    ],
    [
      ['blob', 'PUT', '/devstoreaccount1/c/b', q('comp=lease'), { 'x-ms-lease-action': 'acquire' }],
      'AcquireBlobLease',
      'blobOther',
    ],
    [['blob', 'PUT', '/devstoreaccount1/c/b', q(), { 'x-ms-copy-source': 'http://x' }], 'CopyBlob', 'blobWrite'],
    [['queue', 'POST', '/devstoreaccount1/q/messages', q()], 'PutMessage', 'queueClass1'],
    [['queue', 'GET', '/devstoreaccount1/q/messages', q('numofmessages=32')], 'GetMessages', 'queueClass2'],
    [['queue', 'GET', '/devstoreaccount1/q/messages', q('peekonly=true')], 'PeekMessages', 'queueClass2'],
    [['queue', 'DELETE', '/devstoreaccount1/q/messages/id', q('popreceipt=p')], 'DeleteMessage', 'queueClass1'],
    [['queue', 'PUT', '/devstoreaccount1/q/messages/id', q('popreceipt=p')], 'UpdateMessage', 'queueClass1'],
    [['queue', 'PUT', '/devstoreaccount1/q', q()], 'CreateQueue', 'queueClass1'],
    [['queue', 'GET', '/devstoreaccount1/q', q('comp=metadata')], 'GetQueueMetadata', 'queueClass2'],
    [['queue', 'GET', '/devstoreaccount1', q('comp=list')], 'ListQueues', 'queueClass1'],
    [['table', 'POST', '/devstoreaccount1/$batch', q()], 'EntityGroupTransaction', 'table'],
    [['table', 'GET', "/devstoreaccount1/hubInstances(PartitionKey='a',RowKey='')", q()], 'QueryEntities', 'table'],
    [['table', 'POST', '/devstoreaccount1/Tables', q()], 'CreateTable', 'table'],
  ];
  it.each(cases)('%j is %s (%s)', (args, operation, billingClass) => {
    const o = classifyStorageRequest(...args);
    expect(o.operation).toBe(operation);
    expect(o.billingClass).toBe(billingClass);
  });

  it('names the container, queue or table a request addressed', () => {
    expect(classifyStorageRequest('blob', 'GET', '/devstoreaccount1/budgets/a/b', q()).resource).toBe('budgets');
    expect(classifyStorageRequest('queue', 'GET', '/devstoreaccount1/hub-control-00/messages', q()).resource).toBe(
      'hub-control-00',
    );
    expect(classifyStorageRequest('table', 'GET', "/devstoreaccount1/hubHistory(PartitionKey='x')", q()).resource).toBe(
      'hubHistory',
    );
  });
});
