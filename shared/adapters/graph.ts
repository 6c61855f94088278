// The Microsoft Graph adapter: the real @microsoft/microsoft-graph-client over HTTPS, authenticated with a
// TokenCredential. It batches reads 20 to a $batch, retries throttled and transient items inside a batch (the
// client's RetryHandler sees only the envelope), keeps writes under the app's own budget, and turns every Graph
// error into the domain's GraphFailure (a 401/403 naming the permission the app lacks).
import type { TokenCredential } from '@azure/identity';
import { Client, ResponseType, RetryHandlerOptions, type GraphRequest } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { Agent } from 'undici';
import type { SubscribedSkuFacts } from '../domain/catalog';
import {
  classifyGraphError,
  missingPermissionMessage,
  type AssignOptions,
  type WriteOptions,
  type TeamsListOptions,
  type TeamsSweep,
  type DirectoryUser,
  type GraphFailure,
  type GraphOperation,
  type GraphResult,
  type LicensingDirectory,
  type PhoneNumberDirectory,
} from '../domain/directory';
import type { AssignedLicence, AssignedPlan, LicenceAddition, LicenceAssignment } from '../domain/holdings';
import {
  isFinished,
  userAssignable,
  type HeldNumber,
  type NumberOrder,
  type NumberRequest,
  type NumberType,
  type TeamsNumber,
} from '../domain/phone-numbers';
import { eachAtMost } from './at-once';

/** The token scope of the Graph cloud at this base URL: each national cloud has its own (learn.microsoft.com/graph/deployments). */
export function graphScopeFor(baseUrl: string): string {
  return `${new URL(baseUrl).origin}/.default`;
}
const BATCH_SIZE = 20;
// licenseAssignmentStates comes back only when $select-ed (user resource, Graph v1.0); it tells group from direct.
// userType (Member or Guest) also only when $select-ed: guests are never licensed.
const USER_SELECT =
  'id,userPrincipalName,userType,usageLocation,assignedLicenses,assignedPlans,licenseAssignmentStates';

export interface GraphAdapterOptions {
  readonly baseUrl: string;
  readonly credential: TokenCredential;
  /** PEM of an extra CA to trust (a TLS-inspecting proxy, or the local stack's). */
  readonly extraCaPem?: string | undefined;
  /** The app's own write budget per second (Graph allows 3,000 writes per 150 s per app and tenant). */
  readonly writesPerSecond?: number;
  /** The write budget shared by every instance of the app (graph-budget.ts); without it, this process paces alone. */
  readonly writeBudget?: { acquire(): Promise<void> };
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
  /**
   * Waits between reads of an assignNumber operation, in order; when they run out, assignNumber returns the order
   * unfinished for the caller to read again later. Default 2, 3, 5, 10, 20 and 30 seconds.
   */
  readonly numberOrderPollDelaysMs?: readonly number[];
}

const NUMBERS = '/admin/teams/telephoneNumberManagement';
/** list-numberassignments.md: "maximum 1,000 entries allowed per query". */
const NUMBERS_PAGE = 1000;

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

export class GraphLicensingDirectory implements LicensingDirectory, PhoneNumberDirectory {
  private readonly client: Client;
  private readonly origin: string;
  private readonly pacer: { acquire(): Promise<void> };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: () => number;
  private readonly batchConcurrency: number;
  private readonly retries: number;
  private readonly usageLocationDelays: readonly number[];
  private readonly numberOrderDelays: readonly number[];

  constructor(options: GraphAdapterOptions) {
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
    this.usageLocationDelays = options.usageLocationRetryDelaysMs ?? [2_000, 5_000, 10_000, 20_000];
    this.numberOrderDelays = options.numberOrderPollDelaysMs ?? [2_000, 3_000, 5_000, 10_000, 20_000, 30_000];
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

  async listSubscribedSkus(): Promise<GraphResult<SubscribedSkuFacts[]>> {
    const r = await this.withRetry(
      'listSubscribedSkus',
      async () =>
        (await this.api('/subscribedSkus').get()) as { value?: (SubscribedSkuFacts & { appliesTo?: string })[] },
    );
    return r.ok ? { ok: true, value: (r.value.value ?? []).filter((s) => s.appliesTo !== 'Company') } : r;
  }

  async readUsers(idsOrUpns: readonly string[]): Promise<Map<string, GraphResult<DirectoryUser>>> {
    const items = idsOrUpns.map((u, i): BatchItem => ({
      id: String(i),
      method: 'GET',
      url: `/users/${encodeURIComponent(u)}?$select=${USER_SELECT}`,
    }));
    const responses = await this.runBatches('readUsers', items);
    const out = new Map<string, GraphResult<DirectoryUser>>();
    idsOrUpns.forEach((u, i) => {
      const r = responses.get(String(i))!;
      out.set(u, 'ok' in r ? r : { ok: true, value: directoryUser(r.body, u) });
    });
    return out;
  }

  async setUsageLocation(
    userId: string,
    usageLocation: string,
    options: WriteOptions = {},
  ): Promise<GraphResult<void>> {
    const slot = this.writeSlot(options);
    return this.withRetry('setUsageLocation', async () => {
      await slot();
      await this.api(`/users/${encodeURIComponent(userId)}`).patch({ usageLocation });
    });
  }

  /**
   * Waits for a write's turn: the slot the caller reserved (WriteOptions.slotAt) for the first send, the budget's next
   * slot for every other.
   */
  private writeSlot(options: WriteOptions): () => Promise<void> {
    let reserved = options.slotAt;
    return async () => {
      if (reserved === undefined) return this.pacer.acquire();
      const wait = reserved - this.clock();
      reserved = undefined;
      if (wait > 0) await this.sleep(wait);
    };
  }

  async assignLicenses(
    userId: string,
    add: readonly (string | LicenceAddition)[],
    options: AssignOptions = {},
  ): Promise<GraphResult<void>> {
    // Graph refuses an assignLicense with nothing to add or remove (400 "No license changes provided"): send none.
    if (add.length === 0) return { ok: true, value: undefined };
    const addLicenses = add.map((a) =>
      typeof a === 'string'
        ? { skuId: a, disabledPlans: [] }
        : { skuId: a.skuId, disabledPlans: [...a.disabledPlanIds] },
    );
    // Graph answers 200 with the user's default properties, which do not include the licences: nothing to read back.
    const body = { addLicenses, removeLicenses: [] };
    const slot = this.writeSlot(options);
    const send = () =>
      this.withRetry(
        'assignLicenses',
        async () => {
          await slot();
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

  private async withRetry<T>(
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

  async readTeamsFeatures(userIds: readonly string[]): Promise<Map<string, GraphResult<string[]>>> {
    const low = { 'x-ms-throttle-priority': 'low' };
    const items = userIds.map((u, i): BatchItem => ({
      id: String(i),
      method: 'GET',
      url: `/admin/teams/userConfigurations/${encodeURIComponent(u)}`,
      headers: low,
    }));
    const responses = await this.runBatches('readTeamsFeatures', items, low);
    const out = new Map<string, GraphResult<string[]>>();
    userIds.forEach((u, i) => {
      const r = responses.get(String(i))!;
      out.set(u, 'ok' in r ? r : teamsFeatures(r.body));
    });
    return out;
  }

  /**
   * One sweep of the list form of the Teams user configurations (teamsadministration-teamsadminroot-list-
   * userconfigurations.md): id and featureTypes only ($select), `top` to a page, following @odata.nextLink, and only
   * the configurations modified since `since` when given (a $filter on modifiedDateTime). Each page is one request;
   * `beforePage(k)` is awaited before page k is sent (the read budget's pacing). Stops after `maxPages` pages with
   * `complete: false`. A page Graph refuses ends the sweep with its failure (a 400: the query is not accepted).
   */
  async listTeamsFeatures(options: TeamsListOptions): Promise<GraphResult<TeamsSweep>> {
    const low = { 'x-ms-throttle-priority': 'low' };
    const query = [
      `$select=id,featureTypes`,
      `$top=${options.top}`,
      ...(options.since !== undefined
        ? [`$filter=${encodeURIComponent(`modifiedDateTime ge ${new Date(options.since).toISOString()}`)}`]
        : []),
    ];
    let next: string | undefined = `/admin/teams/userConfigurations?${query.join('&')}`;
    const features = new Map<string, string[]>();
    let pages = 0;
    while (next !== undefined) {
      if (pages >= options.maxPages) return { ok: true, value: { features, pages, complete: false } };
      await options.beforePage?.(pages);
      const path: string = next;
      const r = await this.withRetry(
        'listTeamsFeatures',
        async () => (await this.api(path).headers(low).get()) as unknown,
      );
      pages++;
      if (!r.ok) return r;
      const body = (r.value ?? {}) as { value?: unknown; '@odata.nextLink'?: unknown };
      if (!Array.isArray(body.value))
        return classifyGraphError(
          200,
          'UnexpectedResponse',
          'the userConfigurations list came back without a "value" array',
        );
      for (const entry of body.value as unknown[]) {
        const o = (typeof entry === 'object' && entry !== null ? entry : {}) as {
          id?: unknown;
          featureTypes?: unknown;
        };
        if (typeof o.id !== 'string') continue;
        // An entry without featureTypes cannot say the calling plan is missing: the user is left to a per-user read.
        if (Array.isArray(o.featureTypes))
          features.set(
            o.id,
            o.featureTypes.filter((f): f is string => typeof f === 'string'),
          );
      }
      const link = body['@odata.nextLink'];
      if (link === undefined || link === null) next = undefined;
      else if (typeof link === 'string' && new URL(link).origin === this.origin) next = link;
      // The token goes only to this adapter's own Graph: a next link elsewhere ends the sweep unfinished.
      else return { ok: true, value: { features, pages, complete: false } };
    }
    return { ok: true, value: { features, pages, complete: true } };
  }

  async listFreeNumbers(
    numberType: NumberType,
    isoCountryCode: string,
    limit: number,
  ): Promise<GraphResult<TeamsNumber[]>> {
    // Only numbers a user may have: the list page's example for user numbers filters on capabilities
    // (`capabilities/any(c:c eq 'userAssignment')`), and an activation or update still pending or failed is not ready.
    const filter = `assignmentStatus eq 'unassigned' and numberType eq '${numberType}' and isoCountryCode eq '${odataString(isoCountryCode)}' and activationState eq 'activated' and capabilities/any(c:c eq 'userAssignment')`;
    const out: TeamsNumber[] = [];
    // Paged with $skip, the only paging the docs describe; a short page is the last one.
    for (let skip = 0; out.length < limit; skip += NUMBERS_PAGE) {
      const page = await this.numbersPage(filter, NUMBERS_PAGE, skip);
      if (!page.ok) return page;
      out.push(...page.value.filter((n) => n.assignmentStatus === 'unassigned' && userAssignable(n)));
      if (page.value.length < NUMBERS_PAGE) break;
    }
    return { ok: true, value: out.slice(0, limit) };
  }

  async findNumber(telephoneNumber: string): Promise<GraphResult<TeamsNumber | null>> {
    const page = await this.numbersPage(`telephoneNumber eq '${odataString(telephoneNumber)}'`, 1, 0);
    return page.ok ? { ok: true, value: page.value.find((n) => n.telephoneNumber === telephoneNumber) ?? null } : page;
  }

  private async numbersPage(filter: string, top: number, skip: number): Promise<GraphResult<TeamsNumber[]>> {
    // Encoded here: the client passes query values through as given, and a '+' of a number would arrive as a space.
    const path = `${NUMBERS}/numberAssignments?$filter=${encodeURIComponent(filter)}&$top=${top}&$skip=${skip}`;
    const r = await this.withRetry('listNumbers', async () => this.api(path).get() as Promise<unknown>);
    if (!r.ok) return r;
    const numbers = numberAssignments(r.value);
    return numbers
      ? { ok: true, value: numbers }
      : classifyGraphError(
          200,
          'UnexpectedResponse',
          'the numberAssignments list came back without a "value" holding numbers',
        );
  }

  async startNumberAssignment(request: NumberRequest): Promise<GraphResult<NumberOrder>> {
    const body = {
      telephoneNumber: request.telephoneNumber,
      assignmentTargetId: request.userId,
      numberType: request.numberType,
      assignmentCategory: 'primary',
      ...(request.locationId ? { locationId: request.locationId } : {}),
    };
    // Only a 429 is resent: after a 5xx or a timeout the order may have been taken, and a second order for the same
    // number and user would fail as "already assigned"; the caller reads the number back instead.
    const r = await this.withRetry(
      'assignNumber',
      async () => {
        const res = (await this.api(`${NUMBERS}/numberAssignments/assignNumber`)
          .responseType(ResponseType.RAW)
          .post(body)) as Response;
        if (!res.ok) throw new RawResponseFailure(await rawFailure(res));
        await res.body?.cancel();
        return res.headers.get('location');
      },
      (f) => f.reason === 'throttled',
    );
    if (!r.ok) return r;
    const operationId = r.value ? operationIdOf(r.value) : undefined;
    if (!operationId)
      return classifyGraphError(
        202,
        'UnexpectedResponse',
        `assignNumber was accepted without a Location naming its operation (Location: ${String(r.value).slice(0, 200)})`,
      );
    return { ok: true, value: { operationId, status: 'notStarted', detail: null } };
  }

  async readNumberOrder(operationId: string): Promise<GraphResult<NumberOrder>> {
    // Read from this adapter's own Graph base, by id, rather than following the Location to whatever host it names.
    const r = await this.withRetry(
      'readNumberOrder',
      async () => this.api(`${NUMBERS}/operations/${encodeURIComponent(operationId)}`).get() as Promise<unknown>,
    );
    if (!r.ok) return r;
    const order = numberOrder(r.value, operationId);
    return order
      ? { ok: true, value: order }
      : classifyGraphError(200, 'UnexpectedResponse', 'the number assignment operation came back without a status');
  }

  async assignNumber(request: NumberRequest): Promise<GraphResult<NumberOrder>> {
    const started = await this.startNumberAssignment(request);
    if (!started.ok) return started;
    let order = started.value;
    for (const delay of this.numberOrderDelays) {
      await this.sleep(delay);
      const read = await this.readNumberOrder(order.operationId);
      if (!read.ok) return read;
      order = read.value;
      if (isFinished(order)) break;
    }
    return { ok: true, value: order };
  }

  async setEmergencyLocation(telephoneNumber: string, locationId: string): Promise<GraphResult<void>> {
    return this.withRetry('updateNumber', async () => {
      await this.api(`${NUMBERS}/numberAssignments/updateNumber`).post({ telephoneNumber, locationId });
    });
  }

  async readHeldNumbers(userIds: readonly string[]): Promise<Map<string, GraphResult<HeldNumber[]>>> {
    const items = userIds.map((u, i): BatchItem => ({
      id: String(i),
      method: 'GET',
      url: `/admin/teams/userConfigurations/${encodeURIComponent(u)}`,
    }));
    const responses = await this.runBatches('readTeamsFeatures', items);
    const out = new Map<string, GraphResult<HeldNumber[]>>();
    userIds.forEach((u, i) => {
      const r = responses.get(String(i))!;
      out.set(u, 'ok' in r ? r : heldNumbers(r.body));
    });
    return out;
  }

  /** Sends items in $batch requests of 20, a few at a time, and returns a success body or a failure per item id. */
  private async runBatches(
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

interface UserBody {
  id?: string;
  userPrincipalName?: string;
  userType?: string | null;
  usageLocation?: string | null;
  assignedLicenses?: { skuId?: string; disabledPlans?: string[] }[];
  assignedPlans?: { servicePlanId?: string; capabilityStatus?: string }[];
  licenseAssignmentStates?: {
    skuId?: string;
    assignedByGroup?: string | null;
    disabledPlans?: string[];
    state?: string;
    error?: string | null;
  }[];
}

function directoryUser(raw: unknown, asked: string): DirectoryUser {
  const b = (raw ?? {}) as UserBody;
  const licences: AssignedLicence[] = (b.assignedLicenses ?? [])
    .filter((l) => typeof l.skuId === 'string')
    .map((l) => ({ skuId: l.skuId!, disabledPlanIds: l.disabledPlans ?? [] }));
  const plans: AssignedPlan[] = (b.assignedPlans ?? [])
    .filter((p) => typeof p.servicePlanId === 'string')
    .map((p) => ({ servicePlanId: p.servicePlanId!, capabilityStatus: p.capabilityStatus ?? 'Enabled' }));
  const assignments: LicenceAssignment[] | undefined = b.licenseAssignmentStates
    ?.filter((a) => typeof a.skuId === 'string')
    .map((a) => ({
      skuId: a.skuId!,
      assignedByGroup: a.assignedByGroup ?? null,
      disabledPlanIds: a.disabledPlans ?? [],
      state: a.state ?? 'Active',
      error: a.error && a.error !== 'None' ? a.error : null,
    }));
  return {
    id: b.id ?? '',
    userPrincipalName: b.userPrincipalName ?? asked,
    usageLocation: b.usageLocation ?? null,
    ...(typeof b.userType === 'string' ? { userType: b.userType } : {}),
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
  const entity = (
    typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : body
  ) as { featureTypes?: unknown };
  if (!Array.isArray(entity.featureTypes)) {
    return classifyGraphError(
      200,
      'UnexpectedResponse',
      'the Teams user configuration came back without featureTypes; the calling plan cannot be told from it',
    );
  }
  return { ok: true, value: entity.featureTypes.filter((f): f is string => typeof f === 'string') };
}

/** A string inside an OData single-quoted literal: quotes doubled (OData ABNF), so a value cannot end the literal. */
function odataString(s: string): string {
  return s.replace(/'/g, "''");
}

/** The operation id from assignNumber's Location: `…/operations('{id}')` as documented, or `…/operations/{id}`. */
export function operationIdOf(location: string): string | undefined {
  const m = /\/operations(?:\('([^'\/]+)'\)|\/([^/?#'()]+))(?:[?#].*)?$/.exec(location);
  return m?.[1] ?? m?.[2];
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * The numbers of a numberAssignments response. OData collections hold an array in "value"; the documented examples
 * repeat "value" as an object (malformed: JSON.parse keeps the last), so a single object there is read as one
 * number. Entries without a telephoneNumber are skipped. Undefined when there is no "value" at all.
 */
export function numberAssignments(raw: unknown): TeamsNumber[] | undefined {
  const value = (raw as { value?: unknown } | null)?.value;
  const entries = Array.isArray(value)
    ? (value as unknown[])
    : typeof value === 'object' && value !== null
      ? [value]
      : undefined;
  if (!entries) return undefined;
  return entries.flatMap((e): TeamsNumber[] => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const number = text(o['telephoneNumber']);
    if (!number) return [];
    return [
      {
        // "always displayed with a '+' prefix" (numberassignment.md); the docs' own examples are not always E.164.
        telephoneNumber: number.startsWith('+') ? number : `+${number}`,
        numberType: text(o['numberType']) ?? '',
        isoCountryCode: text(o['isoCountryCode'])?.toUpperCase() ?? null,
        assignmentStatus: text(o['assignmentStatus']) ?? '',
        assignmentTargetId: text(o['assignmentTargetId']),
        activationState: text(o['activationState']),
        locationId: text(o['locationId']),
        capabilities: Array.isArray(o['capabilities'])
          ? (o['capabilities'] as unknown[]).filter((c): c is string => typeof c === 'string')
          : [],
      },
    ];
  });
}

const ORDER_STATUSES = new Set(['notStarted', 'running', 'succeeded', 'failed', 'skipped']);

/**
 * An assignNumber operation: the documented response wraps it in "value" (telephonenumberlongrunningoperation-get.md);
 * the bare entity is read too. The number's own status and statusDetail say why it failed.
 */
export function numberOrder(raw: unknown, operationId: string): NumberOrder | undefined {
  const body = (raw ?? {}) as { value?: unknown };
  const entity = (
    typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : body
  ) as Record<string, unknown>;
  const status = text(entity['status']);
  if (!status) return undefined;
  const numbers = Array.isArray(entity['numbers']) ? (entity['numbers'] as unknown[]) : [];
  const details = numbers
    .map((n) => text((n as Record<string, unknown> | null)?.['statusDetail'] ?? null))
    .filter((d): d is string => d !== null && d !== '');
  return {
    operationId,
    status: ORDER_STATUSES.has(status) ? (status as NumberOrder['status']) : 'unknown',
    detail: details.length > 0 ? details.join('; ').slice(0, 1000) : null,
  };
}

/** telephoneNumbers of a teamsUserConfiguration (wrapped in "value" as documented, or bare). */
export function heldNumbers(raw: unknown): GraphResult<HeldNumber[]> {
  const body = (raw ?? {}) as { value?: unknown };
  const entity = (
    typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : body
  ) as Record<string, unknown>;
  const list = entity['telephoneNumbers'];
  if (!Array.isArray(list))
    return classifyGraphError(
      200,
      'UnexpectedResponse',
      'the Teams user configuration came back without telephoneNumbers; the assignment cannot be confirmed from it',
    );
  return {
    ok: true,
    value: list.flatMap((n): HeldNumber[] => {
      const o = (typeof n === 'object' && n !== null ? n : {}) as Record<string, unknown>;
      const number = text(o['telephoneNumber']);
      return number
        ? [
            {
              telephoneNumber: number.startsWith('+') ? number : `+${number}`,
              assignmentCategory: text(o['assignmentCategory']) ?? 'primary',
            },
          ]
        : [];
    }),
  };
}

/** A failure read from a raw response (ResponseType.RAW does not throw), thrown through withRetry. */
class RawResponseFailure extends Error {
  constructor(readonly failure: GraphFailure) {
    super(failure.message);
  }
}

/** A non-2xx raw response as the domain's failure, reading Graph's error body when there is one. */
async function rawFailure(res: Response): Promise<GraphFailure> {
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
