// Where a batch's data lives while it runs and after: the input, the plan, each chunk's results and the report, as
// blobs under `<batchId>/` in the reports container. Durable payloads stay small because the rows live here.
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { ChunkUserResult, PlannedAssignment, StoredPlan } from '../domain/batch';
import { NO_CANCELLATIONS, type Cancellations, type ScheduledRow } from '../domain/onboarding';
import type { CallbackAttempt } from '../domain/callback';
import { MAX_INPUT_BYTES } from '../domain/input';
import { reportToCsv, type BatchReport } from '../domain/report';

export interface InputRef {
  readonly container: string;
  readonly name: string;
}

/** A batch's callback: where to send it, the status URL it names, and every attempt so far. */
export interface CallbackRegistration {
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

export interface BatchStore {
  /** Keeps the input with the Content-Type it came with, so that its declared charset is honoured when it is read. */
  saveInput(batchId: string, bytes: Uint8Array, contentType?: string): Promise<InputRef>;
  /** Reads an input, refusing one over the input size limit before downloading it. */
  readInput(ref: InputRef): Promise<InputRead>;
  savePlan(plan: StoredPlan): Promise<void>;
  readPlan(batchId: string): Promise<StoredPlan | undefined>;
  saveChunk(batchId: string, chunk: number, results: readonly ChunkUserResult[]): Promise<void>;
  readChunks(batchId: string): Promise<ChunkUserResult[]>;
  saveReport(report: BatchReport): Promise<void>;
  readReport(batchId: string): Promise<BatchReport | undefined>;
  /** Whether a one-time step (publishing flags) has been recorded as done for the batch. */
  isDone(batchId: string, step: string): Promise<boolean>;
  markDone(batchId: string, step: string): Promise<void>;
  saveCallback(batchId: string, callback: CallbackRegistration): Promise<void>;
  readCallback(batchId: string): Promise<CallbackRegistration | undefined>;
  /** The assignments a slot's round handed to a chunk (rows planned when their time came). */
  saveWork(batchId: string, chunk: number, work: readonly PlannedAssignment[]): Promise<void>;
  readWork(batchId: string, chunk: number): Promise<PlannedAssignment[] | undefined>;
  /** A slot's due time and the rows still waiting in it (written by preflight, then by each of the slot's rounds). */
  saveSlot(batchId: string, slot: number, state: SlotState): Promise<void>;
  readSlot(batchId: string, slot: number): Promise<SlotState | undefined>;
  /** Adds to a batch's cancellations; concurrent requests are each kept (conditional writes on the blob's ETag). */
  addCancellation(batchId: string, change: { batch: true } | { row: number }): Promise<Cancellations>;
  readCancellations(batchId: string): Promise<Cancellations>;
  /** Chunk numbers that have recorded results, and those whose work was stored. */
  listChunkNumbers(batchId: string): Promise<{ results: number[]; work: number[] }>;
}

async function streamToBuffer(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  if (stream) for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts);
}

export class BlobBatchStore implements BatchStore {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly service: BlobServiceClient,
    private readonly reportsContainer: string,
  ) {}

  private async container(name = this.reportsContainer): Promise<ContainerClient> {
    const c = this.service.getContainerClient(name);
    if (name === this.reportsContainer) {
      this.ready ??= c.createIfNotExists().then(() => undefined);
      await this.ready;
    }
    return c;
  }

  private async putJson(name: string, value: unknown): Promise<void> {
    const body = JSON.stringify(value);
    await (await this.container()).getBlockBlobClient(name).upload(body, Buffer.byteLength(body), { blobHTTPHeaders: { blobContentType: 'application/json' } });
  }

  private async getJson<T>(name: string): Promise<T | undefined> {
    const blob = (await this.container()).getBlobClient(name);
    try {
      return JSON.parse((await blob.downloadToBuffer()).toString('utf8')) as T;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async saveInput(batchId: string, bytes: Uint8Array, contentType?: string): Promise<InputRef> {
    const name = `${batchId}/_work/input`;
    await (await this.container()).getBlockBlobClient(name).uploadData(bytes, contentType ? { blobHTTPHeaders: { blobContentType: contentType } } : {});
    return { container: this.reportsContainer, name };
  }

  async readInput(ref: InputRef): Promise<InputRead> {
    const blob = (await this.container(ref.container)).getBlobClient(ref.name);
    try {
      const props = await blob.getProperties();
      if ((props.contentLength ?? 0) > MAX_INPUT_BYTES) {
        return { ok: false, message: `${ref.name}: ${props.contentLength} bytes is over the limit of ${MAX_INPUT_BYTES} bytes (20 MiB); split the file` };
      }
      const charset = charsetOf(props.contentType);
      return { ok: true, bytes: await blob.downloadToBuffer(), ...(charset ? { charset } : {}) };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return { ok: false, message: `${ref.name}: the input is gone from ${ref.container}` };
      throw e;
    }
  }

  savePlan(plan: StoredPlan): Promise<void> {
    return this.putJson(`${plan.batchId}/_work/plan.json`, plan);
  }

  readPlan(batchId: string): Promise<StoredPlan | undefined> {
    return this.getJson<StoredPlan>(`${batchId}/_work/plan.json`);
  }

  saveChunk(batchId: string, chunk: number, results: readonly ChunkUserResult[]): Promise<void> {
    return this.putJson(`${batchId}/_work/chunk-${String(chunk).padStart(5, '0')}.json`, results);
  }

  async readChunks(batchId: string): Promise<ChunkUserResult[]> {
    const c = await this.container();
    const out: ChunkUserResult[] = [];
    for await (const b of c.listBlobsFlat({ prefix: `${batchId}/_work/chunk-` })) out.push(...((await this.getJson<ChunkUserResult[]>(b.name)) ?? []));
    return out;
  }

  async saveReport(report: BatchReport): Promise<void> {
    await this.putJson(`${report.batchId}/report.json`, report);
    const csv = reportToCsv(report);
    await (await this.container()).getBlockBlobClient(`${report.batchId}/report.csv`).upload(csv, Buffer.byteLength(csv), { blobHTTPHeaders: { blobContentType: 'text/csv; charset=utf-8' } });
  }

  readReport(batchId: string): Promise<BatchReport | undefined> {
    return this.getJson<BatchReport>(`${batchId}/report.json`);
  }

  async isDone(batchId: string, step: string): Promise<boolean> {
    return (await this.container()).getBlobClient(`${batchId}/_work/${step}.done`).exists();
  }

  async markDone(batchId: string, step: string): Promise<void> {
    await (await this.container()).getBlockBlobClient(`${batchId}/_work/${step}.done`).upload('', 0);
  }

  saveCallback(batchId: string, callback: CallbackRegistration): Promise<void> {
    return this.putJson(`${batchId}/_work/callback.json`, callback);
  }

  readCallback(batchId: string): Promise<CallbackRegistration | undefined> {
    return this.getJson<CallbackRegistration>(`${batchId}/_work/callback.json`);
  }

  saveWork(batchId: string, chunk: number, work: readonly PlannedAssignment[]): Promise<void> {
    return this.putJson(`${batchId}/_work/work-${chunk}.json`, work);
  }

  readWork(batchId: string, chunk: number): Promise<PlannedAssignment[] | undefined> {
    return this.getJson<PlannedAssignment[]>(`${batchId}/_work/work-${chunk}.json`);
  }

  saveSlot(batchId: string, slot: number, state: SlotState): Promise<void> {
    return this.putJson(`${batchId}/_work/slot-${slot}.json`, state);
  }

  readSlot(batchId: string, slot: number): Promise<SlotState | undefined> {
    return this.getJson<SlotState>(`${batchId}/_work/slot-${slot}.json`);
  }

  async addCancellation(batchId: string, change: { batch: true } | { row: number }): Promise<Cancellations> {
    const blob = (await this.container()).getBlockBlobClient(`${batchId}/_work/cancellations.json`);
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
      const next: Cancellations = 'batch' in change ? { ...current, batch: true } : { ...current, rows: current.rows.includes(change.row) ? current.rows : [...current.rows, change.row] };
      const body = JSON.stringify(next);
      try {
        await blob.upload(body, Buffer.byteLength(body), { conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' }, blobHTTPHeaders: { blobContentType: 'application/json' } });
        return next;
      } catch (e) {
        const status = (e as { statusCode?: number }).statusCode;
        if ((status !== 412 && status !== 409) || attempt >= 10) throw e;
      }
    }
  }

  async readCancellations(batchId: string): Promise<Cancellations> {
    return (await this.getJson<Cancellations>(`${batchId}/_work/cancellations.json`)) ?? NO_CANCELLATIONS;
  }

  async listChunkNumbers(batchId: string): Promise<{ results: number[]; work: number[] }> {
    const c = await this.container();
    const results: number[] = [];
    const work: number[] = [];
    for await (const b of c.listBlobsFlat({ prefix: `${batchId}/_work/` })) {
      const m = /\/_work\/(chunk|work)-(\d+)\.json$/.exec(b.name);
      if (m) (m[1] === 'chunk' ? results : work).push(Number(m[2]));
    }
    return { results, work };
  }
}
