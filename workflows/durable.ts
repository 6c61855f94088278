// What every orchestrator shares: the retry policies of its activity calls (the Durable extension runs the retries on
// its own timers, so they replay like any other task), waiting for a set of tasks while keeping each one's outcome, and
// an activity's own message out of a failed task. Orchestrators import these from here, never from one another.
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';

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

export type Settled<T> = { ok: true; value: T } | { ok: false; message: string };

/** Waits for every task, keeping each one's result or failure (Task.all would stop at the first failure). */
export function* settleAll<T>(context: OrchestrationContext, tasks: Task[]): Generator<Task, Settled<T>[], unknown> {
  try {
    yield context.df.Task.all(tasks);
  } catch {
    // some failed; each is collected below
  }
  const out: Settled<T>[] = [];
  for (const t of tasks) {
    try {
      out.push({ ok: true, value: (yield t) as T });
    } catch (e) {
      out.push({ ok: false, message: e instanceof Error ? e.message : String(e) });
    }
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
