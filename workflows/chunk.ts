// One chunk of users, as the flow reads in chunkOrchestrator at the bottom: assign their licences a few at a time
// (assignInGroups), then until every calling plan shows or the deadline passes wait for the next check
// (untilNextCheck), check Teams within the shared read budget (checkWithinBudget), give the users Teams shows ready
// their phone numbers in number steps that run beside the next checks (startNumberSteps; numberSteps in chunks started
// before that, which wait for each), and at the end settle the rows still pending. Every few checks the chunk
// continues as new so its history stays short. Messages carry references (run, chunk, position) and counts: the rows
// and their results live in the batch store, where activities read and merge them, so no message grows with the chunk
// (docs/architecture.md, "Durable messages carry references"). A recheck (an event, and a record in the store that
// survives continue-as-new) brings the next check forward, never to within the floor of the last one; a cancel
// (event, and the store's record) ends the wait.
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { ChunkUserResult } from '../shared/domain/batch';
import {
  learnedNextCheckAt,
  learnFromCheck,
  minCheckIntervalMs,
  nextCheckAt,
  recheckAt,
  tooLateToCheck,
  type LearnedDelays,
} from '../shared/domain/polling';
import { tighterMode, type TeamsListMode } from '../shared/domain/teams-reads';
import type {
  AssignInput,
  ChunkInput,
  ChunkRef,
  ChunkState,
  ChunkSummary,
  GaveUp,
  ProbeInput,
} from '../contracts/batch';
import type { NumberResult, NumbersInput } from '../contracts/numbers';
import { numberStepAnswer } from '../contracts/activities';
import {
  ASSIGN_ACTIVITY,
  CANCEL_EVENT,
  CHUNK_SIGNALS_ACTIVITY,
  LOAD_CHUNK_ACTIVITY,
  NUMBERS_ORCHESTRATOR,
  PASS_TURN_ACTIVITY,
  PROBE_TEAMS_ACTIVITY,
  RECHECK_EVENT,
  RELEASE_READS_ACTIVITY,
  SAVE_CHUNK_ACTIVITY,
  SETTLE_CHUNK_ACTIVITY,
  TURN_EVENT,
} from '../contracts/names';
import { numbersInstanceId } from '../contracts/instance-ids';
import { activityFailure, call, GRAPH_RETRY, settleAll, STORE_RETRY, type Settled } from './durable';
import {
  chunkStateOf,
  learnsSchedule,
  numbersAside,
  runKeyOf,
  stopsLate,
  unusedReservation,
  wakeFor,
} from './versions';

/** Times one check waits for its reservation in the shared Teams read budget before it counts as a poll that read nothing. */
export const MAX_DEFERRALS = 4;

/** Users handed to one number step: its result (a row each, messages up to ~500 characters) stays far below 45 KB. */
export const NUMBERS_PER_STEP = 25;

/** Number steps that run at once beside a chunk's checks (numbersAside): a whole chunk of 200 found at once. */
export const NUMBER_STEPS_ASIDE = 8;

/** Polls between continue-as-new, which keeps each history bounded. */
export const POLLS_PER_GENERATION = 8;

/**
 * With number steps beside the checks, a generation that has made its POLLS_PER_GENERATION polls continues as new
 * only once no step is under way (a new generation cannot wait for the old one's steps), so that it does not stop
 * checking to wait for them; past this many polls it waits for them all the same, which bounds its history.
 */
export const MAX_POLLS_PER_GENERATION = 4 * POLLS_PER_GENERATION;

/** Times one row's assignment may be handed back for lack of a write reservation before the row gives up as throttled. */
export const MAX_WRITE_DEFERRALS = 20;

type Step<T> = Generator<Task, T, unknown>;

/** The chunk's watch over Teams in this generation: what it carries over continue-as-new, and its two waiters. */
interface Watch {
  /** As the state carried it (the carried state repeats it unchanged). */
  readonly assignedAtText: string;
  readonly assignedAt: Date;
  readonly deadline: Date;
  pending: number;
  polls: number;
  /** polls as this generation started. */
  readonly pollsAtStart: number;
  lastCheckAt: Date | null;
  recheckDue: boolean;
  teamsList: TeamsListMode | undefined;
  /**
   * The provisioning delays the chunk's checks have seen, when it learns its schedule from them (undefined in chunks
   * started before, which keep the fixed schedule): what untilNextCheck times the next check by.
   */
  learned: { delays: LearnedDelays | undefined } | undefined;
  cancelled: boolean;
  /**
   * One waiter of each kind per generation, replaced only once it has fired: an event that arrives while a check runs
   * completes this waiter and is seen at the next wait (the SDK hands an event to the newest open waiter of its name,
   * which would otherwise be one whose race was already lost). A Task.any built with a child that has already
   * completed never completes from it (durable-js WhenAnyTask), so completed waiters are looked at before each wait.
   */
  recheck?: Task;
  cancel?: Task;
  /**
   * Number steps under way beside the checks (numbersAside), oldest first, each with the rows it was handed; and
   * whether one was started since the chunk last waited (a task is scheduled only once the orchestrator yields it).
   */
  numbering: NumberStep[];
  unscheduled: boolean;
}

/** A number step (its own orchestration) under way, and the rows it was handed. */
interface NumberStep {
  readonly task: Task;
  readonly rows: readonly number[];
}

export const chunkOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ChunkInput>();
  const ref: ChunkRef = { runKey: runKeyOf(input), chunk: input.chunk };
  const start = input.state ? undefined : yield* untilStart(context, input);
  if (start?.cancelled) return yield* settle(context, ref, input.deadline, true);
  const state = input.state
    ? yield* chunkStateOf(input.state, () => savedPending(context, ref))
    : yield* assignAndHandOn(context, ref, input);
  const watch = yield* startWatch(context, ref, state, input.deadline, learnsSchedule(input));
  watch.cancel ??= start?.cancel;
  const aside = numbersAside(input);
  while (watch.pending > 0 && !watch.cancelled) {
    yield* saveFinishedSteps(context, ref, watch);
    const due = yield* untilNextCheck(context, watch, stopsLate(input));
    yield* saveFinishedSteps(context, ref, watch);
    if (due === 'end') break;
    if (due === 'woken') continue;
    const numbered = yield* checkWithinBudget(context, ref, watch, due);
    if (numbered === 'end') break;
    if (aside) yield* startNumberSteps(context, ref, input.parallelism, watch, numbered);
    else yield* numberSteps(context, ref, input.parallelism, watch.polls, numbered);
    if (watch.pending > 0 && (aside ? generationEnds(watch) : watch.polls % POLLS_PER_GENERATION === 0)) {
      yield* finishNumberSteps(context, ref, watch);
      context.df.continueAsNew({ ...input, state: carried(watch) } satisfies ChunkInput);
      return undefined;
    }
  }
  yield* finishNumberSteps(context, ref, watch);
  return yield* settle(context, ref, input.deadline, watch.cancelled);
};

/**
 * The chunk's turn to start assigning: its batch or slot round starts chunks in turn (docs/architecture.md, "Chunks
 * start in turn"), so that its assignments are not spread over the whole batch's and its first users are checked soon
 * after they are licensed. It waits until its startAt (its share of the shared write budget after the previous
 * chunk), then, when it has a turnBy, until the chunk CHUNKS_ASSIGNING before it hands it the turn (TURN_EVENT, which
 * waits for it if it comes early), or turnBy passes should that chunk never do so. A chunk without either (the first,
 * and those started before chunks started in turn) starts at once, with no timer, as their histories recorded. A
 * cancel during the wait ends it: nothing was written, the rows end cancelled. The cancel waiter is handed on to the
 * watch, so that a cancel arriving while the chunk assigns is seen there.
 */
function* untilStart(context: OrchestrationContext, input: ChunkInput): Step<{ cancelled: boolean; cancel?: Task }> {
  const ahead = (iso: string | undefined) =>
    iso !== undefined && Date.parse(iso) > context.df.currentUtcDateTime.getTime() ? new Date(iso) : undefined;
  const startAt = ahead(input.startAt);
  if (!startAt && !ahead(input.turnBy)) return { cancelled: false };
  const cancel = context.df.waitForExternalEvent(CANCEL_EVENT);
  if (startAt) {
    const timer = context.df.createTimer(startAt);
    if ((yield context.df.Task.any([timer, cancel])) !== timer) {
      if (!timer.isCompleted) timer.cancel();
      return { cancelled: true };
    }
  }
  const turnBy = ahead(input.turnBy);
  if (turnBy) {
    const turn = context.df.waitForExternalEvent(TURN_EVENT);
    const timer = context.df.createTimer(turnBy);
    const first = yield context.df.Task.any([turn, timer, cancel]);
    if (!timer.isCompleted) timer.cancel();
    if (first === cancel) return { cancelled: true };
  }
  return { cancelled: false, cancel };
}

/**
 * The first generation's assignments (assignInGroups), then the turn handed to the chunk that waits for them
 * (ChunkInput.handsTurnTo), also when they failed outright, so that it does not wait until its latest time. A turn that
 * cannot be handed on after retries is left: that chunk starts at its turnBy.
 */
function* assignAndHandOn(context: OrchestrationContext, ref: ChunkRef, input: ChunkInput): Step<ChunkState> {
  const handOn = function* () {
    if (!input.handsTurnTo) return;
    try {
      yield* call(context, PASS_TURN_ACTIVITY, STORE_RETRY, { instanceId: input.handsTurnTo });
    } catch {
      // the next chunk starts at its turnBy
    }
  };
  let state: ChunkState;
  try {
    state = yield* assignInGroups(context, ref, input.parallelism);
  } catch (e) {
    yield* handOn();
    throw e;
  }
  yield* handOn();
  return state;
}

/** The first generation: every user's assignment, a group at a time, each group's results merged into the store. */
function* assignInGroups(context: OrchestrationContext, ref: ChunkRef, parallelism: number): Step<ChunkState> {
  const size = yield* call(context, LOAD_CHUNK_ACTIVITY, STORE_RETRY, ref);
  let pending = 0;
  for (let i = 0; i < size; i += parallelism) {
    const indexes = Array.from({ length: Math.min(parallelism, size - i) }, (_, k) => i + k);
    const settled = yield* assignGroup(context, ref, indexes);
    const at = context.df.currentUtcDateTime.toISOString();
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
    pending = (yield* call(context, SAVE_CHUNK_ACTIVITY, STORE_RETRY, {
      ...ref,
      results,
      ...(gaveUp.length > 0 ? { gaveUp } : {}),
    })).pending;
  }
  return { assignedAt: context.df.currentUtcDateTime.toISOString(), pending, lastCheckAt: null, polls: 0 };
}

/**
 * One group's assignments. A row the write budget has no reservation for soon comes back deferred (nothing written):
 * it waits on a durable timer until its resumeAt, then is called again with the writes it reserved, so no activity
 * waits long for the budget. Rows due together are called together; the answers are in the order of `indexes`.
 */
function* assignGroup(
  context: OrchestrationContext,
  ref: ChunkRef,
  indexes: readonly number[],
): Step<(Settled<ChunkUserResult> | { gaveUp: GaveUp })[]> {
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
    const settled = yield* settleAll(context, ASSIGN_ACTIVITY, GRAPH_RETRY, calls);
    settled.forEach((s, k) => {
      const call = calls[k]!;
      if (!s.ok) {
        out.set(call.index, s);
        return;
      }
      const answer = s.value;
      if (!('deferred' in answer)) {
        out.set(call.index, { ok: true, value: answer });
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
      const input: AssignInput = {
        ...ref,
        index: call.index,
        deferrals,
        ...(answer.writeSlotAt ? { writeSlotAt: answer.writeSlotAt, writeSlots: answer.writeSlots ?? 1 } : {}),
      };
      const resumeAt = Date.parse(answer.resumeAt);
      waiting.push({ input, resumeAt: Number.isFinite(resumeAt) ? resumeAt : context.df.currentUtcDateTime.getTime() });
    });
  }
  return indexes.map((index) => out.get(index)!);
}

/** The chunk's users still pending, counted from the store (a save without changes answers it). */
function* savedPending(context: OrchestrationContext, ref: ChunkRef): Step<number> {
  return (yield* call(context, SAVE_CHUNK_ACTIVITY, STORE_RETRY, { ...ref, results: [] })).pending;
}

/**
 * The watch as this generation starts it. The extension drops events that a generation had not processed when it
 * continued as new: recheck and cancel requests are also recorded in the store, and read here.
 */
function* startWatch(
  context: OrchestrationContext,
  ref: ChunkRef,
  state: ChunkState,
  deadline: string,
  learns: boolean,
): Step<Watch> {
  const watch: Watch = {
    assignedAtText: state.assignedAt,
    assignedAt: new Date(state.assignedAt),
    deadline: new Date(deadline),
    pending: state.pending,
    polls: state.polls,
    pollsAtStart: state.polls,
    lastCheckAt: state.lastCheckAt ? new Date(state.lastCheckAt) : null,
    recheckDue: state.recheckDue === true,
    teamsList: state.teamsList,
    learned: learns ? { delays: state.delays } : undefined,
    cancelled: false,
    numbering: [],
    unscheduled: false,
  };
  if (watch.pending > 0) {
    const signals = yield* call(context, CHUNK_SIGNALS_ACTIVITY, STORE_RETRY, { runKey: ref.runKey });
    if (signals.cancelled) watch.cancelled = true;
    const since = (watch.lastCheckAt ?? watch.assignedAt).getTime();
    if (signals.recheckRequestedAt && Date.parse(signals.recheckRequestedAt) > since) watch.recheckDue = true;
  }
  return watch;
}

/**
 * Waits for the next check: its time on the polling schedule (shared/domain/polling.ts), or sooner for a recheck.
 * Answers whether the check is due (and whether a recheck brought it), the wait was woken by an event (look again), or
 * the watch ends: cancelled, no check left before the deadline (waited out), or a check overdue past the deadline.
 */
function* untilNextCheck(
  context: OrchestrationContext,
  watch: Watch,
  skipsLateChecks: boolean,
): Step<'end' | 'woken' | { rechecked: boolean }> {
  const now = context.df.currentUtcDateTime;
  if (watch.cancel?.isCompleted) {
    watch.cancelled = true;
    return 'end';
  }
  if (watch.recheck?.isCompleted) {
    watch.recheck = undefined;
    watch.recheckDue = true;
  }
  const { assignedAt, lastCheckAt, deadline } = watch;
  const rechecked = watch.recheckDue ? recheckAt(assignedAt, lastCheckAt, now, deadline) : null;
  const next =
    rechecked ??
    (watch.learned
      ? learnedNextCheckAt(assignedAt, lastCheckAt, deadline, watch.learned.delays)
      : nextCheckAt(assignedAt, lastCheckAt, deadline));
  if (!next) {
    // The last check was within the floor of the deadline: no read is left, but the rows are flagged at the
    // deadline, not before it (a cancel still ends the wait).
    yield* waitOutDeadline(context, watch);
    return 'end';
  }
  // A check already overdue when the chunk gets to it (its number steps or a busy host took the time) is not started
  // once the deadline is more than the floor behind: the pending rows are flagged as of the deadline. A check whose
  // timer fired late, the deadline's own included, still runs.
  if (skipsLateChecks && next.getTime() <= now.getTime() && tooLateToCheck(assignedAt, now, deadline)) return 'end';
  // Number steps under way wake the wait as each finishes (its rows are saved then). One just started is scheduled
  // here even when the check is already due: a timer at once, rather than leave the step unsent until the next wait.
  const steps = openSteps(watch);
  if (next.getTime() > now.getTime() || watch.unscheduled) {
    watch.unscheduled = false;
    watch.recheck ??= context.df.waitForExternalEvent(RECHECK_EVENT);
    watch.cancel ??= context.df.waitForExternalEvent(CANCEL_EVENT);
    const timer = context.df.createTimer(next.getTime() > now.getTime() ? next : now);
    const winner = (yield context.df.Task.any([timer, watch.recheck, watch.cancel, ...steps])) as Task;
    if (winner !== timer) {
      if (!timer.isCompleted) timer.cancel();
      return 'woken';
    }
  }
  return { rechecked: rechecked !== null };
}

/**
 * One Teams check of the chunk's pending users, within the shared Teams read budget. When the budget has no room
 * soon, the check's reads are reserved later: the chunk waits on a durable timer until a little before its reservation
 * (a cancel still ends the wait) and checks with it; a check that comes back after its reservation began reserves
 * again, so this is bounded by the deferrals' count, not by time. Answers the rows whose number step follows, or 'end'
 * when the watch ends here (cancelled, or no read left before the deadline).
 */
function* checkWithinBudget(
  context: OrchestrationContext,
  ref: ChunkRef,
  watch: Watch,
  due: { rechecked: boolean },
): Step<readonly number[] | 'end'> {
  let checkAt = context.df.currentUtcDateTime;
  // A sweep of the Teams list made up to half the floor between checks before this one may answer it; a recheck
  // reads the chunk's users one by one; what Graph refused of the list is remembered (shared/domain/teams-reads.ts).
  const first: ProbeInput = {
    ...ref,
    at: checkAt.toISOString(),
    freshMs: minCheckIntervalMs(watch.assignedAt, watch.deadline) / 2,
    ...(due.rechecked ? { recheck: true as const } : {}),
    ...(watch.teamsList ? { teamsList: watch.teamsList } : {}),
  };
  let probe = yield* call(context, PROBE_TEAMS_ACTIVITY, GRAPH_RETRY, first);
  watch.teamsList = tighterMode(watch.teamsList, probe.teamsList);
  let afterDeadline = false;
  for (let d = 0; probe.deferredUntil && d < MAX_DEFERRALS; d++) {
    watch.cancel ??= context.df.waitForExternalEvent(CANCEL_EVENT);
    if (watch.cancel.isCompleted) break;
    // Reads the budget can only give after the deadline would hold the report back by up to a whole round of the
    // budget (for 50,000 users, over an hour): the chunk ends at its deadline instead (below).
    if (Date.parse(probe.deferredUntil) >= watch.deadline.getTime()) {
      afterDeadline = true;
      break;
    }
    const wake = context.df.createTimer(new Date(wakeFor(probe, probe.deferredUntil)));
    if ((yield context.df.Task.any([wake, watch.cancel])) === watch.cancel) {
      if (!wake.isCompleted) wake.cancel();
      break;
    }
    // The reads happen in the reservation, not at the early wake-up: that is the check's time (provisionedAt, and
    // where the next check's minute counts from).
    checkAt = new Date(Math.max(context.df.currentUtcDateTime.getTime(), Date.parse(probe.deferredUntil)));
    probe = yield* call(context, PROBE_TEAMS_ACTIVITY, GRAPH_RETRY, {
      ...ref,
      at: checkAt.toISOString(),
      reservedAt: probe.deferredUntil,
    });
    watch.teamsList = tighterMode(watch.teamsList, probe.teamsList);
  }
  // Still deferred here, the check will not read in its reservation: the chunk ends at its deadline before it, is
  // cancelled, or was deferred MAX_DEFERRALS times (a poll that read nothing). The reservation goes back to the budget
  // now, so that the checks behind it do not wait for reads nobody makes.
  const unused = unusedReservation(probe);
  if (unused) yield* call(context, RELEASE_READS_ACTIVITY, STORE_RETRY, { ...ref, ...unused });
  if (watch.cancel?.isCompleted) {
    watch.cancelled = true;
    return 'end';
  }
  if (afterDeadline) {
    // No read is left before the deadline: the rows are flagged at the deadline, not before it (a cancel still
    // ends the wait).
    yield* waitOutDeadline(context, watch);
    return 'end';
  }
  // A check that read nothing (deferred every time it was allowed) teaches nothing: its users were not looked at.
  if (watch.learned && !probe.deferredUntil)
    watch.learned.delays = learnFromCheck(watch.learned.delays, {
      assignedAt: watch.assignedAt,
      deadline: watch.deadline,
      from: watch.lastCheckAt ?? watch.assignedAt,
      to: checkAt,
      waiting: watch.pending,
      pending: probe.pending,
      found: probe.found,
    });
  watch.polls++;
  watch.lastCheckAt = checkAt;
  watch.recheckDue = false;
  watch.pending = probe.pending;
  return probe.numbered;
}

/**
 * The users Teams has just shown ready get their phone numbers, in the number step's own orchestration, a few at a
 * time: its output (one result per row) stays small whatever the chunk's size. What it changed is merged into the
 * store; a step that failed outright flags its rows.
 */
function* numberSteps(
  context: OrchestrationContext,
  ref: ChunkRef,
  parallelism: number,
  polls: number,
  numbered: readonly number[],
): Step<void> {
  for (let part = 0; part * NUMBERS_PER_STEP < numbered.length; part++)
    yield* saveNumberStep(context, ref, numberStep(context, ref, parallelism, polls, part, numbered));
}

/** The number step for part `part` (NUMBERS_PER_STEP rows) of what a check found ready: sent when first waited for. */
function numberStep(
  context: OrchestrationContext,
  ref: ChunkRef,
  parallelism: number,
  polls: number,
  part: number,
  numbered: readonly number[],
): NumberStep {
  const rows = numbered.slice(part * NUMBERS_PER_STEP, (part + 1) * NUMBERS_PER_STEP);
  const step: NumbersInput = { runKey: ref.runKey, chunk: ref.chunk, rows, parallelism };
  const task = context.df.callSubOrchestrator(
    NUMBERS_ORCHESTRATOR,
    step,
    numbersInstanceId(context.df.instanceId, polls, part),
  );
  return { task, rows };
}

/** The tasks of the number steps still under way. */
function openSteps(watch: Watch): Task[] {
  return watch.numbering.filter((s) => !s.task.isCompleted).map((s) => s.task);
}

/**
 * Starts the number steps for the users a check has just found ready, and goes back to checking while they run
 * (docs/architecture.md, "Numbers beside the checks"): a step takes minutes of order-following, which checks that
 * waited for it would add to every other user's time to dial tone. At most NUMBER_STEPS_ASIDE run at once; past that,
 * the oldest is waited for first.
 */
function* startNumberSteps(
  context: OrchestrationContext,
  ref: ChunkRef,
  parallelism: number,
  watch: Watch,
  numbered: readonly number[],
): Step<void> {
  for (let part = 0; part * NUMBERS_PER_STEP < numbered.length; part++) {
    while (watch.numbering.length >= NUMBER_STEPS_ASIDE) {
      // Waiting on all of them schedules those not sent yet, so they run together.
      const open = openSteps(watch);
      if (open.length > 0) yield context.df.Task.any(open);
      watch.unscheduled = false;
      yield* saveFinishedSteps(context, ref, watch);
    }
    watch.numbering.push(numberStep(context, ref, parallelism, watch.polls, part, numbered));
    watch.unscheduled = true;
  }
}

/** Saves the number steps that have finished, oldest first; those still running stay under way. */
function* saveFinishedSteps(context: OrchestrationContext, ref: ChunkRef, watch: Watch): Step<void> {
  const done = watch.numbering.filter((s) => s.task.isCompleted);
  if (done.length === 0) return;
  watch.numbering = watch.numbering.filter((s) => !s.task.isCompleted);
  for (const s of done) yield* saveNumberStep(context, ref, s);
}

/** Waits for every number step under way, saving each: before continue-as-new, and before the chunk settles. */
function* finishNumberSteps(context: OrchestrationContext, ref: ChunkRef, watch: Watch): Step<void> {
  const open = openSteps(watch);
  if (open.length > 1) {
    // All of them sent at once (a task is sent when first waited for); a failed one ends this wait early and is
    // flagged below like the others are saved.
    try {
      yield context.df.Task.all(open);
    } catch {
      // saved per step below
    }
  }
  watch.unscheduled = false;
  while (watch.numbering.length > 0) yield* saveNumberStep(context, ref, watch.numbering.shift()!);
}

/** One number step's answer (waited for when it has not finished), merged into the store; a failed step flags its rows. */
function* saveNumberStep(context: OrchestrationContext, ref: ChunkRef, step: NumberStep): Step<void> {
  let numbers: NumberResult[];
  try {
    numbers = numberStepAnswer(yield step.task);
  } catch (e) {
    numbers = numberStepFailed(step.rows, e);
  }
  yield* call(context, SAVE_CHUNK_ACTIVITY, STORE_RETRY, { ...ref, numbers });
}

/** The rows of a number step that failed outright: flagged, the licences kept. */
function numberStepFailed(rows: readonly number[], e: unknown): NumberResult[] {
  const cause = activityFailure(e instanceof Error ? e.message : String(e)).slice(0, 400);
  return rows.map((row) => ({
    row,
    outcome: 'flagged',
    reason: 'number_assignment_failed',
    message: `licences assigned and Teams shows the calling plan, but the number step failed: ${cause}; assign the number in the Teams admin center or send the row again`,
  }));
}

/** Whether a generation that numbers beside its checks continues as new now (MAX_POLLS_PER_GENERATION). */
function generationEnds(watch: Watch): boolean {
  const polls = watch.polls - watch.pollsAtStart;
  if (polls < POLLS_PER_GENERATION) return false;
  return polls >= MAX_POLLS_PER_GENERATION || watch.numbering.every((s) => s.task.isCompleted);
}

/** What the next generation starts from: counts and times, never rows. */
function carried(watch: Watch): ChunkState {
  return {
    assignedAt: watch.assignedAtText,
    pending: watch.pending,
    lastCheckAt: watch.lastCheckAt!.toISOString(),
    polls: watch.polls,
    ...(watch.recheck?.isCompleted ? { recheckDue: true } : {}),
    ...(watch.teamsList ? { teamsList: watch.teamsList } : {}),
    ...(watch.learned?.delays ? { delays: watch.learned.delays } : {}),
  };
}

/**
 * Waits until the deadline, unless a cancel comes first (the watch is then cancelled). At once when it has passed.
 * Number steps under way run on meanwhile (they are sent by this wait if not yet); they are saved after it.
 */
function* waitOutDeadline(context: OrchestrationContext, watch: Watch): Step<void> {
  watch.cancel ??= context.df.waitForExternalEvent(CANCEL_EVENT);
  if (context.df.currentUtcDateTime.getTime() >= watch.deadline.getTime()) return;
  const end = context.df.createTimer(watch.deadline);
  for (;;) {
    const steps = openSteps(watch);
    watch.unscheduled = false;
    const winner = (yield context.df.Task.any([end, watch.cancel, ...steps])) as Task;
    if (winner === end) return;
    if (winner === watch.cancel) break;
  }
  if (!end.isCompleted) end.cancel();
  watch.cancelled = true;
}

/** The chunk's end: at the deadline the users still pending are flagged; a cancelled chunk's licensed rows end assigned. */
function* settle(
  context: OrchestrationContext,
  ref: ChunkRef,
  deadline: string,
  cancelled: boolean,
): Step<ChunkSummary> {
  const counts = yield* call(context, SETTLE_CHUNK_ACTIVITY, STORE_RETRY, {
    ...ref,
    deadline,
    ...(cancelled ? { cancelled: true as const } : {}),
  });
  return { chunk: ref.chunk, counts };
}
