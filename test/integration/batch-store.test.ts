// The batch store against Azurite: an HTTP batch's input is written once per run (If-None-Match: *), an input is
// read as the version the batch was accepted with (If-Match with the event's or the upload's ETag), and an input
// over the limit is refused without being downloaded whole.
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { BlobBatchStore, newRunKey } from '../../shared/adapters/batch-store';
import { MAX_INPUT_BYTES } from '../../shared/domain/input';

let azurite: Azurite;
let service: BlobServiceClient;
let store: BlobBatchStore;
beforeAll(async () => {
  azurite = await startAzurite();
  service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  store = new BlobBatchStore(service, 'license-reports');
});
afterAll(() => azurite?.stop());

describe('batch store', () => {
  it('gives every run a folder of its own, even for the same caller and batch id', () => {
    const at = new Date('2026-11-25T08:00:00Z');
    const a = newRunKey('hr-a', 'hr-2026', at);
    const b = newRunKey('hr-a', 'hr-2026', at);
    expect(a).toMatch(/^hr-a\/hr-2026\/20261125T080000Z-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });

  it('writes an input once: a second write to the same run fails instead of swapping the body', async () => {
    const run = newRunKey('hr-a', 'once');
    const ref = await store.saveInput(run, Buffer.from('first'));
    await expect(store.saveInput(run, Buffer.from('second'))).rejects.toMatchObject({ statusCode: 409 });
    const read = await store.readInput(ref);
    expect(read.ok && read.bytes.toString()).toBe('first');
  });

  it('reads an upload pinned to the ETag of its event, and refuses a replaced one', async () => {
    const intake = service.getContainerClient('license-requests');
    await intake.createIfNotExists();
    const first = await intake.getBlockBlobClient('pinned.csv').uploadData(Buffer.from('upn\na@contoso.com\n'));
    // Event Grid's data.eTag comes without the quotes the blob service puts around it.
    const eventEtag = first.etag!.replace(/"/g, '');
    const read = await store.readInput({ container: 'license-requests', name: 'pinned.csv', etag: eventEtag });
    expect(read.ok && read.bytes.toString()).toBe('upn\na@contoso.com\n');
    await intake.getBlockBlobClient('pinned.csv').uploadData(Buffer.from('upn\nsomeone-else@contoso.com\n'));
    const stale = await store.readInput({ container: 'license-requests', name: 'pinned.csv', etag: eventEtag });
    expect(stale).toEqual({ ok: false, message: expect.stringMatching(/replaced after this batch was accepted/) });
  });

  it('refuses an input over the limit from its length, not by downloading it', async () => {
    const intake = service.getContainerClient('license-requests');
    const big = await intake.getBlockBlobClient('big.txt').uploadData(Buffer.alloc(MAX_INPUT_BYTES + 1, 'a'));
    const read = await store.readInput({ container: 'license-requests', name: 'big.txt', etag: big.etag! });
    expect(read).toEqual({ ok: false, message: `big.txt: ${MAX_INPUT_BYTES + 1} bytes is over the limit of ${MAX_INPUT_BYTES} bytes (20 MiB); split the file` });
  });
});
