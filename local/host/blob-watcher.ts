// Azurite has no Event Grid, so the local host notices uploads itself: it lists the intake container and calls the
// app's blob trigger once for each new (name, ETag), as the Event Grid subscription does in Azure.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';

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
    private readonly onUpload: (blob: UploadedBlob, content: Buffer) => Promise<void>,
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
      // Like the Functions host, hand the trigger the blob's content; inputs over the limit are refused by the app.
      const content = (b.properties.contentLength ?? 0) > 32 * 1024 * 1024 ? Buffer.alloc(0) : await client.downloadToBuffer();
      await this.onUpload({ name: b.name, etag: b.properties.etag ?? '', url: client.url, contentLength: b.properties.contentLength ?? content.length, contentType: b.properties.contentType, lastModified: b.properties.lastModified }, content);
      this.seen.add(key);
      writeFileSync(this.seenFile, JSON.stringify([...this.seen]));
    }
  }
}
