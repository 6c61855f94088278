// The batch orchestration: preflight (read the tenant, plan every row), one sub-orchestration per chunk of users,
// then the report and the flags. Deterministic: time comes only from context.df.currentUtcDateTime and every
// decision from activity results.
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { countOutcomes } from '../shared/domain/report';
import type { BatchInput, BatchStatus, ChunkInput, PreflightResult } from './contracts';
import { CHUNK_ORCHESTRATOR, FINISH_ACTIVITY, PREFLIGHT_ACTIVITY, chunkInstanceId } from './names';

/** Storage and Graph reads in preflight and finish: retried for about two minutes. */
export const STEP_RETRY = new df.RetryOptions(5_000, 6);
STEP_RETRY.backoffCoefficient = 2;
STEP_RETRY.maxRetryIntervalInMilliseconds = 60_000;

export const batchOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<BatchInput>();
  const startedAt = context.df.currentUtcDateTime;
  const deadline = new Date(startedAt.getTime() + input.deadlineHours * 3_600_000).toISOString();
  const status = (s: BatchStatus) => context.df.setCustomStatus(s);
  const runKey = input.runKey ?? input.batchId;
  status({ phase: 'preflight', chunks: 0 });

  const pre = (yield context.df.callActivityWithRetry(PREFLIGHT_ACTIVITY, STEP_RETRY, {
    batchId: input.batchId,
    runKey,
    source: input.source,
    input: input.input,
    ...(input.profile ? { profile: input.profile } : {}),
    ...(input.json ? { json: true } : {}),
    startedAt: startedAt.toISOString(),
    deadline,
    chunkSize: input.chunkSize,
  })) as PreflightResult;
  status({ phase: 'licensing', chunks: pre.chunks, counts: pre.settled, ...(pre.error ? { error: pre.error } : {}) });

  if (pre.chunks > 0) {
    const chunks = Array.from({ length: pre.chunks }, (_, i) => {
      const chunkInput: ChunkInput = { batchId: input.batchId, runKey, chunk: i, deadline, parallelism: input.parallelism };
      return context.df.callSubOrchestrator(CHUNK_ORCHESTRATOR, chunkInput, chunkInstanceId(context.df.instanceId, i));
    });
    try {
      yield context.df.Task.all(chunks);
    } catch {
      // A chunk that failed outright leaves its rows without a result; finish reports each of them as failed.
    }
  }

  status({ phase: 'reporting', chunks: pre.chunks, counts: pre.settled });
  const counts = (yield context.df.callActivityWithRetry(FINISH_ACTIVITY, STEP_RETRY, { batchId: input.batchId, runKey, finishedAt: context.df.currentUtcDateTime.toISOString() })) as ReturnType<typeof countOutcomes>;
  status({ phase: 'done', chunks: pre.chunks, counts, ...(pre.error ? { error: pre.error } : {}) });
  return counts;
};
