// One Graph write budget and one Teams read budget for the whole app, shared by every instance that runs it (Flex
// Consumption scales to 40). Graph counts its limits per app and tenant, not per process: 3,000 writes per 150 s
// (the identity and access limits in Microsoft Graph's throttling-limits.md) and 30 requests per second for Teams
// GETs (its Teams service limits). Per-process pacing stays within them only while one process runs.
//
// Design: a rate ledger in one small blob, `{ "nextFreeAt": <epoch ms> }`, updated only with an ETag condition
// (If-Match, or If-None-Match: * to create it). A caller reserves n consecutive slots at the configured rate: the
// reservation starts at max(now, nextFreeAt) and moves nextFreeAt on by n / rate seconds. Two instances racing for
// the blob cannot both win (the loser gets 412 and reads again), so reservations never overlap, and a caller that
// uses its slots no faster than the rate keeps the whole app at the rate over any window. Writes are reserved in
// blocks (up to one second's worth per storage round trip, only as many as there are writes waiting), so the blob
// sees a few requests per second at most, far below a blob's documented target of 500 requests per second. It works
// wherever blob storage does: Azure, Azurite, the local host and the real Durable extension alike (durable entities
// would not run on the local engine).
//
// Limits, said plainly: instances' clocks differ by their skew (Azure keeps them NTP-synced, well under a second), a
// slot used late overlaps the next caller's by the delay, and slots an instance reserved but did not use are lost
// (a reservation is only as large as the writes already waiting). The budget's rates stay under Graph's limits by a
// margin that absorbs this: 18 writes/s against 20, 10 Teams reads/s against 30.
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { appTime, sleepUntil, type AppTime } from './app-time';

/** Reserves slots at a fixed rate in a ledger every instance of the app shares. */
export interface RateLedger {
  readonly perSecond: number;
  /** Reserves n consecutive slots; returns when the first one starts (epoch ms). */
  reserve(n: number): Promise<number>;
}

interface LedgerState {
  readonly nextFreeAt: number;
}

const MAX_CONFLICT_RETRIES = 50;

export class BlobRateLedger implements RateLedger {
  private ready: Promise<unknown> | undefined;
  private readonly blob: BlockBlobClient;

  constructor(
    private readonly container: ContainerClient,
    blobName: string,
    readonly perSecond: number,
    private readonly time: AppTime = appTime,
  ) {
    if (!(perSecond > 0)) throw new Error('a rate ledger needs a positive rate');
    this.blob = container.getBlockBlobClient(blobName);
  }

  async reserve(n: number): Promise<number> {
    this.ready ??= this.container.createIfNotExists();
    await this.ready;
    for (let attempt = 0; ; attempt++) {
      const { state, etag } = await this.read();
      const now = this.time.now();
      const start = Math.max(now, state?.nextFreeAt ?? 0);
      const next: LedgerState = { nextFreeAt: start + (n * 1000) / this.perSecond };
      const body = JSON.stringify(next);
      try {
        await this.blob.upload(body, Buffer.byteLength(body), { conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: 'application/json' } });
        return start;
      } catch (e) {
        const status = (e as { statusCode?: number }).statusCode;
        // 412: another instance updated it first; 409: another instance created it first. Read again.
        if ((status !== 412 && status !== 409) || attempt >= MAX_CONFLICT_RETRIES) throw e;
        await this.time.sleep(5 + Math.random() * 20 * Math.min(attempt + 1, 5));
      }
    }
  }

  private async read(): Promise<{ state: LedgerState | undefined; etag: string | undefined }> {
    try {
      const r = await this.blob.download();
      const text = await streamText(r.readableStreamBody);
      const parsed = JSON.parse(text) as Partial<LedgerState>;
      return { state: typeof parsed.nextFreeAt === 'number' && Number.isFinite(parsed.nextFreeAt) ? { nextFreeAt: parsed.nextFreeAt } : undefined, etag: r.etag };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return { state: undefined, etag: undefined };
      if (e instanceof SyntaxError) return { state: undefined, etag: undefined }; // unreadable: start afresh (still conditional below)
      throw e;
    }
  }
}

async function streamText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return '';
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk));
  return Buffer.concat(parts).toString('utf8');
}

/** A rate ledger for one process only (tests, the seed's baseline, a single worker). */
export class LocalRateLedger implements RateLedger {
  private nextFreeAt = 0;
  constructor(
    readonly perSecond: number,
    private readonly time: AppTime = appTime,
  ) {}

  reserve(n: number): Promise<number> {
    const start = Math.max(this.time.now(), this.nextFreeAt);
    this.nextFreeAt = start + (n * 1000) / this.perSecond;
    return Promise.resolve(start);
  }
}

/**
 * Paces one process's Graph writes within the shared ledger: writes that are waiting are reserved together (at most
 * one second's worth per reservation), and each one goes at its own slot.
 */
export class WriteBudget {
  private readonly waiting: ((slot: number) => void)[] = [];
  private reserving = false;
  private readonly fallback: LocalRateLedger;

  constructor(
    private readonly ledger: RateLedger,
    private readonly time: AppTime = appTime,
  ) {
    this.fallback = new LocalRateLedger(ledger.perSecond, time);
  }

  /** Resolves when this write may be sent. */
  async acquire(): Promise<void> {
    const slot = await new Promise<number>((resolve) => {
      this.waiting.push(resolve);
      void this.reserveForWaiting();
    });
    await sleepUntil(this.time, slot);
  }

  private async reserveForWaiting(): Promise<void> {
    if (this.reserving) return;
    this.reserving = true;
    try {
      while (this.waiting.length > 0) {
        const block = this.waiting.splice(0, Math.max(1, Math.ceil(this.ledger.perSecond)));
        let start: number;
        try {
          start = await this.ledger.reserve(block.length);
        } catch {
          // The ledger's storage is unreachable: this process keeps its own pace rather than stopping every write
          // (what each process did before the ledger). Several instances may then exceed Graph's quota together;
          // the 429s that follow are honoured and retried.
          start = await this.fallback.reserve(block.length);
        }
        const interval = 1000 / this.ledger.perSecond;
        block.forEach((resolve, i) => resolve(start + i * interval));
      }
    } finally {
      this.reserving = false;
    }
  }
}

/**
 * Waits in the caller for n consecutive slots of a ledger, then returns: for Teams reads too few to be worth a durable
 * timer (the number step's reads of a user's numbers, the free-number list and order status: at most 20 at a time).
 * Without a ledger it returns at once.
 */
export async function takeSlots(ledger: RateLedger | undefined, n: number, time: AppTime = appTime): Promise<void> {
  if (!ledger || n <= 0) return;
  await sleepUntil(time, await ledger.reserve(n));
}
