// The storage meter (local/storage-meter.ts) in front of a real Azurite, driven by the real storage SDKs: every request
// reaches Azurite unchanged through it, and it counts each one as the operation and billing class Azure would bill.
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type Azurite } from '../../local/azurite';
import { startStorageMeter, type StorageMeter } from '../../local/storage-meter';

let azurite: Azurite;
let meter: StorageMeter;

beforeAll(async () => {
  azurite = await startAzurite();
  meter = await startStorageMeter(azurite, (service, o) => service === 'blob' && o.resource === 'ignored');
});
afterAll(async () => {
  await meter?.close();
  await azurite?.stop();
});

it('passes blob and queue requests on and counts each by the operation Azure bills', async () => {
  const blobs = BlobServiceClient.fromConnectionString(meter.connectionString);
  const container = blobs.getContainerClient('metered');
  await container.create();
  const blob = container.getBlockBlobClient('a.json');
  await blob.upload('{"x":1}', 7);
  expect((await blob.downloadToBuffer()).toString()).toBe('{"x":1}');
  const listed: string[] = [];
  for await (const b of container.listBlobsFlat()) listed.push(b.name);
  expect(listed).toEqual(['a.json']);
  await blob.delete();

  const queues = QueueServiceClient.fromConnectionString(meter.connectionString);
  const queue = queues.getQueueClient('metered');
  await queue.create();
  await queue.sendMessage('hello');
  const got = await queue.receiveMessages();
  expect(got.receivedMessageItems.map((m) => m.messageText)).toEqual(['hello']);
  await queue.deleteMessage(got.receivedMessageItems[0]!.messageId, got.receivedMessageItems[0]!.popReceipt);

  // Excluded requests still reach Azurite, but are not counted.
  await blobs.getContainerClient('ignored').create();
  expect(await blobs.getContainerClient('ignored').exists()).toBe(true);

  const c = meter.reset();
  expect(c.byOperation).toEqual({
    'blob:CreateContainer': 1,
    'blob:PutBlob': 1,
    // downloadToBuffer asks for the blob's size first
    'blob:GetBlobProperties': 1,
    'blob:GetBlob': 1,
    'blob:ListBlobs': 1,
    'blob:DeleteBlob': 1,
    'queue:CreateQueue': 1,
    'queue:PutMessage': 1,
    'queue:GetMessages': 1,
    'queue:DeleteMessage': 1,
  });
  expect(c.byClass).toEqual({
    blobWrite: 1,
    blobListCreate: 2,
    blobRead: 1,
    blobOther: 1,
    blobFree: 1,
    queueClass1: 3,
    queueClass2: 1,
    table: 0,
  });
  expect(c.total).toBe(10);
  expect(meter.counts().total).toBe(0);
});
