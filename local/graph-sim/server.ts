// A Microsoft Graph tenant simulator on 127.0.0.1 over HTTPS (the real Graph client sends its bearer token only over
// https). It speaks Graph's wire format for the endpoints dialtone uses, throttles as Graph documents, injects faults
// on request, and records what it did so tests and benchmarks can check the app's behaviour from the outside.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';
import { RealClock, type Clock, type ClockState } from '../clock';
import { seededRandom } from '../random';
import { SimAuthority, type TokenClaims } from './authority';
import { NumberRequestError } from './numbers';
import { defaultGrant, ENDPOINT_PERMISSIONS, refusal, type PermissionKind } from './permissions';
import { LicensingError, SimTenant, type SimUser, type TenantFile } from './tenant';

export interface FaultOptions {
  /** Share of Graph requests (and $batch items) answered 503 or 504. */
  errorRate?: number;
  /** Share of top-level requests whose connection is reset. */
  resetRate?: number;
  /** Latency added to every top-level request, milliseconds [min, max]. */
  latencyMs?: readonly [number, number];
  /**
   * Apply the latency by moving the simulator's clock forward instead of waiting. Only meaningful for a client that
   * sends one request at a time (the seed's sequential loop): its elapsed simulated time is then the sum of latencies.
   */
  latencyAdvancesClock?: boolean;
  /** Until this time (clock ms), every throttle-able request gets 429 (a storm). */
  throttleStormUntil?: number;
  /** Share of assignLicense requests that are applied but answered 504 (the response lost on the way back). */
  lostWriteResponseRate?: number;
  /** For this long after a PATCH sets a usage location, assignLicense still answers "invalid usage location". */
  usageLocationLagMs?: number;
  /**
   * Hold the Nth assignLicense request (1-based): the tenant applies it, but the response waits until the caller's
   * connection closes or `releaseHeldWrite()` is called. A test kills the host while `heldWrite` is pending, so the
   * crash lands inside a write whose effect Graph kept but whose answer the app never saw (the case Durable's
   * at-least-once activities must survive; Graph documents no idempotency key for assignLicense:
   * https://learn.microsoft.com/graph/api/user-assignlicense).
   */
  holdAssignLicense?: number;
  /**
   * Answer the first N assignLicense requests for these users (by user principal name) 503, without applying them: a
   * test knows exactly how often each row's write fails and can count the durable retries it takes.
   */
  failAssignLicenseFor?: Readonly<Record<string, number>>;
  /**
   * Query options of the Teams user configurations' list answered 400 although its page documents them, as Graph
   * answers an option it does not take for a resource (the page does not say which properties $filter or $select
   * take, nor how large a $top may be, so a deployment may meet this).
   */
  teamsListRefuses?: readonly ('$filter' | '$select' | '$top')[];
}

export interface SimulatorOptions {
  tenant: TenantFile;
  clock?: Clock;
  port?: number;
  /** Graph's throttling on (default) or off. */
  throttling?: boolean;
  faults?: FaultOptions;
  /** Seed for the fault and latency generator, so a run can be repeated. */
  seed?: number;
  /**
   * The application permissions granted to the tenant's first app (authority.ts): unset, exactly those of
   * infra/graph-permissions.json for `appSettings` (permissions.ts, defaultGrant). Graph reads them from the token.
   */
  permissions?: readonly string[];
  /** The app settings in force (DIALTONE_SET_USAGE_LOCATION, DIALTONE_PHONE_NUMBERS, DIALTONE_PROFILES), for the default grant. */
  appSettings?: Readonly<Record<string, string | undefined>>;
  /** Teams reads whose detail the record keeps (TEAMS_READS_KEPT by default); past them, only counts. */
  teamsReadsKept?: number;
  /**
   * Called with each routed Graph answer, top-level or a $batch item, before it is sent: what a test checks the
   * simulator's bodies, and the requests' bodies, against (test/integration/graph-schema.test.ts holds them to Graph's CSDL).
   */
  onAnswer?: (answer: {
    readonly kind: RequestKind;
    readonly url: string;
    readonly status: number;
    readonly body: unknown;
    /** The request's own body, parsed (undefined without one): the test holds action bodies to their parameters. */
    readonly request: unknown;
  }) => void;
}

export type RequestKind =
  | 'subscribedSkus'
  | 'getUser'
  | 'patchUser'
  | 'assignLicense'
  | 'teamsUserConfiguration'
  | 'teamsUserConfigurationList'
  | 'listNumbers'
  | 'assignNumber'
  | 'unassignNumber'
  | 'updateNumber'
  | 'numberOperation'
  | 'batch'
  | 'other';

/** The Teams administration calls: Graph's Teams service limit, not the identity one, applies to them. */
const TEAMS_KINDS: ReadonlySet<RequestKind> = new Set([
  'teamsUserConfiguration',
  'teamsUserConfigurationList',
  'listNumbers',
  'assignNumber',
  'unassignNumber',
  'updateNumber',
  'numberOperation',
]);

export interface SimRecord {
  requests: number;
  /** Every assignLicense request that reached the tenant, per user (object id), whether or not it changed anything. */
  assignLicenseRequests: Map<string, number>;
  byKind: Record<RequestKind, number>;
  /** Requests per user (object id), by kind. */
  byUser: Map<string, Partial<Record<RequestKind, number>>>;
  /** Writes that changed the tenant. */
  stateChangingWrites: {
    kind: 'assignLicense' | 'patchUser' | 'assignNumber' | 'unassignNumber';
    userId: string;
    at: number;
  }[];
  throttled: number;
  /** The 429s above, by kind of request: Graph's write limit and its Teams read limit are counted apart. */
  throttledByKind: Partial<Record<RequestKind, number>>;
  /** Requests refused 403 for want of a permission (or, delegated, a directory role), by kind. */
  forbiddenByKind: Partial<Record<RequestKind, number>>;
  faults: number;
  resets: number;
  /** First time each user's Teams configuration showed CallingPlan to a caller. */
  callingPlanSeenAt: Map<string, number>;
  /**
   * Each Teams user-configuration read, up to the first TEAMS_READS_KEPT (byKind.teamsUserConfiguration and
   * byKind.teamsUserConfigurationList count them all): the `x-ms-throttle-priority` it carried (concepts/throttling.md,
   * "Request priority": low, normal or high; null when absent), whether it came as an item of a $batch, and when it
   * arrived (clock ms, throttled ones included): the app's Teams read rate. A page of the list form counts as one read
   * (`list`: true), whatever the number of users it answers for.
   */
  teamsReads: { priority: string | null; inBatch: boolean; at: number; list?: true }[];
  /**
   * Teams user-configuration reads (per user and list pages) per simulated second (the clock's ms / 1000, floored):
   * the read rate of a run of any size, in memory bounded by its length rather than by its number of requests.
   */
  teamsReadsBySecond: Map<number, number>;
  /** Requests for the Teams list answered 400 for their query (an option or a filter it does not take). */
  teamsListRefused: number;
  /** Every skuId any assignLicense asked to remove, in the order asked (whether or not Graph then refused it). */
  removeLicensesSent: string[];
}

/**
 * Teams reads whose detail (priority, $batch or not, time) is kept, one entry each; past it only the counts grow, so
 * the record of a 50,000-row run stays small (bench/README.md).
 */
export const TEAMS_READS_KEPT = 100_000;

interface SubRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
  /** An item of a $batch (json-batching.md: each item carries its own headers). */
  inBatch?: boolean;
  /** When the HTTP request that carried it reached the simulator (clock ms), before its simulated latency. */
  arrivedAt?: number;
  /** The validated token of the HTTP request that carried it ($batch items are authorised with the envelope's). */
  claims?: TokenClaims;
}

interface SubResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const WRITE_LIMIT = 3000;
const WRITE_WINDOW_MS = 150_000;
const READ_WINDOW_MS = 10_000;
/** Graph's Teams service limit, concepts/throttling-limits.md: "Other GET API calls for Microsoft Teams", 30 rps per app per tenant. */
const TEAMS_GET_LIMIT = 30;
/** The same page: "Other API calls for Microsoft Teams", 30 rps per app per tenant (assignNumber, unassignNumber, updateNumber). */
const TEAMS_OTHER_LIMIT = 30;
const TEAMS_WINDOW_MS = 1_000;
/** The list's documented query options (teamsadministration-teamsadminroot-list-userconfigurations.md), and the simulator's own $skiptoken. */
const TEAMS_LIST_OPTIONS: ReadonlySet<string> = new Set([
  '$select',
  '$filter',
  '$top',
  '$expand',
  '$orderby',
  '$skiptoken',
]);
/** The teamsUserConfiguration resource's properties (teamsadministration-teamsuserconfiguration.md, v1.0). */
const TEAMS_CONFIGURATION_PROPERTIES: ReadonlySet<string> = new Set([
  'accountType',
  'createdDateTime',
  'effectivePolicyAssignments',
  'featureTypes',
  'id',
  'isEnterpriseVoiceEnabled',
  'modifiedDateTime',
  'telephoneNumbers',
  'tenantId',
  'userPrincipalName',
]);
const TEAMS_LIST_DEFAULT_PAGE = 100;
const TEAMS_LIST_MAX_PAGE = 999;

/**
 * Graph's answers when the app lacks a permission: the directory's (Microsoft identity platform docs, web API
 * troubleshooting) and the Teams administration API's (a public test log of /admin/teams/userConfigurations).
 */
const DIRECTORY_FORBIDDEN = () =>
  graphError('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
const TEAMS_FORBIDDEN = () =>
  graphError(
    'Forbidden',
    'Insufficient permission(s) for the request. API requires any of the following permission(s): TeamsUserConfiguration.Read.All.',
  );
/** As a public log of a telephoneNumberManagement call answered it (code "forbidden", permissions comma-joined). */
const NUMBERS_FORBIDDEN = (kind: RequestKind) =>
  graphError(
    'forbidden',
    `Insufficient permission(s) for the request. API requires any of the following permission(s): ${kind === 'listNumbers' || kind === 'numberOperation' ? 'TeamsTelephoneNumber.ReadWrite.All,TeamsTelephoneNumber.Read.All' : 'TeamsTelephoneNumber.ReadWrite.All'}.`,
  );

export class GraphSimulator {
  readonly tenant: SimTenant;
  readonly clock: Clock;
  readonly record: SimRecord;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly writes: number[] = [];
  private readonly reads: { at: number; units: number }[] = [];
  private readonly teamsReads: number[] = [];
  private readonly teamsWrites: number[] = [];
  private rng: () => number;
  private assignLicenseSeen = 0;
  /** assignLicense requests failed so far per user id (FaultOptions.failAssignLicenseFor). */
  private readonly assignLicenseFailed = new Map<string, number>();
  private release: (() => void) | undefined;
  private heldSignal: (userId: string) => void = () => {};
  /** Resolves with the user's object id once the held assignLicense (FaultOptions.holdAssignLicense) has arrived. */
  readonly heldWrite: Promise<string>;
  throttling: boolean;
  faults: FaultOptions;
  /** The tenant's Entra ID on this same port: the authority that issues the tokens Graph checks here. */
  readonly authority: SimAuthority;
  /** How far this Graph's clock runs ahead of the authority's when it checks a token's expiry (a clock-skew fault). */
  tokenClockAheadMs = 0;
  private readonly initialGrant: readonly string[];
  url = '';
  caPem = '';

  constructor(private readonly options: SimulatorOptions) {
    this.clock = options.clock ?? new RealClock();
    this.tenant = new SimTenant(options.tenant, this.clock.now(), () => this.clock.now());
    this.throttling = options.throttling ?? true;
    this.faults = options.faults ?? {};
    this.initialGrant = options.permissions ?? defaultGrant(options.appSettings);
    this.authority = new SimAuthority(this.tenant.tenantId, options.tenant.identity, this.initialGrant);
    this.rng = seededRandom(options.seed ?? 1);
    this.heldWrite = new Promise((resolve) => (this.heldSignal = resolve));
    this.record = {
      requests: 0,
      assignLicenseRequests: new Map(),
      byKind: {
        subscribedSkus: 0,
        getUser: 0,
        patchUser: 0,
        assignLicense: 0,
        teamsUserConfiguration: 0,
        teamsUserConfigurationList: 0,
        listNumbers: 0,
        assignNumber: 0,
        unassignNumber: 0,
        updateNumber: 0,
        numberOperation: 0,
        batch: 0,
        other: 0,
      },
      byUser: new Map(),
      stateChangingWrites: [],
      throttled: 0,
      throttledByKind: {},
      forbiddenByKind: {},
      faults: 0,
      resets: 0,
      callingPlanSeenAt: new Map(),
      teamsReads: [],
      teamsReadsBySecond: new Map(),
      teamsListRefused: 0,
      removeLicensesSent: [],
    };
  }

  async start(): Promise<this> {
    const pems = await generate([{ name: 'commonName', value: 'dialtone-graph-sim' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    this.caPem = pems.cert;
    const server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, graphError('InternalServerError', e instanceof Error ? e.message : 'internal error'));
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.authority.url = this.url;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sim');
    const body = await readBody(req);
    if (url.pathname.startsWith('/_sim/')) return this.control(req.method ?? 'GET', url, body, res);
    if (SimAuthority.handles(url.pathname)) {
      const a = this.authority.handle(req.method ?? 'GET', url.pathname, body);
      return sendJson(res, a.status, a.body, a.headers);
    }

    this.record.requests++;
    const arrivedAt = this.clock.now();
    const auth = req.headers['authorization'];
    if (typeof auth !== 'string' || !/^Bearer\s+\S+/.test(auth)) {
      return sendJson(res, 401, graphError('InvalidAuthenticationToken', 'Access token is empty.'));
    }
    // Graph validates the token before anything else: signature, audience, lifetime (401 InvalidAuthenticationToken).
    const token = this.authority.check(auth.replace(/^Bearer\s+/, '').trim(), this.tokenClockAheadMs);
    if (!token.ok) return sendJson(res, 401, graphError('InvalidAuthenticationToken', token.message));
    const claims = token.claims;
    const [lo, hi] = this.faults.latencyMs ?? [0, 0];
    if (hi > 0) {
      const latency = lo + this.rng() * (hi - lo);
      const clock = this.clock as { skipTo?: (t: number) => void };
      if (this.faults.latencyAdvancesClock && clock.skipTo) clock.skipTo(this.clock.now() + latency);
      // Simulated milliseconds, at the shared clock's rate (local/clock.ts): the latency passes R times faster at rate R.
      else await (this.clock.sleep ? this.clock.sleep(latency) : sleep(latency));
    }
    if ((this.faults.resetRate ?? 0) > 0 && this.rng() < (this.faults.resetRate ?? 0)) {
      this.record.resets++;
      req.socket.destroy();
      return;
    }
    if (!url.pathname.startsWith('/v1.0/')) return sendJson(res, 400, graphError('BadRequest', 'Invalid version.'));
    const path = url.pathname.slice('/v1.0'.length);
    if (path === '/$batch' && req.method === 'POST') {
      this.record.byKind.batch++;
      return this.batch(body, res, arrivedAt, claims);
    }
    let parsed: unknown;
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(
          res,
          400,
          graphError(
            'BadRequest',
            'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
          ),
        );
      }
    }
    const r = this.dispatch({
      id: '0',
      method: req.method ?? 'GET',
      url: path + url.search,
      body: parsed,
      headers: headersOf(req),
      arrivedAt,
      claims,
    });
    if (
      routeKind(req.method ?? 'GET', path) === 'assignLicense' &&
      r.status < 300 &&
      ++this.assignLicenseSeen === this.faults.holdAssignLicense
    ) {
      await new Promise<void>((resolve) => {
        this.release = resolve;
        res.once('close', () => resolve());
        this.heldSignal(decodeURIComponent(path.split('/')[2] ?? ''));
      });
      this.release = undefined;
      if (res.destroyed || res.writableEnded) return;
    }
    sendJson(res, r.status, r.body, r.headers);
  }

  /**
   * The application permissions of the tenant's first app. Setting them changes the grant for tokens issued from now
   * on (a token keeps the roles it was issued with until it expires, as Graph's do); undefined restores the first grant.
   */
  get permissions(): readonly string[] {
    return this.authority.defaultApp.roles;
  }

  set permissions(roles: readonly string[] | undefined) {
    this.authority.defaultApp.roles = [...(roles ?? this.initialGrant)];
  }

  /** Sends the held assignLicense's response, if its caller is still there. */
  releaseHeldWrite(): void {
    this.release?.();
  }

  /** One Graph request, top-level or inside a $batch: fault and throttle checks, then the route. */
  private dispatch(sub: SubRequest): SubResponse {
    const now = this.clock.now();
    const rel = new URL(sub.url.startsWith('/') ? sub.url : `/${sub.url}`, 'https://sim');
    const method = sub.method.toUpperCase();
    const kind = routeKind(method, rel.pathname);
    this.record.byKind[kind]++;
    // Stamped when the request reached the simulator, before its simulated latency: the rate at which the app sends,
    // not the spread of the latency the simulator draws (up to 250 ms either way between two requests).
    if (kind === 'teamsUserConfiguration' || kind === 'teamsUserConfigurationList') {
      const at = sub.arrivedAt ?? now;
      const second = Math.floor(at / 1000);
      this.record.teamsReadsBySecond.set(second, (this.record.teamsReadsBySecond.get(second) ?? 0) + 1);
      if (this.record.teamsReads.length < (this.options.teamsReadsKept ?? TEAMS_READS_KEPT))
        this.record.teamsReads.push({
          priority: sub.headers?.['x-ms-throttle-priority'] ?? null,
          inBatch: sub.inBatch === true,
          at,
          ...(kind === 'teamsUserConfigurationList' ? { list: true as const } : {}),
        });
    }
    if ((this.faults.errorRate ?? 0) > 0 && this.rng() < (this.faults.errorRate ?? 0)) {
      this.record.faults++;
      return unavailable(this.rng() < 0.5 ? 503 : 504);
    }
    if (kind === 'assignLicense' && this.faults.failAssignLicenseFor) {
      const user = this.tenant.findUser(decodeURIComponent(rel.pathname.split('/')[2] ?? ''));
      const times = user
        ? (Object.entries(this.faults.failAssignLicenseFor).find(
            ([upn]) => upn.toLowerCase() === user.userPrincipalName.toLowerCase(),
          )?.[1] ?? 0)
        : 0;
      if (user && (this.assignLicenseFailed.get(user.id) ?? 0) < times) {
        this.assignLicenseFailed.set(user.id, (this.assignLicenseFailed.get(user.id) ?? 0) + 1);
        this.record.faults++;
        return unavailable(503);
      }
    }
    let refused =
      kind in ENDPOINT_PERMISSIONS
        ? sub.claims
          ? refusal(kind as PermissionKind, sub.claims, (c) => this.authority.rolesOf(c))
          : { why: 'permission' }
        : undefined;
    if (refused && sub.claims?.idtyp === 'app' && (kind === 'assignLicense' || kind === 'patchUser')) {
      // Without a tenant-wide write permission, the app's License Administrator role at the administrative unit's
      // scope (the tenant file's administrativeUnit) covers writes to the unit's members, and only theirs.
      const target = this.tenant.findUser(decodeURIComponent(rel.pathname.split('/')[2] ?? ''));
      if (target && this.tenant.inUnitRoleScope(target)) refused = undefined;
    }
    if (refused) {
      this.record.forbiddenByKind[kind] = (this.record.forbiddenByKind[kind] ?? 0) + 1;
      return {
        status: 403,
        headers: {},
        body:
          kind === 'teamsUserConfiguration' || kind === 'teamsUserConfigurationList'
            ? TEAMS_FORBIDDEN()
            : TEAMS_KINDS.has(kind)
              ? NUMBERS_FORBIDDEN(kind)
              : DIRECTORY_FORBIDDEN(),
      };
    }
    const throttled = this.throttle(method, kind, now);
    if (throttled !== undefined) {
      this.record.throttled++;
      this.record.throttledByKind[kind] = (this.record.throttledByKind[kind] ?? 0) + 1;
      // The generic 429 body of Graph's throttling guidance (an earlier version of concepts/throttling.md).
      return {
        status: 429,
        headers: { 'Retry-After': String(throttled) },
        body: graphError('TooManyRequests', 'Please retry again later.'),
      };
    }
    this.tenant.usageLocationLagMs = this.faults.usageLocationLagMs ?? 0;
    this.tenant.settleNumberOrders(now);
    try {
      const r = this.route(rel, sub.body, kind, now);
      this.options.onAnswer?.({ kind, url: sub.url, status: r.status, body: r.body, request: sub.body });
      if (
        kind === 'assignLicense' &&
        r.status < 300 &&
        (this.faults.lostWriteResponseRate ?? 0) > 0 &&
        this.rng() < (this.faults.lostWriteResponseRate ?? 0)
      ) {
        this.record.faults++;
        return unavailable(504);
      }
      return r;
    } catch (e) {
      if (e instanceof LicensingError || e instanceof NumberRequestError)
        return { status: e.status, headers: {}, body: graphError(e.code, e.message) };
      throw e;
    }
  }

  /** Seconds to wait, when the request is over Graph's limits. */
  private throttle(method: string, kind: RequestKind, now: number): number | undefined {
    if (this.faults.throttleStormUntil !== undefined && now < this.faults.throttleStormUntil)
      return Math.max(1, Math.ceil((this.faults.throttleStormUntil - now) / 1000));
    if (!this.throttling || kind === 'other') return undefined;
    if (TEAMS_KINDS.has(kind)) {
      // Teams has its own per-second limits, one for GETs and one for the rest; the identity resource units below do
      // not cover /admin/teams/*.
      const [window, limit] =
        method === 'GET' ? [this.teamsReads, TEAMS_GET_LIMIT] : [this.teamsWrites, TEAMS_OTHER_LIMIT];
      while (window.length > 0 && window[0]! <= now - TEAMS_WINDOW_MS) window.shift();
      if (window.length >= limit) return Math.max(1, Math.ceil((window[0]! + TEAMS_WINDOW_MS - now) / 1000));
      window.push(now);
      return undefined;
    }
    const isWrite = method !== 'GET';
    while (this.writes.length > 0 && this.writes[0]! <= now - WRITE_WINDOW_MS) this.writes.shift();
    while (this.reads.length > 0 && this.reads[0]!.at <= now - READ_WINDOW_MS) this.reads.shift();
    if (isWrite && this.writes.length >= WRITE_LIMIT)
      return Math.max(1, Math.ceil((this.writes[0]! + WRITE_WINDOW_MS - now) / 1000));
    const users = this.tenant.userCount();
    const readLimit = users < 50 ? 3500 : users <= 500 ? 5000 : 8000;
    const cost = kind === 'subscribedSkus' ? 3 : 1;
    const used = this.reads.reduce((a, r) => a + r.units, 0);
    if (used + cost > readLimit) return Math.max(1, Math.ceil((this.reads[0]!.at + READ_WINDOW_MS - now) / 1000));
    this.reads.push({ at: now, units: cost });
    if (isWrite) this.writes.push(now);
    return undefined;
  }

  private countUser(userId: string, kind: RequestKind): void {
    const entry = this.record.byUser.get(userId) ?? {};
    entry[kind] = (entry[kind] ?? 0) + 1;
    this.record.byUser.set(userId, entry);
  }

  private route(url: URL, body: unknown, kind: RequestKind, now: number): SubResponse {
    const ok = (b: unknown, status = 200): SubResponse => ({
      status,
      headers: { 'Content-Type': 'application/json' },
      body: b,
    });
    const path = decodeURIComponent(url.pathname);
    const select = url.searchParams
      .get('$select')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const context = (what: string) => `https://graph.microsoft.com/v1.0/$metadata#${what}`;
    switch (kind) {
      case 'subscribedSkus':
        return ok({ '@odata.context': context('subscribedSkus'), value: this.tenant.subscribedSkus() });
      case 'getUser': {
        const user = this.tenant.requireUser(path.slice('/users/'.length));
        this.countUser(user.id, kind);
        return ok({
          '@odata.context': context(`users(${(select ?? []).join(',')})/$entity`),
          ...this.tenant.userResource(user, select, now),
        });
      }
      case 'patchUser': {
        const user = this.tenant.requireUser(path.slice('/users/'.length));
        this.countUser(user.id, kind);
        if (typeof body !== 'object' || body === null)
          throw new LicensingError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
        const b = body as Record<string, unknown>;
        if ('usageLocation' in b && this.tenant.setUsageLocation(user, b['usageLocation'], now))
          this.record.stateChangingWrites.push({ kind: 'patchUser', userId: user.id, at: now });
        return { status: 204, headers: {}, body: undefined };
      }
      case 'assignLicense': {
        const user = this.tenant.requireUser(path.slice('/users/'.length, -'/assignLicense'.length));
        this.countUser(user.id, kind);
        this.record.assignLicenseRequests.set(user.id, (this.record.assignLicenseRequests.get(user.id) ?? 0) + 1);
        const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
        const add = b['addLicenses'];
        const remove = b['removeLicenses'];
        if (!Array.isArray(add) || !Array.isArray(remove)) {
          throw new LicensingError(
            400,
            'Request_BadRequest',
            "One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: " +
              [!Array.isArray(add) ? 'addLicenses' : '', !Array.isArray(remove) ? 'removeLicenses' : '']
                .filter(Boolean)
                .join(', ') +
              '.',
          );
        }
        const adds = add.map((l: unknown) => {
          const o = (typeof l === 'object' && l !== null ? l : {}) as Record<string, unknown>;
          const disabled = o['disabledPlans'] ?? [];
          return {
            skuId: typeof o['skuId'] === 'string' ? o['skuId'] : '',
            disabledPlans: Array.isArray(disabled) && disabled.every((d) => typeof d === 'string') ? disabled : null,
          };
        });
        this.record.removeLicensesSent.push(...remove.map(String));
        if (adds.some((a) => a.skuId === '' || a.disabledPlans === null) || remove.some((r) => typeof r !== 'string'))
          throw new LicensingError(400, 'Request_BadRequest', 'Invalid license assignment payload.');
        if (
          this.tenant.assignLicense(
            user,
            adds.map((a) => ({ skuId: a.skuId, disabledPlans: a.disabledPlans ?? [] })),
            remove as string[],
            now,
          )
        )
          this.record.stateChangingWrites.push({ kind: 'assignLicense', userId: user.id, at: now });
        return ok({ '@odata.context': context('users/$entity'), ...this.tenant.userResource(user, undefined, now) });
      }
      case 'teamsUserConfiguration': {
        const user = this.tenant.requireUser(path.slice('/admin/teams/userConfigurations/'.length));
        this.countUser(user.id, kind);
        const refused = user.teamsReadStatus ?? this.tenant.teamsReadStatus;
        if (refused === 401)
          return {
            status: 401,
            headers: {},
            body: graphError('InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'),
          };
        if (refused === 403) return { status: 403, headers: {}, body: TEAMS_FORBIDDEN() };
        // What Teams answers for a user not (yet) in Teams is undocumented: a 404 in Graph's error shape is assumed.
        if (refused === 404)
          return {
            status: 404,
            headers: {},
            body: graphError('NotFound', `User '${user.id}' was not found in Microsoft Teams.`),
          };
        const config = this.tenant.teamsConfiguration(user, now);
        if ((config['featureTypes'] as string[]).includes('CallingPlan') && !this.record.callingPlanSeenAt.has(user.id))
          this.record.callingPlanSeenAt.set(user.id, now);
        // The documented v1.0 response wraps the entity in "value" (teamsadministration-teamsuserconfiguration-get.md).
        return ok({ value: { '@odata.context': context('admin/teams/userConfigurations/$entity'), ...config } });
      }
      case 'teamsUserConfigurationList':
        return this.teamsList(url, now);
      case 'listNumbers':
        // An array in "value", as OData collections are: the docs' examples repeat "value" as an object (malformed JSON).
        return ok({
          '@odata.context': context('admin/teams/telephoneNumberManagement/numberAssignments'),
          value: this.tenant.numbers.list(url.searchParams),
        });
      case 'assignNumber': {
        const op = this.tenant.numbers.assign(body, now);
        this.countUser(op.userId, kind);
        this.record.stateChangingWrites.push({ kind: 'assignNumber', userId: op.userId, at: now });
        // assignnumber.md: 202 Accepted, the operation's URL in Location, no body.
        return {
          status: 202,
          headers: { Location: `${this.url}/v1.0/admin/teams/telephoneNumberManagement/operations('${op.id}')` },
          body: undefined,
        };
      }
      case 'unassignNumber': {
        const op = this.tenant.numbers.unassign(body, now);
        if (op.userId !== '') this.countUser(op.userId, kind);
        this.record.stateChangingWrites.push({ kind: 'unassignNumber', userId: op.userId, at: now });
        // unassignnumber.md: 202 Accepted with a Location "to get the action results", no body.
        return {
          status: 202,
          headers: { Location: `${this.url}/v1.0/admin/teams/telephoneNumberManagement/operations('${op.id}')` },
          body: undefined,
        };
      }
      case 'updateNumber':
        this.tenant.numbers.update(body);
        return { status: 200, headers: {}, body: undefined };
      case 'numberOperation': {
        const m = /^\/admin\/teams\/telephoneNumberManagement\/operations(?:\('([^']+)'\)|\/([^/]+))$/.exec(path);
        const op = this.tenant.numbers.operation(m?.[1] ?? m?.[2] ?? '');
        if (!op) return { status: 404, headers: {}, body: graphError('NotFound', 'The operation was not found.') };
        const number = this.tenant.numbers.find(op.telephoneNumber);
        const resourceLocation = number
          ? `${this.url}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments/${String(this.tenant.numbers.resource(number)['id'])}`
          : null;
        // The documented response wraps the operation in "value" (teamsadministration-telephonenumberlongrunningoperation-get.md).
        return ok({
          value: {
            '@odata.context': context('admin/teams/telephoneNumberManagement/operations/$entity'),
            id: op.id,
            createdDateTime: new Date(op.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            status: op.status,
            numbers: [{ resourceLocation, status: op.status, statusDetail: op.statusDetail }],
          },
        });
      }
      default:
        return {
          status: 400,
          headers: {},
          body: graphError(
            'BadRequest',
            `Resource not found for the segment '${path.split('/').filter(Boolean)[0] ?? ''}'.`,
          ),
        };
    }
  }

  /**
   * GET /admin/teams/userConfigurations (teamsadministration-teamsadminroot-list-userconfigurations.md): the tenant's
   * Teams users in pages, each page one request (and one Teams GET against the 30 per second), the next one at
   * @odata.nextLink. The page documents $select, $filter, $top, $expand and $orderBy; any other query option is
   * answered 400 (Graph's OData layer refuses options an endpoint does not allow). Not documented, so chosen here:
   * 100 entries without $top and at most 999 with it (the directory's own largest page), the users in object id
   * order, a $skiptoken of the simulator's own in the next link, and $filter on createdDateTime and modifiedDateTime
   * compared with a timestamp only (anything else is 400, as for a property Graph does not filter on). $expand and
   * $orderBy are documented but not needed by dialtone: the simulator answers 501 rather than pretend to them.
   */
  private teamsList(url: URL, now: number): SubResponse {
    const bad = (message: string): SubResponse => {
      this.record.teamsListRefused++;
      return { status: 400, headers: {}, body: graphError('BadRequest', message) };
    };
    const options = new Map<string, string>();
    for (const [k, v] of url.searchParams) {
      if (!k.startsWith('$')) continue;
      const name = k.toLowerCase();
      if (!TEAMS_LIST_OPTIONS.has(name))
        return bad(
          `Query option '${k}' is not allowed. The allowed query options are $select, $filter, $top, $expand and $orderBy.`,
        );
      if ((this.faults.teamsListRefuses as readonly string[] | undefined)?.includes(name))
        return bad(`Query option '${k}' is not supported for this resource.`);
      options.set(name, v);
    }
    if (options.has('$expand') || options.has('$orderby'))
      return {
        status: 501,
        headers: {},
        body: graphError('NotImplemented', 'The Graph simulator does not implement $expand or $orderBy on this list.'),
      };
    const select = options
      .get('$select')
      ?.split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const unknown = select?.find((p) => !TEAMS_CONFIGURATION_PROPERTIES.has(p));
    if (unknown !== undefined)
      return bad(
        `Could not find a property named '${unknown}' on type 'microsoft.graph.teamsAdministration.teamsUserConfiguration'.`,
      );
    const topText = options.get('$top');
    const top = topText === undefined ? TEAMS_LIST_DEFAULT_PAGE : Number(topText);
    if (!Number.isInteger(top) || top < 1) return bad(`Invalid value '${topText ?? ''}' for query option $top.`);
    let test: ((u: SimUser) => boolean) | undefined;
    const filter = options.get('$filter');
    if (filter !== undefined) {
      const m = /^\s*(createdDateTime|modifiedDateTime)\s+(ge|gt|le|lt)\s+(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\s*$/.exec(
        filter,
      );
      const at = m ? Date.parse(m[3]!) : Number.NaN;
      if (!m || !Number.isFinite(at))
        return bad(`Invalid filter clause: the filter '${filter.slice(0, 200)}' is not supported on this resource.`);
      const prop = m[1]!;
      const op = m[2]!;
      const value = (u: SimUser) => (prop === 'createdDateTime' ? u.createdAt : this.tenant.teamsModifiedAt(u, now));
      test = (u) =>
        op === 'ge' ? value(u) >= at : op === 'gt' ? value(u) > at : op === 'le' ? value(u) <= at : value(u) < at;
    }
    const after = options.get('$skiptoken');
    const size = Math.min(top, TEAMS_LIST_MAX_PAGE);
    const page: SimUser[] = [];
    let more = false;
    for (const u of this.tenant.teamsUsers(now, after)) {
      if (test && !test(u)) continue;
      if (page.length === size) {
        more = true;
        break;
      }
      page.push(u);
    }
    const holders = this.tenant.numbers.holders(now);
    const value = page.map((u) => {
      const config = this.tenant.teamsConfiguration(u, now, holders);
      if ((config['featureTypes'] as string[]).includes('CallingPlan') && !this.record.callingPlanSeenAt.has(u.id))
        this.record.callingPlanSeenAt.set(u.id, now);
      return select ? Object.fromEntries(select.map((p) => [p, config[p] ?? null])) : config;
    });
    const context = `https://graph.microsoft.com/v1.0/$metadata#admin/teams/userConfigurations${select ? `(${select.join(',')})` : ''}`;
    const next = new URLSearchParams([...url.searchParams].filter(([k]) => k.toLowerCase() !== '$skiptoken'));
    if (more) next.set('$skiptoken', page[page.length - 1]!.id);
    // The query kept as sent, with '$' unescaped as Graph's own next links show it.
    const nextLink = more
      ? `${this.url}/v1.0/admin/teams/userConfigurations?${next.toString().replace(/%24/g, '$')}`
      : undefined;
    return {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: { '@odata.context': context, value, ...(nextLink ? { '@odata.nextLink': nextLink } : {}) },
    };
  }

  private batch(raw: Buffer, res: ServerResponse, arrivedAt: number, claims: TokenClaims): void {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendJson(
        res,
        400,
        graphError(
          'BadRequest',
          'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
        ),
      );
    }
    const requests = (body as { requests?: unknown } | null)?.requests;
    if (!Array.isArray(requests) || requests.length === 0)
      return sendJson(res, 400, graphError('BadRequest', 'Invalid batch payload format.'));
    if (requests.length > 20)
      return sendJson(
        res,
        400,
        graphError(
          'BadRequest',
          'Invalid batch payload format. The number of requests in the batch exceeds the maximum of 20.',
        ),
      );
    const subs: SubRequest[] = [];
    for (const r of requests) {
      const o = (r ?? {}) as Record<string, unknown>;
      if (typeof o['id'] !== 'string' || typeof o['method'] !== 'string' || typeof o['url'] !== 'string')
        return sendJson(
          res,
          400,
          graphError('BadRequest', 'Invalid batch payload format. Each request needs id, method and url.'),
        );
      const headers =
        o['headers'] && typeof o['headers'] === 'object'
          ? Object.fromEntries(
              Object.entries(o['headers'] as Record<string, unknown>)
                .filter((e): e is [string, string] => typeof e[1] === 'string')
                .map(([k, v]) => [k.toLowerCase(), v]),
            )
          : {};
      subs.push({
        id: o['id'],
        method: o['method'],
        url: o['url'],
        body: o['body'],
        headers,
        inBatch: true,
        arrivedAt,
        claims,
        ...(Array.isArray(o['dependsOn']) ? { dependsOn: o['dependsOn'] as string[] } : {}),
      });
    }
    if (new Set(subs.map((s) => s.id)).size !== subs.length)
      return sendJson(res, 400, graphError('BadRequest', 'Invalid batch payload format. Request ids must be unique.'));
    const statuses = new Map<string, number>();
    const responses = subs.map((s) => {
      const failedDep = (s.dependsOn ?? []).find((d) => (statuses.get(d) ?? 424) >= 400);
      const r: SubResponse =
        failedDep !== undefined
          ? {
              status: 424,
              headers: {},
              body: graphError(
                'FailedDependency',
                `Request ${s.id} depends on request ${failedDep}, which failed or is missing.`,
              ),
            }
          : this.dispatch(s);
      statuses.set(s.id, r.status);
      return { id: s.id, status: r.status, headers: r.headers, ...(r.body === undefined ? {} : { body: r.body }) };
    });
    sendJson(res, 200, { responses });
  }

  private control(method: string, url: URL, body: Buffer, res: ServerResponse): void {
    if (url.pathname === '/_sim/clock') {
      if (method === 'POST') {
        const { offsetMs, rate, epoch } = JSON.parse(body.toString('utf8') || '{}') as {
          offsetMs?: number;
          rate?: number;
          epoch?: number;
        };
        const clock = this.clock as {
          setOffset?: (n: number) => void;
          setState?: (s: ClockState) => void;
          offset?: number;
        };
        // The local host's governor changes the rate (local/clock.ts: governedRate) and sends the whole clock.
        if (typeof offsetMs === 'number' && typeof rate === 'number' && typeof epoch === 'number' && clock.setState)
          clock.setState({ offsetMs, rate, epoch });
        else if (typeof offsetMs === 'number' && clock.setOffset) clock.setOffset(offsetMs);
      }
      const offset = (this.clock as { offset?: number }).offset ?? 0;
      // The host builds its own clock from these, so that both count one simulated time (local/clock.ts).
      const epoch = (this.clock as { epoch?: number }).epoch ?? 0;
      return sendJson(res, 200, {
        now: new Date(this.clock.now()).toISOString(),
        offsetMs: offset,
        rate: this.clock.rate ?? 1,
        epoch,
      });
    }
    if (url.pathname === '/_sim/record') {
      return sendJson(res, 200, {
        ...this.record,
        byUser: Object.fromEntries(this.record.byUser),
        assignLicenseRequests: Object.fromEntries(this.record.assignLicenseRequests),
        callingPlanSeenAt: Object.fromEntries(this.record.callingPlanSeenAt),
        teamsReadsBySecond: Object.fromEntries(this.record.teamsReadsBySecond),
      });
    }
    sendJson(res, 404, graphError('NotFound', 'unknown simulator control endpoint'));
  }
}

function routeKind(method: string, path: string): RequestKind {
  if (method === 'GET' && path === '/subscribedSkus') return 'subscribedSkus';
  if (/^\/users\/[^/]+\/assignLicense$/.test(path)) return method === 'POST' ? 'assignLicense' : 'other';
  if (/^\/users\/[^/]+$/.test(path)) return method === 'GET' ? 'getUser' : method === 'PATCH' ? 'patchUser' : 'other';
  if (method === 'GET' && /^\/admin\/teams\/userConfigurations\/[^/]+$/.test(path)) return 'teamsUserConfiguration';
  if (method === 'GET' && path === '/admin/teams/userConfigurations') return 'teamsUserConfigurationList';
  const numbers = '/admin/teams/telephoneNumberManagement';
  if (method === 'GET' && path === `${numbers}/numberAssignments`) return 'listNumbers';
  if (method === 'POST' && path === `${numbers}/numberAssignments/assignNumber`) return 'assignNumber';
  if (method === 'POST' && path === `${numbers}/numberAssignments/unassignNumber`) return 'unassignNumber';
  if (method === 'POST' && path === `${numbers}/numberAssignments/updateNumber`) return 'updateNumber';
  if (method === 'GET' && /^\/admin\/teams\/telephoneNumberManagement\/operations(\('[^']+'\)|\/[^/]+)$/.test(path))
    return 'numberOperation';
  return 'other';
}

/** 503 and 504 in Graph's error shape (concepts/errors.md: code serviceNotAvailable; a 504 "may occur together with 503"). */
function unavailable(status: 503 | 504): SubResponse {
  return {
    status,
    headers: status === 503 ? { 'Retry-After': '2' } : {},
    body: graphError('serviceNotAvailable', 'The service is not available. Try the request again after a delay.'),
  };
}

export function graphError(code: string, message: string): { error: Record<string, unknown> } {
  const date = new Date().toISOString().replace(/\.\d{3}Z$/, '');
  return {
    error: { code, message, innerError: { date, 'request-id': randomUUID(), 'client-request-id': randomUUID() } },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(payload
      ? {
          'Content-Type':
            'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
        }
      : {}),
    'request-id': randomUUID(),
  });
  res.end(payload);
}

const MAX_BODY = 4 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') out[k] = v;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function startGraphSimulator(options: SimulatorOptions): Promise<GraphSimulator> {
  return new GraphSimulator(options).start();
}
