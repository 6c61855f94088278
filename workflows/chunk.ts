// One chunk of users: assign their licences a few at a time (each assignment retried on transient Graph errors),
// then watch Teams on durable timers until every calling plan shows or the deadline passes, continuing as new every
// few checks so the history stays short. Messages carry references (run, chunk, position) and counts: the rows and
// their results live in the batch store, where activities read and merge them, so no message grows with the chunk
// (docs/architecture.md, "Durable messages carry references"). A recheck (an event, and a record in the store that survives continue-as-new) brings the
// next check forward, never to within the floor of the last one; a cancel (event, and the store's record) ends the wait.
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { ChunkUserResult } from '../shared/domain/batch';
import { minCheckIntervalMs, nextCheckAt, recheckAt, tooLateToCheck } from '../shared/domain/polling';
import { tighterMode } from '../shared/domain/teams-reads';
import type { OutcomeCounts } from '../shared/domain/report';
import type {
  AssignAnswer,
  AssignInput,
  ChunkInput,
  ChunkProgress,
  ChunkSignals,
  ChunkState,
  ChunkSummary,
  GaveUp,
  ProbeInput,
  ProbeResult,
  ReleaseReadsInput,
  SaveChunkInput,
  SettleChunkInput,
} from '../contracts/batch';
import type { NumberResult, NumbersInput } from '../contracts/numbers';
import {
  ASSIGN_ACTIVITY,
  CANCEL_EVENT,
  CHUNK_SIGNALS_ACTIVITY,
  LOAD_CHUNK_ACTIVITY,
  NUMBERS_ORCHESTRATOR,
  PROBE_TEAMS_ACTIVITY,
  RECHECK_EVENT,
  RELEASE_READS_ACTIVITY,
  SAVE_CHUNK_ACTIVITY,
  SETTLE_CHUNK_ACTIVITY,
  numbersInstanceId,
} from '../contracts/names';
import { activityFailure, GRAPH_RETRY, settleAll, STORE_RETRY, type Settled } from './durable';

/** Times one check waits for its slots in the shared Teams read budget before it counts as a poll that read nothing. */
export const MAX_DEFERRALS = 4;

/** Users handed to one number step: its result (a row each, messages up to ~500 characters) stays far below 45 KB. */
export const NUMBERS_PER_STEP = 25;

/** Polls between continue-as-new, which keeps each history bounded. */
export const POLLS_PER_GENERATION = 8;

/** Waits until the deadline, unless a cancel comes first (then true). At once when the deadline has passed. */
function* untilDeadline(
  context: OrchestrationContext,
  deadline: Date,
  cancel: Task,
): Generator<Task, boolean, unknown> {
  if (context.df.currentUtcDateTime.getTime() >= deadline.getTime()) return false;
  const end = context.df.createTimer(deadline);
  if ((yield context.df.Task.any([end, cancel])) !== cancel) return false;
  if (!end.isCompleted) end.cancel();
  return true;
}

/** Times one row's assignment may be handed back for lack of a write slot before the row gives up as throttled. */
export const MAX_WRITE_DEFERRALS = 20;

/**
 * One group's assignments. A row the write budget has no slot for soon comes back deferred (nothing written): it waits
 * on a durable timer until its resumeAt, then is called again with the slots it reserved, so no activity waits long
 * for the budget. Rows due together are called together; the answers are in the order of `indexes`.
 */
function* assignGroup(
  context: OrchestrationContext,
  ref: { runKey: string; chunk: number },
  indexes: readonly number[],
): Generator<Task, (Settled<ChunkUserResult> | { gaveUp: GaveUp })[], unknown> {
  const out = new Map<number, Settled<ChunkUserResult> | { gaveUp: GaveUp }>();
  let due: AssignInput[] = indexes.map((index) => ({ ...ref, index }));
  let waiting: { input: AssignInput; resumeAt: number }[] = [];
  while (due.length > 0 || waiting.length > 0) {
    if (due.length === 0) {
      const next = Math.min(...waiting.map((w) => w.resumeAt));
      if (next > context.df.currentUtcDateTime.getTime()) yield context.df.createTimer(new Date(next));
      // Once the timer has fired, the rows due at its time are due, even if the episode's clock reads a little earlier
      // (its start time is not the timer's, and is kept to whole milliseconds).
      const now = Math.max(context.df.currentUtcDateTime.getTime(), next);
      due = waiting.filter((w) => w.resumeAt <= now).map((w) => w.input);
      waiting = waiting.filter((w) => w.resumeAt > now);
    }
    const calls = due;
    due = [];
    const settled = yield* settleAll<AssignAnswer>(
      context,
      calls.map((c) => context.df.callActivityWithRetry(ASSIGN_ACTIVITY, GRAPH_RETRY, c)),
    );
    settled.forEach((s, k) => {
      const call = calls[k]!;
      if (!s.ok || !('deferred' in s.value)) {
        out.set(call.index, s as Settled<ChunkUserResult>);
        return;
      }
      const deferrals = (call.deferrals ?? 0) + 1;
      if (deferrals > MAX_WRITE_DEFERRALS) {
        out.set(call.index, {
          gaveUp: {
            index: call.index,
            reason: 'throttled',
            message: `gave up: the app's Graph write budget had no slot for this row in ${MAX_WRITE_DEFERRALS} tries; run the batch again`,
          },
        });
        return;
      }
      const d = s.value;
      const input: AssignInput = {
        ...ref,
        index: call.index,
        deferrals,
        ...(d.writeSlotAt ? { writeSlotAt: d.writeSlotAt, writeSlots: d.writeSlots ?? 1 } : {}),
      };
      const resumeAt = Date.parse(d.resumeAt);
      waiting.push({ input, resumeAt: Number.isFinite(resumeAt) ? resumeAt : context.df.currentUtcDateTime.getTime() });
    });
  }
  return indexes.map((index) => out.get(index)!);
}

export const chunkOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ChunkInput>();
  const ref = { runKey: input.runKey ?? input.batchId, chunk: input.chunk };
  const now = () => context.df.currentUtcDateTime;
  let state: ChunkState;
  if (input.state) {
    state = input.state;
    if (Array.isArray((state as unknown as { pending: unknown }).pending)) {
      // Carried by a version that kept the rows in the input (it saved every change to the store too): count the
      // pending rows from the store, which a save without changes answers.
      const progress = (yield context.df.callActivityWithRetry(SAVE_CHUNK_ACTIVITY, STORE_RETRY, {
        ...ref,
        results: [],
      } satisfies SaveChunkInput)) as ChunkProgress;
      state = { assignedAt: state.assignedAt, pending: progress.pending, lastCheckAt: null, polls: state.polls };
    }
  } else {
    const size = (yield context.df.callActivityWithRetry(LOAD_CHUNK_ACTIVITY, STORE_RETRY, ref)) as number;
    let pending = 0;
    for (let i = 0; i < size; i += input.parallelism) {
      const indexes = Array.from({ length: Math.min(input.parallelism, size - i) }, (_, k) => i + k);
      const settled = yield* assignGroup(context, ref, indexes);
      const at = now().toISOString();
      const results: ChunkUserResult[] = [];
      const gaveUp: GaveUp[] = [];
      settled.forEach((s, k) => {
        if ('gaveUp' in s) gaveUp.push(s.gaveUp);
        else if (s.ok) results.push({ ...s.value, assignedAt: s.value.outcome === 'assigned' ? at : null });
        else {
          const cause = activityFailure(s.message);
          gaveUp.push({
            index: indexes[k]!,
            reason: /^throttled\b/.test(cause) ? 'throttled' : 'graph_error',
            message: `gave up after repeated transient Graph errors: ${cause.slice(0, 400)}`,
          });
        }
      });
      // Each group's results are merged into the store as they come: only these few rows travel.
      const save: SaveChunkInput = { ...ref, results, ...(gaveUp.length > 0 ? { gaveUp } : {}) };
      pending = ((yield context.df.callActivityWithRetry(SAVE_CHUNK_ACTIVITY, STORE_RETRY, save)) as ChunkProgress)
        .pending;
    }
    state = { assignedAt: now().toISOString(), pending, lastCheckAt: null, polls: 0 };
  }

  const assignedAt = new Date(state.assignedAt);
  const deadline = new Date(input.deadline);
  let { pending, polls } = state;
  let lastCheckAt = state.lastCheckAt ? new Date(state.lastCheckAt) : null;
  let recheckDue = state.recheckDue === true;
  let teamsList = state.teamsList;
  let cancelled = false;
  if (pending > 0) {
    // The extension drops events that a generation had not processed when it continued as new: the requests are
    // also recorded in the store, and read here at the start of every generation.
    const signals = (yield context.df.callActivityWithRetry(CHUNK_SIGNALS_ACTIVITY, STORE_RETRY, {
      runKey: ref.runKey,
    })) as ChunkSignals;
    if (signals.cancelled) cancelled = true;
    if (signals.recheckRequestedAt && Date.parse(signals.recheckRequestedAt) > (lastCheckAt ?? assignedAt).getTime())
      recheckDue = true;
  }
  // One waiter of each kind per generation, replaced only once it has fired: an event that arrives while a check runs
  // completes this waiter and is seen at the next wait (the SDK hands an event to the newest open waiter of its name,
  // which would otherwise be one whose race was already lost). A Task.any built with a child that has already
  // completed never completes from it (durable-js WhenAnyTask), so completed waiters are looked at before each wait.
  let recheck: Task | undefined;
  let cancel: Task | undefined;
  while (pending > 0 && !cancelled) {
    if (cancel?.isCompleted) {
      cancelled = true;
      break;
    }
    if (recheck?.isCompleted) {
      recheck = undefined;
      recheckDue = true;
    }
    const rechecked = recheckDue ? recheckAt(assignedAt, lastCheckAt, now(), deadline) : null;
    const next = rechecked ?? nextCheckAt(assignedAt, lastCheckAt, deadline);
    if (!next) {
      // The last check was within the floor of the deadline: no read is left, but the rows are flagged at the
      // deadline, not before it (a cancel still ends the wait).
      cancel ??= context.df.waitForExternalEvent(CANCEL_EVENT);
      if (yield* untilDeadline(context, deadline, cancel)) cancelled = true;
      break;
    }
    // A check already overdue when the chunk gets to it (its number steps or a busy host took the time) is not started
    // once the deadline is more than the floor behind: the pending rows are flagged as of the deadline. A check whose
    // timer fired late, the deadline's own included, still runs.
    if (input.stopsLate && next.getTime() <= now().getTime() && tooLateToCheck(assignedAt, now(), deadline)) break;
    if (next.getTime() > now().getTime()) {
      recheck ??= context.df.waitForExternalEvent(RECHECK_EVENT);
      cancel ??= context.df.waitForExternalEvent(CANCEL_EVENT);
      const timer = context.df.createTimer(next);
      const winner = (yield context.df.Task.any([timer, recheck, cancel])) as Task;
      if (winner !== timer) {
        if (!timer.isCompleted) timer.cancel();
        // the top of the loop takes the recheck or the cancel
        continue;
      }
    }
    let checkAt = now();
    // A sweep of the Teams list made up to half the floor between checks before this one may answer it; a recheck
    // reads the chunk's users one by one; what Graph refused of the list is remembered (shared/domain/teams-reads.ts).
    const sweep = {
      freshMs: minCheckIntervalMs(assignedAt, deadline) / 2,
      ...(rechecked ? { recheck: true as const } : {}),
      ...(teamsList ? { teamsList } : {}),
    };
    let probe = (yield context.df.callActivityWithRetry(PROBE_TEAMS_ACTIVITY, GRAPH_RETRY, {
      ...ref,
      at: checkAt.toISOString(),
      ...sweep,
    } satisfies ProbeInput)) as ProbeResult;
    teamsList = tighterMode(teamsList, probe.teamsList);
    // The shared Teams read budget has no room soon: the check's slots start at deferredUntil. Wait on a durable timer
    // until a little before them (resumeAt; a cancel still ends the wait) and check with the reservation; a check
    // that comes back after its slots began reserves again, so this is bounded by the deferrals' count, not by time.
    let afterDeadline = false;
    for (let d = 0; probe.deferredUntil && d < MAX_DEFERRALS; d++) {
      cancel ??= context.df.waitForExternalEvent(CANCEL_EVENT);
      if (cancel.isCompleted) break;
      // Reads the budget can only give after the deadline would hold the report back by up to a whole round of the
      // budget (for 50,000 users, over an hour): the chunk ends at its deadline instead (below).
      if (Date.parse(probe.deferredUntil) >= deadline.getTime()) {
        afterDeadline = true;
        break;
      }
      const slots = context.df.createTimer(new Date(probe.resumeAt ?? probe.deferredUntil));
      if ((yield context.df.Task.any([slots, cancel])) === cancel) {
        if (!slots.isCompleted) slots.cancel();
        break;
      }
      // The reads happen at the reserved slots, not at the early wake-up: that is the check's time (provisionedAt, and
      // where the next check's minute counts from).
      checkAt = new Date(Math.max(now().getTime(), Date.parse(probe.deferredUntil)));
      probe = (yield context.df.callActivityWithRetry(PROBE_TEAMS_ACTIVITY, GRAPH_RETRY, {
        ...ref,
        at: checkAt.toISOString(),
        reservedAt: probe.deferredUntil,
      } satisfies ProbeInput)) as ProbeResult;
      teamsList = tighterMode(teamsList, probe.teamsList);
    }
    // Still deferred here, the check will not run on its slots: the chunk ends at its deadline before them, is
    // cancelled, or was deferred MAX_DEFERRALS times (a poll that read nothing). The slots go back to the budget now,
    // so that the checks behind them do not wait for slots nobody uses (results recorded before
    // `reservedUntil` existed give nothing back, which keeps their histories replaying as recorded).
    if (probe.deferredUntil && probe.reservedUntil) {
      yield context.df.callActivityWithRetry(RELEASE_READS_ACTIVITY, STORE_RETRY, {
        ...ref,
        from: probe.deferredUntil,
        until: probe.reservedUntil,
      } satisfies ReleaseReadsInput);
    }
    if (cancel?.isCompleted) {
      cancelled = true;
      break;
    }
    if (afterDeadline) {
      // No read is left before the deadline: the rows are flagged at the deadline, not before it (a cancel still
      // ends the wait).
      cancel ??= context.df.waitForExternalEvent(CANCEL_EVENT);
      if (yield* untilDeadline(context, deadline, cancel)) cancelled = true;
      break;
    }
    polls++;
    lastCheckAt = checkAt;
    recheckDue = false;
    pending = probe.pending;
    // Users ready for their phone number get it now, in the number step's own orchestration, a few at a time: its
    // output (one result per row) stays small whatever the chunk's size.
    for (let part = 0; part * NUMBERS_PER_STEP < probe.numbered.length; part++) {
      const rows = probe.numbered.slice(part * NUMBERS_PER_STEP, (part + 1) * NUMBERS_PER_STEP);
      const step: NumbersInput = { runKey: ref.runKey, chunk: input.chunk, rows, parallelism: input.parallelism };
      let numbers: NumberResult[];
      try {
        numbers = (yield context.df.callSubOrchestrator(
          NUMBERS_ORCHESTRATOR,
          step,
          numbersInstanceId(context.df.instanceId, polls, part),
        )) as NumberResult[];
      } catch (e) {
        const cause = activityFailure(e instanceof Error ? e.message : String(e)).slice(0, 400);
        numbers = rows.map((row) => ({
          row,
          outcome: 'flagged',
          reason: 'number_assignment_failed',
          message: `licences assigned and Teams shows the calling plan, but the number step failed: ${cause}; assign the number in the Teams admin center or send the row again`,
        }));
      }
      yield context.df.callActivityWithRetry(SAVE_CHUNK_ACTIVITY, STORE_RETRY, {
        ...ref,
        numbers,
      } satisfies SaveChunkInput);
    }
    if (pending > 0 && polls % POLLS_PER_GENERATION === 0) {
      const carried: ChunkInput = {
        ...input,
        state: {
          assignedAt: state.assignedAt,
          pending,
          lastCheckAt: lastCheckAt.toISOString(),
          polls,
          ...(recheck?.isCompleted ? { recheckDue: true } : {}),
          ...(teamsList ? { teamsList } : {}),
        },
      };
      context.df.continueAsNew(carried);
      return undefined;
    }
  }

  // At the deadline the users still pending are flagged; a cancelled chunk's licensed rows end assigned (as recorded).
  const settle: SettleChunkInput = {
    ...ref,
    deadline: input.deadline,
    ...(cancelled ? { cancelled: true as const } : {}),
  };
  const counts = (yield context.df.callActivityWithRetry(SETTLE_CHUNK_ACTIVITY, STORE_RETRY, settle)) as OutcomeCounts;
  const summary: ChunkSummary = { chunk: input.chunk, counts };
  return summary;
};
