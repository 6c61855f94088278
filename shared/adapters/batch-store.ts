// Where a batch's data lives while it runs and after: the input, the plan, each chunk's results and the report, as
// blobs under the run's own folder (its run key) in the reports container. Durable payloads stay small because the
// rows live here.
import { randomBytes } from 'node:crypto';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { ChunkUserResult, PlannedAssignment, StoredPlan } from '../domain/batch';
import { NO_CANCELLATIONS, type Cancellations, type ScheduledRow } from '../domain/onboarding';
import type { CallbackAttempt } from '../domain/callback';
import { MAX_INPUT_BYTES } from '../domain/input';
import { reportToCsv, type BatchReport } from '../domain/report';
import { eachAtMost } from './at-once';

export interface InputRef {
  readonly container: string;
  readonly name: string;
  /** The ETag the input had when the batch was accepted: the batch reads that version or none (If-Match). */
  readonly etag?: string;
}

/** A batch's callback: where to send it, the status URL it names, and every attempt so far. */
export interface CallbackRegistration {
  /** The integration that asked for it: its secret signs it (absent in registrations from before per-integration secrets: `default`). */
  readonly integration?: string;
  readonly url: string;
  readonly statusUrl: string;
  readonly attempts: CallbackAttempt[];
}

/** A slot in the store: when it is due, and its rows still waiting (for their time, or their account). */
export interface SlotState {
  readonly at: string;
  readonly waiting: readonly ScheduledRow[];
}

/** The input's bytes, and the charset its Content-Type declared (an HTTP body's, kept on the blob; or an upload's own). */
export type InputRead = { ok: true; bytes: Buffer; charset?: string } | { ok: false; message: string };

/** The `charset` parameter of a Content-Type (RFC 9110 §8.3), if any. */
export function charsetOf(contentType: string | undefined | null): string | undefined {
  const m = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType ?? '');
  return m?.[2];
}

/**
 * Where one run of a batch keeps its blobs: `<owner>/<batchId>/<run>`, the run part unique to the run. A caller's id
 * alone is never a folder, so a rerun, a restart after a purge or another caller with the same id never reads or
 * overwrites another run's input, plan, chunks or report. Kept in the orchestration's input.
 */
export type RunKey = string;

export interface BatchStore {
  /**
   * Stores an HTTP batch's body once (If-None-Match: *): a second write to the same run fails instead of swapping it.
   * Kept with the Content-Type it came with, so that its declared charset is honoured when it is read.
   */
  saveInput(runKey: RunKey, bytes: Uint8Array, contentType?: string): Promise<InputRef>;
  /** Reads an input pinned to its ETag, refusing one over the input size limit without downloading it. */
  readInput(ref: InputRef): Promise<InputRead>;
  savePlan(runKey: RunKey, plan: StoredPlan): Promise<void>;
  readPlan(runKey: RunKey): Promise<StoredPlan | undefined>;
  saveChunk(runKey: RunKey, chunk: number, results: readonly ChunkUserResult[]): Promise<void>;
  /** One chunk's stored results (empty before any). */
  readChunk(runKey: RunKey, chunk: number): Promise<ChunkUserResult[]>;
  /**
   * Records that someone asked the run to check Teams now (POST …/recheck). Kept here, not only in a durable event:
   * the extension discards events an orchestration had not processed when it continued as new.
   */
  requestRecheck(runKey: RunKey, at: string): Promise<void>;
  recheckRequestedAt(runKey: RunKey): Promise<string | null>;
  readChunks(runKey: RunKey): Promise<ChunkUserResult[]>;
  saveReport(runKey: RunKey, report: BatchReport): Promise<void>;
  readReport(runKey: RunKey): Promise<BatchReport | undefined>;
  /** Whether a one-time step (publishing flags) has been recorded as done for the run. */
  isDone(runKey: RunKey, step: string): Promise<boolean>;
  /** Records a one-time step as done, with a short text kept beside it (the message ids of a group of flags sent). */
  markDone(runKey: RunKey, step: string, detail?: string): Promise<void>;
  /** The text a step was recorded with, or undefined when it was not recorded. */
  readDone(runKey: RunKey, step: string): Promise<string | undefined>;
  /** The steps recorded as done for the run whose names start with `prefix` (one listing, not one read per step). */
  doneSteps(runKey: RunKey, prefix: string): Promise<Set<string>>;
  /** Those steps with the text each was recorded with ('' for none): the listing, then one read per step. */
  doneStepDetails(runKey: RunKey, prefix: string): Promise<Map<string, string>>;
  saveCallback(runKey: RunKey, callback: CallbackRegistration): Promise<void>;
  readCallback(runKey: RunKey): Promise<CallbackRegistration | undefined>;
  /** The assignments a slot's round handed to a chunk (rows planned when their time came). */
  saveWork(runKey: RunKey, chunk: number, work: readonly PlannedAssignment[]): Promise<void>;
  readWork(runKey: RunKey, chunk: number): Promise<PlannedAssignment[] | undefined>;
  /** A slot's due time and the rows still waiting in it (written by preflight, then by each of the slot's rounds). */
  saveSlot(runKey: RunKey, slot: number, state: SlotState): Promise<void>;
  readSlot(runKey: RunKey, slot: number): Promise<SlotState | undefined>;
  /** Adds to a run's cancellations; concurrent requests are each kept (conditional writes on the blob's ETag). */
  addCancellation(runKey: RunKey, change: { batch: true } | { row: number }): Promise<Cancellations>;
  readCancellations(runKey: RunKey): Promise<Cancellations>;
  /** Chunk numbers that have recorded results, and those whose work was stored. */
  listChunkNumbers(runKey: RunKey): Promise<{ results: number[]; work: number[] }>;
}

/** The quoted form Blob Storage's If-Match wants; Event Grid's `data.eTag` comes without quotes. */
export function quotedEtag(etag: string): string {
  const bare = etag.replace(/^W\//, '').replace(/"/g, '');
  return `"${bare}"`;
}

async function streamToBuffer(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  if (stream) for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts);
}

/** The container that keeps what people who read reports must not: raw inputs and callback registrations. */
export const DEFAULT_PRIVATE_CONTAINER = 'dialtone-private';

export class BlobBatchStore implements BatchStore {
  private readonly ready = new Map<string, Promise<void>>();

  /**
   * `privateContainer` holds each run's raw input (an HR system's body, every field it sent) and its callback
   * registration (the receiver's URL, which may carry the receiver's own token): people are given read access to the
   * reports container, never to this one (infra/app/roles.bicep), and only the app's identity reads it.
   */
  constructor(
    private readonly service: BlobServiceClient,
    private readonly reportsContainer: string,
    private readonly privateContainer: string = DEFAULT_PRIVATE_CONTAINER,
  ) {}

  private async container(name = this.reportsContainer): Promise<ContainerClient> {
    const c = this.service.getContainerClient(name);
    if (name === this.reportsContainer || name === this.privateContainer) {
      let ready = this.ready.get(name);
      if (!ready) this.ready.set(name, (ready = c.createIfNotExists().then(() => undefined)));
      await ready;
    }
    return c;
  }

  private async putJson(name: string, value: unknown, container = this.reportsContainer): Promise<void> {
    const body = JSON.stringify(value);
    await (
      await this.container(container)
    )
      .getBlockBlobClient(name)
      .upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: 'application/json' } });
  }

  private async getJson<T>(name: string, container = this.reportsContainer): Promise<T | undefined> {
    const blob = (await this.container(container)).getBlobClient(name);
    try {
      // One GET, one version of the blob: downloadToBuffer reads the size first and then ranges, which fails when the
      // blob is replaced in between (a chunk's results are merged and rewritten while the status route reads them).
      const r = await blob.download();
      return JSON.parse((await streamToBuffer(r.readableStreamBody)).toString('utf8')) as T;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async saveInput(runKey: RunKey, bytes: Uint8Array, contentType?: string): Promise<InputRef> {
    const name = `${runKey}/_work/input`;
    const r = await (await this.container(this.privateContainer)).getBlockBlobClient(name).uploadData(bytes, {
      conditions: { ifNoneMatch: '*' },
      ...(contentType ? { blobHTTPHeaders: { blobContentType: contentType } } : {}),
    });
    return { container: this.privateContainer, name, ...(r.etag ? { etag: r.etag } : {}) };
  }

  async readInput(ref: InputRef): Promise<InputRead> {
    const blob = (await this.container(ref.container)).getBlobClient(ref.name);
    const tooBig = (n: number) =>
      `${ref.name}: ${n} bytes is over the limit of ${MAX_INPUT_BYTES} bytes (20 MiB); split the file`;
    try {
      const pinned = ref.etag ? { conditions: { ifMatch: quotedEtag(ref.etag) } } : {};
      // Its length first (a HEAD): an input over the limit is refused before a byte of it is sent to us.
      const props = await blob.getProperties(pinned);
      if ((props.contentLength ?? 0) > MAX_INPUT_BYTES) return { ok: false, message: tooBig(props.contentLength ?? 0) };
      const r = await blob.download(0, undefined, pinned);
      const body = r.readableStreamBody;
      if ((r.contentLength ?? 0) > MAX_INPUT_BYTES) {
        body?.destroy?.();
        return { ok: false, message: tooBig(r.contentLength ?? 0) };
      }
      // Counted while read as well: the declared length is not trusted to bound memory.
      const parts: Buffer[] = [];
      let size = 0;
      if (body) {
        for await (const c of body) {
          size += (c as Buffer).length;
          if (size > MAX_INPUT_BYTES) {
            body.destroy?.();
            return { ok: false, message: tooBig(size) };
          }
          parts.push(c as Buffer);
        }
      }
      const charset = charsetOf(r.contentType);
      return { ok: true, bytes: Buffer.concat(parts), ...(charset ? { charset } : {}) };
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status === 404) return { ok: false, message: `${ref.name}: the input is gone from ${ref.container}` };
      if (status === 412)
        return {
          ok: false,
          message: `${ref.name}: the file was replaced after this batch was accepted; the new version is a batch of its own`,
        };
      throw e;
    }
  }

  savePlan(runKey: RunKey, plan: StoredPlan): Promise<void> {
    return this.putJson(`${runKey}/_work/plan.json`, plan);
  }

  readPlan(runKey: RunKey): Promise<StoredPlan | undefined> {
    return this.getJson<StoredPlan>(`${runKey}/_work/plan.json`);
  }

  saveChunk(runKey: RunKey, chunk: number, results: readonly ChunkUserResult[]): Promise<void> {
    return this.putJson(`${runKey}/_work/chunk-${String(chunk).padStart(5, '0')}.json`, results);
  }

  async readChunk(runKey: RunKey, chunk: number): Promise<ChunkUserResult[]> {
    return (
      (await this.getJson<ChunkUserResult[]>(`${runKey}/_work/chunk-${String(chunk).padStart(5, '0')}.json`)) ?? []
    );
  }

  requestRecheck(runKey: RunKey, at: string): Promise<void> {
    return this.putJson(`${runKey}/_work/recheck.json`, { requestedAt: at });
  }

  async recheckRequestedAt(runKey: RunKey): Promise<string | null> {
    return (await this.getJson<{ requestedAt?: string }>(`${runKey}/_work/recheck.json`))?.requestedAt ?? null;
  }

  async readChunks(runKey: RunKey): Promise<ChunkUserResult[]> {
    const c = await this.container();
    const out: ChunkUserResult[] = [];
    for await (const b of c.listBlobsFlat({ prefix: `${runKey}/_work/chunk-` }))
      out.push(...((await this.getJson<ChunkUserResult[]>(b.name)) ?? []));
    return out;
  }

  async saveReport(runKey: RunKey, report: BatchReport): Promise<void> {
    await this.putJson(`${runKey}/report.json`, report);
    const csv = reportToCsv(report);
    await (
      await this.container()
    )
      .getBlockBlobClient(`${runKey}/report.csv`)
      .upload(csv, Buffer.byteLength(csv), { blobHTTPHeaders: { blobContentType: 'text/csv; charset=utf-8' } });
  }

  readReport(runKey: RunKey): Promise<BatchReport | undefined> {
    return this.getJson<BatchReport>(`${runKey}/report.json`);
  }

  async isDone(runKey: RunKey, step: string): Promise<boolean> {
    return (await this.container()).getBlobClient(`${runKey}/_work/${step}.done`).exists();
  }

  async markDone(runKey: RunKey, step: string, detail = ''): Promise<void> {
    await (
      await this.container()
    )
      .getBlockBlobClient(`${runKey}/_work/${step}.done`)
      .upload(detail, Buffer.byteLength(detail));
  }

  async readDone(runKey: RunKey, step: string): Promise<string | undefined> {
    const blob = (await this.container()).getBlobClient(`${runKey}/_work/${step}.done`);
    try {
      return (await streamToBuffer((await blob.download()).readableStreamBody)).toString('utf8');
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async doneSteps(runKey: RunKey, prefix: string): Promise<Set<string>> {
    const folder = `${runKey}/_work/`;
    const steps = new Set<string>();
    for await (const b of (await this.container()).listBlobsFlat({ prefix: `${folder}${prefix}` }))
      if (b.name.endsWith('.done')) steps.add(b.name.slice(folder.length, -'.done'.length));
    return steps;
  }

  async doneStepDetails(runKey: RunKey, prefix: string): Promise<Map<string, string>> {
    const container = await this.container();
    const details = new Map<string, string>();
    await eachAtMost([...(await this.doneSteps(runKey, prefix))], 8, async (step) => {
      const got = await container.getBlobClient(`${runKey}/_work/${step}.done`).download();
      details.set(step, (await streamToBuffer(got.readableStreamBody)).toString('utf8'));
    });
    return details;
  }

  saveCallback(runKey: RunKey, callback: CallbackRegistration): Promise<void> {
    return this.putJson(`${runKey}/callback.json`, callback, this.privateContainer);
  }

  /** The registration, or one a run from before the private container kept beside its report. */
  async readCallback(runKey: RunKey): Promise<CallbackRegistration | undefined> {
    return (
      (await this.getJson<CallbackRegistration>(`${runKey}/callback.json`, this.privateContainer)) ??
      (await this.getJson<CallbackRegistration>(`${runKey}/_work/callback.json`))
    );
  }

  saveWork(runKey: RunKey, chunk: number, work: readonly PlannedAssignment[]): Promise<void> {
    return this.putJson(`${runKey}/_work/work-${chunk}.json`, work);
  }

  readWork(runKey: RunKey, chunk: number): Promise<PlannedAssignment[] | undefined> {
    return this.getJson<PlannedAssignment[]>(`${runKey}/_work/work-${chunk}.json`);
  }

  saveSlot(runKey: RunKey, slot: number, state: SlotState): Promise<void> {
    return this.putJson(`${runKey}/_work/slot-${slot}.json`, state);
  }

  readSlot(runKey: RunKey, slot: number): Promise<SlotState | undefined> {
    return this.getJson<SlotState>(`${runKey}/_work/slot-${slot}.json`);
  }

  async addCancellation(runKey: RunKey, change: { batch: true } | { row: number }): Promise<Cancellations> {
    const blob = (await this.container()).getBlockBlobClient(`${runKey}/_work/cancellations.json`);
    for (let attempt = 0; ; attempt++) {
      let current: Cancellations = NO_CANCELLATIONS;
      let etag: string | undefined;
      try {
        const got = await blob.download();
        etag = got.etag;
        current = JSON.parse((await streamToBuffer(got.readableStreamBody)).toString('utf8')) as Cancellations;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      }
      const next: Cancellations =
        'batch' in change
          ? { ...current, batch: true }
          : { ...current, rows: current.rows.includes(change.row) ? current.rows : [...current.rows, change.row] };
      const body = JSON.stringify(next);
      try {
        await blob.upload(body, Buffer.byteLength(body), {
          conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        return next;
      } catch (e) {
        const status = (e as { statusCode?: number }).statusCode;
        if ((status !== 412 && status !== 409) || attempt >= 10) throw e;
      }
    }
  }

  async readCancellations(runKey: RunKey): Promise<Cancellations> {
    return (await this.getJson<Cancellations>(`${runKey}/_work/cancellations.json`)) ?? NO_CANCELLATIONS;
  }

  async listChunkNumbers(runKey: RunKey): Promise<{ results: number[]; work: number[] }> {
    const c = await this.container();
    const results: number[] = [];
    const work: number[] = [];
    for await (const b of c.listBlobsFlat({ prefix: `${runKey}/_work/` })) {
      const m = /\/_work\/(chunk|work)-(\d+)\.json$/.exec(b.name);
      if (m) (m[1] === 'chunk' ? results : work).push(Number(m[2]));
    }
    return { results, work };
  }
}

/** A new run key for a batch of `owner` (a caller's name, or `uploads`): UTC time first so a folder lists in order. */
export function newRunKey(owner: string, batchId: string, now: Date = new Date()): RunKey {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${owner}/${batchId}/${stamp}-${randomBytes(4).toString('hex')}`;
}
