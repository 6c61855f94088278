// One chunk of users: assign their licences a few at a time (each assignment retried on transient Graph errors),
// then watch Teams on durable timers until every calling plan shows or the deadline passes. A `recheck` event
// checks at once. The loop continues as new every few polls so the history stays short.
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { ChunkUserResult, PlannedAssignment } from '../shared/domain/batch';
import { nextPollAt } from '../shared/domain/polling';
import { countOutcomes } from '../shared/domain/report';
import type { AssignInput, ChunkInput, ChunkState, ChunkSummary, ProbeInput, ProbeResult } from './contracts';
import type { NumberResult, NumbersInput } from './number-contracts';
import { ASSIGN_ACTIVITY, CANCEL_EVENT, LOAD_CHUNK_ACTIVITY, NUMBERS_ORCHESTRATOR, PROBE_TEAMS_ACTIVITY, RECHECK_EVENT, SAVE_CHUNK_ACTIVITY, numbersInstanceId } from './names';

/** Transient Graph failures (429, 5xx, resets) for one user: retried for about ten minutes before giving up. */
export const GRAPH_RETRY = new df.RetryOptions(10_000, 6);
GRAPH_RETRY.backoffCoefficient = 2;
GRAPH_RETRY.maxRetryIntervalInMilliseconds = 300_000;

export const STORE_RETRY = new df.RetryOptions(2_000, 5);
STORE_RETRY.backoffCoefficient = 2;

/** Times one check waits for its slots in the shared Teams read budget before it counts as a poll that read nothing. */
export const MAX_DEFERRALS = 4;

/** Polls between continue-as-new, which keeps each history bounded. */
export const POLLS_PER_GENERATION = 8;

type Settled<T> = { ok: true; value: T } | { ok: false; message: string };

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
 * A 401/403 on Teams reads (TeamsUserConfiguration.Read.All not granted or not consented) does not pass with time:
 * those users stop waiting at once and fail `forbidden` with the message naming the permission.
 */
export function endRefusedWaits(results: ChunkUserResult[], pending: ChunkState['pending'], refused: ProbeResult['refused']): { results: ChunkUserResult[]; pending: ChunkState['pending'] } {
  if (refused.length === 0) return { results, pending };
  const byUser = new Map(refused.map((r) => [r.userId, r.message]));
  const rows = new Map(pending.filter((p) => byUser.has(p.userId)).map((p) => [p.row, byUser.get(p.userId)!]));
  return {
    results: results.map((r) => (rows.has(r.row) ? { ...r, outcome: 'failed', reason: 'forbidden', message: `licences assigned, but Teams cannot be read to confirm the calling plan: ${rows.get(r.row)!}` } : r)),
    pending: pending.filter((p) => !rows.has(p.row)),
  };
}

/**
 * The activity's own message from a failed task: the Durable extension reports it as
 * "Activity function '<name>' failed: <message>" (TaskActivityShim), and the SDK appends " \n <details>".
 */
export function activityFailure(message: string): string {
  return message.replace(/^Activity function '[^']*' failed: /, '').split('\n')[0]!.trim();
}

export const chunkOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ChunkInput>();
  const runKey = input.runKey ?? input.batchId;
  let state: ChunkState;
  if (input.state) {
    state = input.state;
  } else {
    const work = (yield context.df.callActivityWithRetry(LOAD_CHUNK_ACTIVITY, STORE_RETRY, { runKey, chunk: input.chunk })) as PlannedAssignment[];
    const results: ChunkUserResult[] = [];
    for (let i = 0; i < work.length; i += input.parallelism) {
      const group = work.slice(i, i + input.parallelism);
      const settled = yield* settleAll<ChunkUserResult>(context, group.map((w) => context.df.callActivityWithRetry(ASSIGN_ACTIVITY, GRAPH_RETRY, { ...w, runKey } satisfies AssignInput)));
      const at = context.df.currentUtcDateTime.toISOString();
      settled.forEach((s, k) => {
        const row = group[k]!.row;
        if (s.ok) results.push({ ...s.value, assignedAt: s.value.outcome === 'assigned' ? at : null });
        else {
          const cause = activityFailure(s.message);
          results.push({ row, outcome: 'failed', reason: /^throttled\b/.test(cause) ? 'throttled' : 'graph_error', message: `gave up after repeated transient Graph errors: ${cause.slice(0, 400)}`, assignedAt: null, provisionedAt: null });
        }
      });
    }
    const polled = new Map(work.filter((w) => w.pollTeams).map((w) => [w.row, w]));
    const pending = results
      .filter((r) => r.outcome === 'assigned' && polled.has(r.row))
      .map((r) => {
        const w = polled.get(r.row)!;
        return { row: r.row, userId: w.userId, ...(w.waitFor ? { waitFor: w.waitFor } : {}), ...(w.number ? { number: true as const } : {}) };
      });
    state = { results, pending, assignedAt: context.df.currentUtcDateTime.toISOString(), polls: 0 };
    yield context.df.callActivityWithRetry(SAVE_CHUNK_ACTIVITY, STORE_RETRY, { runKey, chunk: input.chunk, results: state.results });
  }

  const deadline = new Date(input.deadline);
  let { results, pending, polls } = state;
  while (pending.length > 0) {
    const next = nextPollAt(new Date(state.assignedAt), context.df.currentUtcDateTime, deadline);
    if (!next) break;
    const timer = context.df.createTimer(next);
    const recheck = context.df.waitForExternalEvent(RECHECK_EVENT);
    // The batch was cancelled: its licensed rows stop waiting for Teams and end assigned (as recorded).
    const cancel = context.df.waitForExternalEvent(CANCEL_EVENT);
    const winner = (yield context.df.Task.any([timer, recheck, cancel])) as Task;
    if (winner !== timer && !timer.isCompleted) timer.cancel();
    if (winner === cancel) {
      pending = [];
      break;
    }
    const phoneSystemOnly = pending.filter((p) => p.waitFor === 'PhoneSystem').map((p) => p.userId);
    const check: ProbeInput = { userIds: pending.map((p) => p.userId), ...(phoneSystemOnly.length > 0 ? { phoneSystemOnly } : {}) };
    let probe = (yield context.df.callActivityWithRetry(PROBE_TEAMS_ACTIVITY, GRAPH_RETRY, check)) as ProbeResult;
    // The shared Teams read budget has no room soon: the check's slots start at deferredUntil. Wait for them on a
    // durable timer (a cancel still ends the wait) and check with the reservation; a check that comes back late
    // reserves again, so this is bounded by the deferrals' count, not by time.
    let cancelled = false;
    for (let d = 0; probe.deferredUntil && d < MAX_DEFERRALS; d++) {
      const slots = context.df.createTimer(new Date(probe.deferredUntil));
      const stop = context.df.waitForExternalEvent(CANCEL_EVENT);
      const first = (yield context.df.Task.any([slots, stop])) as Task;
      if (first === stop) {
        if (!slots.isCompleted) slots.cancel();
        cancelled = true;
        break;
      }
      probe = (yield context.df.callActivityWithRetry(PROBE_TEAMS_ACTIVITY, GRAPH_RETRY, { ...check, reservedAt: probe.deferredUntil } satisfies ProbeInput)) as ProbeResult;
    }
    if (cancelled) {
      pending = [];
      break;
    }
    const found = probe.found;
    polls++;
    if (found.length > 0) {
      const seen = new Set(found);
      const at = context.df.currentUtcDateTime.toISOString();
      const done = new Set(pending.filter((p) => seen.has(p.userId)).map((p) => p.row));
      results = results.map((r) => (done.has(r.row) ? { ...r, outcome: 'provisioned', provisionedAt: at } : r));
      // Users ready for their phone number get it now, in the number step's own orchestration.
      const numbered = pending.filter((p) => p.number && done.has(p.row)).map((p) => p.row);
      if (numbered.length > 0) {
        const step: NumbersInput = { runKey, chunk: input.chunk, rows: numbered, parallelism: input.parallelism };
        let numbers: NumberResult[];
        try {
          numbers = (yield context.df.callSubOrchestrator(NUMBERS_ORCHESTRATOR, step, numbersInstanceId(context.df.instanceId, polls))) as NumberResult[];
        } catch (e) {
          const cause = activityFailure(e instanceof Error ? e.message : String(e)).slice(0, 400);
          numbers = numbered.map((row) => ({ row, outcome: 'flagged', reason: 'number_assignment_failed', message: `licences assigned and Teams shows the calling plan, but the number step failed: ${cause}; assign the number in the Teams admin center or send the row again` }));
        }
        const byRow = new Map(numbers.map((n) => [n.row, n]));
        results = results.map((r) => (byRow.has(r.row) ? { ...r, ...byRow.get(r.row)! } : r));
      }
      pending = pending.filter((p) => !done.has(p.row));
    }
    ({ results, pending } = endRefusedWaits(results, pending, probe.refused));
    if (found.length > 0 || probe.refused.length > 0) {
      yield context.df.callActivityWithRetry(SAVE_CHUNK_ACTIVITY, STORE_RETRY, { runKey, chunk: input.chunk, results });
    }
    if (pending.length > 0 && polls % POLLS_PER_GENERATION === 0) {
      const carried: ChunkInput = { ...input, state: { results, pending, assignedAt: state.assignedAt, polls } };
      context.df.continueAsNew(carried);
      return undefined;
    }
  }

  if (pending.length > 0) {
    const late = new Set(pending.map((p) => p.row));
    results = results.map((r) => (late.has(r.row) ? { ...r, outcome: 'flagged', reason: 'no_calling_plan', message: `Teams showed no calling plan by the deadline (${input.deadline}); if it still has none, contact Microsoft support` } : r));
    yield context.df.callActivityWithRetry(SAVE_CHUNK_ACTIVITY, STORE_RETRY, { runKey, chunk: input.chunk, results });
  }
  const summary: ChunkSummary = { chunk: input.chunk, counts: countOutcomes(results) };
  return summary;
};
