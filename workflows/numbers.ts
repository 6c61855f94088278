// The phone number step of a chunk, for the users Teams has just shown ready: start each user's order a
// few at a time, follow the orders on durable timers until each finishes (assignNumber is asynchronous: 202 and an
// operation), then confirm from Teams. Its own orchestration, so the chunk only hands it row numbers and merges what
// it returns. Deterministic: time only from context.df.currentUtcDateTime.
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { NumberOrder } from '../shared/domain/phone-numbers';
import { isFinished } from '../shared/domain/phone-numbers';
import { activityFailure, call, GRAPH_RETRY, settleAll, STORE_RETRY } from './durable';
import { readBackAgain } from './versions';
import type { ConfirmInput, NumberResult, NumbersInput, SentOrder } from '../contracts/numbers';
import {
  CONFIRM_NUMBERS_ACTIVITY,
  NUMBER_WORK_ACTIVITY,
  READ_NUMBER_ORDERS_ACTIVITY,
  START_NUMBER_ACTIVITY,
} from '../contracts/names';

/**
 * Seconds to wait before each read of the open orders. Graph does not say how long an order takes; the Teams admin
 * center speaks of minutes. About 20 minutes in all, then the row is flagged with the order's last status.
 */
export const ORDER_CHECK_SECONDS: readonly number[] = [5, 10, 15, 30, 60, 120, 300, 660];

/**
 * Seconds to wait before each further read-back of a number whose order succeeded but which Teams does not list on
 * the user yet (Graph documents no consistency between telephoneNumberManagement and userConfigurations). About 9
 * minutes in all, then the row is flagged.
 */
export const READ_BACK_SECONDS: readonly number[] = [10, 20, 30, 60, 120, 300];

type OrderState = Pick<NumberOrder, 'status' | 'detail'>;

export const numbersOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<NumbersInput>();
  const work = yield* call(context, NUMBER_WORK_ACTIVITY, STORE_RETRY, {
    runKey: input.runKey,
    chunk: input.chunk,
    rows: input.rows,
  });
  const results: NumberResult[] = [];
  const orders: SentOrder[] = [];
  for (let i = 0; i < work.length; i += input.parallelism) {
    const group = work.slice(i, i + input.parallelism);
    const settled = yield* settleAll(context, START_NUMBER_ACTIVITY, GRAPH_RETRY, group);
    settled.forEach((s, k) => {
      const row = group[k]!.row;
      if (!s.ok)
        results.push({
          row,
          outcome: 'flagged',
          reason: 'number_assignment_failed',
          message: `licences assigned and Teams shows the calling plan, but the number could not be assigned: gave up after repeated transient Graph errors: ${activityFailure(s.message).slice(0, 400)}`,
        });
      else if (s.value.kind === 'done') results.push(s.value.result);
      else orders.push(s.value.order);
    });
  }

  const states = new Map<string, OrderState>(
    orders.map((o) => [o.operationId, { status: 'notStarted', detail: null }]),
  );
  const started = context.df.currentUtcDateTime.getTime();
  for (const seconds of ORDER_CHECK_SECONDS) {
    const open = orders.filter((o) => !isFinished({ operationId: o.operationId, ...states.get(o.operationId)! }));
    if (open.length === 0) break;
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + seconds * 1000));
    const read = yield* call(context, READ_NUMBER_ORDERS_ACTIVITY, GRAPH_RETRY, {
      operationIds: open.map((o) => o.operationId),
    });
    for (const r of read) states.set(r.operationId, { status: r.status, detail: r.detail });
  }

  let confirming = orders.map((o) => ({ ...o, state: states.get(o.operationId)! }));
  const followedMinutes = Math.round((context.df.currentUtcDateTime.getTime() - started) / 60_000);
  const readBackFrom = context.df.currentUtcDateTime.getTime();
  for (let attempt = 0; confirming.length > 0; attempt++) {
    const last = attempt >= READ_BACK_SECONDS.length;
    const confirm: ConfirmInput = {
      runKey: input.runKey,
      orders: confirming,
      followedMinutes,
      ...(last
        ? { readBackMinutes: Math.round((context.df.currentUtcDateTime.getTime() - readBackFrom) / 60_000) }
        : { retryReadBack: true }),
    };
    const confirmed = yield* call(context, CONFIRM_NUMBERS_ACTIVITY, GRAPH_RETRY, confirm);
    const again = new Set(confirmed.filter(readBackAgain).map((r) => r.row));
    results.push(...confirmed.filter((r) => !readBackAgain(r)));
    confirming = confirming.filter((o) => again.has(o.row));
    if (confirming.length > 0)
      yield context.df.createTimer(
        new Date(context.df.currentUtcDateTime.getTime() + READ_BACK_SECONDS[attempt]! * 1000),
      );
  }
  return results;
};
