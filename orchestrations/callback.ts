// The callback orchestration: when a batch that asked for one is done, deliver its signed callback, trying again on
// durable timers (1, 2, 4 … minutes apart, at most an hour) until a 2xx answer or 24 hours after the first attempt.
// Deterministic: times come from context.df.currentUtcDateTime, decisions from the delivery activity's results.
import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { RunKey } from '../shared/adapters/batch-store';
import { nextCallbackAttemptAt } from '../shared/domain/callback';
import { DELIVER_CALLBACK_ACTIVITY } from './names';

export interface CallbackInput {
  readonly batchId: string;
  /** Where the run's report and callback registration live. */
  readonly runKey: RunKey;
}

export interface DeliverCallbackInput {
  readonly runKey: RunKey;
  readonly attempt: number;
  /** The orchestration's time of the attempt, for the report. */
  readonly at: string;
  /** No attempt follows this one: a failure ends the callback as given up. */
  readonly last: boolean;
}

export interface DeliverCallbackResult {
  readonly delivered: boolean;
  /** Nothing more can be done (no callback registered, or no secret to sign with). */
  readonly stop: boolean;
}

/** Storage hiccups while recording an attempt: retried for about a minute. */
export const CALLBACK_STORE_RETRY = new df.RetryOptions(2_000, 5);
CALLBACK_STORE_RETRY.backoffCoefficient = 2;

export const callbackOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<CallbackInput>();
  const first = context.df.currentUtcDateTime;
  for (let attempt = 1; ; attempt++) {
    const now = context.df.currentUtcDateTime;
    const next = nextCallbackAttemptAt(first, attempt, now);
    const deliver: DeliverCallbackInput = {
      runKey: input.runKey ?? input.batchId,
      attempt,
      at: now.toISOString(),
      last: next === null,
    };
    const result = (yield context.df.callActivityWithRetry(
      DELIVER_CALLBACK_ACTIVITY,
      CALLBACK_STORE_RETRY,
      deliver,
    )) as DeliverCallbackResult;
    if (result.delivered || result.stop || next === null) return { delivered: result.delivered, attempts: attempt };
    yield context.df.createTimer(next);
  }
};
