// The callback orchestration: when a batch that asked for one is done, deliver its signed callback, trying again on
// durable timers (1, 2, 4 … minutes apart, at most an hour) until a 2xx answer or 24 hours after the first attempt.
// Deterministic: times come from context.df.currentUtcDateTime, decisions from the delivery activity's results.
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { CallbackInput, DeliverCallbackInput } from '../contracts/callback';
import { nextCallbackAttemptAt } from '../shared/domain/callback';
import { DELIVER_CALLBACK_ACTIVITY } from '../contracts/names';
import { call, CALLBACK_STORE_RETRY } from './durable';
import { runKeyOf } from './versions';

export const callbackOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<CallbackInput>();
  const first = context.df.currentUtcDateTime;
  for (let attempt = 1; ; attempt++) {
    const now = context.df.currentUtcDateTime;
    const next = nextCallbackAttemptAt(first, attempt, now);
    const deliver: DeliverCallbackInput = {
      runKey: runKeyOf(input),
      attempt,
      at: now.toISOString(),
      last: next === null,
    };
    const result = yield* call(context, DELIVER_CALLBACK_ACTIVITY, CALLBACK_STORE_RETRY, deliver);
    if (result.delivered || result.stop || next === null) return { delivered: result.delivered, attempts: attempt };
    yield context.df.createTimer(next);
  }
};
