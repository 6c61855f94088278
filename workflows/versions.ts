// What an instance started by an older version of the app may carry, read the way that version meant it. An
// orchestrator that is running when a new version is deployed replays its history on the new code: its input and the
// activity answers recorded so far come from the version that wrote them (docs/architecture.md, "Durable messages carry
// references"; Microsoft's "Versioning challenges and approaches in Durable Functions",
// https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-versioning, says why). Every shim lives here, and each
// says when it can go: when no instance started before the change can still be running. A batch waits at most its
// deadline (DIALTONE_DEADLINE_HOURS, at most 168 hours) for its chunks, and a start-date slot at most
// DIALTONE_SCHEDULE_HORIZON_DAYS (at most 366 days) plus DIALTONE_ACCOUNT_WAIT_HOURS and a deadline, so "a year and a
// half after the change shipped, or once the task hub holds no running instance started before it" is always safe.
import type { RunKey } from '../shared/adapters/batch-store';
import type { ChunkInput, ChunkState, PreflightAnswer, PreflightResult, ProbeResult } from '../contracts/batch';

/**
 * The run's folder. Runs started before run keys existed have none in their inputs and used the batch id.
 * Remove when: no batch, chunk or callback started before run keys is running.
 */
export function runKeyOf(input: { readonly batchId: string; readonly runKey?: RunKey }): RunKey {
  return input.runKey ?? input.batchId;
}

/**
 * A preflight's answer. Answers recorded before start-date slots existed have no `slots`: none.
 * Remove when: no batch started before start-date slots is running.
 */
export function preflightOf(answer: PreflightAnswer): PreflightResult {
  return { ...answer, slots: answer.slots ?? 0 };
}

/**
 * Whether a check that comes due more than the floor after the chunk's deadline is skipped (tooLateToCheck). Chunks
 * started before that rule carry no `stopsLate` and keep checking late, as their histories recorded.
 * Remove when: no chunk started before `stopsLate` is running (then the rule always applies).
 */
export function stopsLate(input: ChunkInput): boolean {
  return input.stopsLate === true;
}

/**
 * Whether the chunk learns its users' provisioning delays and checks on the schedule learned from them
 * (shared/domain/polling.ts, learnedNextCheckAt). Chunks started before it carry no `learnsSchedule` and keep the fixed
 * schedule, whose timers their histories recorded.
 * Remove when: no chunk started before `learnsSchedule` is running (then every chunk learns).
 */
export function learnsSchedule(input: ChunkInput): boolean {
  return input.learnsSchedule === true;
}

/**
 * Whether the chunk runs its number steps beside its checks (numbersAside in workflows/chunk.ts) rather than check
 * after each step. Chunks started before it carry no `numbersAside` and wait for each step, as their histories recorded.
 * Remove when: no chunk started before `numbersAside` is running (then every chunk numbers beside its checks).
 */
export function numbersAside(input: ChunkInput): boolean {
  return input.numbersAside === true;
}

/**
 * The state a chunk carried over continue-as-new as a version that kept its rows in the input wrote it (`pending`
 * an array of rows, saved to the store at every change too): the pending rows are then counted from the store, which
 * a save without changes answers (`countPending`).
 * Remove when: no chunk that continued as new before the rows moved to the store is running.
 */
export function* chunkStateOf<Y>(
  state: ChunkState,
  countPending: () => Generator<Y, number, unknown>,
): Generator<Y, ChunkState, unknown> {
  if (!Array.isArray((state as unknown as { pending: unknown }).pending)) return state;
  const pending = yield* countPending();
  return { assignedAt: state.assignedAt, pending, lastCheckAt: null, polls: state.polls };
}

/**
 * When a deferred check's timer fires: a little before its reserved reads (`resumeAt`). Answers recorded before
 * `resumeAt` existed fire at the reads' start (`deferredUntil`).
 * Remove when: no chunk whose history holds a deferred check without `resumeAt` is running.
 */
export function wakeFor(probe: ProbeResult, deferredUntil: string): string {
  return probe.resumeAt ?? deferredUntil;
}

/**
 * The reads a deferred check reserved and will not use, to give back to the budget. Answers recorded before
 * `reservedUntil` existed give nothing back, which keeps their histories replaying as recorded.
 * Remove when: no chunk whose history holds a deferred check without `reservedUntil` is running.
 */
export function unusedReservation(probe: ProbeResult): { from: string; until: string } | null {
  return probe.deferredUntil && probe.reservedUntil ? { from: probe.deferredUntil, until: probe.reservedUntil } : null;
}

/**
 * Whether the number step reads a succeeded order's number back again later. Confirmations recorded before
 * read-backs were retried have no `readBackPending`: they replay as one confirmation.
 * Remove when: no number step whose history holds such a confirmation is running.
 */
export function readBackAgain(result: { readonly readBackPending?: boolean }): boolean {
  return result.readBackPending === true;
}
