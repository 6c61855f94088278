// The local host's HTTP face: the app's `/api` routes (function keys checked as Azure checks them) and the Durable
// extension's client endpoints (`/runtime/webhooks/durabletask/…`, always behind a key, as the Functions host puts
// them behind the durabletask_extension system key), plus the extension's worker-facing RPC endpoint that the real
// DurableClient calls. Every request must name this host in its Host header, so a web page that rebinds its own DNS
// name to 127.0.0.1 cannot reach any of it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { InstanceExistsError, type DurableEngine } from './durable/engine';
import type { InstanceState } from './durable/store';
import { HOST_TIME_HEADER } from '../batch-client';
import { LocalSignIn } from './easy-auth';
import type { BindingMetadata, FunctionRegistration, FunctionRegistry } from './functions-core';

export interface HostServerOptions {
  readonly registry: FunctionRegistry;
  /** The local durable engine behind the webhook endpoints; absent when the real extension serves them. */
  readonly engine?: DurableEngine;
  /** The durableClient binding data, when the real extension provides it (its LocalHttpListener is the rpcBaseUrl). */
  readonly clientData?: () => Record<string, unknown>;
  /** Where `/runtime/webhooks/durabletask/…` is forwarded when there is no local engine (the extension's listener). */
  readonly webhookTarget?: () => string | undefined;
  /** Extra facts for `/admin/host/status` (the real-extension host reports the invocations it ran). */
  readonly status?: () => Record<string, unknown>;
  readonly functionKey: string;
  /** More keys that open the function routes, like the named host keys given to each integration in Azure. */
  readonly extraFunctionKeys?: readonly string[];
  readonly taskHub: string;
  readonly port?: number;
  readonly log: (message: string) => void;
  /** Refuse new requests with 429 + Retry-After beyond this many in flight (host.json http.maxOutstandingRequests). */
  readonly maxInFlight?: number;
  /** Refuse to start orchestrations (429 + Retry-After to the durable client) while this many run. */
  readonly maxRunningOrchestrations?: number;
  /** The app role the local stand-in for App Service Authentication gives to whoever signs in (easy-auth.ts). */
  readonly consoleRole?: string;
  /** The host's time (the skip-ahead clock's; the wall clock by default), sent as X-Dialtone-Time on every response. */
  readonly now?: () => number;
}

const MAX_BODY = 21 * 1024 * 1024;
const WEBHOOK = '/runtime/webhooks/durabletask/';
const RPC = '/_rpc/';

function keyMatches(given: string | null | undefined, keys: readonly string[]): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  let ok = false;
  for (const key of keys) {
    const b = Buffer.from(key);
    if (a.length === b.length && timingSafeEqual(a, b)) ok = true;
  }
  return ok;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...(payload && typeof body !== 'string' ? { 'Content-Type': 'application/json' } : {}),
    ...headers,
  });
  res.end(payload);
}

function routeRegex(route: string): RegExp {
  const pattern = route
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((seg) =>
      // {*name} is a catch-all: the rest of the path, slashes included (ASP.NET Core's route template syntax).
      /^\{\*[^}]+\}$/.test(seg)
        ? `(?<${seg.slice(2, -1)}>.*)`
        : /^\{[^}]+\}$/.test(seg)
          ? `(?<${seg.slice(1, -1).replace(/[:?].*$/, '')}>[^/]+)`
          : seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${pattern}$`, 'i');
}

export function statusBody(s: InstanceState): Record<string, unknown> {
  return {
    name: s.name,
    instanceId: s.instanceId,
    createdTime: s.createdTime,
    lastUpdatedTime: s.lastUpdatedTime,
    runtimeStatus: s.runtimeStatus,
    input: s.input,
    output: s.output,
    customStatus: s.customStatus,
  };
}

export class HostServer {
  private server: Server | undefined;
  private inFlight = 0;
  url = '';
  /**
   * The real extension serves the worker's DurableClient on a listener of its own (127.0.0.1:17071, no key). Here it
   * shares the host's port, so its path carries a secret of this process instead: no route here opens without one.
   */
  private readonly rpcSecret = randomBytes(18).toString('base64url');
  private allowedHosts = new Set<string>();
  /** Stands in for App Service Authentication in front of the app, as the platform is in front of it in Azure. */
  readonly signIn: LocalSignIn;

  constructor(private readonly options: HostServerOptions) {
    this.signIn = new LocalSignIn(options.consoleRole ?? 'Dialtone.Admin');
  }

  private get keys(): readonly string[] {
    return [this.options.functionKey, ...(this.options.extraFunctionKeys ?? [])];
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.inFlight++;
      res.on('close', () => this.inFlight--);
      this.handle(req, res).catch((e: unknown) => {
        this.options.log(`request failed in the host: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) send(res, 500, { error: 'the local host failed to process the request' });
        else res.destroy();
      });
    });
    // The app's own durable client keeps its connection to this server alive between calls. Node's agent and this
    // server would each drop an idle connection after 5 s; when the worker's event loop was busy parsing a large
    // batch for longer, the client reused a connection the server was closing and got ECONNRESET. The Functions host
    // is another process and never shares the worker's event loop; a long idle timeout here keeps that true enough.
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${port}`;
    this.signIn.port = port;
    this.allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    return this.url;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await closeServer(s);
  }

  /** The durableClient binding data the real extension would hand to a client function. */
  clientData(): Record<string, unknown> {
    if (this.options.clientData) return this.options.clientData();
    const base = `${this.url}${WEBHOOK.slice(0, -1)}`;
    const q = `taskHub=${this.options.taskHub}&connection=Storage&code=${this.options.functionKey}`;
    const inst = `${base}/instances/INSTANCEID`;
    return {
      taskHubName: this.options.taskHub,
      creationUrls: {
        createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?code=${this.options.functionKey}`,
        createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${this.options.functionKey}`,
      },
      managementUrls: {
        id: 'INSTANCEID',
        statusQueryGetUri: `${inst}?${q}`,
        sendEventPostUri: `${inst}/raiseEvent/{eventName}?${q}`,
        terminatePostUri: `${inst}/terminate?reason={text}&${q}`,
        rewindPostUri: `${inst}/rewind?reason={text}&${q}`,
        purgeHistoryDeleteUri: `${inst}?${q}`,
        restartPostUri: `${inst}/restart?${q}`,
        suspendPostUri: `${inst}/suspend?reason={text}&${q}`,
        resumePostUri: `${inst}/resume?reason={text}&${q}`,
      },
      baseUrl: base,
      requiredQueryStringParameters: `code=${this.options.functionKey}`,
      rpcBaseUrl: `${this.url}${RPC}${this.rpcSecret}/durabletask/`,
    };
  }

  /** Calls a registered function the way the worker would: a fresh InvocationContext with its bindings. */
  async invoke(
    fn: FunctionRegistration,
    triggerInput: unknown,
    triggerMetadata: Record<string, unknown> = {},
  ): Promise<unknown> {
    const bindings = Object.values(fn.bindings);
    const toOption = (b: BindingMetadata) => ({ ...b });
    const extraInputs = bindings.filter((b) => b.direction === 'in' && b !== fn.trigger).map(toOption);
    const context = new InvocationContext({
      invocationId: `${fn.name}-${Date.now().toString(36)}`,
      functionName: fn.name,
      triggerMetadata,
      options: { trigger: toOption(fn.trigger), extraInputs: extraInputs, extraOutputs: [] },
      logHandler: (level, ...args) =>
        this.options.log(
          `[${fn.name}] ${level}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`,
        ),
    });
    for (const input of extraInputs)
      if (input.type === 'durableClient' || input.type === 'orchestrationClient')
        context.extraInputs.set(input.name, this.clientData());
    return fn.handler(triggerInput, context);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on evil.example that resolves its name to 127.0.0.1 sends Host: evil.example. ASP.NET
    // Core's host filtering answers such a request 400; so does this host, before reading anything.
    if (!this.allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      req.resume();
      return send(
        res,
        400,
        {
          type: 'about:blank',
          title: 'Bad Request - Invalid Hostname',
          status: 400,
          detail: 'this host answers only requests addressed to 127.0.0.1, localhost or [::1] with its port',
        },
        { 'Content-Type': 'application/problem+json', Connection: 'close' },
      );
    }
    res.setHeader(HOST_TIME_HEADER, new Date((this.options.now ?? Date.now)()).toISOString());
    const url = new URL(req.url ?? '/', this.url);
    // Like the Functions host's dynamic throttles: an overloaded host says so with 429 and Retry-After; it never
    // accepts work it then drops.
    if (this.inFlight > (this.options.maxInFlight ?? 200)) {
      req.resume();
      return send(
        res,
        429,
        {
          type: 'about:blank',
          title: 'Too busy',
          status: 429,
          detail: 'the host is at capacity; retry after the given seconds',
        },
        { 'Retry-After': '5', 'Content-Type': 'application/problem+json' },
      );
    }
    const refuse = (received: number) => {
      // Keep nothing more, but let the client finish sending (as Kestrel drains a refused body) so it reads the 413
      // instead of a reset: all of a declared body up to 64 MiB, else 8 MiB more; then the connection is cut.
      const declared = Number(req.headers['content-length']);
      const drainLimit =
        Number.isFinite(declared) && declared <= 64 * 1024 * 1024 ? declared - received : 8 * 1024 * 1024;
      const socket = req.socket;
      let drained = 0;
      req.on('data', (c: Buffer) => {
        drained += c.length;
        if (drained > drainLimit) socket.destroy();
      });
      res.on('finish', () => (req.complete ? socket.destroy() : req.once('end', () => socket.destroy())));
      req.resume();
      // No "Connection: close": Node would then close the socket as soon as the answer is written, mid-upload.
      return send(
        res,
        413,
        {
          type: 'about:blank',
          title: 'Batch too large',
          status: 413,
          detail: 'the body is over 20 MiB; split the batch',
        },
        { 'Content-Type': 'application/problem+json' },
      );
    };
    if (Number(req.headers['content-length'] ?? '0') > MAX_BODY) return refuse(0);
    // A chunked body (no Content-Length) is counted as it arrives and refused the moment it passes the limit.
    const read = await new Promise<{ body?: Buffer; size: number }>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          req.off('data', onData).off('end', onEnd);
          chunks.length = 0;
          return resolve({ size });
        }
        chunks.push(c);
      };
      const onEnd = () => resolve({ body: Buffer.concat(chunks), size });
      req.on('data', onData).on('end', onEnd).once('error', reject);
    });
    if (!read.body) return refuse(read.size);
    const body = read.body;
    if (url.pathname.startsWith(WEBHOOK)) {
      // Always the key, from loopback too: the Functions host has no exemption for local callers.
      if (
        !keyMatches(url.searchParams.get('code') ?? (req.headers['x-functions-key'] as string | undefined), [
          this.options.functionKey,
        ])
      )
        return send(res, 401, '');
      return this.webhook(req, res, url, url.pathname.slice(WEBHOOK.length), body);
    }
    if (url.pathname.startsWith(RPC)) {
      const [secret, service, ...rest] = url.pathname.slice(RPC.length).split('/');
      if (service !== 'durabletask' || !keyMatches(secret, [this.rpcSecret])) return send(res, 401, '');
      return this.webhook(req, res, url, rest.join('/'), body);
    }
    if (url.pathname === '/admin/host/status') return send(res, 200, { state: 'Running', ...this.options.status?.() });
    if (url.pathname.startsWith('/.auth/')) {
      const keyOk = keyMatches(req.headers['x-functions-key'] as string | undefined, [this.options.functionKey]);
      const a = this.signIn.answer((req.method ?? 'GET').toUpperCase(), url, keyOk, req.headers.cookie);
      if (a) return send(res, a.status, a.body, a.headers);
    }
    if (url.pathname.startsWith('/api/')) return this.api(req, res, url, body);
    send(res, 404, { error: 'not found' });
  }

  private async api(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const path = url.pathname.slice('/api/'.length).replace(/\/+$/, '');
    const method = (req.method ?? 'GET').toUpperCase();
    let matched: { fn: FunctionRegistration; params: Record<string, string> } | undefined;
    let pathMatched = false;
    for (const fn of this.options.registry.byTrigger('httpTrigger')) {
      const m = routeRegex(typeof fn.trigger['route'] === 'string' ? fn.trigger['route'] : fn.name).exec(path);
      if (!m) continue;
      pathMatched = true;
      const methods = (fn.trigger['methods'] as string[] | undefined) ?? ['GET', 'POST'];
      if (methods.map((x) => x.toUpperCase()).includes(method)) {
        matched = {
          fn,
          params: Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodePathSegment(v)])),
        };
        break;
      }
    }
    if (!matched)
      return send(res, pathMatched ? 405 : 404, pathMatched ? { error: 'method not allowed' } : { error: 'not found' });
    if ((matched.fn.trigger['authLevel'] ?? 'function') !== 'anonymous') {
      const given = (req.headers['x-functions-key'] as string | undefined) ?? url.searchParams.get('code');
      if (!keyMatches(given, this.keys)) return send(res, 401, '', {});
    }
    const headers = this.signIn.headersFor(req);
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const request = new HttpRequest({
      method,
      url: url.href,
      headers,
      query,
      params: matched.params,
      ...(body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const result = await this.invoke(matched.fn, request, { ...matched.params, query, headers });
    const response = result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    const bytes = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, out);
    res.end(bytes);
  }

  private async webhook(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    body: Buffer,
  ): Promise<void> {
    const engine = this.options.engine;
    if (!engine) return this.forwardWebhook(req, res, url, path, body);
    const parts = path.split('/').map(decodePathSegment);
    const method = (req.method ?? 'GET').toUpperCase();
    const parseBody = (): unknown => {
      if (body.length === 0) return undefined;
      try {
        return JSON.parse(body.toString('utf8'));
      } catch {
        return body.toString('utf8');
      }
    };
    if (parts[0] === 'orchestrators' && method === 'POST' && parts[1]) {
      if (engine.runningCount() >= (this.options.maxRunningOrchestrations ?? 400)) {
        return send(
          res,
          429,
          { error: 'the local host is running as many orchestrations as it allows' },
          { 'Retry-After': '5' },
        );
      }
      const instanceId = parts[2] ?? crypto.randomUUID();
      try {
        engine.startNew(parts[1], instanceId, parseBody());
      } catch (e) {
        // As the extension 3.19 answered in the conformance run: a running instance is 409 with this body. (Its HTTP
        // API accepted every instance id tried there, '@', '#', '?', '\\', control characters and 257 characters
        // included: DurableClient.StartNewAsync's id rules apply to .NET callers, not to this endpoint.)
        const message = e instanceof Error ? e.message : String(e);
        if (e instanceof InstanceExistsError) return send(res, 409, { Message: message });
        return send(res, 500, {
          Message: 'Something went wrong while processing your request',
          ExceptionMessage: message,
        });
      }
      return send(res, 202, { id: instanceId });
    }
    if (parts[0] === 'instances' && !parts[1] && method === 'GET') {
      // The extension's "get all instances status" query (durable-functions-http-api.md): runtimeStatus is a
      // comma-separated list, createdTimeFrom/createdTimeTo bound the creation time, instanceIdPrefix the id, `top`
      // the page size; a further page is asked for with the x-ms-continuation-token header the last one returned.
      // Here the token is the position in the instance-id order (the Azure Storage provider's order too: its
      // Instances table is keyed by instance id); the extension's own tokens are opaque, and nothing may read them.
      const q = url.searchParams;
      const statuses = q
        .get('runtimeStatus')
        ?.split(',')
        .map((x) => x.trim().toLowerCase())
        .filter(Boolean);
      const from = q.get('createdTimeFrom') ? Date.parse(q.get('createdTimeFrom')!) : undefined;
      const to = q.get('createdTimeTo') ? Date.parse(q.get('createdTimeTo')!) : undefined;
      const prefix = q.get('instanceIdPrefix') ?? '';
      const top = Number(q.get('top') ?? '0');
      const after = req.headers['x-ms-continuation-token'];
      const matches = engine
        .list()
        .filter((i) => {
          const created = Date.parse(i.createdTime);
          return (
            i.instanceId.startsWith(prefix) &&
            (!statuses || statuses.includes(i.runtimeStatus.toLowerCase())) &&
            (from === undefined || created >= from) &&
            (to === undefined || created <= to)
          );
        })
        .sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0))
        .filter((i) => typeof after !== 'string' || i.instanceId > Buffer.from(after, 'base64url').toString('utf8'));
      const page = top > 0 ? matches.slice(0, top) : matches;
      const more: Record<string, string> =
        page.length < matches.length
          ? { 'x-ms-continuation-token': Buffer.from(page[page.length - 1]!.instanceId, 'utf8').toString('base64url') }
          : {};
      const showInput = q.get('showInput') !== 'false';
      return send(
        res,
        200,
        page.map((i) => (showInput ? statusBody(i) : { ...statusBody(i), input: null })),
        more,
      );
    }
    if (parts[0] !== 'instances' || !parts[1]) return send(res, 404, { error: 'not found' });
    const id = parts[1];
    if (parts.length === 2 && method === 'GET') {
      const s = engine.getStatus(id);
      if (!s) return send(res, 404, undefined);
      const running = s.runtimeStatus === 'Running' || s.runtimeStatus === 'Pending';
      const withHistory = url.searchParams.get('showHistory') === 'true' ? { historyEvents: s.history } : {};
      return send(res, running ? 202 : 200, { ...statusBody(s), ...withHistory });
    }
    if (parts.length === 2 && method === 'DELETE') {
      return engine.purge(id) ? send(res, 200, { instancesDeleted: 1 }) : send(res, 404, undefined);
    }
    if (parts[2] === 'raiseEvent' && parts[3] && method === 'POST') {
      const r = engine.raiseEvent(id, parts[3], parseBody());
      return send(res, r === 'accepted' ? 202 : r === 'gone' ? 410 : 404, undefined);
    }
    if (parts[2] === 'terminate' && method === 'POST') {
      return send(res, engine.terminate(id, url.searchParams.get('reason') ?? 'terminated') ? 202 : 410, undefined);
    }
    send(res, 404, { error: 'not supported by the local host' });
  }

  /** With the real extension, its management links point here; its own listener answers them. */
  private async forwardWebhook(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    path: string,
    body: Buffer,
  ): Promise<void> {
    const target = this.options.webhookTarget?.();
    if (!target) return send(res, 503, { error: 'the durable extension is not ready' }, { 'Retry-After': '5' });
    const forwarded = new URL(`${path}${url.search}`, target);
    const r = await fetch(forwarded, {
      method: req.method ?? 'GET',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      ...(body.length > 0 ? { body } : {}),
    });
    const out: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (k !== 'transfer-encoding' && k !== 'content-length' && k !== 'connection') out[k] = v;
    });
    const bytes = Buffer.from(await r.arrayBuffer());
    res.writeHead(r.status, out);
    res.end(bytes);
  }
}

/** Stops a local HTTP server at once: open keep-alive connections are closed rather than waited for. */
export async function closeServer(s: Server | undefined): Promise<void> {
  if (!s) return;
  s.closeAllConnections();
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

/**
 * A route value as ASP.NET Core hands it to a function: percent-decoded, with a malformed escape (`%zz`, a lone `%`,
 * bytes that are not UTF-8) left as it was written instead of failing the request (its UrlDecoder copies an invalid
 * sequence through unchanged; dotnet/aspnetcore src/Shared/UrlDecoder). decodeURIComponent would throw and answer 500.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}
