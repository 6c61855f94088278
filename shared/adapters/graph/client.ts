// The connection to Microsoft Graph that the licensing and the phone-number operations share: the real
// @microsoft/microsoft-graph-client over HTTPS, authenticated with a TokenCredential; reads batched 20 to a $batch
// with throttled and transient items retried inside a batch (the client's RetryHandler sees only the envelope); one
// write pacer for every write, so that both kinds stay under the app's one budget together; and every Graph error
// turned into the domain's GraphFailure (a 401/403 naming the permission the app lacks). Graph's own rules for these:
// "JSON batching" (https://learn.microsoft.com/graph/json-batching) and "Microsoft Graph throttling guidance"
// (https://learn.microsoft.com/graph/throttling).
import type { TokenCredential } from '@azure/identity';
import { Client, RetryHandlerOptions, type GraphRequest } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { Agent } from 'undici';
import {
  classifyGraphError,
  missingPermissionMessage,
  type WriteOptions,
  type GraphFailure,
  type GraphOperation,
  type GraphResult,
} from '../../domain/directory';
import { eachAtMost } from '../at-once';

/** The token scope of the Graph cloud at this base URL: each national cloud has its own (learn.microsoft.com/graph/deployments). */
export function graphScopeFor(baseUrl: string): string {
  return `${new URL(baseUrl).origin}/.default`;
}
const BATCH_SIZE = 20;

export interface GraphClientOptions {
  readonly baseUrl: string;
  readonly credential: TokenCredential;
  /** PEM of an extra CA to trust (a TLS-inspecting proxy, or the local stack's). */
  readonly extraCaPem?: string | undefined;
  /** The app's own write budget per second (Graph allows 3,000 writes per 150 s per app and tenant). */
  readonly writesPerSecond?: number;
  /** The write budget shared by every instance of the app (shared/adapters/graph-budget.ts); without it, this process paces alone. */
  readonly writeBudget?: { acquire(): Promise<void> };
  /** How many $batch requests one call keeps in flight. */
  readonly batchConcurrency?: number;
  /** Retries of a throttled or transient request (or $batch item) before it is given up as a transient failure. */
  readonly retries?: number;
  readonly requestTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock the write pacer reads (Date.now by default); a test gives the simulator's, with a matching sleep. */
  readonly now?: () => number;
}

export interface BatchItem {
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly url: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface BatchItemResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

/** Spaces writes evenly at the configured rate, across all callers of one adapter. */
class WritePacer {
  private next = 0;
  constructor(
    private readonly perSecond: number,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly clock: () => number = Date.now,
  ) {}

  async acquire(): Promise<void> {
    const now = this.clock();
    const slot = Math.max(now, this.next);
    this.next = slot + 1000 / this.perSecond;
    if (slot > now) await this.sleep(slot - now);
  }
}

/** One Graph client, its retries, its $batch plumbing and its write pacing, shared by the adapter's two halves. */
export class GraphClient {
  private readonly client: Client;
  readonly origin: string;
  private readonly pacer: { acquire(): Promise<void> };
  readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => number;
  private readonly batchConcurrency: number;
  private readonly retries: number;

  constructor(options: GraphClientOptions) {
    const base = new URL(options.baseUrl);
    this.origin = base.origin;
    if (base.protocol !== 'https:')
      throw new Error('Graph base URL must use https: the Graph client sends its bearer token only over https');
    const timeout = options.requestTimeoutMs ?? 30_000;
    const dispatcher = new Agent({
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connections: 64,
      ...(options.extraCaPem ? { connect: { ca: options.extraCaPem } } : {}),
    });
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.clock = options.now ?? Date.now;
    this.pacer = options.writeBudget ?? new WritePacer(options.writesPerSecond ?? 18, this.sleep, options.now);
    this.batchConcurrency = options.batchConcurrency ?? 4;
    this.retries = options.retries ?? 6;
    this.client = Client.initWithMiddleware({
      authProvider: new TokenCredentialAuthenticationProvider(options.credential, {
        scopes: [graphScopeFor(options.baseUrl)],
      }),
      baseUrl: `${base.origin}${base.pathname.replace(/\/+$/, '')}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set([base.hostname]),
      fetchOptions: { dispatcher },
    });
  }

  /**
   * Waits for a write's turn: the turn the caller reserved (WriteOptions.reservedAt) for the first send, the budget's next
   * turn for every other.
   */
  writeSlot(options: WriteOptions): () => Promise<void> {
    let reserved = options.reservedAt;
    return async () => {
      if (reserved === undefined) return this.pacer.acquire();
      const wait = reserved - this.clock();
      reserved = undefined;
      if (wait > 0) await this.sleep(wait);
    };
  }

  /** A request with the client's own RetryHandler off: this adapter retries itself, with an injectable sleep. */
  api(path: string): GraphRequest {
    return this.client.api(path).middlewareOptions([new RetryHandlerOptions(0, 0)]);
  }

  async withRetry<T>(
    operation: GraphOperation,
    op: () => Promise<T>,
    retryable: (f: GraphFailure) => boolean = (f) => f.transient,
  ): Promise<GraphResult<T>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { ok: true, value: await op() };
      } catch (e) {
        const failure = namePermission(operation, toFailure(e));
        if (!retryable(failure) || attempt >= this.retries || waitsTooLong(failure)) return failure;
        await this.sleep(backoffMs(attempt, failure.retryAfterSeconds));
      }
    }
  }

  /** Sends items in $batch requests of 20, a few at a time, and returns a success body or a failure per item id. */
  async runBatches(
    operation: GraphOperation,
    items: readonly BatchItem[],
    headers: Record<string, string> = {},
  ): Promise<Map<string, BatchItemResponse | GraphFailure>> {
    const out = new Map<string, BatchItemResponse | GraphFailure>();
    const groups: BatchItem[][] = [];
    for (let i = 0; i < items.length; i += BATCH_SIZE) groups.push(items.slice(i, i + BATCH_SIZE));
    await eachAtMost(groups, this.batchConcurrency, async (group) => {
      for (const [id, r] of await this.runBatch(group, headers))
        out.set(id, 'ok' in r ? namePermission(operation, r) : r);
    });
    return out;
  }

  private async runBatch(
    items: readonly BatchItem[],
    headers: Record<string, string>,
  ): Promise<Map<string, BatchItemResponse | GraphFailure>> {
    const out = new Map<string, BatchItemResponse | GraphFailure>();
    let pending = [...items];
    for (let attempt = 0; pending.length > 0; attempt++) {
      let responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[];
      try {
        const res = (await this.api('/$batch').headers(headers).post({ requests: pending })) as {
          responses?: typeof responses;
        };
        responses = res.responses ?? [];
      } catch (e) {
        const failure = toFailure(e);
        if (failure.transient && attempt < this.retries && !waitsTooLong(failure)) {
          await this.sleep(backoffMs(attempt, failure.retryAfterSeconds));
          continue;
        }
        for (const item of pending) out.set(item.id, failure);
        return out;
      }
      const byId = new Map(responses.map((r) => [r.id, r]));
      const retry: BatchItem[] = [];
      let wait = 0;
      for (const item of pending) {
        const r = byId.get(item.id);
        if (r && r.status < 300) {
          out.set(item.id, r);
          continue;
        }
        const failure = r
          ? itemFailure(r)
          : classifyGraphError(0, 'MissingResponse', 'the $batch response had no entry for this request');
        if (failure.transient && attempt < this.retries && !waitsTooLong(failure)) {
          retry.push(item);
          wait = Math.max(wait, backoffMs(attempt, failure.retryAfterSeconds));
        } else out.set(item.id, failure);
      }
      pending = retry;
      if (pending.length > 0) await this.sleep(wait);
    }
    return out;
  }
}

/** A 401/403 says which permission the app lacks, so that the report and the flag can tell an admin what to grant. */
function namePermission(operation: GraphOperation, f: GraphFailure): GraphFailure {
  return f.reason === 'forbidden' && f.code !== SIGN_IN_FAILED
    ? { ...f, message: missingPermissionMessage(operation, f.status, f.message) }
    : f;
}

const SIGN_IN_FAILED = 'SignInFailed';
/**
 * The identity platform's answers that no retry changes: a wrong secret or certificate, an unknown app, tenant or
 * resource (OAuth error codes with an AADSTS code: learn.microsoft.com/entra/identity-platform/reference-error-codes).
 */
const SIGN_IN_REFUSED =
  /\b(invalid_client|unauthorized_client|invalid_grant|invalid_resource|invalid_request|invalid_scope)\b[\s\S]*AADSTS\d+/;

/** A failure read from a raw response (ResponseType.RAW does not throw), thrown through withRetry. */
export class RawResponseFailure extends Error {
  constructor(readonly failure: GraphFailure) {
    super(failure.message);
  }
}

/** A non-2xx raw response as the domain's failure, reading Graph's error body when there is one. */
export async function rawFailure(res: Response): Promise<GraphFailure> {
  let code = '';
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    /* no JSON body */
  }
  return classifyGraphError(res.status, code, message, retryAfterOf(res.headers));
}

/**
 * The longest Retry-After this adapter waits out inside an activity: one window of Graph's longest documented quota
 * (the directory's 3,000 writes per 150 seconds, "Microsoft Graph service-specific throttling limits",
 * https://learn.microsoft.com/graph/throttling-limits), which a burst beyond the quota is told to wait. A longer one
 * (Graph has sent an hour) would hold the activity past its timeout, and a wait over 2^31 ms overflows Node's timer
 * into 1 ms; instead the failure goes back as it is (transient), for the orchestration's durable retry, which waits
 * on a timer that costs nothing.
 */
export const MAX_RETRY_AFTER_SECONDS = 150;

function waitsTooLong(failure: GraphFailure): boolean {
  return failure.retryAfterSeconds !== undefined && failure.retryAfterSeconds > MAX_RETRY_AFTER_SECONDS;
}

function backoffMs(attempt: number, retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  return Math.min(30_000, 500 * 2 ** attempt);
}

function retryAfterOf(headers: Record<string, string> | Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const raw =
    headers instanceof Headers
      ? headers.get('retry-after')
      : (Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1] ?? null);
  if (raw === null) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function itemFailure(r: { status: number; headers?: Record<string, string>; body?: unknown }): GraphFailure {
  const err = (r.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return classifyGraphError(r.status, err?.code ?? '', err?.message ?? `HTTP ${r.status}`, retryAfterOf(r.headers));
}

/** Normalises whatever the Graph client threw (GraphError, GraphClientError, network errors) into a GraphFailure. */
export function toFailure(e: unknown): GraphFailure {
  if (e instanceof RawResponseFailure) return e.failure;
  const err = e as {
    statusCode?: number;
    code?: string;
    message?: string;
    headers?: Headers;
    body?: unknown;
    name?: string;
  };
  const status = typeof err?.statusCode === 'number' && err.statusCode > 0 ? err.statusCode : 0;
  let message = typeof err?.message === 'string' ? err.message : String(e);
  // The credential could not get a token at all: Graph never saw the request, and retrying cannot help.
  if (status === 0 && SIGN_IN_REFUSED.test(message)) {
    return {
      ok: false,
      status: 0,
      code: SIGN_IN_FAILED,
      reason: 'forbidden',
      transient: false,
      message: `the app could not sign in for a Graph token; check its sign-in settings (AZURE_TENANT_ID, AZURE_CLIENT_ID and its secret or certificate, AZURE_AUTHORITY_HOST) or its managed identity. Entra ID said: ${message.slice(0, 800)}`,
    };
  }
  let code = typeof err?.code === 'string' ? err.code : status === 0 ? 'NetworkError' : '';
  if (status === 0 && !/^(NetworkError)$/.test(code)) code = 'NetworkError';
  if (typeof err?.body === 'string' && err.body.startsWith('{')) {
    try {
      const parsed = JSON.parse(err.body) as { error?: { code?: string; message?: string } };
      message = parsed.error?.message ?? message;
      code = parsed.error?.code ?? code;
    } catch {
      /* keep the client's message */
    }
  }
  return classifyGraphError(status, code, message, retryAfterOf(err?.headers));
}
