// The orchestrators driven through the real durable-functions SDK with hand-built histories, as the Durable
// extension would replay them: what they schedule, and what they decide from what the activities returned.
import { InvocationContext } from '@azure/functions';
import { Orchestrator } from 'durable-functions/lib/src/orchestrations/Orchestrator';
import { batchOrchestrator } from '../../orchestrations/batch';
import { chunkOrchestrator, POLLS_PER_GENERATION } from '../../orchestrations/chunk';
import type { BatchInput, ChunkInput } from '../../orchestrations/contracts';
import type { ChunkUserResult } from '../../shared/domain/batch';

const T0 = '2026-11-25T08:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
let eventId = 0;
const ev = (type: number, fields: Record<string, unknown> = {}, ts = T0) => ({ EventType: type, EventId: fields['EventId'] ?? -1, IsPlayed: false, Timestamp: ts, ...fields });
const started = (input: unknown, ts = T0) => [ev(12, {}, ts), ev(0, { Name: 'x', Input: JSON.stringify(input) }, ts)];
const scheduled = (name: string) => ev(4, { EventId: eventId++, Name: name });
const completed = (id: number, result: unknown, ts = T0) => [ev(12, {}, ts), ev(5, { TaskScheduledId: id, Result: JSON.stringify(result) }, ts)];

interface Action { actionType: number; functionName?: string; input?: any; instanceId?: string; fireAt?: string; compoundActions?: Action[] }
async function replay(fn: typeof batchOrchestrator, history: unknown[], input: unknown): Promise<{ isDone: boolean; output: any; actions: Action[]; customStatus: any }> {
  const handler = new Orchestrator(fn).listen();
  const state = (await handler({ history, input, instanceId: 'b1', isReplaying: false, parentInstanceId: '', upperSchemaVersion: 1, longRunningTimerIntervalDuration: '3.00:00:00', maximumShortTimerDuration: '6.00:00:00', defaultHttpAsyncRequestSleepTimeMillseconds: 30000 }, new InvocationContext())) as any;
  const flat: Action[] = [];
  const walk = (a: Action) => (a.compoundActions ? a.compoundActions.forEach(walk) : flat.push(a));
  for (const group of state.actions) for (const a of group) walk(a);
  return { isDone: state.isDone, output: state.output, actions: flat, customStatus: state.customStatus };
}

beforeEach(() => (eventId = 0));

describe('batch orchestrator', () => {
  const input: BatchInput = { batchId: 'b1', runKey: 'default/b1/20261125T080000Z-0a1b2c3d', source: 'http', input: { container: 'c', name: 'n' }, deadlineHours: 24, chunkSize: 200, parallelism: 10 };

  it('starts with preflight, passing the deadline computed from the orchestration clock', async () => {
    const r = await replay(batchOrchestrator, started(input), input);
    expect(r.actions).toHaveLength(1);
    expect(r.actions[0]).toMatchObject({ actionType: 1, functionName: 'dialtone-preflight' });
    expect(r.actions[0]!.input).toMatchObject({ batchId: 'b1', runKey: input.runKey, startedAt: T0, deadline: at(24 * 60), chunkSize: 200 });
    expect(r.customStatus).toEqual({ phase: 'preflight', chunks: 0 });
  });

  it('fans out one sub-orchestration per chunk with deterministic instance ids', async () => {
    const history = [...started(input), scheduled('dialtone-preflight'), ...completed(0, { total: 450, chunks: 3, settled: { total: 0 } })];
    const r = await replay(batchOrchestrator, history, input);
    const subs = r.actions.filter((a) => a.actionType === 2);
    expect(subs.map((a) => a.instanceId)).toEqual(['b1:chunk-0', 'b1:chunk-1', 'b1:chunk-2']);
    // Each chunk works in the run's own folder, never in one named after the caller's batch id alone.
    expect(subs[2]!.input).toEqual({ batchId: 'b1', runKey: input.runKey, chunk: 2, deadline: at(24 * 60), parallelism: 10 });
    expect(r.customStatus).toMatchObject({ phase: 'licensing', chunks: 3 });
  });

  it('waits for every chunk when one fails while others run, then reports its rows with its failure (11.5)', async () => {
    const sub = (id: number) => ev(7, { EventId: id, Name: 'dialtone-chunk', InstanceId: `b1:chunk-${id - 1}` });
    const failedAt = at(5);
    const untilFailure = [
      ...started(input),
      scheduled('dialtone-preflight'),
      ...completed(0, { total: 400, chunks: 2, slots: 0, settled: { total: 0 } }),
      sub(1),
      sub(2),
      ev(12, {}, failedAt),
      ev(9, { TaskScheduledId: 2, Reason: "Orchestrator function 'dialtone-chunk' failed: storage unavailable", Details: 'storage unavailable' }, failedAt),
    ];
    const waiting = await replay(batchOrchestrator, untilFailure, input);
    // chunk 1 failed, chunk 0 still runs: no report yet
    expect(waiting.isDone).toBe(false);
    expect(waiting.actions.some((a) => a.functionName === 'dialtone-finish')).toBe(false);

    const history = [...untilFailure, ...completed(1, { chunk: 0, counts: { total: 200 } }, at(30)).map((e) => (e.EventType === 5 ? { ...e, EventType: 8 } : e))];
    const r = await replay(batchOrchestrator, history, input);
    const finish = r.actions.find((a) => a.functionName === 'dialtone-finish')!;
    expect(finish.input.failedChunks).toHaveLength(1);
    expect(finish.input.failedChunks[0].chunk).toBe(1);
    expect(finish.input.failedChunks[0].message).toContain('storage unavailable');
    expect(finish.input.finishedAt).toBe(at(30));
  });

  it('goes straight to the report when preflight found nothing to assign (or the input was unusable)', async () => {
    const history = [...started(input), scheduled('dialtone-preflight'), ...completed(0, { total: 0, chunks: 0, error: 'no UPN column', settled: { total: 0 } })];
    const r = await replay(batchOrchestrator, history, input);
    expect(r.actions.map((a) => a.functionName)).toEqual(['dialtone-preflight', 'dialtone-finish']);
  });
});

describe('chunk orchestrator', () => {
  const input: ChunkInput = { batchId: 'b1', chunk: 0, deadline: at(24 * 60), parallelism: 2 };
  const work = [
    { row: 1, userId: 'u1', addSkuIds: ['s'], setUsageLocation: null, pollTeams: true },
    { row: 2, userId: 'u2', addSkuIds: ['s'], setUsageLocation: 'US', pollTeams: true },
    { row: 3, userId: 'u3', addSkuIds: [], setUsageLocation: null, pollTeams: false },
  ];
  const ok = (row: number, reason: '' | 'already_licensed' = ''): ChunkUserResult => ({ row, outcome: 'assigned', reason, message: '', assignedAt: null, provisionedAt: null });

  it('assigns users a group of `parallelism` at a time', async () => {
    const history = [...started(input), scheduled('dialtone-load-chunk'), ...completed(0, work)];
    const r = await replay(chunkOrchestrator, history, input);
    const assigns = r.actions.filter((a) => a.functionName === 'dialtone-assign');
    expect(assigns.map((a) => a.input.row)).toEqual([1, 2]);
  });

  it('after assignment saves results, then waits on a timer 10 minutes out or a recheck event', async () => {
    const history = [
      ...started(input),
      scheduled('dialtone-load-chunk'),
      ...completed(0, work),
      scheduled('dialtone-assign'),
      scheduled('dialtone-assign'),
      ...completed(1, ok(1)),
      ev(5, { TaskScheduledId: 2, Result: JSON.stringify({ row: 2, outcome: 'failed', reason: 'insufficient_licenses', message: 'no seat', assignedAt: null, provisionedAt: null }) }),
      scheduled('dialtone-assign'),
      ...completed(3, ok(3, 'already_licensed')),
      scheduled('dialtone-save-chunk'),
      ...completed(4, null),
    ];
    const r = await replay(chunkOrchestrator, history, input);
    const save = r.actions.find((a) => a.functionName === 'dialtone-save-chunk')!;
    expect(save.input.results.map((x: any) => [x.row, x.outcome, x.assignedAt])).toEqual([
      [1, 'assigned', T0],
      [2, 'failed', null],
      [3, 'assigned', T0],
    ]);
    const timer = r.actions.find((a) => a.actionType === 5)!;
    expect(new Date(timer.fireAt!).toISOString()).toBe(at(10));
    expect(r.actions.some((a) => a.actionType === 6 && (a as any).externalEventName === 'recheck')).toBe(true);
  });

  it('records users the probe finds as provisioned, and flags the rest at the deadline', async () => {
    const state = { results: [ok(1), ok(2)].map((x) => ({ ...x, assignedAt: T0 })), pending: [{ row: 1, userId: 'u1' }, { row: 2, userId: 'u2' }], assignedAt: T0, polls: 1 };
    const late: ChunkInput = { ...input, deadline: at(20), state };
    // Poll at 20 minutes (the deadline) finds u1 only.
    const history = [
      ...started(late, at(10)),
      ev(10, { EventId: 0, FireAt: at(20) }),
      ev(12, {}, at(20)),
      ev(11, { TimerId: 0, FireAt: at(20) }, at(20)),
      ev(4, { EventId: 1, Name: 'dialtone-probe-teams' }),
      ...completed(1, { found: ['u1'], refused: [] }, at(20)),
      ev(4, { EventId: 2, Name: 'dialtone-save-chunk' }),
      ...completed(2, null, at(20)),
      ev(4, { EventId: 3, Name: 'dialtone-save-chunk' }),
      ...completed(3, null, at(20)),
    ];
    const r = await replay(chunkOrchestrator, history, late);
    expect(r.isDone).toBe(true);
    const saves = r.actions.filter((a) => a.functionName === 'dialtone-save-chunk');
    expect(saves.at(-1)!.input.results.map((x: any) => [x.row, x.outcome, x.reason, x.provisionedAt])).toEqual([
      [1, 'provisioned', '', at(20)],
      [2, 'flagged', 'no_calling_plan', null],
    ]);
    expect(r.output).toEqual({ chunk: 0, counts: { total: 2, provisioned: 1, assigned: 0, flagged: 1, failed: 0, rejected: 0, cancelled: 0 } });
  });

  it('ends the wait at once for users whose Teams reads Graph refuses (403), failing them forbidden with the permission named', async () => {
    const state = { results: [ok(1), ok(2)].map((x) => ({ ...x, assignedAt: T0 })), pending: [{ row: 1, userId: 'u1' }, { row: 2, userId: 'u2' }], assignedAt: T0, polls: 0 };
    const s: ChunkInput = { ...input, deadline: at(24 * 60), state };
    const refused = [{ userId: 'u1', message: 'Graph answered 403 to GET /admin/teams/userConfigurations/{id}: the app needs TeamsUserConfiguration.Read.All' }];
    const history = [
      ...started(s, at(0)),
      ev(10, { EventId: 0, FireAt: at(10) }),
      ev(12, {}, at(10)),
      ev(11, { TimerId: 0, FireAt: at(10) }, at(10)),
      ev(4, { EventId: 1, Name: 'dialtone-probe-teams' }),
      ...completed(1, { found: [], refused }, at(10)),
      ev(4, { EventId: 2, Name: 'dialtone-save-chunk' }),
      ...completed(2, null, at(10)),
    ];
    const r = await replay(chunkOrchestrator, history, s);
    const saves = r.actions.filter((a) => a.functionName === 'dialtone-save-chunk');
    expect(saves.at(-1)!.input.results.map((x: any) => [x.row, x.outcome, x.reason])).toEqual([
      [1, 'failed', 'forbidden'],
      [2, 'assigned', ''],
    ]);
    expect(saves.at(-1)!.input.results[0].message).toMatch(/TeamsUserConfiguration\.Read\.All/);
    // u2 keeps waiting: the next action is another timer, with one probe so far.
    expect(r.isDone).toBe(false);
    expect(r.actions.filter((a) => a.functionName === 'dialtone-probe-teams')).toHaveLength(1);
  });

  it('waits on a durable timer for its slots in the shared Teams read budget, then checks with the reservation', async () => {
    const state = { results: [ok(1), ok(2)].map((x) => ({ ...x, assignedAt: T0 })), pending: [{ row: 1, userId: 'u1' }, { row: 2, userId: 'u2' }], assignedAt: T0, polls: 0 };
    const s: ChunkInput = { ...input, state };
    const slots = new Date(Date.parse(at(10)) + 45_000).toISOString();
    const first = [
      ...started(s, at(0)),
      ev(10, { EventId: 0, FireAt: at(10) }),
      ev(12, {}, at(10)),
      ev(11, { TimerId: 0, FireAt: at(10) }, at(10)),
      ev(4, { EventId: 1, Name: 'dialtone-probe-teams' }),
      ...completed(1, { found: [], refused: [], deferredUntil: slots }, at(10)),
    ];
    const waiting = await replay(chunkOrchestrator, first, s);
    // the deferred check read nothing: the chunk waits for its slots (or a cancel), and has not counted a poll
    const timer = waiting.actions.filter((a) => a.actionType === 5).at(-1)!;
    expect(new Date(timer.fireAt!).toISOString()).toBe(slots);
    expect(waiting.actions.some((a) => a.actionType === 6 && (a as any).externalEventName === 'cancel')).toBe(true);
    expect(waiting.actions.filter((a) => a.functionName === 'dialtone-probe-teams')).toHaveLength(1);

    const history = [
      ...first,
      ev(10, { EventId: 2, FireAt: slots }),
      ev(12, {}, slots),
      ev(11, { TimerId: 2, FireAt: slots }, slots),
      ev(4, { EventId: 3, Name: 'dialtone-probe-teams' }),
      ...completed(3, { found: ['u1'], refused: [] }, slots),
      ev(4, { EventId: 4, Name: 'dialtone-save-chunk' }),
      ...completed(4, null, slots),
    ];
    const r = await replay(chunkOrchestrator, history, s);
    const probes = r.actions.filter((a) => a.functionName === 'dialtone-probe-teams');
    expect(probes.map((p) => p.input.reservedAt)).toEqual([undefined, slots]);
    expect(probes[1]!.input.userIds).toEqual(['u1', 'u2']);
    const saves = r.actions.filter((a) => a.functionName === 'dialtone-save-chunk');
    expect(saves.at(-1)!.input.results.map((x: any) => [x.row, x.outcome])).toEqual([
      [1, 'provisioned'],
      [2, 'assigned'],
    ]);
    expect(r.isDone).toBe(false);
  });

  it('ends a wait for read-budget slots when the batch is cancelled: the licensed rows end assigned', async () => {
    const state = { results: [{ ...ok(1), assignedAt: T0 }], pending: [{ row: 1, userId: 'u1' }], assignedAt: T0, polls: 0 };
    const s: ChunkInput = { ...input, state };
    const slots = new Date(Date.parse(at(10)) + 45_000).toISOString();
    const history = [
      ...started(s, at(0)),
      ev(10, { EventId: 0, FireAt: at(10) }),
      ev(12, {}, at(10)),
      ev(11, { TimerId: 0, FireAt: at(10) }, at(10)),
      ev(4, { EventId: 1, Name: 'dialtone-probe-teams' }),
      ...completed(1, { found: [], refused: [], deferredUntil: slots }, at(10)),
      ev(10, { EventId: 2, FireAt: slots }),
      ev(12, {}, at(10)),
      ev(15, { Name: 'cancel', Input: JSON.stringify(null) }, at(10)),
    ];
    const r = await replay(chunkOrchestrator, history, s);
    expect(r.isDone).toBe(true);
    expect(r.actions.filter((a) => a.functionName === 'dialtone-probe-teams')).toHaveLength(1);
    expect(r.output).toEqual({ chunk: 0, counts: { total: 1, provisioned: 0, assigned: 1, flagged: 0, failed: 0, rejected: 0, cancelled: 0 } });
  });

  it('continues as new every few polls so the history stays bounded', async () => {
    const state = { results: [{ ...ok(1), assignedAt: T0 }], pending: [{ row: 1, userId: 'u1' }], assignedAt: T0, polls: POLLS_PER_GENERATION - 1 };
    const s: ChunkInput = { ...input, state };
    const history = [...started(s, at(60)), ev(10, { EventId: 0 }), ev(12, {}, at(70)), ev(11, { TimerId: 0, FireAt: at(70) }, at(70)), ev(4, { EventId: 1, Name: 'dialtone-probe-teams' }), ...completed(1, { found: [], refused: [] }, at(70))];
    const r = await replay(chunkOrchestrator, history, s);
    const can = r.actions.find((a) => a.actionType === 4)!;
    expect(can.input.state.polls).toBe(POLLS_PER_GENERATION);
    expect(can.input.state.pending).toEqual([{ row: 1, userId: 'u1' }]);
  });
});
