// The HTTP API for HR systems: submit a batch (JSON or CSV), read its live report, ask for a Teams check now.
// Success is the asynchronous pattern Durable Functions uses (202, Location, Retry-After), pointing at this API's
// own status route rather than the extension's management URLs, which carry the system key.
// Envelope problems are answered 400/413/415 as problem+json; problems in single rows never fail the request, they
// become rejected rows in the report.
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { charsetOf, type BatchStore } from '../shared/adapters/batch-store';
import type { AppConfig } from '../shared/adapters/config';
import { liveCounts, mergeOutcomes } from '../shared/domain/batch';
import { MAX_INPUT_BYTES, parseInput } from '../shared/domain/input';
import type { BatchInput, BatchStatus } from '../orchestrations/contracts';
import { BATCH_ORCHESTRATOR, RECHECK_EVENT, chunkInstanceId } from '../orchestrations/names';

export interface BatchApiDeps {
  readonly config: AppConfig;
  readonly store: BatchStore;
}

const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function problem(status: number, title: string, detail: string, extra: Record<string, string> = {}): HttpResponseInit {
  return { status, headers: { 'Content-Type': 'application/problem+json', ...extra }, jsonBody: { type: 'about:blank', title, status, detail } };
}

function mediaType(request: HttpRequest): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

async function readCapped(request: HttpRequest): Promise<Buffer | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_INPUT_BYTES) return undefined;
  const body = Buffer.from(await request.arrayBuffer());
  return body.length > MAX_INPUT_BYTES ? undefined : body;
}

function links(request: HttpRequest, batchId: string) {
  const base = new URL(request.url);
  const self = `${base.origin}/api/batches/${encodeURIComponent(batchId)}`;
  return { batchId, statusUrl: self, recheckUrl: `${self}/recheck` };
}

export function createBatchApi(deps: BatchApiDeps) {
  const { config, store } = deps;

  async function submit(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const type = mediaType(request);
    const json = type === 'application/json';
    if (!json && type !== 'text/csv' && type !== 'text/plain') {
      return problem(415, 'Unsupported content type', `send application/json (DESIGN's batch body), text/csv or text/plain (one UPN per line); got "${type || 'none'}"`);
    }
    const body = await readCapped(request);
    if (!body) return problem(413, 'Batch too large', `the body is over ${MAX_INPUT_BYTES} bytes (20 MiB); split the batch`);
    const contentType = request.headers.get('content-type') ?? '';
    const charset = charsetOf(contentType);
    const parsed = parseInput(body, 'request body', { ...(json ? { json: true } : {}), ...(charset ? { charset } : {}) });
    if (!parsed.ok) {
      const code = parsed.error.code;
      return problem(code === 'too_many_rows' || code === 'too_large' ? 413 : code === 'unsupported_charset' ? 415 : 400, 'Unusable batch', parsed.error.message);
    }
    const requested = parsed.input.batchId ?? request.query.get('batchId') ?? undefined;
    if (requested !== undefined && !BATCH_ID.test(requested)) return problem(400, 'Invalid batchId', "batchId must be 1-100 characters of letters, digits, '.', '_' or '-'");
    const profile = parsed.input.profile ?? request.query.get('profile') ?? undefined;
    const batchId = requested ?? `b-${randomUUID()}`;
    const client = df.getClient(context);

    const existing = await client.getStatus(batchId).catch(() => undefined);
    if (existing?.runtimeStatus) {
      return { status: 200, headers: { Location: links(request, batchId).statusUrl }, jsonBody: { ...links(request, batchId), existing: true, runtimeStatus: existing.runtimeStatus } };
    }
    const ref = await store.saveInput(batchId, body, contentType);
    const input: BatchInput = { batchId, source: 'http', input: ref, ...(profile ? { profile } : {}), ...(json ? { json } : {}), deadlineHours: config.deadlineHours, chunkSize: config.chunkSize, parallelism: config.assignParallelism };
    try {
      await client.startNew(BATCH_ORCHESTRATOR, { instanceId: batchId, input });
    } catch (e) {
      // Another request with the same batchId started it first: that run is the one.
      const again = await client.getStatus(batchId).catch(() => undefined);
      if (!again?.runtimeStatus) {
        context.warn(`could not start batch: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`);
        return problem(503, 'Batch not started', 'the orchestration service did not accept the batch (busy or unavailable); nothing was started: send it again after the given seconds', { 'Retry-After': '10' });
      }
      return { status: 200, headers: { Location: links(request, batchId).statusUrl }, jsonBody: { ...links(request, batchId), existing: true, runtimeStatus: again.runtimeStatus } };
    }
    context.log(`batch accepted: ${parsed.input.rows.length} rows`);
    return { status: 202, headers: { Location: links(request, batchId).statusUrl, 'Retry-After': '10' }, jsonBody: { ...links(request, batchId), existing: false, rows: parsed.input.rows.length, instanceId: batchId } };
  }

  async function status(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const batchId = request.params['batchId'] ?? '';
    if (!BATCH_ID.test(batchId)) return problem(404, 'Unknown batch', `no batch ${batchId}`);
    const client = df.getClient(context);
    const state = await client.getStatus(batchId).catch(() => undefined);
    if (!state?.runtimeStatus) return problem(404, 'Unknown batch', `no batch ${batchId}`);
    const custom = (state.customStatus ?? {}) as Partial<BatchStatus>;
    const done = await store.readReport(batchId);
    if (done) return { status: 200, jsonBody: { ...done, runtimeStatus: state.runtimeStatus, phase: custom.phase ?? 'done' } };
    const plan = await store.readPlan(batchId);
    if (!plan) return { status: 200, jsonBody: { batchId, runtimeStatus: state.runtimeStatus, phase: custom.phase ?? 'preflight', counts: null, users: [] } };
    const users = mergeOutcomes(plan, await store.readChunks(batchId));
    const counts = liveCounts(plan, users);
    return { status: 200, jsonBody: { batchId, source: plan.source, startedAt: plan.startedAt, finishedAt: null, deadline: plan.deadline, ...(plan.error ? { error: plan.error } : {}), runtimeStatus: state.runtimeStatus, phase: custom.phase ?? 'licensing', counts, users } };
  }

  async function recheck(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const batchId = request.params['batchId'] ?? '';
    const client = df.getClient(context);
    const state = BATCH_ID.test(batchId) ? await client.getStatus(batchId).catch(() => undefined) : undefined;
    if (!state?.runtimeStatus) return problem(404, 'Unknown batch', `no batch ${batchId}`);
    const chunks = ((state.customStatus ?? {}) as Partial<BatchStatus>).chunks ?? 0;
    let asked = 0;
    for (let i = 0; i < chunks; i++) {
      try {
        await client.raiseEvent(chunkInstanceId(batchId, i), RECHECK_EVENT, null);
        asked++;
      } catch {
        // a chunk that has finished has nothing to check
      }
    }
    return { status: 202, jsonBody: { batchId, chunksAsked: asked } };
  }

  return { submit, status, recheck };
}
