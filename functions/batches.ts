// The HTTP API for HR systems: submit a batch (JSON or CSV), read its live report, ask for a Teams check now.
// Success is the asynchronous pattern Durable Functions uses (202, Location, Retry-After), pointing at this API's
// own status route rather than the extension's management URLs, which carry the system key.
// Envelope problems are answered 400/413/415 as problem+json; problems in single rows never fail the request, they
// become rejected rows in the report.
import { createHash, randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableOrchestrationStatus } from 'durable-functions';
import { wallClock, type AppTime } from '../shared/adapters/app-time';
import { charsetOf, newRunKey, type BatchStore, type RunKey } from '../shared/adapters/batch-store';
import { UPLOADS_OWNER, callbackSecretSetting, type AppConfig, type Caller } from '../shared/adapters/config';
import { mergeOutcomes, recheckOutlook, type StoredPlan } from '../shared/domain/batch';
import { OPEN_RUNTIME_STATUSES, isBatchOpen, liveReport } from '../shared/domain/batch-view';
import { checkCallbackUrl, type CallbackPolicy } from '../shared/domain/callback';
import { BATCH_ID_RULE, MAX_INPUT_BYTES, isBatchId, parseInput, type ParsedInput } from '../shared/domain/input';
import { isCancelled } from '../shared/domain/onboarding';
import { fileNotes } from '../shared/domain/report';
import { isProfileName, normaliseProfileName } from '../shared/domain/profiles';
import { errorText, shown } from '../shared/domain/text';
import { isValidUpn, upnKey } from '../shared/domain/upn';
import type { BatchInput, BatchStatus } from '../contracts/batch';
import { BATCH_ORCHESTRATOR, CANCEL_EVENT, RECHECK_EVENT } from '../contracts/names';
import { chunkInstanceId } from '../contracts/instance-ids';
import { callerOf as callerFor, candidateInstances, instanceIdOf, isDelegated } from './callers';
import { lookUpFirst, lookUpInstance } from './instance-lookup';
import { queryInstances, type InstanceSummary } from './instance-query';

export interface BatchApiDeps {
  readonly config: AppConfig;
  readonly store: BatchStore;
  /** The app's time (shared/adapters/app-time.ts): the wall clock unless the host gives its own. */
  readonly time?: AppTime;
}

export function problem(
  status: number,
  title: string,
  detail: string,
  extra: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...extra },
    jsonBody: { type: 'about:blank', title, status, detail: errorText(detail) },
  };
}

const LIST_STATUSES = new Map<string, df.OrchestrationRuntimeStatus[]>([
  // The open statuses of the one rule (shared/domain/batch-view.ts): the extension's enum spells them as they read.
  ['running', OPEN_RUNTIME_STATUSES.map((s) => s as df.OrchestrationRuntimeStatus)],
  [
    'completed',
    [
      df.OrchestrationRuntimeStatus.Completed,
      df.OrchestrationRuntimeStatus.Failed,
      df.OrchestrationRuntimeStatus.Terminated,
    ],
  ],
]);

const unavailable = (what: string) =>
  problem(
    503,
    'Try again',
    `${what}: the orchestration service could not say whether the batch exists (busy or unavailable); nothing was started or changed: send it again after the given seconds`,
    { 'Retry-After': '10' },
  );

const forbidden = () =>
  problem(
    403,
    'Unknown caller',
    'this function key belongs to no integration in DIALTONE_CALLERS; ask the operator to onboard it',
  );

function mediaType(request: HttpRequest): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The body, or undefined when it is over the limit. A declared Content-Length over the limit is refused unread; a
 * chunked body (no Content-Length) is read and counted as it streams and dropped the moment it passes the limit,
 * so no more than the limit is ever held.
 */
export async function readCapped(
  request: Pick<HttpRequest, 'headers' | 'body'>,
  limit = MAX_INPUT_BYTES,
): Promise<Buffer | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) return undefined;
  const stream = request.body;
  if (!stream) return Buffer.alloc(0);
  const reader = (stream as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

function links(request: HttpRequest, batchId: string) {
  const base = new URL(request.url);
  const self = `${base.origin}/api/batches/${encodeURIComponent(batchId)}`;
  return { batchId, statusUrl: self, recheckUrl: `${self}/recheck` };
}

/**
 * A batch as the list and the status route's summary view show it, from its durable status only: counts are the final
 * ones once it completed, else those its orchestration last published (preflight's, until the report).
 */
function summaryOf(
  request: HttpRequest,
  batchId: string,
  i:
    | Pick<DurableOrchestrationStatus, 'customStatus' | 'runtimeStatus' | 'output' | 'createdTime' | 'lastUpdatedTime'>
    | InstanceSummary,
  upload: boolean,
) {
  const custom = (i.customStatus ?? {}) as Partial<BatchStatus>;
  const finished = String(i.runtimeStatus) === 'Completed';
  const counts = finished && i.output && typeof i.output === 'object' ? i.output : (custom.counts ?? null);
  return {
    ...links(request, batchId),
    ...(upload ? { upload: true } : {}),
    runtimeStatus: i.runtimeStatus,
    phase: custom.phase ?? null,
    createdTime: new Date(i.createdTime).toISOString(),
    lastUpdatedTime: new Date(i.lastUpdatedTime).toISOString(),
    counts,
  };
}

/**
 * What makes two submissions the same batch: the rows as read (every field, not their line numbers, so a re-sent body
 * with other whitespace or line endings is the same) and the batch profile.
 */
export function batchFingerprint(input: ParsedInput, profile: string | undefined): string {
  const rows = input.rows.map(({ line: _line, ...rest }) => rest);
  return createHash('sha256')
    .update(JSON.stringify({ profile: profile ?? null, rows }))
    .digest('base64url');
}

/** A batchId sent again: the same body is the same batch (200); a different one would be silently dropped, so 409. */
function sameBatchAgain(
  request: HttpRequest,
  batchId: string,
  existing: { runtimeStatus?: unknown; input?: unknown },
  fingerprint: string,
): HttpResponseInit {
  const before = (existing.input as Partial<BatchInput> | undefined)?.fingerprint;
  if (before !== undefined && before !== fingerprint) {
    return problem(
      409,
      'Batch id in use',
      `batch ${batchId} already exists with different rows; nothing was started. Send the new rows with another batchId (or none), or read batch ${batchId} at ${links(request, batchId).statusUrl}`,
    );
  }
  return {
    status: 200,
    headers: { Location: links(request, batchId).statusUrl },
    jsonBody: { ...links(request, batchId), existing: true, runtimeStatus: existing.runtimeStatus },
  };
}

/** Every path under /api that no route takes, and every method a route does not take: problem+json like every other error. */
export function createUnmatchedRoute(
  routes: readonly { readonly route: string; readonly methods: readonly string[] }[],
) {
  const patterns = routes.map((r) => ({
    methods: r.methods,
    re: new RegExp(
      `^${r.route
        .split('/')
        .map((seg) => (/^\{[^}]+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
        .join('/')}$`,
      'i',
    ),
  }));
  return async function unmatched(request: HttpRequest): Promise<HttpResponseInit> {
    const path = new URL(request.url).pathname.replace(/^\/api\//, '').replace(/\/+$/, '');
    const allowed = [...new Set(patterns.filter((p) => p.re.test(path)).flatMap((p) => p.methods))];
    if (allowed.length > 0)
      return problem(
        405,
        'Method not allowed',
        `${request.method} is not allowed on /api/${path}; use ${allowed.join(' or ')}`,
        { Allow: allowed.join(', ') },
      );
    return problem(
      404,
      'Not found',
      `there is nothing at /api/${path.slice(0, 200)}; the API is POST /api/batches, GET /api/batches (the list), GET /api/batches/{batchId}, POST /api/batches/{batchId}/recheck, POST /api/batches/{batchId}/cancel, POST /api/batches/{batchId}/rows/{row}/cancel and POST /api/batches/{batchId}/users/cancel`,
    );
  };
}

export function createBatchApi(deps: BatchApiDeps) {
  const { config, store } = deps;
  const time = deps.time ?? wallClock;
  const callerOf = (request: HttpRequest) => callerFor(request, config.callers, config.singleCaller);
  const listRate = new CallerRate(config.listPerMinute);

  /** The calling integration's own callback hosts and secret (never another integration's). */
  function callbackPolicyFor(caller: Caller): CallbackPolicy {
    const own = config.callers !== undefined;
    return {
      allowedHosts: caller.callbackHosts,
      hasSecret: config.callbackSecrets.has(caller.name),
      localRuntime: config.localRuntime,
      ...(own
        ? {
            hostsSetting: `${caller.name}'s callbackHosts in DIALTONE_CALLERS`,
            secretSetting: callbackSecretSetting(caller.name),
          }
        : {}),
    };
  }

  async function submit(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const caller = callerOf(request);
    if (!caller) return forbidden();
    const type = mediaType(request);
    const json = type === 'application/json';
    if (!json && type !== 'text/csv' && type !== 'text/plain') {
      return problem(
        415,
        'Unsupported content type',
        `send application/json ({ "users": [ { "userPrincipalName": … } ] }), text/csv or text/plain (one UPN per line); got "${shown(type, 60) || 'none'}"`,
      );
    }
    const body = await readCapped(request);
    if (!body)
      return problem(413, 'Batch too large', `the body is over ${MAX_INPUT_BYTES} bytes (20 MiB); split the batch`);
    const contentType = request.headers.get('content-type') ?? '';
    const charset = charsetOf(contentType);
    const parsed = parseInput(body, 'request body', {
      ...(json ? { json: true } : {}),
      ...(charset ? { charset } : {}),
    });
    if (!parsed.ok) {
      const code = parsed.error.code;
      if (code === 'unknown_field') {
        // Strict JSON (docs/strict-json.md): each unknown field by path, with the known name it is closest to.
        const refused = problem(400, 'Unknown fields', parsed.error.message);
        return { ...refused, jsonBody: { ...(refused.jsonBody as object), unknownFields: parsed.error.fields ?? [] } };
      }
      return problem(
        code === 'too_many_rows' || code === 'too_large' ? 413 : code === 'unsupported_charset' ? 415 : 400,
        'Unusable batch',
        parsed.error.message,
      );
    }
    const requested = parsed.input.batchId ?? request.query.get('batchId') ?? undefined;
    if (requested !== undefined && !isBatchId(requested))
      return problem(400, 'Invalid batchId', `batchId must be ${BATCH_ID_RULE}`);
    const profile = parsed.input.profile ?? request.query.get('profile') ?? undefined;
    if (profile !== undefined && profile.trim() !== '' && !isProfileName(normaliseProfileName(profile))) {
      return problem(
        400,
        'Invalid profile',
        `profile "${shown(profile, 64)}" is not a profile name: lower-case letters, digits, '.', '_' or '-', at most 64`,
      );
    }
    let callbackUrl: string | undefined;
    if (parsed.input.callbackUrl !== undefined) {
      const checked = checkCallbackUrl(parsed.input.callbackUrl, callbackPolicyFor(caller));
      if (!checked.ok) return problem(400, 'Callback refused', checked.message);
      callbackUrl = checked.url;
    }
    const batchId = requested ?? `b-${randomUUID()}`;
    const instanceId = instanceIdOf(caller.name, batchId);
    const client = df.getClient(context);

    const before = await lookUpInstance(client, instanceId);
    if (before.kind === 'unknown') {
      context.warn(`batch status unknown, not starting: ${before.message}`);
      return unavailable('not started');
    }
    // Any batch that exists, running or finished, is the one: a resubmission never starts it again.
    const fingerprint = batchFingerprint(parsed.input, profile);
    if (before.kind === 'found') return sameBatchAgain(request, batchId, before.status, fingerprint);
    const runKey = newRunKey(caller.name, batchId);
    const ref = await store.saveInput(runKey, body, contentType);
    if (callbackUrl)
      await store.saveCallback(runKey, {
        integration: caller.name,
        url: callbackUrl,
        statusUrl: links(request, batchId).statusUrl,
        attempts: [],
      });
    const input: BatchInput = {
      batchId,
      runKey,
      fingerprint,
      source: 'http',
      input: ref,
      ...(profile ? { profile } : {}),
      ...(json ? { json } : {}),
      deadlineHours: config.deadlineHours,
      chunkSize: config.chunkSize,
      parallelism: config.assignParallelism,
      ...(callbackUrl ? { callback: true } : {}),
      rights: caller.rights,
      caller: caller.name,
    };
    try {
      await client.startNew(BATCH_ORCHESTRATOR, { instanceId, input });
    } catch (e) {
      // Another request with the same batchId may have started it first: then that run is the one.
      const again = await lookUpInstance(client, instanceId);
      if (again.kind === 'found') return sameBatchAgain(request, batchId, again.status, fingerprint);
      context.warn(`could not start batch: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`);
      return problem(
        503,
        'Batch not started',
        'the orchestration service did not accept the batch (busy or unavailable); nothing was started: send it again after the given seconds',
        { 'Retry-After': '10' },
      );
    }
    context.log(`batch ${batchId} accepted: ${parsed.input.rows.length} rows from ${caller.name}`);
    return {
      status: 202,
      headers: { Location: links(request, batchId).statusUrl, 'Retry-After': '10' },
      jsonBody: { ...links(request, batchId), existing: false, rows: parsed.input.rows.length, instanceId: batchId },
    };
  }

  /**
   * The caller's batch by the id in the route: found, 404 (not the caller's, or no such batch) or 503. `manage`: the
   * route changes the batch, so an upload's batch is found only for a caller that manages uploads (reading is not
   * enough).
   */
  async function find(request: HttpRequest, context: InvocationContext, access: 'read' | 'manage' = 'read') {
    const batchId = request.params['batchId'] ?? '';
    const caller = callerOf(request);
    if (!caller) return { answer: forbidden() };
    const notFound = { answer: problem(404, 'Unknown batch', `no batch ${shown(batchId, 100)}`) };
    if (!isBatchId(batchId)) return notFound;
    const client = df.getClient(context);
    const r = await lookUpFirst(client, candidateInstances(caller, batchId, access));
    if (r.kind === 'absent') return notFound;
    if (r.kind === 'unknown') return { answer: unavailable('status unknown') };
    const runKey: RunKey = (r.status.input as Partial<BatchInput> | undefined)?.runKey ?? batchId;
    return { batchId, client, instanceId: r.instanceId!, state: r.status, runKey };
  }

  async function status(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const f = await find(request, context);
    if (f.answer) return f.answer;
    const view = request.query.get('view') ?? 'full';
    if (view !== 'full' && view !== 'summary')
      return problem(400, 'Invalid view', `view must be full or summary; got "${shown(view, 40)}"`);
    const { batchId, state, runKey, instanceId } = f;
    // The summary is what the batch list says of it, from the durable instance store alone: no blob is read, however
    // large the batch (the full view reads the plan and every chunk: for 50,000 rows about 250 blobs and 20 MB).
    if (view === 'summary')
      return { status: 200, jsonBody: summaryOf(request, batchId, state, instanceId.startsWith(`${UPLOADS_OWNER}~`)) };
    const custom = (state.customStatus ?? {}) as Partial<BatchStatus>;
    const done = await store.readReport(runKey);
    if (done)
      return {
        status: 200,
        jsonBody: {
          ...done,
          fileNotes: fileNotes(done),
          runtimeStatus: state.runtimeStatus,
          phase: custom.phase ?? 'done',
        },
      };
    const plan = await store.readPlan(runKey);
    if (!plan)
      return {
        status: 200,
        jsonBody: {
          batchId,
          runtimeStatus: state.runtimeStatus,
          phase: custom.phase ?? 'preflight',
          counts: null,
          users: [],
        },
      };
    // The live report (shared/domain/batch-view.ts), with the durable status beside its head.
    const {
      counts,
      bought,
      released,
      fileNotes: notes,
      users,
      ...head
    } = liveReport(plan, await store.readChunks(runKey), await store.readCancellations(runKey));
    return {
      status: 200,
      jsonBody: {
        ...head,
        runtimeStatus: state.runtimeStatus,
        phase: custom.phase ?? 'licensing',
        counts,
        bought,
        released,
        fileNotes: notes,
        users,
      },
    };
  }

  async function recheck(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const f = await find(request, context, 'manage');
    if (f.answer) return f.answer;
    const { batchId, client, instanceId, state, runKey } = f;
    if (!isBatchOpen(state)) {
      return problem(
        409,
        'Batch finished',
        `batch ${batchId} has finished (${String(state.runtimeStatus)}); there is no wait to end early: read its report, or send the users again as a new batch`,
      );
    }
    // Who waits for Teams now, and who may still come to wait, from the plan and the chunks' results (the same reads
    // as the live report: a recheck is a person's action, not a poll).
    const plan = await store.readPlan(runKey);
    const outlook = plan
      ? recheckOutlook(plan, mergeOutcomes(plan, await store.readChunks(runKey)))
      : { waiting: 0, coming: 0 };
    if (plan && outlook.waiting === 0 && outlook.coming === 0) {
      return problem(
        409,
        'Nothing to recheck',
        `batch ${batchId} has no row waiting for Teams and none that will: every row has its outcome or needs no calling plan; the batch is finishing its report`,
      );
    }
    const checksRequested = outlook.waiting;
    const why = !plan ? 'still_planning' : checksRequested === 0 ? 'still_assigning' : undefined;
    if (why) {
      // Nobody waits yet: nothing is recorded or woken (each row's first check follows its licences within a minute).
      const message =
        why === 'still_planning'
          ? `nobody waits for Teams yet: batch ${batchId} is still being planned; its rows are checked within a minute of their licences, so there is nothing to hurry yet`
          : `nobody waits for Teams yet: ${outlook.coming} row(s) of batch ${batchId} are still being licensed or wait for their start date; each is checked within a minute of its licences`;
      return { status: 202, jsonBody: { batchId, checksRequested: 0, reason: why, message, chunksAsked: 0 } };
    }
    const chunks = ((state.customStatus ?? {}) as Partial<BatchStatus>).chunks ?? 0;
    // The record is what counts: the extension drops an event that a chunk had not processed when it continued as new,
    // and each chunk reads this at the start of every generation. The events only wake the chunks that wait now.
    await store.requestRecheck(runKey, new Date(time.now()).toISOString());
    let asked = 0;
    for (let i = 0; i < chunks; i++) {
      try {
        await client.raiseEvent(chunkInstanceId(instanceId, i), RECHECK_EVENT, null);
        asked++;
      } catch {
        // a chunk that has finished has nothing to check
      }
    }
    const message = `Teams will be checked now for the ${checksRequested} user(s) of batch ${batchId} waiting for their calling plan (within the app's Teams read budget, and at most once a minute)`;
    context.log(`recheck asked: ${checksRequested} waiting, ${asked} chunk(s) woken`);
    return { status: 202, jsonBody: { batchId, checksRequested, message, chunksAsked: asked } };
  }

  /**
   * The caller's batches with their counts, a page at a time: `?status=running|completed` (completed includes batches
   * that ended Failed or Terminated; each item says which), `?top=N` (1-100, default 20), `?prefix=` (batch ids that
   * start so), `?createdFrom=` and `?createdTo=` (ISO 8601 date-times), and `?continuationToken=` (the last page's
   * `continuationToken`). A caller sees only its own batches, then the uploads' when it may read them, as on the
   * status route. Read from the durable instance store with the extension's prefix query (functions/instance-query.ts),
   * so a call reads at most LIST_PAGES_PER_CALL pages of it whatever the task hub holds; each page is newest first, and
   * pages follow the store's order (instance ids). Past DIALTONE_LIST_PER_MINUTE calls a minute a caller gets 429.
   */
  async function list(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const caller = callerOf(request);
    if (!caller) return forbidden();
    // Key holders only: the console's page polls the list while a batch runs, for admins the platform signed in.
    const wait = isDelegated(request) ? 0 : listRate.take(caller.name, Date.now());
    if (wait > 0)
      return problem(
        429,
        'Too many requests',
        `more than ${config.listPerMinute} batch lists a minute for ${caller.name}; try again after the given seconds`,
        { 'Retry-After': String(wait) },
      );
    const wanted = request.query.get('status') ?? undefined;
    const statuses = wanted === undefined ? undefined : LIST_STATUSES.get(wanted);
    if (wanted !== undefined && !statuses)
      return problem(400, 'Invalid status', `status must be running or completed; got "${shown(wanted, 40)}"`);
    const topText = request.query.get('top') ?? '20';
    const top = /^\d{1,3}$/.test(topText) ? Number(topText) : NaN;
    if (!(top >= 1 && top <= 100))
      return problem(400, 'Invalid top', `top must be a whole number from 1 to 100; got "${shown(topText, 40)}"`);
    const prefix = request.query.get('prefix') ?? '';
    if (!/^[A-Za-z0-9._-]{0,100}$/.test(prefix))
      return problem(
        400,
        'Invalid prefix',
        `prefix must be the start of a batch id (letters, digits, '.', '_' or '-', at most 100); got "${shown(prefix, 40)}"`,
      );
    const window: { from?: Date; to?: Date } = {};
    for (const [name, key] of [
      ['createdFrom', 'from'],
      ['createdTo', 'to'],
    ] as const) {
      const text = request.query.get(name);
      if (text === null) continue;
      const at = ISO_DATE_TIME.test(text) ? new Date(text) : new Date(NaN);
      if (Number.isNaN(at.getTime()))
        return problem(
          400,
          `Invalid ${name}`,
          `${name} must be an ISO 8601 date-time with an offset (2026-12-01T00:00:00Z); got "${shown(text, 40)}"`,
        );
      window[key] = at;
    }
    if (window.from && window.to && window.from > window.to)
      return problem(400, 'Invalid window', 'createdFrom is after createdTo');
    const owners = caller.readsUploads ? [caller.name, UPLOADS_OWNER] : [caller.name];
    const tokenText = request.query.get('continuationToken');
    let state: ListPosition = { phase: 0, skip: 0 };
    if (tokenText !== null) {
      const read = readListToken(tokenText, owners.length);
      if (!read)
        return problem(
          400,
          'Invalid continuationToken',
          'continuationToken is not one this list returned; start again without it',
        );
      state = read;
    }
    const client = df.getClient(context);
    const found: { i: InstanceSummary; batchId: string; upload: boolean }[] = [];
    try {
      for (let pages = 0; state.phase < owners.length && found.length < top && pages < LIST_PAGES_PER_CALL; pages++) {
        const owner = owners[state.phase]!;
        const page = await queryInstances(client, {
          prefix: instanceIdOf(owner, prefix),
          top: LIST_PAGE_SIZE,
          ...(statuses ? { runtimeStatus: statuses } : {}),
          ...(window.from ? { createdFrom: window.from } : {}),
          ...(window.to ? { createdTo: window.to } : {}),
          ...(state.token ? { continuation: state.token } : {}),
        });
        const batches = page.instances.flatMap((i) => {
          const owned = ownedBatch(caller, i.instanceId);
          return i.name === BATCH_ORCHESTRATOR && owned ? [{ i, ...owned }] : [];
        });
        const available = batches.slice(state.skip);
        const taken = available.slice(0, top - found.length);
        found.push(...taken);
        if (taken.length < available.length) state = { ...state, skip: state.skip + taken.length };
        else if (page.continuation) state = { phase: state.phase, token: page.continuation, skip: 0 };
        else state = { phase: state.phase + 1, skip: 0 };
      }
    } catch (e) {
      context.warn(`could not list batches: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`);
      return problem(
        503,
        'Batches not listed',
        'the orchestration service did not answer; try again after the given seconds',
        { 'Retry-After': '10' },
      );
    }
    const batches = found
      .sort(
        (a, b) =>
          new Date(b.i.createdTime).getTime() - new Date(a.i.createdTime).getTime() ||
          (a.i.instanceId < b.i.instanceId ? -1 : 1),
      )
      .map(({ i, batchId, upload }) => summaryOf(request, batchId, i, upload));
    const continuationToken = state.phase < owners.length ? listToken(state) : undefined;
    return { status: 200, jsonBody: { batches, ...(continuationToken ? { continuationToken } : {}) } };
  }

  /**
   * Cancels a running batch: rows not yet licensed end `cancelled`, rows already licensed keep their licences and end
   * `assigned`, and the report is written. The request is recorded in the run's folder first, so it is not lost if
   * the event that wakes the orchestration is, and every licence write checks that record just before it is sent.
   */
  async function cancel(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const f = await find(request, context, 'manage');
    if (f.answer) return f.answer;
    const { batchId, client, instanceId, state, runKey } = f;
    if (!isBatchOpen(state))
      return problem(
        409,
        'Batch finished',
        `batch ${batchId} has finished (${String(state.runtimeStatus)}); its report is final`,
      );
    await store.addCancellation(runKey, { batch: true });
    try {
      await client.raiseEvent(instanceId, CANCEL_EVENT, null);
    } catch (e) {
      context.warn(
        `cancel recorded, batch not woken: ${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}`,
      );
      return problem(
        503,
        'Cancellation recorded',
        `batch ${batchId}'s cancellation is recorded (no licence is written for it from now on), but the orchestration service did not take the event that ends its waits: send the cancel again after the given seconds`,
        { 'Retry-After': '10' },
      );
    }
    // The batch asks its own chunks and slots to end their waits (one event each; see stopBatch).
    context.log('batch cancellation accepted');
    return {
      status: 202,
      headers: { Location: links(request, batchId).statusUrl },
      jsonBody: { ...links(request, batchId), cancelled: true },
    };
  }

  /**
   * Cancels one row that is still waiting (an HR no-show): it ends `cancelled`, and nothing is assigned to it. The
   * row is named by its number in the path (`rows/{row}/cancel`) or by its UPN in the body (`users/cancel`,
   * `{ "userPrincipalName": … }`): a UPN is personal data and never goes in a URL, which request logs and telemetry keep.
   */
  async function cancelRow(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const text = request.params['row'] ?? '';
    const number = /^[1-9]\d{0,5}$/.test(text) ? Number(text) : NaN;
    if (Number.isNaN(number))
      return problem(
        400,
        'Invalid row',
        `"${shown(text, 40)}" is not a row number (the row's "row" in the report, counted from 1)`,
      );
    return cancelOne(request, context, (rows) => rows.find((r) => r.row === number), `row ${number}`);
  }

  async function cancelUser(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    if (mediaType(request) !== 'application/json')
      return problem(415, 'Unsupported content type', 'send application/json: { "userPrincipalName": "…" }');
    const body = await readCapped(request, 4096);
    let upn: unknown;
    try {
      upn = body
        ? (JSON.parse(body.toString('utf8')) as { userPrincipalName?: unknown } | null)?.userPrincipalName
        : undefined;
    } catch {
      return problem(400, 'Invalid body', 'the body is not JSON; send { "userPrincipalName": "…" }');
    }
    if (typeof upn !== 'string')
      return problem(
        400,
        'Invalid user',
        'send { "userPrincipalName": "…" }: the body has no userPrincipalName string',
      );
    if (!isValidUpn(upn))
      return problem(
        400,
        'Invalid user',
        `"${shown(upn, 120)}" is not a user principal name (name@domain, at most 113 characters)`,
      );
    return cancelOne(request, context, (rows) => rows.find((r) => upnKey(r.userPrincipalName) === upnKey(upn)), upn);
  }

  async function cancelOne(
    request: HttpRequest,
    context: InvocationContext,
    pick: (rows: StoredPlan['rows']) => StoredPlan['rows'][number] | undefined,
    named: string,
  ): Promise<HttpResponseInit> {
    const f = await find(request, context, 'manage');
    if (f.answer) return f.answer;
    const { batchId, state, runKey } = f;
    if (!isBatchOpen(state))
      return problem(
        409,
        'Batch finished',
        `batch ${batchId} has finished (${String(state.runtimeStatus)}); its report is final`,
      );
    const plan = await store.readPlan(runKey);
    if (!plan)
      return problem(409, 'Batch not planned yet', 'the batch is still being read; try again after the given seconds', {
        'Retry-After': '5',
      });
    const row = pick(plan.rows);
    if (!row) return problem(404, 'Unknown row', `batch ${batchId} has no row for ${named}`);
    const result = (await store.readChunks(runKey)).find((r) => r.row === row.row);
    const outcome = result?.outcome ?? (row.kind === 'rejected' || row.kind === 'failed' ? row.kind : undefined);
    if (outcome === 'cancelled' || (!outcome && isCancelled(await store.readCancellations(runKey), row.row)))
      return { status: 200, jsonBody: { ...links(request, batchId), row: row.row, cancelled: true } };
    if (outcome)
      return problem(
        409,
        'Row already ended',
        `row ${row.row} already ended ${outcome}; licences already assigned are kept`,
      );
    if (row.kind !== 'scheduled')
      return problem(
        409,
        'Row already being licensed',
        `row ${row.row} is being licensed now (it had no start date ahead); licences assigned are kept`,
      );
    await store.addCancellation(runKey, { row: row.row });
    // Read after recording: a slot that took the row for licensing before it could see the cancellation has already
    // removed it from its waiting list (see planSlot); the write itself still checks the record before it is sent.
    const stillWaiting = await store.readSlot(runKey, row.slot);
    if (stillWaiting && !stillWaiting.waiting.some((w) => w.row === row.row))
      return problem(
        409,
        'Row already being licensed',
        `row ${row.row}'s time came and it is being licensed now; licences assigned are kept`,
      );
    // The slot is not woken: it reads the cancellations when its time comes (and the status shows the row cancelled
    // now). On the real extension (with Azurite) a slot that took a second cancel event after this one aborted an
    // episode ("split brain") and stopped; the batch's own cancel stays the only event a slot gets.
    context.log('row cancellation accepted');
    return {
      status: 202,
      headers: { Location: links(request, batchId).statusUrl },
      jsonBody: { ...links(request, batchId), row: row.row, cancelled: true },
    };
  }

  return { submit, status, recheck, list, cancel, cancelRow, cancelUser };
}

/** Instances read per query of the store, and pages read per list call at most (a call reads at most 500). */
const LIST_PAGE_SIZE = 100;
const LIST_PAGES_PER_CALL = 5;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Where a list goes on: which owner's instances (its own, then the uploads'), the store's token, batches already given. */
interface ListPosition {
  readonly phase: number;
  readonly token?: string;
  readonly skip: number;
}

function listToken(p: ListPosition): string {
  return Buffer.from(JSON.stringify({ p: p.phase, ...(p.token ? { t: p.token } : {}), s: p.skip }), 'utf8').toString(
    'base64url',
  );
}

function readListToken(text: string, phases: number): ListPosition | undefined {
  if (text.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { p?: unknown; t?: unknown; s?: unknown };
    if (
      !Number.isInteger(v.p) ||
      (v.p as number) < 0 ||
      (v.p as number) >= phases ||
      !Number.isInteger(v.s) ||
      (v.s as number) < 0 ||
      (v.s as number) > LIST_PAGE_SIZE
    )
      return undefined;
    if (v.t !== undefined && typeof v.t !== 'string') return undefined;
    return { phase: v.p as number, skip: v.s as number, ...(typeof v.t === 'string' ? { token: v.t } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * A per-caller rate for the batch list: `perMinute` calls a minute, refilled continuously (a token bucket). Kept in
 * this instance's memory: with several instances of the app, each allows its own share.
 */
export class CallerRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number) {}

  /** Takes one call for `caller` at `now` (ms): 0 when allowed, else the whole seconds until one is. */
  take(caller: string, now: number): number {
    const b = this.buckets.get(caller) ?? { tokens: this.perMinute, at: now };
    const tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    if (tokens >= 1) {
      this.buckets.set(caller, { tokens: tokens - 1, at: now });
      return 0;
    }
    this.buckets.set(caller, { tokens, at: now });
    return Math.max(1, Math.ceil(((1 - tokens) * 60_000) / this.perMinute / 1000));
  }
}

/** The batch an instance id stands for, when it is one of `caller`'s (or an upload's it may read). */
function ownedBatch(caller: Caller, instanceId: string): { batchId: string; upload: boolean } | undefined {
  const cut = instanceId.indexOf('~');
  if (cut < 0) return undefined;
  const owner = instanceId.slice(0, cut);
  const batchId = instanceId.slice(cut + 1);
  if (!isBatchId(batchId)) return undefined;
  if (owner === caller.name) return { batchId, upload: false };
  if (owner === UPLOADS_OWNER && caller.readsUploads) return { batchId, upload: true };
  return undefined;
}
