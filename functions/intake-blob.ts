// Admins drop files into the intake container; each upload starts one batch. Uploads arrive as Event Grid
// BlobCreated events (schema: https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage), not through
// the blob trigger: the Functions host serialises the blob trigger's properties with Newtonsoft, which turns
// Azure.ETag into `{}`, and it downloads the whole blob into host memory for a worker that never uses it. From the
// event this function takes the blob's name (from `subject`), its ETag (`data.eTag`) and its size
// (`data.contentLength`); the batch then reads that version of the blob itself, capped at the input limit and pinned
// with If-Match. The instance id comes from the name and the ETag, so a redelivered event starts one run, and a
// corrected file uploaded under the same name (a new ETag) starts a new one. The first folder names the profile
// (license-requests/<profile>/file.csv).
import { createHash } from 'node:crypto';
import type { EventGridEvent, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { newRunKey } from '../shared/adapters/batch-store';
import { UPLOADS_OWNER, type AppConfig } from '../shared/adapters/config';
import { shown } from '../shared/domain/text';
import type { BatchInput } from '../contracts/batch';
import { BATCH_ORCHESTRATOR } from '../contracts/names';
import { uploadInstanceId } from './callers';
import { lookUpInstance } from './instance-lookup';

export const BLOB_CREATED = 'Microsoft.Storage.BlobCreated';

/** The batch id of an upload: a readable slug of its name and a hash of name and ETag. */
export function blobBatchId(name: string, etag: string): string {
  const slug =
    name
      .replace(/\.[^./]*$/, '')
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'upload';
  const tag = etag.replace(/"/g, '').toLowerCase();
  return `${slug}-${createHash('sha256').update(`${name}\n${tag}`).digest('hex').slice(0, 12)}`;
}

/** The folder's profile, as written (validated with the rows, so a bad folder name rejects each row with a reason). */
export function profileFromBlobName(name: string): string | undefined {
  const parts = name.split('/');
  return parts.length > 1 && parts[0] ? shown(parts[0].toLowerCase(), 80) : undefined;
}

export interface BlobCreated {
  readonly name: string;
  readonly etag: string;
  readonly contentLength: number;
}

/**
 * The upload an event announces, or why the event is not one this function handles. The webhook's key is the only
 * thing between a caller and this function, so the event is checked as far as it can be: its topic (Event Grid
 * schema; `source` in CloudEvents) must be the app's own data account, and its subject a plain blob path, without
 * `.` or `..` segments, backslashes or percent escapes, each of which could make the name mean another blob
 * (Azure Storage resolves `a/../b` as `b`; "Naming and referencing containers, blobs, and metadata",
 * https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata).
 */
export function blobCreatedIn(
  event: unknown,
  container: string,
  account?: string,
): { ok: true; blob: BlobCreated } | { ok: false; why: string } {
  const e = (event ?? {}) as {
    eventType?: unknown;
    type?: unknown;
    subject?: unknown;
    data?: unknown;
    topic?: unknown;
    source?: unknown;
  };
  // Event Grid schema has eventType; the CloudEvents 1.0 schema has type. Both carry the same subject and data.
  const type = typeof e.eventType === 'string' ? e.eventType : e.type;
  if (type !== BLOB_CREATED) return { ok: false, why: `event type ${shown(String(type), 60)} is not ${BLOB_CREATED}` };
  if (account !== undefined) {
    const topic = typeof e.topic === 'string' ? e.topic : typeof e.source === 'string' ? e.source : '';
    const named = /\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)$/i.exec(topic)?.[1];
    if (named?.toLowerCase() !== account.toLowerCase())
      return { ok: false, why: `the event's topic is not the data account ${account}` };
  }
  const prefix = `/blobServices/default/containers/${container}/blobs/`;
  const subject = typeof e.subject === 'string' ? e.subject : '';
  if (!subject.startsWith(prefix)) return { ok: false, why: `the blob is not in the ${container} container` };
  const name = subject.slice(prefix.length);
  const data = (e.data ?? {}) as { eTag?: unknown; contentLength?: unknown; api?: unknown };
  if (!name || name.endsWith('/')) return { ok: false, why: 'the blob is a folder marker' };
  if (
    name.includes('\\') ||
    name.includes('%') ||
    name.split('/').some((seg) => seg === '.' || seg === '..' || seg === '')
  ) {
    return {
      ok: false,
      why: `the blob path ${shown(name, 120)} has an empty, "." or ".." segment, a backslash or a percent sign`,
    };
  }
  // Data Lake (hierarchical namespace) accounts announce an empty CreateFile before the data is flushed.
  if (data.api === 'CreateFile')
    return { ok: false, why: 'CreateFile announces a file before its data is written (FlushWithClose follows)' };
  if (typeof data.eTag !== 'string' || data.eTag === '') return { ok: false, why: 'the event has no data.eTag' };
  const contentLength = typeof data.contentLength === 'number' ? data.contentLength : Number.NaN;
  if (!Number.isFinite(contentLength) || contentLength < 0)
    return { ok: false, why: 'the event has no data.contentLength' };
  return { ok: true, blob: { name, etag: data.eTag, contentLength } };
}

export function createBlobIntake(config: AppConfig) {
  return async function intake(event: EventGridEvent, context: InvocationContext): Promise<void> {
    const created = blobCreatedIn(event, config.intakeContainer, config.dataAccount);
    if (!created.ok) {
      context.log(`event ignored: ${created.why}`);
      return;
    }
    const { name, etag } = created.blob;
    const batchId = blobBatchId(name, etag);
    const instanceId = uploadInstanceId(batchId);
    const client = df.getClient(context);
    const existing = await lookUpInstance(client, instanceId);
    if (existing.kind === 'found') {
      context.log(`upload already has batch ${batchId}; not starting another`);
      return;
    }
    // Throwing makes Event Grid deliver the event again later; an unknown state must never start a finished batch again.
    if (existing.kind === 'unknown')
      throw new Error(`could not tell whether batch ${batchId} exists: ${existing.message}`);
    const profile = profileFromBlobName(name);
    const input: BatchInput = {
      batchId,
      runKey: newRunKey(UPLOADS_OWNER, batchId),
      source: `blob:${config.intakeContainer}/${shown(name, 300)}`,
      input: { container: config.intakeContainer, name, etag },
      ...(profile ? { profile } : {}),
      ...(name.toLowerCase().endsWith('.json') ? { json: true } : {}),
      deadlineHours: config.deadlineHours,
      chunkSize: config.chunkSize,
      parallelism: config.assignParallelism,
      rights: config.uploadRights,
      caller: 'an upload',
    };
    await client.startNew(BATCH_ORCHESTRATOR, { instanceId, input });
    context.log(`batch ${batchId} started from an upload`);
  };
}
