// A slot: rows whose licences are due at the same hour (a start date's lead day, or "now" for a new hire whose account
// does not exist yet). The first round waits on a durable timer for the slot's time; then its rows are planned against the tenant as it is at that time (seats
// re-checked) and handed to the chunk orchestrator, while rows whose account is still missing wait in a next round,
// checked with back-off until DIALTONE_ACCOUNT_WAIT_HOURS after their time. Cancelled rows end cancelled then.
// Deterministic: times come from
// context.df.currentUtcDateTime, decisions from activity results.
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import { nextAccountCheckAt } from '../shared/domain/onboarding';
import type { ChunkInput } from '../contracts/batch';
import type { PlanSlotInput, SlotInput } from '../contracts/slot';
import {
  CHUNK_ORCHESTRATOR,
  LIVE_IN_SLOT_ACTIVITY,
  LOAD_SLOT_ACTIVITY,
  PLAN_SLOT_ACTIVITY,
  SLOT_ORCHESTRATOR,
} from '../contracts/names';
import { slotChunkInstanceId, slotInstanceId } from '../contracts/instance-ids';
import { chunkStarts } from './batch';
import { call, SLOT_RETRY } from './durable';

/** How often a waiting slot looks whether its rows were cancelled (one blob read each time). */
export const SLOT_CHECK_HOURS = 6;

export const slotOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<SlotInput>();
  const ids = { runKey: input.runKey, slot: input.slot };
  let slotAt: Date;
  // No external events: a cancellation (of the batch or of a row) is recorded in the run's folder; the slot looks at
  // it every SLOT_CHECK_HOURS while it waits (ending early when nothing is left to license) and when its time comes.
  // On the real extension (3.19.0 with Azurite), a slot woken early by an external event aborted that episode
  // ("split brain detected", conflicting completion of the work item) and never completed; seen in
  // test/conformance/hr-extension.test.ts while it raised events.
  if (input.round === 0) {
    slotAt = new Date(yield* call(context, LOAD_SLOT_ACTIVITY, SLOT_RETRY, ids));
    while (context.df.currentUtcDateTime < slotAt) {
      const step = new Date(
        Math.min(slotAt.getTime(), context.df.currentUtcDateTime.getTime() + SLOT_CHECK_HOURS * 3_600_000),
      );
      yield context.df.createTimer(step);
      if (step.getTime() >= slotAt.getTime()) break;
      if ((yield* call(context, LIVE_IN_SLOT_ACTIVITY, SLOT_RETRY, ids)) === 0) break;
    }
  } else {
    slotAt = new Date(input.slotAt!);
    yield context.df.createTimer(new Date(input.checkAt!));
  }

  const now = context.df.currentUtcDateTime;
  const planInput: PlanSlotInput = { ...ids, round: input.round, now: now.toISOString(), chunkSize: input.chunkSize };
  const r = yield* call(context, PLAN_SLOT_ACTIVITY, SLOT_RETRY, planInput);
  const deadline = new Date(now.getTime() + input.deadlineHours * 3_600_000).toISOString();
  // The plan answers the round's chunks in order: the index is the chunk's part of the round. They start assigning in
  // turn, as a batch's do (chunkStarts).
  const starts = chunkStarts(context.df.currentUtcDateTime, r.chunkStaggerMs, deadline, r.chunks.length, (part) =>
    slotChunkInstanceId(input.batchInstanceId, input.slot, input.round, part),
  );
  const tasks: Task[] = r.chunks.map((chunk, part) => {
    const chunkInput: ChunkInput = {
      batchId: input.batchId,
      runKey: input.runKey,
      chunk,
      deadline,
      parallelism: input.parallelism,
      stopsLate: true,
      learnsSchedule: true,
      numbersAside: true,
      ...starts(part),
    };
    return context.df.callSubOrchestrator(
      CHUNK_ORCHESTRATOR,
      chunkInput,
      slotChunkInstanceId(input.batchInstanceId, input.slot, input.round, part),
    );
  });
  const nextAt =
    r.waiting > 0 && r.waitUntil ? nextAccountCheckAt(slotAt, input.round, now, new Date(r.waitUntil)) : null;
  if (nextAt) {
    const next: SlotInput = {
      ...input,
      round: input.round + 1,
      checkAt: nextAt.toISOString(),
      slotAt: slotAt.toISOString(),
    };
    tasks.push(
      context.df.callSubOrchestrator(
        SLOT_ORCHESTRATOR,
        next,
        slotInstanceId(input.batchInstanceId, input.slot, input.round + 1),
      ),
    );
  }
  if (tasks.length > 0) {
    try {
      yield context.df.Task.all(tasks);
    } catch {
      // A chunk that failed outright leaves its rows without a result; the batch's finish reports each of them.
    }
  }
  return r.chunks.length;
};
