// Where the local durable engine must follow the real Durable extension rather than be more lenient: events across
// continueAsNew, instance-id rules, startNew on existing ids, failure messages, large payloads. Each rule names the
// extension source (Azure/azure-functions-durable-extension, v3.x) or DTFx behaviour it follows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OrchestrationContext } from 'durable-functions';
import { SkipAheadClock } from '../../local/clock';
import { DurableEngine, type LargeMessageStore } from '../../local/host/durable/engine';
import { InstanceStore } from '../../local/host/durable/store';
import { FunctionRegistry } from '../../local/host/functions-core';
import { TransientGraphError } from '../../activities/batch';
import { chunkOrchestrator } from '../../workflows/chunk';
import { activityFailure } from '../../workflows/durable';
import {
  ASSIGN_ACTIVITY,
  CHUNK_ORCHESTRATOR,
  LOAD_CHUNK_ACTIVITY,
  SAVE_CHUNK_ACTIVITY,
  SETTLE_CHUNK_ACTIVITY,
} from '../../contracts/names';
import { orchestratorHandler } from '../support/durable-sdk';

type Handler = (...args: any[]) => unknown;
const dirs: string[] = [];
const engines: DurableEngine[] = [];
afterAll(() => {
  for (const e of engines) e.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(
  orchestrations: Record<string, (ctx: OrchestrationContext) => Generator<any, any, any>>,
  activities: Record<string, Handler> = {},
  wrap?: (name: string, h: Handler) => Handler,
  largeMessages?: LargeMessageStore,
) {
  const reg = new FunctionRegistry();
  for (const [name, fn] of Object.entries(orchestrations)) {
    const trigger = { type: 'orchestrationTrigger', name: 't', direction: 'in' as const };
    const handler = orchestratorHandler(fn as never) as Handler;
    reg.functions.set(name, { name, bindings: { t: trigger }, trigger, handler: wrap ? wrap(name, handler) : handler });
  }
  for (const [name, handler] of Object.entries(activities)) {
    const trigger = { type: 'activityTrigger', name: 't', direction: 'in' as const };
    reg.functions.set(name, { name, bindings: { t: trigger }, trigger, handler });
  }
  const dir = mkdtempSync(join(tmpdir(), 'dialtone-rules-'));
  dirs.push(dir);
  const clock = new SkipAheadClock();
  const logs: string[] = [];
  const engine = new DurableEngine({
    registry: reg,
    store: new InstanceStore(dir),
    clock,
    log: (m) => logs.push(m),
    ...(largeMessages ? { largeMessages } : {}),
  });
  engines.push(engine);
  const drive = async (id: string) => {
    for (let i = 0; i < 500; i++) {
      const s = engine.getStatus(id);
      if (s && s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending') return s;
      await new Promise((r) => setTimeout(r, 5));
      if (engine.isIdle()) {
        const next = engine.nextTimerAt();
        if (next !== undefined) {
          clock.skipTo(next);
          engine.fireDueTimers();
        }
      }
    }
    throw new Error(`${id} did not finish`);
  };
  return { engine, logs, drive };
}

/** Generation 0 continues as new at once; generation 1 waits an hour for event `x`. */
function* twoGenerations(ctx: OrchestrationContext): Generator<any, any, any> {
  const n = ctx.df.getInput<number>();
  if (n === 0) {
    ctx.df.continueAsNew(1);
    return undefined;
  }
  const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 3_600_000));
  const event = ctx.df.waitForExternalEvent('x');
  const winner = yield ctx.df.Task.any([timer, event]);
  if (winner === event) {
    timer.cancel();
    return 'event';
  }
  return 'timeout';
}

describe('events across continueAsNew', () => {
  it('discards an event that reached the generation that continued as new without being waited for', async () => {
    // The extension's out-of-proc shim continues with preserveUnprocessedEvents = false
    // (OutOfProcOrchestrationShim → IDurableOrchestrationContext.ContinueAsNew(input, false)).
    const { engine, drive } = setup({ gen: twoGenerations });
    engine.startNew('gen', 'can-1', 0);
    expect(engine.raiseEvent('can-1', 'x', 'early')).toBe('accepted');
    expect((await drive('can-1')).output).toBe('timeout');
  });

  it('delivers an event raised while an episode runs to the next episode, also across continueAsNew', async () => {
    // A raised event is a queue message addressed to the instance without an execution id
    // (DurableClient.RaiseEventInternalAsync sets ExecutionId = null), so the next work item, in the new
    // generation, gets it. It must never be dropped by the episode that was running when it arrived.
    let raised = false;
    const ref: { engine?: DurableEngine } = {};
    const { engine, drive } = setup(
      { gen: twoGenerations },
      {},
      (_name, h) => async (payload: unknown, ctx: unknown) => {
        if (!raised) {
          raised = true;
          await new Promise((r) => setImmediate(r));
          expect(ref.engine!.raiseEvent('can-2', 'x', 'during')).toBe('accepted');
        }
        return h(payload, ctx);
      },
    );
    ref.engine = engine;
    engine.startNew('gen', 'can-2', 0);
    expect((await drive('can-2')).output).toBe('event');
  });
});

describe('failure messages', () => {
  it('words a failed activity and orchestrator as the extension does, and the chunk orchestrator still reads the cause', async () => {
    const { engine, drive } = setup(
      {
        main: function* (ctx) {
          try {
            yield ctx.df.callActivity('broken', null);
          } catch (e) {
            ctx.df.setCustomStatus((e as Error).message.split('\n')[0]);
          }
          yield ctx.df.callActivity('broken', null);
        },
      },
      { broken: async () => Promise.reject(new Error('throttled: 429 from Graph')) },
    );
    engine.startNew('main', 'fail-1', null);
    const s = await drive('fail-1');
    // TaskActivityShim: "Activity function '<name>' failed: <message>", the message as OutOfProcExceptionHelpers takes it
    // from the host's RpcException text (with the space after "Exception:"); the SDK adds " \n <details>".
    expect(s.customStatus).toBe("Activity function 'broken' failed:  throttled: 429 from Graph ");
    // OutOfProcOrchestrationShim: "Orchestrator function '<name>' failed: <error>".
    expect([s.runtimeStatus, String(s.output)]).toEqual([
      'Failed',
      expect.stringMatching(
        /^Orchestrator function 'main' failed: Activity function 'broken' failed: {2}throttled: 429 from Graph/,
      ),
    ]);
    expect(activityFailure(String(s.customStatus))).toBe('throttled: 429 from Graph');
  });
});

describe('a write Graph keeps throttling', () => {
  it('fails that row throttled once every retry is spent, and the chunk goes on with the others', async () => {
    let attempts = 0;
    const saved: { results: unknown[]; gaveUp?: unknown[] }[] = [];
    const { engine, drive } = setup(
      { [CHUNK_ORCHESTRATOR]: chunkOrchestrator },
      {
        // The chunk's two users stay in the store; the orchestration sends positions.
        [LOAD_CHUNK_ACTIVITY]: async () => 2,
        [ASSIGN_ACTIVITY]: async (a: { index: number }) => {
          if (a.index === 1)
            return { row: 2, outcome: 'assigned', reason: '', message: '', assignedAt: null, provisionedAt: null };
          attempts++;
          throw new TransientGraphError({
            ok: false,
            transient: true,
            reason: 'throttled',
            status: 429,
            code: 'TooManyRequests',
            message: 'Please retry again later.',
          });
        },
        [SAVE_CHUNK_ACTIVITY]: async (input: { results: unknown[]; gaveUp?: unknown[] }) => {
          saved.push(input);
          return { pending: 0 };
        },
        [SETTLE_CHUNK_ACTIVITY]: async () => ({ total: 2 }),
      },
    );
    engine.startNew(CHUNK_ORCHESTRATOR, 'throttled-1', {
      batchId: 'b',
      runKey: 'default/b/r',
      chunk: 0,
      deadline: '2026-11-26T08:00:00.000Z',
      parallelism: 10,
    });
    expect((await drive('throttled-1')).runtimeStatus).toBe('Completed');
    // callActivityWithRetry's 6 attempts (workflows/durable.ts GRAPH_RETRY), then the row is given up, not dropped.
    expect(attempts).toBe(6);
    expect(saved[0]!.results).toEqual([
      { row: 2, outcome: 'assigned', reason: '', message: '', assignedAt: expect.any(String), provisionedAt: null },
    ]);
    expect(saved[0]!.gaveUp).toEqual([
      {
        index: 0,
        reason: 'throttled',
        message: expect.stringMatching(
          /^gave up after repeated transient Graph errors: throttled: HTTP 429 TooManyRequests Please retry again later\./,
        ),
      },
    ]);
  });
});

describe('startNew', () => {
  const once = {
    main: function* (ctx: OrchestrationContext): Generator<any, any, any> {
      return yield ctx.df.callActivity('echo', ctx.df.getInput());
    },
    slow: function* (ctx: OrchestrationContext): Generator<any, any, any> {
      yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 60_000));
      return 'slow';
    },
  };

  it("accepts the instance ids the extension's HTTP API accepted in the conformance run", () => {
    // DurableClient.StartNewAsync refuses these for .NET callers; the HTTP API a Node app's client calls took them all.
    const { engine } = setup(once, { echo: async (x: unknown) => x });
    for (const id of ['@entity', 'a#b', 'a?b', 'a\\b', 'a\u0001b', 'x'.repeat(257)])
      expect(engine.startNew('main', id, null).instanceId).toBe(id);
  });

  it('replaces a finished instance, as the default OverridableExistingInstanceStates does, and refuses a running one', async () => {
    const { engine, drive } = setup(once, { echo: async (x: unknown) => x });
    engine.startNew('main', 'again', 'first');
    expect((await drive('again')).output).toBe('first');
    engine.startNew('main', 'again', 'second');
    const second = await drive('again');
    expect([second.output, second.history.filter((e) => e.EventType === 0).length]).toEqual(['second', 1]);
    engine.startNew('slow', 'busy', null);
    expect(() => engine.startNew('slow', 'busy', null)).toThrow(
      /^An Orchestration instance with the status (Pending|Running) already exists\.$/,
    );
  });
});

describe('payload sizes', () => {
  it('writes every payload over the Azure Storage provider thresholds to a blob, named as that provider names them', async () => {
    // 50 KB of UTF-8 is over the queue's 45 KB but under the history table's 60 KB of UTF-16 (100 KB here: over too).
    const big = 'x'.repeat(50 * 1024);
    const blobs = new Map<string, string>();
    const { engine, logs, drive } = setup(
      {
        main: function* (ctx) {
          const r = (yield ctx.df.callActivity('grow', 'small')) as string;
          yield ctx.df.callActivity('grow', r);
          return r.length;
        },
      },
      { grow: async () => big },
      undefined,
      { upload: async (name, json) => void blobs.set(name, json) },
    );
    engine.startNew('main', 'big-1', null);
    expect((await drive('big-1')).output).toBe(big.length);
    // Messages: two activity results and one activity input; history: the same three properties.
    expect(engine.offloaded).toEqual({ messages: 3, history: 3 });
    expect(logs.filter((l) => /moved to the large-message blob/.test(l))).toHaveLength(3);
    const names = [...blobs.keys()].map((n) => n.replace(/[0-9a-f]{32}/, '<id>').replace(/-[0-9A-F]{8}-/, '-<r>-'));
    expect(names.sort()).toEqual([
      'big-1/history-0000000000000005-TaskCompleted-<r>-Result.json.gz',
      'big-1/history-0000000000000006-TaskScheduled-<r>-Input.json.gz',
      'big-1/history-0000000000000009-TaskCompleted-<r>-Result.json.gz',
      'big-1/message-<id>-TaskCompleted.json.gz',
      'big-1/message-<id>-TaskCompleted.json.gz',
      'big-1/message-<id>-TaskScheduled.json.gz',
    ]);
    for (const [name, json] of blobs) expect([name, json]).toEqual([name, JSON.stringify(big)]);
  });

  it('fails an orchestrator whose custom status is over 16 KB of UTF-16, as the extension does', async () => {
    const { engine, drive } = setup({
      main: function* (ctx) {
        ctx.df.setCustomStatus('y'.repeat(8 * 1024)); // 16 KB of UTF-16: allowed
        yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 1000));
        ctx.df.setCustomStatus('y'.repeat(9 * 1024));
        yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 1000));
        return 'never';
      },
    });
    engine.startNew('main', 'status-1', null);
    const s = await drive('status-1');
    expect([s.runtimeStatus, s.output]).toEqual([
      'Failed',
      "Orchestrator function 'main' failed: The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is 18 KB.",
    ]);
  });
});

describe('actions the SDK no longer waits for', () => {
  // OutOfProcOrchestrationShim.ProcessAsyncActionsV2 starts the SDK's actions one after the other and completes the
  // instance only once each has ended; Task.all in the SDK fails on its first failed task, the extension's on its last.
  const orchestrations = {
    caught: function* (ctx: OrchestrationContext): Generator<any, any, any> {
      try {
        yield ctx.df.Task.all([ctx.df.callActivity('fail', null), ctx.df.waitForExternalEvent('release')]);
      } catch {
        /* the SDK settles Task.all on the failure */
      }
      return 'caught';
    },
    thenMore: function* (ctx: OrchestrationContext): Generator<any, any, any> {
      try {
        yield ctx.df.Task.all([ctx.df.callActivity('fail', null), ctx.df.waitForExternalEvent('release')]);
      } catch {
        /* as above */
      }
      return yield ctx.df.callActivity('echo', 'after');
    },
    raced: function* (ctx: OrchestrationContext): Generator<any, any, any> {
      const winner = yield ctx.df.Task.any([ctx.df.callActivity('echo', 'fast'), ctx.df.waitForExternalEvent('never')]);
      return (winner as { result: unknown }).result;
    },
  };
  const activities = { fail: async () => Promise.reject(new Error('no')), echo: async (x: unknown) => x };
  const settle = () => new Promise((r) => setTimeout(r, 100));

  it('does not complete an instance while a task of a Task.all that failed is still open, and completes it once that ends', async () => {
    const { engine, drive } = setup(orchestrations, activities);
    engine.startNew('caught', 'open-1', null);
    await settle();
    const s = engine.getStatus('open-1')!;
    expect([s.runtimeStatus, s.history.some((e) => e.EventType === 6)]).toEqual(['Running', true]);
    expect(engine.raiseEvent('open-1', 'release', null)).toBe('accepted');
    const done = await drive('open-1');
    expect([done.runtimeStatus, done.output]).toEqual(['Completed', 'caught']);
  });

  it('starts the next action only once the open one has ended', async () => {
    let echoed = 0;
    const { engine, drive } = setup(orchestrations, {
      ...activities,
      echo: async (x: unknown) => {
        echoed++;
        return x;
      },
    });
    engine.startNew('thenMore', 'open-2', null);
    await settle();
    expect([engine.getStatus('open-2')!.runtimeStatus, echoed]).toEqual(['Running', 0]);
    engine.raiseEvent('open-2', 'release', null);
    const s = await drive('open-2');
    expect([s.runtimeStatus, s.output, echoed]).toEqual(['Completed', 'after', 1]);
  });

  it('completes once Task.any has settled, the other task still open', async () => {
    const { engine, drive } = setup(orchestrations, activities);
    engine.startNew('raced', 'open-3', null);
    const s = await drive('open-3');
    expect([s.runtimeStatus, s.output]).toEqual(['Completed', 'fast']);
  });
});

describe('timers days ahead', () => {
  const timers = (s: { history: { EventType: number; FireAt?: unknown }[] }, start: number) =>
    s.history.filter((e) => e.EventType === 10).map((e) => (Date.parse(String(e.FireAt)) - start) / 86_400_000);

  it('waits for a timer over 6 days ahead in segments of 3 days, as the extension does on Azure Storage', async () => {
    const { engine, drive } = setup({
      main: function* (ctx: OrchestrationContext): Generator<any, any, any> {
        yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 10 * 86_400_000));
        return ctx.df.currentUtcDateTime.toISOString();
      },
    });
    const start = engine.startNew('main', 'long-1', null).createdTime;
    const s = await drive('long-1');
    const t0 = Date.parse(start);
    // DurableOrchestrationContext.CreateTimer: 3 days at a time, the last segment what is left.
    expect(timers(s, t0).map((d) => Math.round(d * 100) / 100)).toEqual([3, 6, 9, 10]);
    expect(s.runtimeStatus).toBe('Completed');
    expect(Date.parse(String(s.output)) - t0).toBeGreaterThanOrEqual(10 * 86_400_000);
  });

  it('keeps a timer up to 6 days ahead whole, and wakes an instance waiting on a long one for an event', async () => {
    const { engine, drive } = setup({
      main: function* (ctx: OrchestrationContext): Generator<any, any, any> {
        const days = ctx.df.getInput<number>();
        const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + days * 86_400_000));
        const wake = ctx.df.waitForExternalEvent('wake');
        const winner = yield ctx.df.Task.any([timer, wake]);
        if (winner === wake) timer.cancel();
        return winner === wake ? 'event' : 'timer';
      },
    });
    const t4 = Date.parse(engine.startNew('main', 'long-4', 4).createdTime);
    const t10 = Date.parse(engine.startNew('main', 'long-10', 10).createdTime);
    await new Promise((r) => setTimeout(r, 100));
    expect(timers(engine.getStatus('long-4')!, t4).map(Math.round)).toEqual([4]);
    expect(timers(engine.getStatus('long-10')!, t10).map(Math.round)).toEqual([3]);
    engine.raiseEvent('long-10', 'wake', null);
    expect((await drive('long-10')).output).toBe('event');
  });
});

describe('racing events', () => {
  it('keeps every event raised at once, in the order they were accepted', async () => {
    const { engine, drive } = setup({
      main: function* (ctx: OrchestrationContext): Generator<any, any, any> {
        const got: unknown[] = [];
        for (let i = 0; i < 6; i++) got.push(yield ctx.df.waitForExternalEvent('e'));
        return got;
      },
    });
    engine.startNew('main', 'race-1', null);
    await Promise.all([0, 1, 2].map(async (i) => engine.raiseEvent('race-1', 'e', `a${i}`)));
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([0, 1, 2].map(async (i) => engine.raiseEvent('race-1', 'e', `b${i}`)));
    expect((await drive('race-1')).output).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
  });
});
