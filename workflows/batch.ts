// The batch orchestration: preflight (read the tenant, plan every row), one sub-orchestration per chunk of users,
// then the report and the flags. Deterministic: time comes only from context.df.currentUtcDateTime and every
// decision from activity results.
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { BatchInput, BatchStatus, ChunkInput, FailedChunk, FinishInput } from '../contracts/batch';
import { CHUNKS_ASSIGNING, turnByMs } from '../shared/domain/batch';
import { activityFailure, call, STEP_RETRY } from './durable';
import { preflightOf, runKeyOf } from './versions';
import {
  CALLBACK_ORCHESTRATOR,
  CANCEL_EVENT,
  CHUNK_ORCHESTRATOR,
  FINISH_ACTIVITY,
  PREFLIGHT_ACTIVITY,
  SLOT_ORCHESTRATOR,
  STOP_BATCH_ACTIVITY,
  WRITES_SETTLED_ACTIVITY,
} from '../contracts/names';
import { callbackInstanceId, chunkInstanceId, slotInstanceId } from '../contracts/instance-ids';
import type { SlotInput } from '../contracts/slot';

/** A failed chunk's own message, first line, cut to fit a report row. */
function chunkFailure(error: unknown): string {
  const text = activityFailure(error instanceof Error ? error.message : String(error));
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/**
 * When a batch's or a slot round's chunk `i` of `count` starts assigning, its chunks started at `now` (instance ids
 * from `idOf`): its `startAt`, `i` staggers after `now` (none for the first); from chunk CHUNKS_ASSIGNING on, once the
 * chunk that many before it hands it the turn (`turnBy` the latest: turnByMs), which that chunk knows by `handsTurnTo`.
 * Nothing when there is no stagger (one chunk, no write budget, or an answer recorded before chunks started in turn):
 * all start at once.
 */
export function chunkStarts(
  now: Date,
  staggerMs: number | undefined,
  deadline: string,
  count: number,
  idOf: (i: number) => string,
): (i: number) => Pick<ChunkInput, 'startAt' | 'handsTurnTo' | 'turnBy'> {
  const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
  const untilDeadline = Date.parse(deadline) - now.getTime();
  return (i) =>
    staggerMs && staggerMs > 0
      ? {
          ...(i > 0 ? { startAt: at(i * staggerMs) } : {}),
          ...(i + CHUNKS_ASSIGNING < count ? { handsTurnTo: idOf(i + CHUNKS_ASSIGNING) } : {}),
          ...(i >= CHUNKS_ASSIGNING ? { turnBy: at(turnByMs(i, staggerMs, untilDeadline)) } : {}),
        }
      : {};
}

/** One log line for a batch entering a phase: its id, and the counts known then (never a user). */
export function phaseLine(batchId: string, s: BatchStatus): string {
  const counts = s.counts
    ? Object.entries(s.counts)
        .filter(([k, n]) => k !== 'total' && n > 0)
        .map(([k, n]) => `${n} ${k}`)
    : [];
  const total = s.counts ? `${s.counts.total} rows` : undefined;
  switch (s.phase) {
    case 'preflight':
      return `batch ${batchId}: planning (reading the tenant)`;
    case 'licensing':
      return `batch ${batchId}: licensing ${[total, `${s.chunks} chunk(s)`, ...(s.slots ? [`${s.slots} start-date slot(s)`] : []), ...(counts.length > 0 ? [`settled at planning: ${counts.join(', ')}`] : [])].filter(Boolean).join(', ')}${s.error ? ` (error: ${s.error})` : ''}`;
    case 'reporting':
      return `batch ${batchId}: writing the report${s.cancelled ? ' (cancelled)' : ''}`;
    case 'notifying':
      return `batch ${batchId}: calling back`;
    case 'done':
      return `batch ${batchId} finished${s.cancelled ? ' (cancelled)' : ''}: ${[total, ...counts].filter(Boolean).join(', ')}`;
  }
}

export const batchOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<BatchInput>();
  const startedAt = context.df.currentUtcDateTime;
  const deadline = new Date(startedAt.getTime() + input.deadlineHours * 3_600_000).toISOString();
  // Each phase also goes to the log once (not again on replay), with the batch id and counts only: a person
  // following the host's log sees the batch move and end without any personal data.
  let lastPhase: BatchStatus['phase'] | undefined;
  const status = (s: BatchStatus) => {
    context.df.setCustomStatus(s);
    if (s.phase !== lastPhase && !context.df.isReplaying) context.log(phaseLine(input.batchId, s));
    lastPhase = s.phase;
  };
  const runKey = runKeyOf(input);
  const batchInstanceId = context.df.instanceId;
  status({ phase: 'preflight', chunks: 0 });

  const pre = preflightOf(
    yield* call(context, PREFLIGHT_ACTIVITY, STEP_RETRY, {
      batchId: input.batchId,
      runKey,
      source: input.source,
      input: input.input,
      ...(input.profile ? { profile: input.profile } : {}),
      ...(input.json ? { json: true } : {}),
      startedAt: startedAt.toISOString(),
      deadline,
      chunkSize: input.chunkSize,
      ...(input.rights ? { rights: input.rights } : {}),
      ...(input.caller ? { caller: input.caller } : {}),
    }),
  );
  // Published while it runs (the batch list and the summary view show it): every row in `total`, and the rows settled
  // before any write; the chunks' outcomes come with the report.
  const settled = { ...pre.settled, total: pre.total };
  status({
    phase: 'licensing',
    chunks: pre.chunks,
    slots: pre.slots,
    counts: settled,
    ...(pre.error ? { error: pre.error } : {}),
  });

  let cancelled = false;
  let slots: Task[] = [];
  const failedChunks: FailedChunk[] = [];
  if (pre.chunks > 0 || pre.slots > 0) {
    // Chunks start assigning in turn, each about its share of the write budget after the previous one
    // (PreflightResult.chunkStaggerMs, docs/architecture.md "Chunks start in turn").
    const starts = chunkStarts(context.df.currentUtcDateTime, pre.chunkStaggerMs, deadline, pre.chunks, (i) =>
      chunkInstanceId(batchInstanceId, i),
    );
    const chunks = Array.from({ length: pre.chunks }, (_, i) => {
      const chunkInput: ChunkInput = {
        batchId: input.batchId,
        runKey,
        chunk: i,
        deadline,
        parallelism: input.parallelism,
        stopsLate: true,
        learnsSchedule: true,
        numbersAside: true,
        ...starts(i),
      };
      return context.df.callSubOrchestrator(CHUNK_ORCHESTRATOR, chunkInput, chunkInstanceId(batchInstanceId, i));
    });
    slots = Array.from({ length: pre.slots }, (_, i) => {
      const slotInput: SlotInput = {
        batchId: input.batchId,
        runKey,
        batchInstanceId,
        slot: i,
        round: 0,
        deadlineHours: input.deadlineHours,
        parallelism: input.parallelism,
        chunkSize: input.chunkSize,
      };
      return context.df.callSubOrchestrator(SLOT_ORCHESTRATOR, slotInput, slotInstanceId(batchInstanceId, i));
    });
    // Every child settles before the report: Task.all fails at the first failure (durable-js
    // WhenAllTask) while the others still assign or poll, so after a failure the batch waits again for those still
    // running, as many times as children fail. A chunk that failed outright leaves rows without a result: finish
    // reports each of them as failed, with the chunk's failure. A cancel ends the wait at any point.
    const cancel = context.df.waitForExternalEvent(CANCEL_EVENT);
    const chunkOf = new Map<Task, number>(chunks.map((t, i) => [t, i]));
    let running: Task[] = [...chunks, ...slots];
    let winner: Task | undefined;
    while (running.length > 0) {
      winner = (yield context.df.Task.any([context.df.Task.all(running), cancel])) as Task;
      if (winner === cancel) break;
      for (const t of running) {
        const chunk = chunkOf.get(t);
        if (t.isFaulted && chunk !== undefined) failedChunks.push({ chunk, message: chunkFailure(t.result) });
      }
      running = running.filter((t) => !t.isCompleted && !t.isFaulted);
    }
    if (winner === cancel) {
      // Cancelled: rows not yet licensed end cancelled (every licence write checks the recorded cancel first, and a
      // slot settles its rows as cancelled when its time comes). The chunks are asked to end their Teams waits, not
      // terminated: on the real extension a terminated sub-orchestration reaches its parent as
      // SubOrchestrationInstanceFailed with a reason and no details, which durable-functions 3.5 cannot read ("failed
      // but we could not parse its exception data", TaskOrchestrationExecutor) and which fails the parent.
      cancelled = true;
      status({ phase: 'reporting', chunks: pre.chunks, slots: pre.slots, counts: settled, cancelled });
      yield* call(context, STOP_BATCH_ACTIVITY, STEP_RETRY, { batchInstanceId });
      // Licence writes under way finish and are recorded (those rows keep their licences and end assigned). At most
      // ten minutes: a chunk that failed outright never records its rows (finish reports them as failed).
      for (let check = 0; check < 20; check++) {
        if (yield* call(context, WRITES_SETTLED_ACTIVITY, STEP_RETRY, { runKey })) break;
        yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 30_000));
      }
    }
  }

  status({
    phase: 'reporting',
    chunks: pre.chunks,
    slots: pre.slots,
    counts: settled,
    ...(cancelled ? { cancelled } : {}),
  });
  const finish: FinishInput = {
    batchId: input.batchId,
    runKey,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
    ...(failedChunks.length > 0 ? { failedChunks } : {}),
  };
  const counts = yield* call(context, FINISH_ACTIVITY, STEP_RETRY, finish);
  if (input.callback) {
    // The report is written; the HR system is told. Delivery retries for up to a day and never fails the batch.
    status({
      phase: 'notifying',
      chunks: pre.chunks,
      slots: pre.slots,
      counts,
      ...(pre.error ? { error: pre.error } : {}),
      ...(cancelled ? { cancelled } : {}),
    });
    try {
      yield context.df.callSubOrchestrator(
        CALLBACK_ORCHESTRATOR,
        { batchId: input.batchId, runKey },
        callbackInstanceId(batchInstanceId),
      );
    } catch {
      // Every attempt, and why it failed, is in the report's callback.
    }
  }
  status({
    phase: 'done',
    chunks: pre.chunks,
    slots: pre.slots,
    counts,
    ...(pre.error ? { error: pre.error } : {}),
    ...(cancelled ? { cancelled } : {}),
  });
  if (cancelled && slots.length > 0) {
    // The report is final. The instance itself ends when its slots have: on the real extension an orchestration
    // whose sub-orchestrations are still open does not complete (its history stops after the last episode), and a
    // slot takes no events (slot.ts), so each ends at its next check (SLOT_CHECK_HOURS) with its rows cancelled.
    try {
      yield context.df.Task.all(slots);
    } catch {
      // a slot that failed has nothing more to say: the report is written
    }
  }
  return counts;
};
