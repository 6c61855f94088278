// Azurite has no Event Grid, so the local host notices uploads itself: it lists the intake container and hands the
// app's Event Grid trigger one BlobCreated event for each new (name, ETag), as the Event Grid subscription on the
// storage account does in Azure. Like Event Grid it sends only the event; the app reads the blob itself.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { FunctionRegistration, FunctionRegistry } from './functions-core';

export interface UploadedBlob {
  readonly name: string;
  readonly etag: string;
  readonly url: string;
  readonly contentLength: number;
  readonly contentType: string | undefined;
  readonly lastModified: Date | undefined;
}

export class BlobWatcher {
  private readonly seenFile: string;
  private readonly seen: Set<string>;
  private handle: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly container: ContainerClient,
    stateDir: string,
    private readonly onUpload: (blob: UploadedBlob) => Promise<void>,
    private readonly log: (message: string) => void,
    private readonly intervalMs = 250,
  ) {
    this.seenFile = join(stateDir, 'blobs-seen.json');
    this.seen = new Set(existsSync(this.seenFile) ? (JSON.parse(readFileSync(this.seenFile, 'utf8')) as string[]) : []);
  }

  get busy(): boolean {
    return this.scanning !== undefined;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.scanning = this.scan()
        .catch((e: unknown) => this.log(`blob watcher: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          this.scanning = undefined;
          if (!this.stopped) this.handle = setTimeout(tick, this.intervalMs);
        });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
  }

  private async scan(): Promise<void> {
    await this.container.createIfNotExists();
    for await (const b of this.container.listBlobsFlat()) {
      const key = `${b.name}\n${b.properties.etag ?? ''}`;
      if (this.seen.has(key) || b.name.endsWith('/')) continue;
      const client = this.container.getBlobClient(b.name);
      await this.onUpload({
        name: b.name,
        etag: b.properties.etag ?? '',
        url: client.url,
        contentLength: b.properties.contentLength ?? 0,
        contentType: b.properties.contentType,
        lastModified: b.properties.lastModified,
      });
      this.seen.add(key);
      writeFileSync(this.seenFile, JSON.stringify([...this.seen]));
    }
  }
}

/**
 * The event Event Grid delivers for an upload, in the Event Grid schema the Functions host hands to an Event Grid
 * trigger (https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage, "Microsoft.Storage.BlobCreated"):
 * the subject names container and blob, `data.eTag` is the ETag without quotes, `data.contentLength` the size.
 * Azurite has no resource ids or sequencers, so `topic` names a made-up local account and `sequencer` is a counter.
 */
export function blobCreatedEvent(
  account: string,
  container: string,
  blob: UploadedBlob,
  sequence: number,
): Record<string, unknown> {
  const requestId = randomUUID();
  return {
    topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/${account}`,
    subject: `/blobServices/default/containers/${container}/blobs/${blob.name}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    eventTime: (blob.lastModified ?? new Date()).toISOString(),
    id: requestId,
    data: {
      api: 'PutBlob',
      clientRequestId: randomUUID(),
      requestId,
      eTag: blob.etag.replace(/"/g, ''),
      contentType: blob.contentType ?? 'application/octet-stream',
      contentLength: blob.contentLength,
      blobType: 'BlockBlob',
      url: blob.url,
      sequencer: String(sequence).padStart(48, '0'),
      storageDiagnostics: { batchId: randomUUID() },
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}

/**
 * The stand-in for the deployment's Event Grid subscription, for either host: when the app registers an Event Grid
 * trigger (batches-intake), watch the intake container and hand it one BlobCreated event per new upload.
 */
export function uploadEventsWatcher(
  registry: FunctionRegistry,
  stateDir: string,
  invoke: (trigger: FunctionRegistration, event: Record<string, unknown>) => Promise<unknown>,
  log: (message: string) => void,
): BlobWatcher | undefined {
  const trigger = registry.byTrigger('eventGridTrigger')[0];
  if (!trigger) return undefined;
  const containerName = process.env['DIALTONE_INTAKE_CONTAINER'] || 'license-requests';
  const container = BlobServiceClient.fromConnectionString(process.env['AzureWebJobsStorage'] ?? '').getContainerClient(
    containerName,
  );
  let sequence = 0;
  return new BlobWatcher(
    container,
    stateDir,
    async (blob) => {
      await invoke(trigger, blobCreatedEvent(container.accountName, containerName, blob, ++sequence));
    },
    log,
  );
}
