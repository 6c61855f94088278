// The batch store against Azurite: an HTTP batch's input is written once per run (If-None-Match: *), an input is
// read as the version the batch was accepted with (If-Match with the event's or the upload's ETag), and an input
// over the limit is refused without being downloaded whole.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
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

  it('keeps raw inputs and callback registrations (receiver URLs with their tokens) out of the reports container people read', async () => {
    const run = newRunKey('hr-a', 'private');
    const ref = await store.saveInput(run, Buffer.from('userPrincipalName\nann@contoso.com'));
    await store.saveCallback(run, {
      integration: 'hr-a',
      url: 'https://hr.example.com/cb?token=secret',
      statusUrl: 'https://app/api/batches/private',
      attempts: [],
    });
    const names = async (container: string) => {
      const out: string[] = [];
      await service.getContainerClient(container).createIfNotExists();
      for await (const b of service.getContainerClient(container).listBlobsFlat({ prefix: `${run}/` }))
        out.push(b.name.slice(run.length + 1));
      return out.sort();
    };
    expect(ref.container).toBe('dialtone-private');
    expect(await names('dialtone-private')).toEqual(['_work/input', 'callback.json']);
    expect(await names('license-reports')).toEqual([]);
    expect((await store.readCallback(run))?.url).toBe('https://hr.example.com/cb?token=secret');
    // A run registered before the private container still has its callback.
    const old = newRunKey('hr-a', 'legacy');
    const legacy = { url: 'https://hr.example.com/old', statusUrl: 's', attempts: [] };
    await service
      .getContainerClient('license-reports')
      .getBlockBlobClient(`${old}/_work/callback.json`)
      .upload(JSON.stringify(legacy), JSON.stringify(legacy).length);
    expect(await store.readCallback(old)).toEqual(legacy);
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
    const small = await intake.getBlockBlobClient('small.txt').uploadData(Buffer.from('a@contoso.com\n'));
    // The store talks to Azurite through a recording proxy: every request, and how many body bytes came back.
    const seen: { method: string; path: string; bodyBytes: number }[] = [];
    const proxy = createServer((req, res) => {
      const upstream = httpRequest(
        { host: '127.0.0.1', port: azurite.blobPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          const entry = {
            method: req.method ?? '',
            path: decodeURIComponent((req.url ?? '').split('?')[0]!),
            bodyBytes: 0,
          };
          seen.push(entry);
          answer.on('data', (c: Buffer) => (entry.bodyBytes += c.length));
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const viaProxy = new BlobBatchStore(
        BlobServiceClient.fromConnectionString(
          azurite.connectionString.replace(
            /BlobEndpoint=http:\/\/127\.0\.0\.1:\d+/,
            `BlobEndpoint=http://127.0.0.1:${port}`,
          ),
        ),
        'license-reports',
      );
      const read = await viaProxy.readInput({ container: 'license-requests', name: 'big.txt', etag: big.etag! });
      expect(read).toEqual({
        ok: false,
        message: `big.txt: ${MAX_INPUT_BYTES + 1} bytes is over the limit of ${MAX_INPUT_BYTES} bytes (20 MiB); split the file`,
      });
      const ofBig = seen.filter((r) => r.path.endsWith('/license-requests/big.txt'));
      expect(ofBig).toEqual([{ method: 'HEAD', path: expect.any(String), bodyBytes: 0 }]);
      // The same path reads a small input whole: one HEAD, one GET with its bytes (so the proxy sees a download).
      const readSmall = await viaProxy.readInput({
        container: 'license-requests',
        name: 'small.txt',
        etag: small.etag!,
      });
      expect(readSmall.ok && readSmall.bytes.toString()).toBe('a@contoso.com\n');
      expect(seen.filter((r) => r.path.endsWith('/small.txt')).map((r) => [r.method, r.bodyBytes])).toEqual([
        ['HEAD', 0],
        ['GET', 14],
      ]);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
