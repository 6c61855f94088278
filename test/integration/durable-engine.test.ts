// The local durable engine driving the real durable-functions SDK: activities, retries, timers, external events,
// sub-orchestrations, continueAsNew, custom status, persistence across a crash, and non-determinism detection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { SkipAheadClock } from '../../local/clock';
import { DurableEngine } from '../../local/host/durable/engine';
import { InstanceStore } from '../../local/host/durable/store';
import { FunctionRegistry } from '../../local/host/functions-core';
import { orchestratorHandler } from '../support/durable-sdk';

type Handler = (...args: any[]) => unknown;

function registry(
  orchestrations: Record<string, (ctx: OrchestrationContext) => Generator<any, any, any>>,
  activities: Record<string, Handler>,
): FunctionRegistry {
  const r = new FunctionRegistry();
  for (const [name, fn] of Object.entries(orchestrations)) {
    const trigger = { type: 'orchestrationTrigger', name: 't', direction: 'in' as const };
    r.functions.set(name, { name, bindings: { t: trigger }, trigger, handler: orchestratorHandler(fn as never) });
  }
  for (const [name, handler] of Object.entries(activities)) {
    const trigger = { type: 'activityTrigger', name: 't', direction: 'in' as const };
    r.functions.set(name, { name, bindings: { t: trigger }, trigger, handler });
  }
  return r;
}

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const engineDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'dialtone-engine-'));
  made.push(d);
  return d;
};

function engineFor(reg: FunctionRegistry, dir = engineDir(), clock = new SkipAheadClock()) {
  const logs: string[] = [];
  const engine = new DurableEngine({ registry: reg, store: new InstanceStore(dir), clock, log: (m) => logs.push(m) });
  return { engine, dir, clock, logs };
}

/** Runs until the instance ends, skipping to each timer when the engine is idle. */
async function drive(engine: DurableEngine, clock: SkipAheadClock, id: string, maxSteps = 500): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    const s = engine.getStatus(id);
    if (s && s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending') return;
    await new Promise((r) => setTimeout(r, 5));
    if (engine.isIdle()) {
      const next = engine.nextTimerAt();
      if (next !== undefined) {
        clock.skipTo(next);
        engine.fireDueTimers();
      }
    }
  }
  throw new Error(`instance ${id} did not finish: ${JSON.stringify(engine.getStatus(id)?.runtimeStatus)}`);
}

describe('local durable engine', () => {
  it('runs activities in sequence and in parallel, with custom status and output', async () => {
    const reg = registry(
      {
        main: function* (ctx) {
          const a = yield ctx.df.callActivity('double', 2);
          ctx.df.setCustomStatus({ step: 1 });
          const many = yield ctx.df.Task.all([1, 2, 3].map((n) => ctx.df.callActivity('double', n)));
          const s = yield ctx.df.callActivity('echo', 'text');
          return { a, many, s };
        },
      },
      { double: async (n: number) => n * 2, echo: async (s: string) => s },
    );
    const { engine, clock } = engineFor(reg);
    engine.startNew('main', 'i1', null);
    await drive(engine, clock, 'i1');
    const s = engine.getStatus('i1')!;
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toEqual({ a: 4, many: [2, 4, 6], s: 'text' });
    expect(s.customStatus).toEqual({ step: 1 });
  });

  it('retries a failing activity with callActivityWithRetry, recording a timer per back-off', async () => {
    let calls = 0;
    const retry = new df.RetryOptions(60_000, 4);
    const reg = registry(
      {
        main: function* (ctx) {
          const r = yield ctx.df.callActivityWithRetry('flaky', retry, 'x');
          const after = yield ctx.df.callActivity('ok', null);
          return [r, after];
        },
      },
      {
        flaky: async () => {
          if (++calls < 3) throw new Error(`transient ${calls}`);
          return 'done';
        },
        ok: async () => 'ok',
      },
    );
    const { engine, clock } = engineFor(reg);
    const started = clock.now();
    engine.startNew('main', 'r1', null);
    await drive(engine, clock, 'r1');
    expect(engine.getStatus('r1')!.output).toEqual(['done', 'ok']);
    expect(calls).toBe(3);
    expect(clock.now() - started).toBeGreaterThanOrEqual(120_000);
    const types = engine.getStatus('r1')!.history.map((e) => e.EventType);
    expect(types.filter((t) => t === 6)).toHaveLength(2);
    expect(types.filter((t) => t === 11)).toHaveLength(2);
  });

  it('fails the task after the last retry and lets the orchestrator catch it', async () => {
    const retry = new df.RetryOptions(1_000, 2);
    const reg = registry(
      {
        main: function* (ctx) {
          try {
            yield ctx.df.callActivityWithRetry('broken', retry, null);
            return 'no';
          } catch (e) {
            return `caught: ${(e as Error).message.split('\n')[0]}`;
          }
        },
      },
      { broken: async () => Promise.reject(new Error('always')) },
    );
    const { engine, clock } = engineFor(reg);
    engine.startNew('main', 'f1', null);
    await drive(engine, clock, 'f1');
    // Two spaces, as the Durable extension writes the failure of an error thrown in Node (docs/conformance.md).
    expect(engine.getStatus('f1')!.output).toMatch(/^caught: Activity function 'broken' failed: {2}always/);
  });

  it('waits on durable timers and external events (Task.any), cancelling the losing timer', async () => {
    const reg = registry(
      {
        main: function* (ctx) {
          const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 3_600_000));
          const ev = ctx.df.waitForExternalEvent('go');
          const winner = yield ctx.df.Task.any([timer, ev]);
          if (winner !== timer) timer.cancel();
          const second = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 60_000));
          yield second;
          return winner === ev ? ev.result : 'timer';
        },
      },
      {},
    );
    const { engine, clock } = engineFor(reg);
    const t0 = clock.now();
    engine.startNew('main', 'e1', null);
    await new Promise((r) => setTimeout(r, 50));
    expect(engine.raiseEvent('e1', 'go', { please: true })).toBe('accepted');
    await drive(engine, clock, 'e1');
    expect(engine.getStatus('e1')!.output).toEqual({ please: true });
    expect(clock.now() - t0).toBeLessThan(3_600_000);
    expect(engine.raiseEvent('e1', 'go', 1)).toBe('gone');
    expect(engine.raiseEvent('nope', 'go', 1)).toBe('not_found');
  });

  it('runs sub-orchestrations and continueAsNew, keeping each history short', async () => {
    const reg = registry(
      {
        parent: function* (ctx) {
          const out = yield ctx.df.Task.all(
            [0, 1].map((i) =>
              ctx.df.callSubOrchestrator('counter', { n: 0, limit: 5 + i }, `${ctx.df.instanceId}:c${i}`),
            ),
          );
          return out;
        },
        counter: function* (ctx) {
          const input = ctx.df.getInput<{ n: number; limit: number }>();
          const n = (yield ctx.df.callActivity('inc', input.n)) as number;
          if (n < input.limit) {
            ctx.df.continueAsNew({ ...input, n });
            return undefined;
          }
          return n;
        },
      },
      { inc: async (n: number) => n + 1 },
    );
    const { engine, clock } = engineFor(reg);
    engine.startNew('parent', 'p1', null);
    await drive(engine, clock, 'p1');
    expect(engine.getStatus('p1')!.output).toEqual([5, 6]);
    expect(engine.getStatus('p1:c1')!.history.length).toBeLessThan(12);
  });

  it('resumes after a crash: a new engine on the same state re-runs unrecorded activities and finishes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: string[] = [];
    const orchestrations = {
      main: function* (ctx: OrchestrationContext): Generator<unknown, unknown[], unknown> {
        const a = yield ctx.df.callActivity('step', 'a');
        const b = yield ctx.df.callActivity('step', 'b');
        yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 600_000));
        return [a, b];
      },
    };
    const first = engineFor(
      registry(orchestrations, {
        step: async (x: string) => {
          calls.push(`1:${x}`);
          if (x === 'b') await gate;
          return x.toUpperCase();
        },
      }),
    );
    first.engine.startNew('main', 'c1', null);
    while (!calls.includes('1:b')) await new Promise((r) => setTimeout(r, 5));
    first.engine.stop(); // the process dies with step b in flight
    release();
    const second = engineFor(
      registry(orchestrations, {
        step: async (x: string) => {
          calls.push(`2:${x}`);
          return x.toUpperCase();
        },
      }),
      first.dir,
      first.clock,
    );
    await second.engine.recover();
    await drive(second.engine, second.clock, 'c1');
    expect(second.engine.getStatus('c1')!.output).toEqual(['A', 'B']);
    expect(calls).toEqual(['1:a', '1:b', '2:b']);
  });

  it('creates a sub-orchestration on recovery when the host died after recording the parent but before creating the child', async () => {
    const orchestrations = {
      parent: function* (ctx: OrchestrationContext): Generator<unknown, unknown, unknown> {
        return yield ctx.df.callSubOrchestrator('child', 21, 'kid-1');
      },
      child: function* (ctx: OrchestrationContext): Generator<unknown, unknown, unknown> {
        return yield ctx.df.callActivity('double', ctx.df.getInput<number>());
      },
    };
    const first = engineFor(registry(orchestrations, { double: () => new Promise<number>(() => {}) })); // never answers
    first.engine.startNew('parent', 'p-crash', null);
    for (let i = 0; i < 500 && !first.engine.getStatus('p-crash')?.pendingChildren.length; i++)
      await new Promise((r) => setTimeout(r, 2));
    expect(first.engine.getStatus('p-crash')!.pendingChildren).toHaveLength(1);
    first.engine.stop();
    first.engine.purge('kid-1'); // as if the child had never been written
    const second = engineFor(registry(orchestrations, { double: async (n: number) => n * 2 }), first.dir, first.clock);
    await second.engine.recover();
    await drive(second.engine, second.clock, 'p-crash');
    expect(second.engine.getStatus('p-crash')!.output).toBe(42);
  });

  it('fails an instance whose orchestrator code no longer matches its history, with a clear error', async () => {
    let version = 1;
    const orchestrations = {
      main: function* (ctx: OrchestrationContext): Generator<unknown, string, unknown> {
        yield ctx.df.callActivity(version === 1 ? 'first' : 'renamed', null);
        yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 60_000));
        return 'done';
      },
    };
    const { engine, clock, logs } = engineFor(
      registry(orchestrations, { first: async () => 1, renamed: async () => 2 }),
    );
    engine.startNew('main', 'n1', null);
    while (!engine.getStatus('n1')!.pendingTimers.length) await new Promise((r) => setTimeout(r, 5));
    version = 2; // a deployment changed the code while the instance was waiting
    await drive(engine, clock, 'n1');
    const s = engine.getStatus('n1')!;
    expect(s.runtimeStatus).toBe('Failed');
    expect(String(s.output)).toMatch(
      /Non-deterministic orchestrator main \(instance n1\): history has activity:first as task 1, but the code now schedules activity:renamed/,
    );
    expect(logs.join('\n')).toMatch(/Non-deterministic/);
  });

  it('fails an instance whose orchestrator throws, keeping the error', async () => {
    const { engine, clock } = engineFor(
      registry(
        {
          main: function* () {
            yield* [];
            throw new Error('boom');
          },
        },
        {},
      ),
    );
    engine.startNew('main', 'x1', null);
    await drive(engine, clock, 'x1');
    expect(engine.getStatus('x1')).toMatchObject({ runtimeStatus: 'Failed' });
    expect(String(engine.getStatus('x1')!.output)).toContain('boom');
  });

  it('counts as idle when queued activities wait for slots that activities sleeping on the clock hold, and not before', async () => {
    const release: (() => void)[] = [];
    const reg = registry(
      {
        fan: function* (ctx) {
          return yield ctx.df.Task.all([1, 2, 3].map((n) => ctx.df.callActivity('sleepy', n)));
        },
      },
      { sleepy: (n: number) => new Promise((resolve) => release.push(() => resolve(n))) },
    );
    const clock = new SkipAheadClock();
    const engine = new DurableEngine({
      registry: reg,
      store: new InstanceStore(engineDir()),
      clock,
      log: () => {},
      maxConcurrentActivities: 2,
    });
    engine.startNew('fan', 'q1', null);
    for (let i = 0; i < 200 && release.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(release).toHaveLength(2); // two slots, the third activity queued
    // Both running activities sleep on the clock: the queued one cannot start before one wakes.
    expect(engine.isIdle(2)).toBe(true);
    // One of them is doing real work: it can finish and free a slot at any moment.
    expect(engine.isIdle(1)).toBe(false);
    release.shift()!();
    for (let i = 0; i < 200 && release.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    // The third has started in the freed slot; with only one sleeping, the engine is busy.
    expect(engine.isIdle(1)).toBe(false);
    while (release.length) release.shift()!();
    await drive(engine, clock, 'q1');
    expect(engine.getStatus('q1')!.output).toEqual([1, 2, 3]);
  });
});
