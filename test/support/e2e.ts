// Helpers for end-to-end tests through the local host: submit batches the way users do and wait for reports.
import { readFileSync } from 'node:fs';
import { BlobServiceClient } from '@azure/storage-blob';
import { blobBatchId } from '../../functions/intake-blob';
import type { BatchReport } from '../../shared/domain/report';
import { finishedReport } from '../../local/batch-client';
import type { Stack } from '../../local/stack';

export async function postBatch(
  stack: Stack,
  body: unknown,
  opts: { key?: string | null; contentType?: string; query?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const key = opts.key === undefined ? stack.host.functionKey : opts.key;
  const r = await fetch(`${stack.host.url}/api/batches${opts.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': opts.contentType ?? 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

export async function uploadBlob(stack: Stack, name: string, content: string | Buffer): Promise<string> {
  const container = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
    'license-requests',
  );
  await container.createIfNotExists();
  const r = await container
    .getBlockBlobClient(name)
    .uploadData(typeof content === 'string' ? Buffer.from(content) : content);
  return blobBatchId(name, r.etag ?? '');
}

export async function getBatch(stack: Stack, batchId: string): Promise<{ status: number; body: any }> {
  const r = await fetch(`${stack.host.url}/api/batches/${encodeURIComponent(batchId)}`, {
    headers: { 'x-functions-key': stack.host.functionKey },
  });
  return {
    status: r.status,
    body: r.status === 200 || r.status === 404 ? await r.json().catch(() => undefined) : await r.text(),
  };
}

export async function waitForReport(
  stack: Stack,
  batchId: string,
  timeoutMs = 90_000,
): Promise<BatchReport & { runtimeStatus: string }> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const report = await finishedReport(stack.host, batchId);
    if (report) return report as BatchReport & { runtimeStatus: string };
    await new Promise((res) => setTimeout(res, 150));
  }
  throw new Error(`batch ${batchId} did not finish in ${timeoutMs} ms`);
}

export function outcomesByUpn(report: BatchReport): Record<string, string> {
  return Object.fromEntries(
    report.users.map((u) => [u.userPrincipalName.toLowerCase(), u.reason ? `${u.outcome}/${u.reason}` : u.outcome]),
  );
}

/** The run folders (run keys) of a batch in the reports container: `<owner>/<batchId>/<run>`, oldest first. */
export async function runFolders(stack: Stack, owner: string, batchId: string): Promise<string[]> {
  const reports = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
    'license-reports',
  );
  const runs = new Set<string>();
  for await (const b of reports.listBlobsFlat({ prefix: `${owner}/${batchId}/` }))
    runs.add(b.name.split('/').slice(0, 3).join('/'));
  return [...runs].sort();
}

/** A file of a batch's only run, e.g. `report.csv`. */
export async function readRunFile(stack: Stack, owner: string, batchId: string, file: string): Promise<string> {
  const runs = await runFolders(stack, owner, batchId);
  if (runs.length !== 1) throw new Error(`expected one run of ${owner}/${batchId}, found ${runs.length}`);
  const reports = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
    'license-reports',
  );
  return (await reports.getBlobClient(`${runs[0]}/${file}`).downloadToBuffer()).toString('utf8');
}

/**
 * A process's peak resident memory in KiB (`VmHWM` in /proc/<pid>/status, Linux's high-water mark). Throws when the
 * value cannot be read, so a memory check can never pass for want of a number.
 */
export function peakMemoryKiB(pid: number | undefined): number {
  if (pid === undefined) throw new Error('no process id to read the peak memory of');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`no VmHWM line in /proc/${pid}/status`);
  return Number(m[1]);
}
