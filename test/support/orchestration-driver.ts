// Drives one orchestrator through the real durable-functions SDK the way the Durable extension does: replay the
// history, append what the orchestrator scheduled and what completed (activity results from the test, timers fired in
// time order), replay again, until it finishes or continues as new. Tests then assert on what was scheduled, in
// order, and on the size of every message exchanged (inputs, results, the continue-as-new input, the output).
import type { OrchestrationHandler } from 'durable-functions';
import { flatActions, replay as replayState, type ReplayedAction } from './durable-sdk';
import { ev } from './history';

export type DrivenAction = ReplayedAction;

/**
 * An activity's or sub-orchestration's answer: a result, or a failure; `raiseBefore` lands first (events raised
 * meanwhile); with `afterMs`, it comes that long after it was scheduled (in time order with timers), not at once.
 */
export type Answer = ({ result: unknown } | { fail: string }) & {
  raiseBefore?: readonly RaisedEvent[];
  afterMs?: number;
};
export interface RaisedEvent {
  readonly name: string;
  readonly input?: unknown;
}

export interface DriveOptions {
  readonly instanceId?: string;
  /** The orchestration's clock at its start (ISO). */
  readonly start: string;
  /** Answers each activity (actionType 0/1) and sub-orchestration (2/3) as it is scheduled; `now` is the orchestration's time. */
  readonly answer: (action: DrivenAction, now: string) => Answer;
  /** Called before a timer fires: events returned are raised instead (at `now`), and the timer stays pending. */
  readonly beforeTimer?: (fireAt: string, now: string) => readonly RaisedEvent[] | undefined;
  readonly maxSteps?: number;
  /** Timers fire this long after their due time (as Azure's queue polling can make them); default 0. */
  readonly timerLateMs?: number;
  /** Start the next generation with the continue-as-new input (a fresh history, as the extension does) until done. */
  readonly followContinueAsNew?: boolean;
}

export interface DriveResult {
  /** Scheduled activities, sub-orchestrations and timers, in order (event waits left out). */
  readonly scheduled: DrivenAction[];
  readonly output?: unknown;
  readonly continuedAsNew?: unknown;
  readonly error?: string;
  /** UTF-8 bytes of the largest message: an input, a result, the continue-as-new input or the output. */
  readonly largestMessageBytes: number;
  readonly largestMessage: string;
  readonly now: string;
  /** Generations run (1 + continue-as-new followed). */
  readonly generations?: number;
}

async function replay(fn: OrchestrationHandler, history: unknown[], input: unknown, instanceId: string) {
  const state = await replayState(fn, history, input, instanceId);
  // A task yielded again inside a new Task.all/any (the batch waits again for the chunks still running) appears again
  // in the compound action: each action object counts once, in the order first scheduled.
  return { ...state, flat: flatActions(state.actions, true) };
}

export async function drive(fn: OrchestrationHandler, input: unknown, options: DriveOptions): Promise<DriveResult> {
  if (!options.followContinueAsNew) return driveOne(fn, input, options);
  const scheduled: DrivenAction[] = [];
  let largest = { bytes: 0, what: '' };
  let start = options.start;
  for (let generation = 1; ; generation++) {
    const r = await driveOne(fn, input, { ...options, start });
    scheduled.push(...r.scheduled);
    if (r.largestMessageBytes > largest.bytes) largest = { bytes: r.largestMessageBytes, what: r.largestMessage };
    if (r.continuedAsNew === undefined)
      return {
        ...r,
        scheduled,
        largestMessageBytes: largest.bytes,
        largestMessage: largest.what,
        generations: generation,
      };
    input = r.continuedAsNew;
    start = r.now;
  }
}

async function driveOne(fn: OrchestrationHandler, input: unknown, options: DriveOptions): Promise<DriveResult> {
  const instanceId = options.instanceId ?? 'b1:chunk-0';
  let now = options.start;
  let largest = { bytes: 0, what: '' };
  const note = (what: string, json: string | undefined) => {
    const bytes = Buffer.byteLength(json ?? '', 'utf8');
    if (bytes > largest.bytes) largest = { bytes, what };
  };
  const inputJson = JSON.stringify(input);
  note('input', inputJson);
  const history: unknown[] = [ev(12, {}, now), ev(0, { Name: 'x', Input: inputJson }, now)];
  const pendingTimers = new Map<number, string>();
  /** Answers that come later (afterMs), with when. */
  const later: { at: number; events: unknown[] }[] = [];
  let known = 0;
  for (let step = 0; step < (options.maxSteps ?? 100_000); step++) {
    const state = await replay(fn, history, input, instanceId);
    const tasks = state.flat.filter((a) => a.actionType !== 6);
    if (state.error)
      return {
        scheduled: tasks,
        error: state.error,
        largestMessageBytes: largest.bytes,
        largestMessage: largest.what,
        now,
      };
    const can = tasks.find((a) => a.actionType === 4);
    if (can) {
      note('continue-as-new input', JSON.stringify(can.input));
      return {
        scheduled: tasks,
        continuedAsNew: can.input,
        largestMessageBytes: largest.bytes,
        largestMessage: largest.what,
        now,
      };
    }
    if (state.isDone) {
      note('output', JSON.stringify(state.output));
      return {
        scheduled: tasks,
        output: state.output,
        largestMessageBytes: largest.bytes,
        largestMessage: largest.what,
        now,
      };
    }
    const fresh = tasks.slice(known);
    const completions: unknown[] = [];
    for (const [k, a] of fresh.entries()) {
      const id = known + k;
      if (a.actionType === 5) {
        history.push(ev(10, { EventId: id, FireAt: a.fireAt }, now));
        pendingTimers.set(id, a.fireAt!);
      } else {
        const sub = a.actionType === 2 || a.actionType === 3;
        const inJson = JSON.stringify(a.input);
        note(`${a.functionName} input`, inJson);
        history.push(
          ev(
            sub ? 7 : 4,
            {
              EventId: id,
              Name: a.functionName,
              ...(sub ? { InstanceId: a.instanceId, Input: inJson } : { Input: inJson }),
            },
            now,
          ),
        );
        const answer = options.answer(a, now);
        const events: unknown[] = [];
        for (const e of answer.raiseBefore ?? [])
          events.push(ev(15, { Name: e.name, Input: JSON.stringify(e.input ?? null) }, now));
        if ('fail' in answer)
          events.push(ev(sub ? 9 : 6, { TaskScheduledId: id, Reason: answer.fail, Details: answer.fail }, now));
        else {
          const json = JSON.stringify(answer.result);
          note(`${a.functionName} result`, json);
          events.push(ev(sub ? 8 : 5, { TaskScheduledId: id, Result: json }, now));
        }
        if (answer.afterMs) later.push({ at: Date.parse(now) + answer.afterMs, events });
        else completions.push(...events);
      }
    }
    known = tasks.length;
    // Cancelled timers never fire.
    for (const [id] of pendingTimers) if (tasks[id]?.isCanceled) pendingTimers.delete(id);
    if (completions.length === 0 && later.length > 0) {
      // An answer due before the next timer lands first.
      later.sort((a, b) => a.at - b.at);
      const timerAt = Math.min(...[...pendingTimers.values()].map((t) => Date.parse(t)));
      if (later[0]!.at <= timerAt) {
        const { at: due, events } = later.shift()!;
        if (due > Date.parse(now)) now = new Date(due).toISOString();
        completions.push(...events.map((e) => ({ ...(e as object), Timestamp: now })));
      }
    }
    if (completions.length === 0) {
      const next = [...pendingTimers].sort((a, b) => Date.parse(a[1]) - Date.parse(b[1]))[0];
      if (!next)
        return {
          scheduled: tasks,
          error: 'stuck: nothing scheduled and no timer pending',
          largestMessageBytes: largest.bytes,
          largestMessage: largest.what,
          now,
        };
      const raised = options.beforeTimer?.(next[1], now);
      if (raised && raised.length > 0) {
        for (const e of raised) completions.push(ev(15, { Name: e.name, Input: JSON.stringify(e.input ?? null) }, now));
      } else {
        pendingTimers.delete(next[0]);
        const firedAt = Date.parse(next[1]) + (options.timerLateMs ?? 0);
        if (firedAt > Date.parse(now)) now = new Date(firedAt).toISOString();
        completions.push(ev(11, { TimerId: next[0], FireAt: next[1] }, now));
      }
    }
    history.push(ev(12, {}, now), ...completions);
  }
  throw new Error('too many steps');
}
