// One Graph write budget and one Teams read budget for the whole app, shared by every instance that runs it (Flex
// Consumption scales to 40). Graph counts its limits per app and tenant, not per process: 3,000 writes per 150 s
// (the identity and access limits in Microsoft Graph's throttling-limits.md) and 30 requests per second for Teams
// GETs (its Teams service limits). Per-process pacing stays within them only while one process runs.
//
// Design: a rate ledger in one small blob, `{ "nextFreeAt": <epoch ms> }`, updated only with an ETag condition
// (If-Match, or If-None-Match: * to create it). A caller reserves n consecutive turns at the configured rate: the
// reservation starts at max(now, nextFreeAt) and moves nextFreeAt on by n / rate seconds. Two instances racing for
// the blob cannot both win (the loser gets 412 and reads again), so reservations never overlap, and a caller that
// uses its turns no faster than the rate keeps the whole app at the rate over any window. Writes are reserved in
// blocks (up to one second's worth per storage round trip, only as many as there are writes waiting), so the blob
// sees a few requests per second at most, far below a blob's documented target of 500 requests per second. It works
// wherever blob storage does: Azure, Azurite, the local host and the real Durable extension alike (durable entities
// would not run on the local engine).
//
// Turns a caller reserved and will not use can be given back (`release`, under a key): the blob then also holds
// `returned: [{ key, from, end }]`, and a later reservation that fits in one of them takes its front instead of going
// to the back of the queue. This matters for the Teams reads: a chunk that ends at its deadline (or is cancelled)
// while its check waits for turns an hour out would otherwise leave them unused, and every reservation made after it
// would queue behind them (seen with 50,000 rows). A given-back interval stays listed under its key until its end has
// passed, so an activity retried after it gave the turns back does not give them twice.
//
// Limits, said plainly: instances' clocks differ by their skew (Azure keeps them NTP-synced, well under a second), a
// turn used late overlaps the next caller's by the delay, and turns an instance reserved but did not use are lost
// unless given back (write reservations are only as large as the writes already waiting). The budget's rates stay
// under Graph's limits by a margin that absorbs this: 18 writes/s against 20, 10 Teams reads/s against 30.
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import { sleepUntil, type AppTime } from './app-time';

/** Reserves turns at a fixed rate in a ledger every instance of the app shares. */
export interface RateLedger {
  readonly perSecond: number;
  /** Reserves n consecutive turns; returns when the first one starts (epoch ms). */
  reserve(n: number): Promise<number>;
  /**
   * Gives back the turns from `from` to `end` (epoch ms) of a reservation that will not be used, under a key unique to
   * it: giving the same key again changes nothing. Only what is still ahead is given back.
   */
  release(key: string, from: number, end: number): Promise<void>;
}

/** Turns given back, taken from the front by reservations that fit. */
export interface ReturnedReservation {
  readonly key: string;
  readonly from: number;
  readonly end: number;
}

export interface LedgerState {
  readonly nextFreeAt: number;
  readonly returned?: readonly ReturnedReservation[];
}

const MAX_CONFLICT_RETRIES = 50;
/** Given-back intervals kept at most (each about 100 bytes in the blob); beyond it, turns given back are not taken. */
export const MAX_RETURNED = 500;
const MAX_KEY_LENGTH = 200;
/** Reservations made together in one round trip to a ledger blob at most (BlobRateLedger.reserve). */
const MAX_GROUP = 200;

/**
 * The ledger's arithmetic, the same for the blob and the in-process ledger. A reservation of `ms` takes the front of
 * the first given-back interval that still has room for it after `now` (they are all before nextFreeAt), or else the
 * end of the queue; intervals whose end has passed are dropped.
 */
export function reserveIn(
  state: LedgerState | undefined,
  now: number,
  ms: number,
): { start: number; next: LedgerState } {
  const returned = (state?.returned ?? []).filter((r) => r.end > now);
  const fit = returned.findIndex((r) => r.end - Math.max(now, r.from) >= ms);
  if (fit >= 0) {
    const r = returned[fit]!;
    const start = Math.max(now, r.from);
    const kept = returned.map((x, i) => (i === fit ? { ...x, from: start + ms } : x));
    return { start, next: { nextFreeAt: state!.nextFreeAt, returned: kept } };
  }
  const start = Math.max(now, state?.nextFreeAt ?? 0);
  return { start, next: { nextFreeAt: start + ms, ...(returned.length > 0 ? { returned } : {}) } };
}

/** Gives back [from, end) under key (see RateLedger.release); undefined when there is nothing to change. */
export function releaseIn(
  state: LedgerState | undefined,
  now: number,
  key: string,
  from: number,
  end: number,
): LedgerState | undefined {
  if (!state) return undefined; // nothing was ever reserved here
  const returned = (state.returned ?? []).filter((r) => r.end > now);
  const start = Math.max(now, from);
  key = key.slice(0, MAX_KEY_LENGTH);
  if (returned.some((r) => r.key === key) || !(end > start) || start >= state.nextFreeAt) return undefined;
  // Full: these turns are not taken back (lost to all, as before they could be given back). Forgetting an interval
  // already listed instead would forget its key too, and a retry of its release would give its taken turns again.
  if (returned.length >= MAX_RETURNED) return undefined;
  return {
    nextFreeAt: state.nextFreeAt,
    returned: [...returned, { key, from: start, end: Math.min(end, state.nextFreeAt) }].sort((a, b) => a.from - b.from),
  };
}

export class BlobRateLedger implements RateLedger {
  private ready: Promise<unknown> | undefined;
  private readonly blob: BlockBlobClient;

  constructor(
    private readonly container: ContainerClient,
    blobName: string,
    readonly perSecond: number,
    private readonly time: AppTime,
  ) {
    if (!(perSecond > 0)) throw new Error('a rate ledger needs a positive rate');
    this.blob = container.getBlockBlobClient(blobName);
  }

  /**
   * Reservations asked while this instance's previous round trip to the blob is in flight are made together in the
   * next one: one read and one conditional write for the group, each reservation applied in turn to the state read
   * (reserveIn, as if each had been made alone one after the other at that instant), so each gets the turns it would
   * have had and the blob's ETag still orders them against every other instance's. A reservation made alone goes at
   * once, as before; each one's storage cost falls as the calls overlap (the assign activities of many chunks booking
   * their rows' writes at the same time).
   */
  reserve(n: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.asked.push({ ms: (n * 1000) / this.perSecond, resolve, reject });
      void this.reserveAsked();
    });
  }

  private readonly asked: { ms: number; resolve: (start: number) => void; reject: (e: unknown) => void }[] = [];
  private reserving = false;

  private async reserveAsked(): Promise<void> {
    if (this.reserving) return;
    this.reserving = true;
    try {
      while (this.asked.length > 0) {
        const group = this.asked.splice(0, MAX_GROUP);
        let starts: number[] = [];
        try {
          await this.update((state, now) => {
            // Recomputed on each attempt: a conflict means the state read was stale.
            starts = [];
            let next = state;
            for (const g of group) {
              const r = reserveIn(next, now, g.ms);
              starts.push(r.start);
              next = r.next;
            }
            return next;
          });
        } catch (e) {
          for (const g of group) g.reject(e);
          continue;
        }
        group.forEach((g, i) => g.resolve(starts[i]!));
      }
    } finally {
      this.reserving = false;
    }
  }

  async release(key: string, from: number, end: number): Promise<void> {
    await this.update((state, now) => releaseIn(state, now, key, from, end));
  }

  /** Reads the ledger, applies the change (undefined: none) and writes it back on the ETag it read, until it lands. */
  private async update(
    change: (state: LedgerState | undefined, now: number) => LedgerState | undefined,
  ): Promise<void> {
    this.ready ??= this.container.createIfNotExists();
    await this.ready;
    for (let attempt = 0; ; attempt++) {
      const { state, etag } = await this.read();
      const next = change(state, this.time.now());
      if (!next) return;
      const body = JSON.stringify(next);
      try {
        await this.blob.upload(body, Buffer.byteLength(body), {
          conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        return;
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
      return { state: ledgerState(JSON.parse(text)), etag: r.etag };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return { state: undefined, etag: undefined };
      if (e instanceof SyntaxError) return { state: undefined, etag: undefined }; // unreadable: start afresh (still conditional below)
      throw e;
    }
  }
}

/** The ledger blob's content, or undefined when it is not a ledger (then it starts afresh, still conditionally). */
function ledgerState(parsed: unknown): LedgerState | undefined {
  const p = parsed as { nextFreeAt?: unknown; returned?: unknown } | null;
  if (!p || typeof p.nextFreeAt !== 'number' || !Number.isFinite(p.nextFreeAt)) return undefined;
  const returned = Array.isArray(p.returned)
    ? (p.returned as Partial<ReturnedReservation>[]).filter(
        (r): r is ReturnedReservation =>
          typeof r?.key === 'string' &&
          Number.isFinite(r.from) &&
          Number.isFinite(r.end) &&
          r.from! <= r.end! &&
          r.end! <= (p.nextFreeAt as number),
      )
    : [];
  return { nextFreeAt: p.nextFreeAt, ...(returned.length > 0 ? { returned } : {}) };
}

async function streamText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return '';
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** A rate ledger for one process only (tests, the seed's baseline, a single worker). */
export class LocalRateLedger implements RateLedger {
  private state: LedgerState | undefined;
  constructor(
    readonly perSecond: number,
    private readonly time: AppTime,
  ) {}

  reserve(n: number): Promise<number> {
    const r = reserveIn(this.state, this.time.now(), (n * 1000) / this.perSecond);
    this.state = r.next;
    return Promise.resolve(r.start);
  }

  release(key: string, from: number, end: number): Promise<void> {
    this.state = releaseIn(this.state, this.time.now(), key, from, end) ?? this.state;
    return Promise.resolve();
  }
}

/** The name under which each time the write budget could not use its ledger is logged and counted. */
export const LEDGER_UNAVAILABLE = 'budget_ledger_unavailable';

/** Back-off before asking an unusable ledger again: doubling from half a second up to 30 s, with jitter. */
export function ledgerBackoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.min(Math.max(failures - 1, 0), 6));
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * Paces one process's Graph writes within the shared ledger: writes that are waiting are reserved together (at most
 * one second's worth per reservation), and each one goes at its own turn.
 *
 * It fails closed: when the ledger cannot be used (its storage unreachable, or the blob contended past its retries),
 * no write goes out on this process's own pace, because several instances each pacing alone write at a multiple of
 * the app's budget exactly when contention is high. The writes wait, the reservation is asked again after a back-off
 * (ledgerBackoffMs), and every such failure is counted (`ledgerUnavailable`) and reported through `onLedgerUnavailable`
 * under the name budget_ledger_unavailable.
 *
 * The licence writes do not wait here for long: the assign activity books its row's turns first (`book`) and, when
 * they are not soon, hands the row back to its orchestration, which waits on a durable timer (docs/conformance.md, "No
 * activity waits long for a write turn"). `acquire` paces the writes that book nothing: a resend after a 429 or after
 * the usage location's replication lag, and callers without the activity (benchmarks, tests).
 */
export class WriteBudget {
  private readonly waiting: ((slot: number) => void)[] = [];
  private reserving = false;
  /** How many times a reservation failed because the ledger could not be used (budget_ledger_unavailable). */
  ledgerUnavailable = 0;

  constructor(
    private readonly ledger: RateLedger,
    private readonly time: AppTime,
    private readonly onLedgerUnavailable: (event: {
      name: typeof LEDGER_UNAVAILABLE;
      count: number;
      waitMs: number;
      error: string;
    }) => void = () => {},
  ) {}

  get perSecond(): number {
    return this.ledger.perSecond;
  }

  /**
   * For a caller that must not wait long (an activity: see the assign activity in activities/batch.ts): reserves
   * n consecutive reserved writes in the shared ledger and answers when they start (`at`, epoch ms) if that is within
   * `maxWaitMs`; otherwise the reservation is kept and handed back (`deferredUntil`) for the caller to come back to on a
   * durable timer. When the ledger cannot be used, nothing is reserved and the caller is told when to ask again
   * (`retryAt`, after the same back-off as the waiting writes); the failure is counted and reported as
   * budget_ledger_unavailable like theirs. It never waits itself.
   */
  async book(
    n: number,
    maxWaitMs: number,
    failuresSoFar = 0,
  ): Promise<{ at: number } | { deferredUntil: number } | { retryAt: number }> {
    let start: number;
    try {
      start = await this.ledger.reserve(n);
    } catch (e) {
      this.ledgerUnavailable++;
      const waitMs = ledgerBackoffMs(failuresSoFar + 1);
      this.onLedgerUnavailable({
        name: LEDGER_UNAVAILABLE,
        count: this.ledgerUnavailable,
        waitMs: Math.round(waitMs),
        error: firstLine(e),
      });
      return { retryAt: this.time.now() + waitMs };
    }
    return start - this.time.now() > maxWaitMs ? { deferredUntil: start } : { at: start };
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
      let failures = 0;
      while (this.waiting.length > 0) {
        const size = Math.min(this.waiting.length, Math.max(1, Math.ceil(this.ledger.perSecond)));
        let start: number;
        try {
          start = await this.ledger.reserve(size);
          failures = 0;
        } catch (e) {
          failures++;
          this.ledgerUnavailable++;
          const waitMs = ledgerBackoffMs(failures);
          this.onLedgerUnavailable({
            name: LEDGER_UNAVAILABLE,
            count: this.ledgerUnavailable,
            waitMs: Math.round(waitMs),
            error: firstLine(e),
          });
          await this.time.sleep(waitMs);
          continue;
        }
        const block = this.waiting.splice(0, size);
        const interval = 1000 / this.ledger.perSecond;
        block.forEach((resolve, i) => resolve(start + i * interval));
      }
    } finally {
      this.reserving = false;
    }
  }
}

/** A storage error's first line, cut: it names the failure (a status, a code); no personal data reaches it. */
function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
}

/**
 * Waits in the caller for n consecutive turns of a ledger, then returns: for Teams reads too few to be worth a durable
 * timer (the number step's reads of a user's numbers, the free-number list and order status, from its own budget).
 * Without a ledger it returns at once.
 */
export async function takeTurns(ledger: RateLedger | undefined, n: number, time: AppTime): Promise<void> {
  if (!ledger || n <= 0) return;
  await sleepUntil(time, await ledger.reserve(n));
}
