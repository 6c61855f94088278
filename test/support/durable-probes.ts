// Small orchestrations and activities that only the tests' hosts register (DIALTONE_EXTRA_FUNCTIONS, loaded after the
// app): each drives one durable behaviour where the local engine must do what the real Durable extension does, and
// test/conformance runs each on both engines (docs/conformance.md, "The local engine as strict as the extension").
// Compiled for the hosts by probeModule() (test/support/probe-scenarios.ts).
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';

export const PROBE = {
  /** Task.all of a failing activity and an event, caught, then returns: on the extension it ends only with the event. */
  unfinished: 'probe-unfinished',
  /** Waits on a timer days ahead or an event, twice (input: the days), then returns what woke it each time. */
  longTimer: 'probe-long-timer',
  /** Takes `input` events named `e`, one after the other, and returns their values sorted. */
  events: 'probe-events',
  /** Its input, an activity's result and its output are each over the large-message threshold (input: the size). */
  large: 'probe-large',
  fail: 'probe-fail',
  echo: 'probe-echo',
  big: 'probe-big',
} as const;

/** What probe-unfinished's event is called. */
export const RELEASE_EVENT = 'release';
export const WAKE_EVENT = 'wake';
export const RACE_EVENT = 'e';

/** A string of `size` characters that gzip does not shrink much (a large message compressed stays large). */
export function bulky(size: number, seed: number): string {
  let x = seed >>> 0 || 1;
  let out = '';
  while (out.length < size) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += x.toString(36);
  }
  return out.slice(0, size);
}

export function registerProbes(): void {
  df.app.activity(PROBE.fail, {
    handler: async () => {
      throw new Error('probe activity failed on purpose');
    },
  });
  df.app.activity(PROBE.echo, { handler: async (x: unknown) => x });
  df.app.activity(PROBE.big, { handler: async (x: { size: number; seed: number }) => bulky(x.size, x.seed) });

  df.app.orchestration(PROBE.unfinished, function* (ctx: OrchestrationContext) {
    let caught = '';
    try {
      yield ctx.df.Task.all([ctx.df.callActivity(PROBE.fail, null), ctx.df.waitForExternalEvent(RELEASE_EVENT)]);
    } catch (e) {
      caught = String((e as Error).message)
        .split('\n')[0]!
        .trim();
    }
    return caught;
  });

  df.app.orchestration(PROBE.longTimer, function* (ctx: OrchestrationContext) {
    const days = ctx.df.getInput<number>();
    const woke: unknown[] = [];
    for (let round = 0; round < 2; round++) {
      const timer = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + days * 86_400_000));
      const wake = ctx.df.waitForExternalEvent(WAKE_EVENT);
      const winner = (yield ctx.df.Task.any([timer, wake])) as Task;
      if (winner === wake) {
        timer.cancel();
        woke.push(wake.result);
      } else woke.push('timer');
      yield ctx.df.callActivity(PROBE.echo, round);
    }
    return woke;
  });

  df.app.orchestration(PROBE.events, function* (ctx: OrchestrationContext) {
    const n = ctx.df.getInput<number>();
    const got: string[] = [];
    for (let i = 0; i < n; i++) got.push(String(yield ctx.df.waitForExternalEvent(RACE_EVENT)));
    return got.sort();
  });

  df.app.orchestration(PROBE.large, function* (ctx: OrchestrationContext) {
    const input = ctx.df.getInput<string>();
    const result = (yield ctx.df.callActivity(PROBE.big, { size: input.length, seed: 7 })) as string;
    return { input: input.length, result: result.length, echo: result + input.slice(0, 10) };
  });
}
