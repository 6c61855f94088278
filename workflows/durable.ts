// What every orchestrator shares: activity calls typed by their contracts (contracts/activities.ts), the retry policies
// of those calls (the Durable extension runs the retries on its own timers, so they replay like any other task),
// waiting for a set of calls while keeping each one's outcome, and an activity's own message out of a failed task.
// Orchestrators import these from here, never from one another.
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { activityAnswer, type ActivityInput, type ActivityName, type ActivityOutput } from '../contracts/activities';

/** Transient Graph failures (429, 5xx, resets) for one user: retried for about ten minutes before giving up. */
export const GRAPH_RETRY = new df.RetryOptions(10_000, 6);
GRAPH_RETRY.backoffCoefficient = 2;
GRAPH_RETRY.maxRetryIntervalInMilliseconds = 300_000;

/** Batch store reads and writes: storage hiccups retried for about a minute. */
export const STORE_RETRY = new df.RetryOptions(2_000, 5);
STORE_RETRY.backoffCoefficient = 2;

/** Storage and Graph reads in preflight and finish: retried for about two minutes. */
export const STEP_RETRY = new df.RetryOptions(5_000, 6);
STEP_RETRY.backoffCoefficient = 2;
STEP_RETRY.maxRetryIntervalInMilliseconds = 60_000;

/** Graph reads while planning a slot: transient failures retried for about ten minutes. */
export const SLOT_RETRY = new df.RetryOptions(10_000, 6);
SLOT_RETRY.backoffCoefficient = 2;
SLOT_RETRY.maxRetryIntervalInMilliseconds = 300_000;

/** Storage hiccups while recording an attempt: retried for about a minute. */
export const CALLBACK_STORE_RETRY = new df.RetryOptions(2_000, 5);
CALLBACK_STORE_RETRY.backoffCoefficient = 2;

/**
 * Calls an activity with retries and answers its checked result: `yield* call(context, NAME, RETRY, input)`. One task,
 * as callActivityWithRetry schedules it; the answer, new or replayed from the history, goes through activityAnswer.
 */
export function* call<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  retry: df.RetryOptions,
  input: ActivityInput<N>,
): Generator<Task, ActivityOutput<N>, unknown> {
  return activityAnswer(name, yield context.df.callActivityWithRetry(name, retry, input));
}

export type Settled<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Calls one activity for each input at once and waits for every call, keeping each one's checked answer or failure
 * (Task.all would stop at the first failure). An answer the check refuses fails the orchestration, not the row.
 */
export function* settleAll<N extends ActivityName>(
  context: OrchestrationContext,
  name: N,
  retry: df.RetryOptions,
  inputs: readonly ActivityInput<N>[],
): Generator<Task, Settled<ActivityOutput<N>>[], unknown> {
  const tasks = inputs.map((input) => context.df.callActivityWithRetry(name, retry, input));
  try {
    yield context.df.Task.all(tasks);
  } catch {
    // some failed; each is collected below
  }
  const out: Settled<ActivityOutput<N>>[] = [];
  for (const t of tasks) {
    let answer: unknown;
    try {
      answer = yield t;
    } catch (e) {
      out.push({ ok: false, message: e instanceof Error ? e.message : String(e) });
      continue;
    }
    out.push({ ok: true, value: activityAnswer(name, answer) });
  }
  return out;
}

/**
 * The activity's own message from a failed task: the Durable extension reports it as
 * "Activity function '<name>' failed: <message>" (TaskActivityShim), and the SDK appends " \n <details>".
 */
export function activityFailure(message: string): string {
  return message
    .replace(/^Activity function '[^']*' failed: /, '')
    .split('\n')[0]!
    .trim();
}
