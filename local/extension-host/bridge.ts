// The Node half of the real-extension host: the .NET program (Program.cs beside this file) hosts the Durable
// extension and posts every orchestrator episode and activity here; this runs it through the handler the app
// registered with @azure/functions-core, as the Node worker would, and answers with the result or the error.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvocationContext } from '@azure/functions';
import type { FunctionRegistry } from '../host/functions-core';
import { closeServer } from '../host/server';

export interface BridgeFunction {
  readonly name: string;
  readonly kind: 'orchestration' | 'activity';
}

/** The orchestrators and activities the app registered: the .NET side generates one WebJobs function for each. */
export function bridgeFunctions(registry: FunctionRegistry): BridgeFunction[] {
  return [
    ...registry.byTrigger('orchestrationTrigger').map((f) => ({ name: f.name, kind: 'orchestration' as const })),
    ...registry.byTrigger('activityTrigger').map((f) => ({ name: f.name, kind: 'activity' as const })),
  ];
}

// An orchestration context is small per episode, but a history can be long: a cap well above any this app builds,
// so that a runaway request cannot take the process's memory.
const MAX_BODY = 64 * 1024 * 1024;

export class NodeBridge {
  private server: Server | undefined;
  private invocations = 0;
  /** Invocations this process ran for the extension, by kind. */
  readonly counts = { orchestration: 0, activity: 0 };
  /** Invocations by function name. */
  readonly byFunction: Record<string, number> = {};
  /** Milliseconds of invocations by function name. */
  readonly msByFunction: Record<string, number> = {};
  /**
   * Wall-clock milliseconds during which at least one invocation was running (Flex Consumption bills an instance's
   * memory for the time it is executing functions: learn.microsoft.com, azure/azure-functions/functions-consumption-costs),
   * and the sum of every invocation's own duration.
   */
  readonly time = { busyMs: 0, invocationMs: 0 };
  private running = 0;
  private busySince = 0;

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly log: (message: string) => void,
    /**
     * The durableClient binding data, for activities that declare a durableClient input (the Functions host resolves
     * a function's input bindings whatever its trigger; learn.microsoft.com, azure-functions/durable/
     * durable-functions-bindings, "Orchestration client"). Undefined until the extension is ready.
     */
    private readonly clientData: () => Record<string, unknown> | undefined = () => undefined,
  ) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          res.writeHead(413).end();
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        const m = /^\/(orchestration|activity)\/([^/?]+)$/.exec(req.url ?? '');
        if (req.method !== 'POST' || !m) return void res.writeHead(404).end();
        this.invoke(
          m[1] as 'orchestration' | 'activity',
          decodeURIComponent(m[2]!),
          Buffer.concat(chunks).toString('utf8'),
        )
          .then((answer) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(answer);
          })
          .catch((e: unknown) => {
            this.log(`bridge: ${e instanceof Error ? e.message : String(e)}`);
            if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(e instanceof Error ? e.message : String(e));
          });
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await closeServer(s);
  }

  /** One invocation; the answer is `{ ok: true, result }` or `{ ok: false, message, stack }` as JSON. */
  private async invoke(kind: 'orchestration' | 'activity', name: string, payload: string): Promise<string> {
    const fn = this.registry.get(name);
    const trigger = kind === 'orchestration' ? 'orchestrationTrigger' : 'activityTrigger';
    if (!fn || fn.trigger.type !== trigger) throw new Error(`the app registered no ${kind} named ${name}`);
    // The Functions host sends both payloads as JSON and the worker parses them before calling the handler.
    const input: unknown = JSON.parse(payload);
    this.counts[kind]++;
    this.byFunction[name] = (this.byFunction[name] ?? 0) + 1;
    const started = performance.now();
    if (this.running++ === 0) this.busySince = started;
    const extraInputs = Object.values(fn.bindings)
      .filter((b) => b.direction === 'in' && b !== fn.trigger)
      .map((b) => ({ ...b }));
    const context = new InvocationContext({
      invocationId: `${name}-${(++this.invocations).toString(36)}`,
      functionName: name,
      options: { trigger: { ...fn.trigger }, extraInputs, extraOutputs: [] },
      logHandler: (level, ...args) => {
        if (level === 'error' || level === 'warning')
          this.log(`[${name}] ${level}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
      },
    });
    try {
      for (const b of extraInputs) {
        if (b.type !== 'durableClient' && b.type !== 'orchestrationClient') continue;
        const client = this.clientData();
        if (!client) throw new Error(`${name} binds a durable client, but the extension is not ready yet`);
        context.extraInputs.set(b.name, client);
      }
      const result = await fn.handler(input, context);
      return JSON.stringify({ ok: true, result: result ?? null });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      return JSON.stringify({ ok: false, message: err.message, stack: err.stack ?? '' });
    } finally {
      const ended = performance.now();
      this.time.invocationMs += ended - started;
      this.msByFunction[name] = (this.msByFunction[name] ?? 0) + (ended - started);
      if (--this.running === 0) this.time.busyMs += ended - this.busySince;
    }
  }
}
