// The HTTP API for HR systems: submit a batch (JSON or CSV), read its live report, ask for a Teams check now.
// Success is the asynchronous pattern Durable Functions uses (202, Location, Retry-After), pointing at this API's
// own status route rather than the extension's management URLs, which carry the system key.
// Envelope problems are answered 400/413/415 as problem+json; problems in single rows never fail the request, they
// become rejected rows in the report.
import { createHash, randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { charsetOf, type BatchStore } from '../shared/adapters/batch-store';
import type { AppConfig } from '../shared/adapters/config';
import { liveCounts, mergeOutcomes } from '../shared/domain/batch';
import { MAX_INPUT_BYTES, parseInput, type ParsedInput } from '../shared/domain/input';
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

/**
 * What makes two submissions the same batch: the rows as read (every field, not their line numbers, so a re-sent body
 * with other whitespace or line endings is the same) and the batch profile.
 */
export function batchFingerprint(input: ParsedInput, profile: string | undefined): string {
  const rows = input.rows.map(({ line: _line, ...rest }) => rest);
  return createHash('sha256').update(JSON.stringify({ profile: profile ?? null, rows })).digest('base64url');
}

function isRunning(status: unknown): boolean {
  return status === 'Running' || status === 'Pending' || status === 'ContinuedAsNew';
}

/** A batchId sent again: the same body is the same batch (200); a different one would be silently dropped, so 409. */
function sameBatchAgain(request: HttpRequest, batchId: string, existing: { runtimeStatus?: unknown; input?: unknown }, fingerprint: string): HttpResponseInit {
  const before = (existing.input as Partial<BatchInput> | undefined)?.fingerprint;
  if (before !== undefined && before !== fingerprint) {
    return problem(409, 'Batch id in use', `batch ${batchId} already exists with different rows; nothing was started. Send the new rows with another batchId (or none), or read batch ${batchId} at ${links(request, batchId).statusUrl}`);
  }
  return { status: 200, headers: { Location: links(request, batchId).statusUrl }, jsonBody: { ...links(request, batchId), existing: true, runtimeStatus: existing.runtimeStatus } };
}

/** Every path under /api that no route takes, and every method a route does not take: problem+json like every other error. */
export function createUnmatchedRoute(routes: readonly { readonly route: string; readonly methods: readonly string[] }[]) {
  const patterns = routes.map((r) => ({ methods: r.methods, re: new RegExp(`^${r.route.split('/').map((seg) => (/^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}$`, 'i') }));
  return async function unmatched(request: HttpRequest): Promise<HttpResponseInit> {
    const path = new URL(request.url).pathname.replace(/^\/api\//, '').replace(/\/+$/, '');
    const allowed = [...new Set(patterns.filter((p) => p.re.test(path)).flatMap((p) => p.methods))];
    if (allowed.length > 0) return problem(405, 'Method not allowed', `${request.method} is not allowed on /api/${path}; use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
    return problem(404, 'Not found', `there is nothing at /api/${path.slice(0, 200)}; the API is POST /api/batches, GET /api/batches/{batchId} and POST /api/batches/{batchId}/recheck`);
  };
}

export function createBatchApi(deps: BatchApiDeps) {
  const { config, store } = deps;

  async function submit(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const type = mediaType(request);
    const json = type === 'application/json';
    if (!json && type !== 'text/csv' && type !== 'text/plain') {
      return problem(415, 'Unsupported content type', `send application/json ({ "users": [ { "userPrincipalName": … } ] }), text/csv or text/plain (one UPN per line); got "${type || 'none'}"`);
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

    const fingerprint = batchFingerprint(parsed.input, profile);
    const existing = await client.getStatus(batchId).catch(() => undefined);
    if (existing?.runtimeStatus) return sameBatchAgain(request, batchId, existing, fingerprint);
    const ref = await store.saveInput(batchId, body, contentType);
    const input: BatchInput = { batchId, fingerprint, source: 'http', input: ref, ...(profile ? { profile } : {}), ...(json ? { json } : {}), deadlineHours: config.deadlineHours, chunkSize: config.chunkSize, parallelism: config.assignParallelism };
    try {
      await client.startNew(BATCH_ORCHESTRATOR, { instanceId: batchId, input });
    } catch (e) {
      // Another request with the same batchId started it first: that run is the one.
      const again = await client.getStatus(batchId).catch(() => undefined);
      if (!again?.runtimeStatus) {
        context.warn(`could not start batch: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`);
        return problem(503, 'Batch not started', 'the orchestration service did not accept the batch (busy or unavailable); nothing was started: send it again after the given seconds', { 'Retry-After': '10' });
      }
      return sameBatchAgain(request, batchId, again, fingerprint);
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
    if (!isRunning(state.runtimeStatus)) {
      return problem(409, 'Batch finished', `batch ${batchId} has finished (${String(state.runtimeStatus)}); there is no wait to end early: read its report, or send the users again as a new batch`);
    }
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
