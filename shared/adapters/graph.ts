// The Microsoft Graph adapter: the real @microsoft/microsoft-graph-client over HTTPS, authenticated with a
// TokenCredential. It batches reads 20 to a $batch, retries throttled and transient items inside a batch (the
// client's RetryHandler sees only the envelope), keeps writes under the app's own budget, and turns every Graph
// error into the domain's GraphFailure (a 401/403 naming the permission the app lacks).
import type { AccessToken, TokenCredential } from '@azure/identity';
import { Client, RetryHandlerOptions, type GraphRequest } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { Agent } from 'undici';
import type { SubscribedSkuFacts } from '../domain/catalog';
import { classifyGraphError, missingPermissionMessage, type AssignOptions, type DirectoryUser, type GraphFailure, type GraphOperation, type GraphResult, type LicensingDirectory } from '../domain/directory';
import type { AssignedLicence, AssignedPlan, LicenceAddition, LicenceAssignment } from '../domain/holdings';

/** The token scope of the Graph cloud at this base URL: each national cloud has its own (learn.microsoft.com/graph/deployments). */
export function graphScopeFor(baseUrl: string): string {
  return `${new URL(baseUrl).origin}/.default`;
}
const BATCH_SIZE = 20;
// licenseAssignmentStates comes back only when $select-ed (user resource, Graph v1.0); it tells group from direct.
const USER_SELECT = 'id,userPrincipalName,usageLocation,assignedLicenses,assignedPlans,licenseAssignmentStates';

export interface GraphAdapterOptions {
  readonly baseUrl: string;
  readonly credential: TokenCredential;
  /** PEM of an extra CA to trust (a TLS-inspecting proxy, or the local simulator). */
  readonly extraCaPem?: string | undefined;
  /** The app's own write budget per second (Graph allows 3,000 writes per 150 s per app and tenant). */
  readonly writesPerSecond?: number;
  /** How many $batch requests one call keeps in flight. */
  readonly batchConcurrency?: number;
  /** Retries of a throttled or transient request (or $batch item) before it is given up as a transient failure. */
  readonly retries?: number;
  readonly requestTimeoutMs?: number;
  /**
   * Waits before sending assignLicense again when Graph answers "invalid usage location" right after this run set
   * it: replication lag between the PATCH and licensing, reported intermittently (Okta support; Partner-Center-
   * DotNet-Samples issue 131). Default 2, 5, 10 and 20 seconds.
   */
  readonly usageLocationRetryDelaysMs?: readonly number[];
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock the write pacer reads (Date.now by default); a test gives the simulator's, with a matching sleep. */
  readonly now?: () => number;
}

interface BatchItem {
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly url: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

interface BatchItemResponse {
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

/** A token credential for the local Graph simulator, which checks only that a bearer token is present. */
export class SimulatorTokenCredential implements TokenCredential {
  async getToken(): Promise<AccessToken> {
    return { token: 'local-simulator-token', expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

export class GraphLicensingDirectory implements LicensingDirectory {
  private readonly client: Client;
  private readonly pacer: WritePacer;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly batchConcurrency: number;
  private readonly retries: number;
  private readonly usageLocationDelays: readonly number[];

  constructor(options: GraphAdapterOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'https:') throw new Error('Graph base URL must use https: the Graph client sends its bearer token only over https');
    const timeout = options.requestTimeoutMs ?? 30_000;
    const dispatcher = new Agent({ headersTimeout: timeout, bodyTimeout: timeout, connections: 64, ...(options.extraCaPem ? { connect: { ca: options.extraCaPem } } : {}) });
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.pacer = new WritePacer(options.writesPerSecond ?? 18, this.sleep, options.now);
    this.batchConcurrency = options.batchConcurrency ?? 4;
    this.retries = options.retries ?? 6;
    this.usageLocationDelays = options.usageLocationRetryDelaysMs ?? [2_000, 5_000, 10_000, 20_000];
    this.client = Client.initWithMiddleware({
      authProvider: new TokenCredentialAuthenticationProvider(options.credential, { scopes: [graphScopeFor(options.baseUrl)] }),
      baseUrl: `${base.origin}${base.pathname.replace(/\/+$/, '')}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set([base.hostname]),
      fetchOptions: { dispatcher },
    });
  }

  async listSubscribedSkus(): Promise<GraphResult<SubscribedSkuFacts[]>> {
    const r = await this.withRetry('listSubscribedSkus', async () => (await this.api('/subscribedSkus').get()) as { value?: (SubscribedSkuFacts & { appliesTo?: string })[] });
    return r.ok ? { ok: true, value: (r.value.value ?? []).filter((s) => s.appliesTo !== 'Company') } : r;
  }

  async readUsers(idsOrUpns: readonly string[]): Promise<Map<string, GraphResult<DirectoryUser>>> {
    const items = idsOrUpns.map((u, i): BatchItem => ({ id: String(i), method: 'GET', url: `/users/${encodeURIComponent(u)}?$select=${USER_SELECT}` }));
    const responses = await this.runBatches('readUsers', items);
    const out = new Map<string, GraphResult<DirectoryUser>>();
    idsOrUpns.forEach((u, i) => {
      const r = responses.get(String(i))!;
      out.set(u, 'ok' in r ? r : { ok: true, value: directoryUser(r.body, u) });
    });
    return out;
  }

  async setUsageLocation(userId: string, usageLocation: string): Promise<GraphResult<void>> {
    return this.withRetry('setUsageLocation', async () => {
      await this.pacer.acquire();
      await this.api(`/users/${encodeURIComponent(userId)}`).patch({ usageLocation });
    });
  }

  async assignLicenses(userId: string, add: readonly (string | LicenceAddition)[], options: AssignOptions = {}): Promise<GraphResult<void>> {
    // Graph refuses an assignLicense with nothing to add or remove (400 "No license changes provided"): send none.
    if (add.length === 0) return { ok: true, value: undefined };
    const addLicenses = add.map((a) => (typeof a === 'string' ? { skuId: a, disabledPlans: [] } : { skuId: a.skuId, disabledPlans: [...a.disabledPlanIds] }));
    // Graph answers 200 with the user's default properties, which do not include the licences: nothing to read back.
    const body = { addLicenses, removeLicenses: [] };
    const send = () =>
      this.withRetry(
        'assignLicenses',
        async () => {
          await this.pacer.acquire();
          await this.api(`/users/${encodeURIComponent(userId)}/assignLicense`).post(body);
        },
        // Only a 429 is resent here: a throttled request was not processed. After a 5xx or a timeout the write may
        // have landed, so the caller reads the user again before deciding what to send.
        (f) => f.reason === 'throttled',
      );
    let r = await send();
    for (const delay of options.usageLocationJustSet ? this.usageLocationDelays : []) {
      if (r.ok || r.reason !== 'usage_location_missing') break;
      await this.sleep(delay);
      r = await send();
    }
    return r;
  }

  /** A request with the client's own RetryHandler off: this adapter retries itself, with an injectable sleep. */
  private api(path: string): GraphRequest {
    return this.client.api(path).middlewareOptions([new RetryHandlerOptions(0, 0)]);
  }

  private async withRetry<T>(operation: GraphOperation, op: () => Promise<T>, retryable: (f: GraphFailure) => boolean = (f) => f.transient): Promise<GraphResult<T>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { ok: true, value: await op() };
      } catch (e) {
        const failure = namePermission(operation, toFailure(e));
        if (!retryable(failure) || attempt >= this.retries) return failure;
        await this.sleep(backoffMs(attempt, failure.retryAfterSeconds));
      }
    }
  }

  async readTeamsFeatures(userIds: readonly string[]): Promise<Map<string, GraphResult<string[]>>> {
    const low = { 'x-ms-throttle-priority': 'low' };
    const items = userIds.map((u, i): BatchItem => ({ id: String(i), method: 'GET', url: `/admin/teams/userConfigurations/${encodeURIComponent(u)}`, headers: low }));
    const responses = await this.runBatches('readTeamsFeatures', items, low);
    const out = new Map<string, GraphResult<string[]>>();
    userIds.forEach((u, i) => {
      const r = responses.get(String(i))!;
      out.set(u, 'ok' in r ? r : teamsFeatures(r.body));
    });
    return out;
  }

  /** Sends items in $batch requests of 20, a few at a time, and returns a success body or a failure per item id. */
  private async runBatches(operation: GraphOperation, items: readonly BatchItem[], headers: Record<string, string> = {}): Promise<Map<string, BatchItemResponse | GraphFailure>> {
    const out = new Map<string, BatchItemResponse | GraphFailure>();
    const groups: BatchItem[][] = [];
    for (let i = 0; i < items.length; i += BATCH_SIZE) groups.push(items.slice(i, i + BATCH_SIZE));
    let next = 0;
    const worker = async () => {
      while (next < groups.length) {
        const group = groups[next++]!;
        for (const [id, r] of await this.runBatch(group, headers)) out.set(id, 'ok' in r ? namePermission(operation, r) : r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.batchConcurrency, groups.length) }, worker));
    return out;
  }

  private async runBatch(items: readonly BatchItem[], headers: Record<string, string>): Promise<Map<string, BatchItemResponse | GraphFailure>> {
    const out = new Map<string, BatchItemResponse | GraphFailure>();
    let pending = [...items];
    for (let attempt = 0; pending.length > 0; attempt++) {
      let responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[];
      try {
        const res = (await this.api('/$batch').headers(headers).post({ requests: pending })) as { responses?: typeof responses };
        responses = res.responses ?? [];
      } catch (e) {
        const failure = toFailure(e);
        if (failure.transient && attempt < this.retries) {
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
        const failure = r ? itemFailure(r) : classifyGraphError(0, 'MissingResponse', 'the $batch response had no entry for this request');
        if (failure.transient && attempt < this.retries) {
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
  return f.reason === 'forbidden' ? { ...f, message: missingPermissionMessage(operation, f.status, f.message) } : f;
}

interface UserBody {
  id?: string;
  userPrincipalName?: string;
  usageLocation?: string | null;
  assignedLicenses?: { skuId?: string; disabledPlans?: string[] }[];
  assignedPlans?: { servicePlanId?: string; capabilityStatus?: string }[];
  licenseAssignmentStates?: { skuId?: string; assignedByGroup?: string | null; disabledPlans?: string[]; state?: string; error?: string | null }[];
}

function directoryUser(raw: unknown, asked: string): DirectoryUser {
  const b = (raw ?? {}) as UserBody;
  const licences: AssignedLicence[] = (b.assignedLicenses ?? []).filter((l) => typeof l.skuId === 'string').map((l) => ({ skuId: l.skuId!, disabledPlanIds: l.disabledPlans ?? [] }));
  const plans: AssignedPlan[] = (b.assignedPlans ?? []).filter((p) => typeof p.servicePlanId === 'string').map((p) => ({ servicePlanId: p.servicePlanId!, capabilityStatus: p.capabilityStatus ?? 'Enabled' }));
  const assignments: LicenceAssignment[] | undefined = b.licenseAssignmentStates
    ?.filter((a) => typeof a.skuId === 'string')
    .map((a) => ({ skuId: a.skuId!, assignedByGroup: a.assignedByGroup ?? null, disabledPlanIds: a.disabledPlans ?? [], state: a.state ?? 'Active', error: a.error && a.error !== 'None' ? a.error : null }));
  return {
    id: b.id ?? '',
    userPrincipalName: b.userPrincipalName ?? asked,
    usageLocation: b.usageLocation ?? null,
    skuIds: licences.map((l) => l.skuId),
    licences,
    plans,
    ...(assignments ? { assignments } : {}),
  };
}

/**
 * featureTypes of a teamsUserConfiguration. The documented v1.0 response wraps the object in "value"
 * (teamsadministration-teamsuserconfiguration-get.md); the bare entity is read too. Without featureTypes the answer
 * is an error: reading it as "no calling plan" would keep a user waiting until the deadline.
 */
export function teamsFeatures(raw: unknown): GraphResult<string[]> {
  const body = (raw ?? {}) as { value?: unknown; featureTypes?: unknown };
  const entity = (typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : body) as { featureTypes?: unknown };
  if (!Array.isArray(entity.featureTypes)) {
    return classifyGraphError(200, 'UnexpectedResponse', 'the Teams user configuration came back without featureTypes; the calling plan cannot be told from it');
  }
  return { ok: true, value: entity.featureTypes.filter((f): f is string => typeof f === 'string') };
}

function backoffMs(attempt: number, retryAfterSeconds: number | undefined): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  return Math.min(30_000, 500 * 2 ** attempt);
}

function retryAfterOf(headers: Record<string, string> | Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const raw = headers instanceof Headers ? headers.get('retry-after') : (Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after')?.[1] ?? null);
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
  const err = e as { statusCode?: number; code?: string; message?: string; headers?: Headers; body?: unknown; name?: string };
  const status = typeof err?.statusCode === 'number' && err.statusCode > 0 ? err.statusCode : 0;
  let message = typeof err?.message === 'string' ? err.message : String(e);
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
