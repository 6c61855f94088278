// Admins drop files into the intake container; each upload starts one batch. The instance id comes from the blob's
// name and ETag, so Event Grid delivering the same upload twice starts one run. The first folder names the profile
// (license-requests/<profile>/file.csv).
import { createHash } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { AppConfig } from '../shared/adapters/config';
import type { BatchInput } from '../orchestrations/contracts';
import { BATCH_ORCHESTRATOR } from '../orchestrations/names';

export function blobBatchId(name: string, etag: string): string {
  const slug = name.replace(/\.[^./]*$/, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'upload';
  const tag = etag.replace(/"/g, '').toLowerCase();
  return `${slug}-${createHash('sha256').update(`${name}\n${tag}`).digest('hex').slice(0, 12)}`;
}

export function profileFromBlobName(name: string): string | undefined {
  const parts = name.split('/');
  return parts.length > 1 && parts[0] ? parts[0].toLowerCase() : undefined;
}

function metadataString(meta: Record<string, unknown> | undefined, ...path: string[]): string | undefined {
  let v: unknown = meta;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export function createBlobIntake(config: AppConfig) {
  return async function intake(_blob: unknown, context: InvocationContext): Promise<void> {
    const meta = context.triggerMetadata;
    const path = metadataString(meta, 'blobTrigger') ?? '';
    const name = metadataString(meta, 'name') ?? path.replace(new RegExp(`^${config.intakeContainer}/`), '');
    if (!name || name.endsWith('/')) return;
    const etag = metadataString(meta, 'properties', 'eTag') ?? metadataString(meta, 'properties', 'ETag') ?? metadataString(meta, 'properties', 'etag') ?? '';
    const batchId = blobBatchId(name, etag);
    const client = df.getClient(context);
    const existing = await client.getStatus(batchId).catch(() => undefined);
    if (existing?.runtimeStatus) {
      context.log(`upload already has batch ${batchId}; not starting another`);
      return;
    }
    const profile = profileFromBlobName(name);
    const input: BatchInput = {
      batchId,
      source: `blob:${config.intakeContainer}/${name}`,
      input: { container: config.intakeContainer, name },
      ...(profile ? { profile } : {}),
      ...(name.toLowerCase().endsWith('.json') ? { json: true } : {}),
      deadlineHours: config.deadlineHours,
      chunkSize: config.chunkSize,
      parallelism: config.assignParallelism,
    };
    await client.startNew(BATCH_ORCHESTRATOR, { instanceId: batchId, input });
    context.log(`batch ${batchId} started from an upload`);
  };
}
