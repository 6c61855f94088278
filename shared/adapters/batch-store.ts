// Where a batch's data lives while it runs and after: the input, the plan, each chunk's results and the report, as
// blobs under `<batchId>/` in the reports container. Durable payloads stay small because the rows live here.
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { ChunkUserResult, StoredPlan } from '../domain/batch';
import { MAX_INPUT_BYTES } from '../domain/input';
import { reportToCsv, type BatchReport } from '../domain/report';

export interface InputRef {
  readonly container: string;
  readonly name: string;
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
}
