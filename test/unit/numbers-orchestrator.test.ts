// The phone number step's orchestration, and the chunk handing users to it, driven through the real durable-functions
// SDK with hand-built histories as the Durable extension would replay them.
import type { OrchestrationHandler } from 'durable-functions';
import { chunkOrchestrator } from '../../workflows/chunk';
import type { ChunkInput } from '../../contracts/batch';
import type { NumbersInput, NumberWork } from '../../contracts/numbers';
import { numbersOrchestrator, ORDER_CHECK_SECONDS, READ_BACK_SECONDS } from '../../workflows/numbers';
import { flatActions, replay as replayState, type ReplayedAction } from '../support/durable-sdk';
import * as history from '../support/history';

const T0 = '2026-11-25T08:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const ev = (type: number, fields: Record<string, unknown> = {}, ts = T0) => history.ev(type, fields, ts);
const started = (input: unknown, ts = T0) => history.started(input, ts);
const scheduled = (id: number, name: string, ts = T0) => history.scheduled(id, name, ts);
const completed = (id: number, result: unknown, ts = T0) => history.completed(id, result, ts);
const timer = (id: number, fireAt: string) => history.timer(id, fireAt, T0);

type Action = ReplayedAction;
async function replay(
  fn: OrchestrationHandler,
  events: unknown[],
  input: unknown,
  instanceId = 'b1:chunk-0',
): Promise<{ isDone: boolean; output: any; actions: Action[] }> {
  const state = await replayState(fn, events, input, instanceId);
  return { isDone: state.isDone, output: state.output, actions: flatActions(state.actions) };
}

describe('chunk orchestrator with phone numbers', () => {
  const state = { assignedAt: T0, pending: 2, lastCheckAt: null, polls: 1 };
  const input: ChunkInput = {
    batchId: 'b1',
    runKey: 'default/b1/run',
    chunk: 0,
    deadline: at(24 * 3600),
    parallelism: 4,
    state,
  };
  const firstPoll = at(60);
  const untilProbe = [
    ...started(input),
    scheduled(0, 'dialtone-chunk-signals'),
    ...completed(0, { recheckRequestedAt: null, cancelled: false }),
    ...timer(1, firstPoll),
    scheduled(2, 'dialtone-probe-teams', firstPoll),
  ];
  // The probe activity finds who waits for what in the store (Phone System only for Direct Routing rows: see
  // test/integration/chunk-store.test.ts) and answers with the rows whose number step follows.
  const probed = { pending: 1, found: 1, refused: 0, numbered: [1] };

  it('hands the rows Teams shows ready to the number step, by row number', async () => {
    const r = await replay(chunkOrchestrator, [...untilProbe, ...completed(2, probed, firstPoll)], input);
    const step = r.actions.find((a) => a.actionType === 2)!;
    expect(step).toMatchObject({ functionName: 'dialtone-numbers', instanceId: 'b1:chunk-0:numbers-2' });
    expect(step.input).toEqual({ runKey: 'default/b1/run', chunk: 0, rows: [1], parallelism: 4 });
  });

  it("hands the number step's outcome to the store, which merges it into the row", async () => {
    const numbered = {
      row: 1,
      outcome: 'flagged',
      reason: 'no_free_number',
      message: 'no free callingPlan number in US',
    };
    const history = [
      ...untilProbe,
      ...completed(2, probed, firstPoll),
      ev(7, { EventId: 3, Name: 'dialtone-numbers' }),
      ...completed(3, [numbered], firstPoll).map((e) => (e.EventType === 5 ? { ...e, EventType: 8 } : e)),
    ];
    const r = await replay(chunkOrchestrator, history, input);
    const save = r.actions.find((a) => a.functionName === 'dialtone-save-chunk')!;
    expect(save.input).toEqual({ runKey: 'default/b1/run', chunk: 0, numbers: [numbered] });
  });

  it('flags the rows of a number step that failed outright instead of failing the chunk', async () => {
    const history = [
      ...untilProbe,
      ...completed(2, probed, firstPoll),
      ev(7, { EventId: 3, Name: 'dialtone-numbers' }),
      ev(12, {}, firstPoll),
      ev(9, { TaskScheduledId: 3, Reason: 'boom', Details: 'x' }, firstPoll),
    ];
    const r = await replay(chunkOrchestrator, history, input);
    const save = r.actions.find((a) => a.functionName === 'dialtone-save-chunk')!;
    expect(save.input.numbers[0]).toMatchObject({ row: 1, outcome: 'flagged', reason: 'number_assignment_failed' });
  });
});

describe('number step orchestrator', () => {
  const input: NumbersInput = { runKey: 'default/b1/run', chunk: 0, rows: [1, 2], parallelism: 2 };
  const work: NumberWork[] = [
    { runKey: input.runKey, row: 1, userId: 'u1', number: { numberType: 'callingPlan', isoCountryCode: 'US' } },
    {
      runKey: input.runKey,
      row: 2,
      userId: 'u2',
      number: { telephoneNumber: '+14255550150', numberType: 'directRouting', isoCountryCode: null },
    },
  ];
  const order = {
    row: 1,
    userId: 'u1',
    telephoneNumber: '+14255550100',
    numberType: 'callingPlan',
    operationId: 'op1',
  };
  const kept = {
    row: 2,
    outcome: 'provisioned',
    reason: '',
    message: '',
    phoneNumber: '+14255550199',
    advisories: ['number_kept'],
  };
  const untilOrders = [
    ...started(input),
    scheduled(0, 'dialtone-number-work'),
    ...completed(0, work),
    scheduled(1, 'dialtone-number-start'),
    scheduled(2, 'dialtone-number-start'),
    ...completed(1, { kind: 'ordered', order }),
    ev(5, { TaskScheduledId: 2, Result: JSON.stringify({ kind: 'done', result: kept }) }),
  ];

  it('starts the users a group at a time, then follows the open orders on a durable timer', async () => {
    const first = await replay(
      numbersOrchestrator,
      [...started(input), scheduled(0, 'dialtone-number-work'), ...completed(0, work)],
      input,
    );
    expect(first.actions.filter((a) => a.functionName === 'dialtone-number-start').map((a) => a.input.row)).toEqual([
      1, 2,
    ]);
    const r = await replay(numbersOrchestrator, untilOrders, input);
    expect(new Date(r.actions.find((a) => a.actionType === 5)!.fireAt!).toISOString()).toBe(
      at(ORDER_CHECK_SECONDS[0]!),
    );
  });

  it('confirms a finished order from Teams and returns every row once', async () => {
    const fired = at(ORDER_CHECK_SECONDS[0]!);
    const history = [
      ...untilOrders,
      ...timer(3, fired),
      scheduled(4, 'dialtone-number-orders', fired),
      ...completed(4, [{ operationId: 'op1', status: 'succeeded', detail: null }], fired),
      scheduled(5, 'dialtone-number-confirm', fired),
      ...completed(
        5,
        [{ row: 1, outcome: 'provisioned', reason: '', message: '', phoneNumber: '+14255550100' }],
        fired,
      ),
    ];
    const read = (
      await replay(
        numbersOrchestrator,
        history.slice(
          0,
          history.findIndex((e: any) => e.Name === 'dialtone-number-orders'),
        ),
        input,
      )
    ).actions.find((a) => a.functionName === 'dialtone-number-orders')!;
    expect(read.input).toEqual({ operationIds: ['op1'] });
    const r = await replay(numbersOrchestrator, history, input);
    expect(r.actions.find((a) => a.functionName === 'dialtone-number-confirm')!.input).toEqual({
      runKey: input.runKey,
      orders: [{ ...order, state: { status: 'succeeded', detail: null } }],
      followedMinutes: 0,
      retryReadBack: true,
    });
    expect(r.isDone).toBe(true);
    expect(r.output.map((x: any) => [x.row, x.outcome, x.phoneNumber])).toEqual([
      [2, 'provisioned', '+14255550199'],
      [1, 'provisioned', '+14255550100'],
    ]);
  });

  it("reads a succeeded order's number back from Teams again on durable timers, for a bounded time, before it is flagged", async () => {
    const fired = at(ORDER_CHECK_SECONDS[0]!);
    const pending = {
      row: 1,
      outcome: 'flagged',
      reason: 'number_assignment_failed',
      message: '',
      readBackPending: true,
    };
    const history: unknown[] = [
      ...untilOrders,
      ...timer(3, fired),
      scheduled(4, 'dialtone-number-orders', fired),
      ...completed(4, [{ operationId: 'op1', status: 'succeeded', detail: null }], fired),
      scheduled(5, 'dialtone-number-confirm', fired),
      ...completed(5, [pending], fired),
    ];
    let id = 6;
    let clock = ORDER_CHECK_SECONDS[0]!;
    const confirms: any[] = [];
    for (const seconds of READ_BACK_SECONDS) {
      const r = await replay(numbersOrchestrator, history, input);
      expect(r.isDone).toBe(false);
      // The next read-back waits on a durable timer, and asks only for the orders still unconfirmed.
      expect(new Date(r.actions.at(-1)!.fireAt!).toISOString()).toBe(at(clock + seconds));
      clock += seconds;
      history.push(...timer(id++, at(clock)), scheduled(id, 'dialtone-number-confirm', at(clock)));
      confirms.push((await replay(numbersOrchestrator, history, input)).actions.at(-1)!.input);
      history.push(...completed(id++, [pending], at(clock)));
    }
    expect(confirms.slice(0, -1).every((c) => c.retryReadBack === true && c.orders.length === 1)).toBe(true);
    // The last one flags: no retryReadBack, and how long Teams was read back for the message.
    expect(confirms.at(-1)).toMatchObject({
      readBackMinutes: Math.round(READ_BACK_SECONDS.reduce((a, b) => a + b, 0) / 60),
    });
    expect(confirms.at(-1).retryReadBack).toBeUndefined();
    const flaggedAtLast = {
      row: 1,
      outcome: 'flagged',
      reason: 'number_assignment_failed',
      message: 'Teams does not list it',
    };
    history.splice(history.length - 2, 2, ...completed(id - 1, [flaggedAtLast], at(clock)));
    const done = await replay(numbersOrchestrator, history, input);
    expect(done.isDone).toBe(true);
    expect(done.output.map((x: any) => [x.row, x.outcome])).toEqual([
      [2, 'provisioned'],
      [1, 'flagged'],
    ]);
  });

  it('gives up following an order after the last check and hands it to confirm as it last stood', async () => {
    const history: unknown[] = [...untilOrders];
    let id = 3;
    let clock = 0;
    for (const seconds of ORDER_CHECK_SECONDS) {
      clock += seconds;
      history.push(
        ...timer(id++, at(clock)),
        scheduled(id, 'dialtone-number-orders', at(clock)),
        ...completed(id++, [{ operationId: 'op1', status: 'running', detail: null }], at(clock)),
      );
    }
    const r = await replay(numbersOrchestrator, history, input);
    const confirm = r.actions.find((a) => a.functionName === 'dialtone-number-confirm')!;
    expect(confirm.input.orders[0].state).toEqual({ status: 'running', detail: null });
    expect(confirm.input.followedMinutes).toBe(Math.round(clock / 60));
    // One timer per check and no more: the last action is the confirmation.
    expect(r.actions.filter((a) => a.actionType === 5)).toHaveLength(ORDER_CHECK_SECONDS.length);
    expect(r.actions.at(-1)!.functionName).toBe('dialtone-number-confirm');
  });
});
