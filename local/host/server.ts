// The local host's HTTP face: the app's `/api` routes (function keys checked as Azure checks them) and the Durable
// extension's client endpoints (`/runtime/webhooks/durabletask/…`) that the real DurableClient calls.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import type { DurableEngine } from './durable/engine';
import type { InstanceState } from './durable/store';
import type { BindingMetadata, FunctionRegistration, FunctionRegistry } from './functions-core';

export interface HostServerOptions {
  readonly registry: FunctionRegistry;
  readonly engine: DurableEngine;
  readonly functionKey: string;
  readonly taskHub: string;
  readonly port?: number;
  readonly log: (message: string) => void;
  /** Refuse new requests with 429 + Retry-After beyond this many in flight (host.json http.maxOutstandingRequests). */
  readonly maxInFlight?: number;
  /** Refuse to start orchestrations (429 + Retry-After to the durable client) while this many run. */
  readonly maxRunningOrchestrations?: number;
}

const MAX_BODY = 21 * 1024 * 1024;
const WEBHOOK = '/runtime/webhooks/durabletask/';

function keyMatches(given: string | null | undefined, key: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...(payload && typeof body !== 'string' ? { 'Content-Type': 'application/json' } : {}), ...headers });
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
  return { name: s.name, instanceId: s.instanceId, createdTime: s.createdTime, lastUpdatedTime: s.lastUpdatedTime, runtimeStatus: s.runtimeStatus, input: s.input, output: s.output, customStatus: s.customStatus };
}

export class HostServer {
  private server: Server | undefined;
  private inFlight = 0;
  url = '';

  constructor(private readonly options: HostServerOptions) {}

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
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The durableClient binding data the real extension would hand to a client function. */
  clientData(): Record<string, unknown> {
    const base = `${this.url}${WEBHOOK.slice(0, -1)}`;
    const q = `taskHub=${this.options.taskHub}&connection=Storage&code=${this.options.functionKey}`;
    const inst = `${base}/instances/INSTANCEID`;
    return {
      taskHubName: this.options.taskHub,
      creationUrls: { createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?code=${this.options.functionKey}`, createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${this.options.functionKey}` },
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
      rpcBaseUrl: `${this.url}${WEBHOOK}`,
    };
  }

  /** Calls a registered function the way the worker would: a fresh InvocationContext with its bindings. */
  async invoke(fn: FunctionRegistration, triggerInput: unknown, triggerMetadata: Record<string, unknown> = {}): Promise<unknown> {
    const bindings = Object.values(fn.bindings);
    const toOption = (b: BindingMetadata) => ({ ...b });
    const extraInputs = bindings.filter((b) => b.direction === 'in' && b !== fn.trigger).map(toOption);
    const context = new InvocationContext({
      invocationId: `${fn.name}-${Date.now().toString(36)}`,
      functionName: fn.name,
      triggerMetadata,
      options: { trigger: toOption(fn.trigger), extraInputs: extraInputs, extraOutputs: [] },
      logHandler: (level, ...args) => this.options.log(`[${fn.name}] ${level}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`),
    });
    for (const input of extraInputs) if (input.type === 'durableClient' || input.type === 'orchestrationClient') context.extraInputs.set(input.name, this.clientData());
    return fn.handler(triggerInput, context);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    // Like the Functions host's dynamic throttles: an overloaded host says so with 429 and Retry-After; it never
    // accepts work it then drops.
    if (this.inFlight > (this.options.maxInFlight ?? 200)) {
      req.resume();
      return send(res, 429, { type: 'about:blank', title: 'Too busy', status: 429, detail: 'the host is at capacity; retry after the given seconds' }, { 'Retry-After': '5', 'Content-Type': 'application/problem+json' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) {
        // Stop reading and close the connection: the rest of the body is never read into memory.
        const socket = req.socket;
        res.on('finish', () => socket?.destroy());
        return send(res, 413, { type: 'about:blank', title: 'Batch too large', status: 413, detail: 'the body is over 20 MiB; split the batch' }, { Connection: 'close', 'Content-Type': 'application/problem+json' });
      }
      chunks.push(c as Buffer);
    }
    const body = Buffer.concat(chunks);
    if (url.pathname.startsWith(WEBHOOK)) return this.webhook(req, res, url, body);
    if (url.pathname === '/admin/host/status') return send(res, 200, { state: 'Running' });
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
        matched = { fn, params: Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)])) };
        break;
      }
    }
    if (!matched) return send(res, pathMatched ? 405 : 404, pathMatched ? { error: 'method not allowed' } : { error: 'not found' });
    if ((matched.fn.trigger['authLevel'] ?? 'function') !== 'anonymous') {
      const given = (req.headers['x-functions-key'] as string | undefined) ?? url.searchParams.get('code');
      if (!keyMatches(given, this.options.functionKey)) return send(res, 401, '', {});
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const request = new HttpRequest({ method, url: url.href, headers, query, params: matched.params, ...(body.length > 0 ? { body: { bytes: body } } : {}) });
    const result = await this.invoke(matched.fn, request, { ...matched.params, query, headers });
    const response = result instanceof HttpResponse ? result : new HttpResponse((result ?? {}));
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    const bytes = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, out);
    res.end(bytes);
  }

  private webhook(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): void {
    if (!keyMatches(url.searchParams.get('code') ?? (req.headers['x-functions-key'] as string | undefined), this.options.functionKey) && !this.isLoopbackCaller(req)) return send(res, 401, '');
    const engine = this.options.engine;
    const parts = url.pathname.slice(WEBHOOK.length).split('/').map(decodeURIComponent);
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
        return send(res, 429, { error: 'the local host is running as many orchestrations as it allows' }, { 'Retry-After': '5' });
      }
      const instanceId = parts[2] ?? crypto.randomUUID();
      try {
        engine.startNew(parts[1], instanceId, parseBody());
      } catch (e) {
        return send(res, 409, { error: e instanceof Error ? e.message : String(e) });
      }
      return send(res, 202, { id: instanceId });
    }
    if (parts[0] === 'instances' && !parts[1] && method === 'GET') {
      // The extension's "get all instances status" query (durable-functions-http-api.md): runtimeStatus is a
      // comma-separated list, createdTimeFrom/createdTimeTo bound the creation time. This host answers in one page.
      const q = url.searchParams;
      const statuses = q.get('runtimeStatus')?.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
      const from = q.get('createdTimeFrom') ? Date.parse(q.get('createdTimeFrom')!) : undefined;
      const to = q.get('createdTimeTo') ? Date.parse(q.get('createdTimeTo')!) : undefined;
      const matches = engine.list().filter((i) => {
        const created = Date.parse(i.createdTime);
        return (!statuses || statuses.includes(i.runtimeStatus.toLowerCase())) && (from === undefined || created >= from) && (to === undefined || created <= to);
      });
      return send(res, 200, matches.map(statusBody));
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

  /** The real extension trusts the worker's own calls to its RPC endpoint; here that is a call from this machine. */
  private isLoopbackCaller(req: IncomingMessage): boolean {
    const a = req.socket.remoteAddress ?? '';
    return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1';
  }
}
