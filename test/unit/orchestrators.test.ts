// The orchestrators driven through the real durable-functions SDK with hand-built histories, as the Durable
// extension would replay them: what they schedule, and what they decide from what the activities returned.
import { batchOrchestrator } from '../../workflows/batch';
import {
  chunkOrchestrator,
  MAX_DEFERRALS,
  MAX_POLLS_PER_GENERATION,
  MAX_WRITE_DEFERRALS,
  NUMBERS_PER_STEP,
  POLLS_PER_GENERATION,
} from '../../workflows/chunk';
import {
  DELAY_BUCKET_EDGES_MINUTES,
  learnedNextCheckAt,
  learnFromCheck,
  nextCheckAt,
  pollsUntilDeadline,
  type LearnedDelays,
} from '../../shared/domain/polling';
import { drive, type Answer, type DrivenAction, type DriveResult } from '../support/orchestration-driver';
import { flatActions, replay as replayState, type ReplayedAction } from '../support/durable-sdk';
import * as history from '../support/history';
import type { AssignInput, BatchInput, ChunkInput } from '../../contracts/batch';
import type { NumberResult } from '../../contracts/numbers';
import { CHUNKS_ASSIGNING, turnByMs, type ChunkUserResult } from '../../shared/domain/batch';

const T0 = '2026-11-25T08:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
let eventId = 0;
const ev = (type: number, fields: Record<string, unknown> = {}, ts = T0) => history.ev(type, fields, ts);
const started = (input: unknown, ts = T0) => history.started(input, ts);
const scheduled = (name: string) => history.scheduled(eventId++, name, T0);
const completed = (id: number, result: unknown, ts = T0) => history.completed(id, result, ts);

type Action = ReplayedAction;
async function replay(
  fn: typeof batchOrchestrator,
  events: unknown[],
  input: unknown,
): Promise<{ isDone: boolean; output: any; actions: Action[]; customStatus: any }> {
  const state = await replayState(fn, events, input, 'b1');
  return {
    isDone: state.isDone,
    output: state.output,
    actions: flatActions(state.actions),
    customStatus: state.customStatus,
  };
}

beforeEach(() => (eventId = 0));

describe('batch orchestrator', () => {
  const input: BatchInput = {
    batchId: 'b1',
    runKey: 'default/b1/20261125T080000Z-0a1b2c3d',
    source: 'http',
    input: { container: 'c', name: 'n' },
    deadlineHours: 24,
    chunkSize: 200,
    parallelism: 10,
  };

  it('starts with preflight, passing the deadline computed from the orchestration clock', async () => {
    const r = await replay(batchOrchestrator, started(input), input);
    expect(r.actions).toHaveLength(1);
    expect(r.actions[0]).toMatchObject({ actionType: 1, functionName: 'dialtone-preflight' });
    expect(r.actions[0]!.input).toMatchObject({
      batchId: 'b1',
      runKey: input.runKey,
      startedAt: T0,
      deadline: at(24 * 60),
      chunkSize: 200,
    });
    expect(r.customStatus).toEqual({ phase: 'preflight', chunks: 0 });
  });

  it('fans out one sub-orchestration per chunk with deterministic instance ids', async () => {
    const history = [
      ...started(input),
      scheduled('dialtone-preflight'),
      ...completed(0, { total: 450, chunks: 3, settled: { total: 0 } }),
    ];
    const r = await replay(batchOrchestrator, history, input);
    const subs = r.actions.filter((a) => a.actionType === 2);
    expect(subs.map((a) => a.instanceId)).toEqual(['b1:chunk-0', 'b1:chunk-1', 'b1:chunk-2']);
    // Each chunk works in the run's own folder, never in one named after the caller's batch id alone.
    expect(subs[2]!.input).toEqual({
      batchId: 'b1',
      runKey: input.runKey,
      chunk: 2,
      deadline: at(24 * 60),
      parallelism: 10,
      stopsLate: true,
      learnsSchedule: true,
      numbersAside: true,
    });
    // what the batch list and the summary view show while it runs: every row in the total, none settled yet
    expect(r.customStatus).toMatchObject({ phase: 'licensing', chunks: 3, counts: { total: 450 } });
  });

  it('starts chunks in turn: each chunkStaggerMs after the previous, the first at once (docs/architecture.md)', async () => {
    const history = [
      ...started(input),
      scheduled('dialtone-preflight'),
      ...completed(0, { total: 450, chunks: 3, slots: 0, settled: { total: 0 }, chunkStaggerMs: 84_000 }),
    ];
    const r = await replay(batchOrchestrator, history, input);
    const subs = r.actions.filter((a) => a.actionType === 2);
    expect(subs.map((a) => a.input.startAt)).toEqual([
      undefined,
      new Date(Date.parse(T0) + 84_000).toISOString(),
      new Date(Date.parse(T0) + 168_000).toISOString(),
    ]);
  });

  it('has each chunk from CHUNKS_ASSIGNING on wait for its turn from the chunk that many before it, until its turnBy at the latest', async () => {
    const n = CHUNKS_ASSIGNING + 2;
    const stagger = 84_000;
    const history = [
      ...started(input),
      scheduled('dialtone-preflight'),
      ...completed(0, { total: 150 * n, chunks: n, slots: 0, settled: { total: 0 }, chunkStaggerMs: stagger }),
    ];
    const subs = (await replay(batchOrchestrator, history, input)).actions.filter((a) => a.actionType === 2);
    expect(subs.map((a) => a.input.handsTurnTo)).toEqual(
      Array.from({ length: n }, (_, i) => (i + CHUNKS_ASSIGNING < n ? `b1:chunk-${i + CHUNKS_ASSIGNING}` : undefined)),
    );
    const untilDeadline = 24 * 3_600_000;
    expect(subs.map((a) => a.input.turnBy)).toEqual(
      Array.from({ length: n }, (_, i) =>
        i < CHUNKS_ASSIGNING ? undefined : new Date(Date.parse(T0) + turnByMs(i, stagger, untilDeadline)).toISOString(),
      ),
    );
    // each one's latest start is after its budget turn, and before half the time to the deadline
    for (const [i, a] of subs.entries())
      if (a.input.turnBy) {
        expect(Date.parse(a.input.turnBy)).toBeGreaterThan(Date.parse(a.input.startAt));
        expect(Date.parse(a.input.turnBy)).toBeLessThanOrEqual(Date.parse(T0) + untilDeadline / 2);
        expect(i).toBeGreaterThanOrEqual(CHUNKS_ASSIGNING);
      }
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
      ev(
        9,
        {
          TaskScheduledId: 2,
          Reason: "Orchestrator function 'dialtone-chunk' failed: storage unavailable",
          Details: 'storage unavailable',
        },
        failedAt,
      ),
    ];
    const waiting = await replay(batchOrchestrator, untilFailure, input);
    // chunk 1 failed, chunk 0 still runs: no report yet
    expect(waiting.isDone).toBe(false);
    expect(waiting.actions.some((a) => a.functionName === 'dialtone-finish')).toBe(false);

    const history = [
      ...untilFailure,
      ...completed(1, { chunk: 0, counts: { total: 200 } }, at(30)).map((e) =>
        e.EventType === 5 ? { ...e, EventType: 8 } : e,
      ),
    ];
    const r = await replay(batchOrchestrator, history, input);
    const finish = r.actions.find((a) => a.functionName === 'dialtone-finish')!;
    expect(finish.input.failedChunks).toHaveLength(1);
    expect(finish.input.failedChunks[0].chunk).toBe(1);
    expect(finish.input.failedChunks[0].message).toContain('storage unavailable');
    expect(finish.input.finishedAt).toBe(at(30));
  });

  it('goes straight to the report when preflight found nothing to assign (or the input was unusable)', async () => {
    const history = [
      ...started(input),
      scheduled('dialtone-preflight'),
      ...completed(0, { total: 0, chunks: 0, error: 'no UPN column', settled: { total: 0 } }),
    ];
    const r = await replay(batchOrchestrator, history, input);
    expect(r.actions.map((a) => a.functionName)).toEqual(['dialtone-preflight', 'dialtone-finish']);
  });
});

describe('chunk orchestrator', () => {
  const runKey = 'default/b1/20261125T080000Z-0a1b2c3d';
  const input: ChunkInput = { batchId: 'b1', runKey, chunk: 0, deadline: at(24 * 60), parallelism: 2 };
  const ok = (row: number): ChunkUserResult => ({
    row,
    outcome: 'assigned',
    reason: '',
    message: '',
    assignedAt: null,
    provisionedAt: null,
  });

  /**
   * The chunk's activities as the batch store would answer them: `size` users, all waiting for Teams after assignment
   * until `foundAt` (a check at or after that time finds every one); the store's recheck record and cancel as given.
   */
  function tenant(o: {
    size: number;
    pending?: number;
    foundAt?: string;
    recheckRequestedAt?: string | null;
    cancelled?: boolean;
    deferUntil?: (now: string, reservedAt?: string) => string | undefined;
    resumeLeadMs?: number;
    reservedMs?: number;
    numbered?: boolean;
    assign?: (input: any, now: string) => unknown;
  }) {
    let pending = o.pending ?? 0;
    return (a: DrivenAction, now: string): Answer => {
      switch (a.functionName) {
        case 'dialtone-load-chunk':
          return { result: o.size };
        case 'dialtone-assign':
          return { result: o.assign?.(a.input, now) ?? ok(a.input.index + 1) };
        case 'dialtone-save-chunk':
          pending += (a.input.results ?? []).filter((r: ChunkUserResult) => r.outcome === 'assigned').length;
          return { result: { pending } };
        case 'dialtone-chunk-signals':
          return { result: { recheckRequestedAt: o.recheckRequestedAt ?? null, cancelled: o.cancelled ?? false } };
        case 'dialtone-probe-teams': {
          const deferredUntil = o.deferUntil?.(now, a.input.reservedAt);
          if (deferredUntil)
            return {
              result: {
                pending,
                found: 0,
                refused: 0,
                numbered: [],
                deferredUntil,
                ...(o.resumeLeadMs
                  ? { resumeAt: new Date(Date.parse(deferredUntil) - o.resumeLeadMs).toISOString() }
                  : {}),
                ...(o.reservedMs
                  ? { reservedUntil: new Date(Date.parse(deferredUntil) + o.reservedMs).toISOString() }
                  : {}),
              },
            };
          if (o.foundAt && Date.parse(now) >= Date.parse(o.foundAt)) {
            const found = pending;
            pending = 0;
            return {
              result: {
                pending: 0,
                found,
                refused: 0,
                numbered: o.numbered ? Array.from({ length: found }, (_, i) => i + 1) : [],
              },
            };
          }
          return { result: { pending, found: 0, refused: 0, numbered: [] } };
        }
        case 'dialtone-numbers':
          return {
            result: a.input.rows.map((row: number) => ({
              row,
              outcome: 'provisioned',
              reason: '',
              message: '',
              phoneNumber: '+14255550100',
              numberedAt: now,
            })),
          };
        case 'dialtone-settle-chunk':
          return { result: { total: o.size } };
        case 'dialtone-release-teams-reads':
        case 'dialtone-pass-turn':
          return { result: true };
        default:
          throw new Error(`unexpected ${a.functionName}`);
      }
    };
  }
  const names = (r: DriveResult) =>
    r.scheduled.map((a) => (a.actionType === 5 ? `timer@${new Date(a.fireAt!).toISOString()}` : a.functionName));
  const probes = (r: DriveResult) => r.scheduled.filter((a) => a.functionName === 'dialtone-probe-teams');

  it('assigns users by position a group of `parallelism` at a time, merging each group into the store, then checks a minute later', async () => {
    const r = await drive(chunkOrchestrator, input, { start: T0, answer: tenant({ size: 3, foundAt: at(1) }) });
    expect(names(r)).toEqual([
      'dialtone-load-chunk',
      'dialtone-assign',
      'dialtone-assign',
      'dialtone-save-chunk',
      'dialtone-assign',
      'dialtone-save-chunk',
      'dialtone-chunk-signals',
      `timer@${at(1)}`,
      'dialtone-probe-teams',
      'dialtone-settle-chunk',
    ]);
    // Only references travel: the run, the chunk and a position; the save carries only its group's rows.
    expect(r.scheduled[1]!.input).toEqual({ runKey, chunk: 0, index: 0 });
    const saves = r.scheduled.filter((a) => a.functionName === 'dialtone-save-chunk');
    expect(saves.map((x) => x.input.results.map((y: ChunkUserResult) => [y.row, y.assignedAt]))).toEqual([
      [
        [1, T0],
        [2, T0],
      ],
      [[3, T0]],
    ]);
    // freshMs: a sweep of the Teams list made up to half the floor (a minute for a 24-hour wait) before may answer it.
    expect(probes(r)[0]!.input).toEqual({ runKey, chunk: 0, at: at(1), freshMs: 30_000 });
    expect(r.output).toEqual({ chunk: 0, counts: { total: 3 } });
  });

  describe('when the write budget has no turn for a row soon', () => {
    const slotAt = new Date(Date.parse(T0) + 60_000).toISOString();
    const resumeAt = new Date(Date.parse(T0) + 58_000).toISOString();
    const assigns = (r: DriveResult) =>
      r.scheduled.filter((a) => a.functionName === 'dialtone-assign').map((a) => a.input);

    it("waits on a durable timer until the row's resumeAt, then calls it again with the writes it reserved", async () => {
      // the second row is handed back on its first call, with its slot a minute out
      const assign = (i: AssignInput) =>
        i.index === 1 && !i.writeSlotAt
          ? { deferred: true, row: 2, resumeAt, writeSlotAt: slotAt, writeSlots: 1 }
          : undefined;
      const r = await drive(chunkOrchestrator, input, {
        start: T0,
        answer: tenant({ size: 3, foundAt: at(3), assign }),
      });
      expect(names(r).slice(0, 7)).toEqual([
        'dialtone-load-chunk',
        'dialtone-assign',
        'dialtone-assign',
        `timer@${resumeAt}`,
        'dialtone-assign',
        'dialtone-save-chunk',
        'dialtone-assign',
      ]);
      expect(assigns(r)).toEqual([
        { runKey, chunk: 0, index: 0 },
        { runKey, chunk: 0, index: 1 },
        { runKey, chunk: 0, index: 1, deferrals: 1, writeSlotAt: slotAt, writeSlots: 1 },
        { runKey, chunk: 0, index: 2 },
      ]);
      // both rows of the group are saved together once the second is written, in their order
      const saves = r.scheduled.filter((a) => a.functionName === 'dialtone-save-chunk');
      expect(saves[0]!.input.results.map((y: ChunkUserResult) => [y.row, y.assignedAt])).toEqual([
        [1, resumeAt],
        [2, resumeAt],
      ]);
      expect(r.output).toEqual({ chunk: 0, counts: { total: 3 } });
    });

    it("calls a row handed back without a reservation (the budget's ledger unavailable) again at its resumeAt, without one", async () => {
      const assign = (i: AssignInput) =>
        i.index === 0 && !i.deferrals ? { deferred: true, row: 1, resumeAt } : undefined;
      const r = await drive(chunkOrchestrator, input, {
        start: T0,
        answer: tenant({ size: 1, foundAt: at(3), assign }),
      });
      expect(names(r).slice(0, 5)).toEqual([
        'dialtone-load-chunk',
        'dialtone-assign',
        `timer@${resumeAt}`,
        'dialtone-assign',
        'dialtone-save-chunk',
      ]);
      expect(assigns(r)[1]).toEqual({ runKey, chunk: 0, index: 0, deferrals: 1 });
    });

    it(`gives the row up as throttled after ${MAX_WRITE_DEFERRALS} hand-backs, and goes on with the chunk`, async () => {
      let n = 0;
      const assign = (i: AssignInput, now: string) =>
        i.index === 0
          ? {
              deferred: true,
              row: 1,
              resumeAt: new Date(Date.parse(now) + 30_000 + n++).toISOString(),
              writeSlotAt: new Date(Date.parse(now) + 32_000).toISOString(),
              writeSlots: 1,
            }
          : undefined;
      const r = await drive(chunkOrchestrator, input, {
        start: T0,
        answer: tenant({ size: 2, foundAt: at(30), assign }),
      });
      expect(assigns(r).filter((a) => a.index === 0)).toHaveLength(MAX_WRITE_DEFERRALS + 1);
      const save = r.scheduled.find((a) => a.functionName === 'dialtone-save-chunk')!;
      expect(save.input.results.map((y: ChunkUserResult) => y.row)).toEqual([2]);
      expect(save.input.gaveUp).toEqual([
        {
          index: 0,
          reason: 'throttled',
          message: `gave up: the app's Graph write budget had no slot for this row in ${MAX_WRITE_DEFERRALS} tries; run the batch again`,
        },
      ]);
    });

    it('wakes for each handed-back row at its own time: rows due later are not called early', async () => {
      const later = new Date(Date.parse(T0) + 120_000).toISOString();
      const assign = (i: AssignInput) =>
        i.writeSlotAt
          ? undefined
          : i.index === 0
            ? { deferred: true, row: 1, resumeAt, writeSlotAt: slotAt, writeSlots: 1 }
            : { deferred: true, row: 2, resumeAt: later, writeSlotAt: later, writeSlots: 1 };
      const r = await drive(chunkOrchestrator, input, {
        start: T0,
        answer: tenant({ size: 2, foundAt: at(5), assign }),
      });
      expect(names(r).slice(0, 7)).toEqual([
        'dialtone-load-chunk',
        'dialtone-assign',
        'dialtone-assign',
        `timer@${resumeAt}`,
        'dialtone-assign',
        `timer@${later}`,
        'dialtone-assign',
      ]);
      expect(
        assigns(r)
          .slice(2)
          .map((a) => [a.index, a.writeSlotAt]),
      ).toEqual([
        [0, slotAt],
        [1, later],
      ]);
    });
  });

  describe('its turn to start assigning (startAt)', () => {
    const startAt = at(3);

    it('waits on a durable timer until its startAt, then assigns and checks about a minute after the assignment', async () => {
      const r = await drive(
        chunkOrchestrator,
        { ...input, startAt },
        { start: T0, answer: tenant({ size: 1, foundAt: at(4) }) },
      );
      expect(names(r).slice(0, 5)).toEqual([
        `timer@${startAt}`,
        'dialtone-load-chunk',
        'dialtone-assign',
        'dialtone-save-chunk',
        'dialtone-chunk-signals',
      ]);
      // its checks count from its own assignment, after its turn: the first about a minute after it
      const first = Date.parse(probes(r)[0]!.input.at);
      expect(first).toBeGreaterThan(Date.parse(startAt));
      expect(first).toBeLessThanOrEqual(Date.parse(at(4)));
      expect(r.scheduled.at(-1)).toMatchObject({ functionName: 'dialtone-settle-chunk' });
    });

    it('assigns at once, with no timer, when its input has no startAt (a chunk started before chunks started in turn) or it has passed', async () => {
      for (const chunk of [input, { ...input, startAt: T0 }]) {
        const r = await drive(chunkOrchestrator, chunk, { start: T0, answer: tenant({ size: 1, foundAt: at(1) }) });
        expect(names(r).slice(0, 2)).toEqual(['dialtone-load-chunk', 'dialtone-assign']);
      }
    });

    it('ends at once when the batch is cancelled while it waits: nothing assigned, its rows settled as cancelled', async () => {
      const r = await drive(
        chunkOrchestrator,
        { ...input, startAt },
        {
          start: T0,
          answer: tenant({ size: 2 }),
          beforeTimer: (fireAt) => (Date.parse(fireAt) === Date.parse(startAt) ? [{ name: 'cancel' }] : undefined),
        },
      );
      expect(names(r)).toEqual([`timer@${startAt}`, 'dialtone-settle-chunk']);
      expect(r.scheduled.at(-1)!.input).toEqual({ runKey, chunk: 0, deadline: input.deadline, cancelled: true });
    });

    describe('its turn handed on by the chunk CHUNKS_ASSIGNING before it (turnBy, handsTurnTo)', () => {
      const turnBy = at(30);
      /** The chunk's activities as `tenant` answers them, and the time its assignments began (its load). */
      const timed = () => {
        const answer = tenant({ size: 1, foundAt: at(60) });
        const seen: { loadAt?: string } = {};
        return {
          seen,
          answer: (a: DrivenAction, now: string) => {
            if (a.functionName === 'dialtone-load-chunk') seen.loadAt = now;
            return answer(a, now);
          },
        };
      };

      it('after its startAt, waits for the turn and starts when it comes, well before its turnBy', async () => {
        const t = timed();
        const r = await drive(
          chunkOrchestrator,
          { ...input, startAt, turnBy },
          {
            start: T0,
            answer: t.answer,
            // the turn comes while it waits for it (before the turnBy timer would fire)
            beforeTimer: (fireAt) => (Date.parse(fireAt) === Date.parse(turnBy) ? [{ name: 'turn' }] : undefined),
          },
        );
        expect(names(r).slice(0, 3)).toEqual([`timer@${startAt}`, `timer@${turnBy}`, 'dialtone-load-chunk']);
        expect(t.seen.loadAt).toBe(startAt);
      });

      it('keeps a turn that came before its startAt, and starts at its startAt', async () => {
        const t = timed();
        let raised = false;
        const r = await drive(
          chunkOrchestrator,
          { ...input, startAt, turnBy },
          {
            start: T0,
            answer: t.answer,
            beforeTimer: (fireAt) =>
              Date.parse(fireAt) === Date.parse(startAt) && !raised ? ((raised = true), [{ name: 'turn' }]) : undefined,
          },
        );
        expect(names(r)[0]).toBe(`timer@${startAt}`);
        expect(t.seen.loadAt).toBe(startAt);
      });

      it('starts at its turnBy when the chunk before it never hands it on', async () => {
        const t = timed();
        await drive(chunkOrchestrator, { ...input, startAt, turnBy }, { start: T0, answer: t.answer });
        expect(t.seen.loadAt).toBe(turnBy);
      });

      it('ends at once when the batch is cancelled while it waits for the turn', async () => {
        const r = await drive(
          chunkOrchestrator,
          { ...input, turnBy },
          {
            start: T0,
            answer: tenant({ size: 2 }),
            beforeTimer: (fireAt) => (Date.parse(fireAt) === Date.parse(turnBy) ? [{ name: 'cancel' }] : undefined),
          },
        );
        expect(names(r)).toEqual([`timer@${turnBy}`, 'dialtone-settle-chunk']);
        expect(r.scheduled.at(-1)!.input).toMatchObject({ cancelled: true });
      });

      it('hands the turn on once its assignments are recorded, before its first check', async () => {
        const r = await drive(
          chunkOrchestrator,
          { ...input, handsTurnTo: 'b1:chunk-2' },
          { start: T0, answer: tenant({ size: 3, foundAt: at(1) }) },
        );
        const n = names(r);
        const handed = n.indexOf('dialtone-pass-turn');
        expect(handed).toBe(n.lastIndexOf('dialtone-save-chunk', n.indexOf('dialtone-probe-teams')) + 1);
        expect(n.filter((x) => x === 'dialtone-pass-turn')).toHaveLength(1);
        expect(r.scheduled[handed]!.input).toEqual({ instanceId: 'b1:chunk-2' });
      });
    });

    it('sees a cancel that arrives while it assigns after its wait (the waiter goes on to the watch)', async () => {
      let raised = false;
      const r = await drive(
        chunkOrchestrator,
        { ...input, startAt },
        {
          start: T0,
          answer: (a, now) => {
            const answer = tenant({ size: 1, foundAt: at(60) })(a, now);
            if (a.functionName !== 'dialtone-assign' || raised) return answer;
            raised = true;
            return { ...answer, raiseBefore: [{ name: 'cancel' }] };
          },
        },
      );
      expect(probes(r)).toHaveLength(0);
      expect(r.scheduled.at(-1)).toMatchObject({ functionName: 'dialtone-settle-chunk', input: { cancelled: true } });
    });
  });

  it('checks as often as the schedule allows (every minute at first, less often later) and flags at the deadline, continuing as new with counts only', async () => {
    const deadline = at(24 * 60);
    const r = await drive(
      chunkOrchestrator,
      { ...input, deadline },
      { start: T0, answer: tenant({ size: 2 }), followContinueAsNew: true },
    );
    const times = probes(r).map((p) => (Date.parse(p.input.at) - Date.parse(T0)) / 60_000);
    expect(times.slice(0, 22)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), 22, 24]);
    expect(times.filter((t) => t > 60 && t <= 180).slice(0, 2)).toEqual([64, 68]);
    expect(times.filter((t) => t > 180 && t <= 360).slice(0, 2)).toEqual([185, 190]);
    expect(times.filter((t) => t > 360).slice(0, 2)).toEqual([370, 380]);
    expect(times.at(-1)).toBe(24 * 60);
    expect(times.length).toBe(pollsUntilDeadline(new Date(T0), new Date(deadline)));
    // every minute for 20 minutes, then every 2, 4, 5 and 10: far fewer than one a minute over the day
    expect(times.length).toBeLessThan(220);
    expect(r.generations).toBe(Math.ceil(times.length / POLLS_PER_GENERATION));
    expect(r.scheduled.at(-1)).toMatchObject({
      functionName: 'dialtone-settle-chunk',
      input: { runKey, chunk: 0, deadline },
    });
  });

  it('carries counts and times across continue-as-new, never rows', async () => {
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(400), polls: POLLS_PER_GENERATION - 1 };
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      { start: at(400), answer: tenant({ size: 2, pending: 2 }) },
    );
    expect(r.continuedAsNew).toEqual({
      ...input,
      state: { assignedAt: T0, pending: 2, lastCheckAt: at(410), polls: POLLS_PER_GENERATION },
    });
  });

  it('takes over a generation carried by the earlier version (rows in the input): pending counted from the store', async () => {
    const state = {
      results: [{ ...ok(1), assignedAt: T0 }],
      pending: [{ row: 1, userId: 'u1' }],
      assignedAt: T0,
      polls: 3,
    } as unknown as ChunkInput['state'];
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      { start: at(30), answer: tenant({ size: 1, pending: 1, foundAt: at(31) }) },
    );
    // its last check's time was not carried: it checks at once, then on the schedule
    expect(names(r)).toEqual([
      'dialtone-save-chunk',
      'dialtone-chunk-signals',
      'dialtone-probe-teams',
      `timer@${at(32)}`,
      'dialtone-probe-teams',
      'dialtone-settle-chunk',
    ]);
    expect(r.scheduled[0]!.input).toEqual({ runKey, chunk: 0, results: [] });
  });

  it('honours a recheck recorded in the store at the start of a generation (its event was dropped by continue-as-new)', async () => {
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(400), polls: 8 };
    const recorded = new Date(Date.parse(at(400)) + 20_000).toISOString();
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      { start: at(400.5), answer: tenant({ size: 2, pending: 2, foundAt: at(401), recheckRequestedAt: recorded }) },
    );
    // not at 410 on the schedule: at the floor, a minute after the last check
    expect(names(r)).toEqual([
      'dialtone-chunk-signals',
      `timer@${at(401)}`,
      'dialtone-probe-teams',
      'dialtone-settle-chunk',
    ]);
    // a record older than the last check was honoured already
    const old = await drive(
      chunkOrchestrator,
      { ...input, state },
      { start: at(400.5), answer: tenant({ size: 2, pending: 2, foundAt: at(401), recheckRequestedAt: at(399) }) },
    );
    expect(names(old).slice(0, 3)).toEqual(['dialtone-chunk-signals', `timer@${at(410)}`, 'dialtone-probe-teams']);
  });

  it('keeps a recheck that arrives while a check runs (one waiter per generation), and folds it into one check a minute after the last', async () => {
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(390), polls: 8 };
    const answer = tenant({ size: 2, pending: 2, foundAt: at(401) });
    let raised = 0;
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: at(395),
        answer: (a, now) => {
          const out = answer(a, now);
          // the recheck lands while the first probe (at 400) runs
          if (a.functionName === 'dialtone-probe-teams' && raised++ === 0)
            return { ...out, raiseBefore: [{ name: 'recheck' }] };
          return out;
        },
      },
    );
    expect(probes(r).map((p) => p.input.at)).toEqual([at(400), at(401)]);
    expect(names(r)).toContain(`timer@${at(401)}`);
    expect(names(r)).not.toContain(`timer@${at(410)}`);
  });

  it('ends a wait early for a recheck, but never checks twice within the floor', async () => {
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(400), polls: 8 };
    let waits = 0;
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: at(400),
        answer: tenant({ size: 2, pending: 2, foundAt: at(401) }),
        // first wait: a recheck right after the last check (within the floor); second: the floor's timer fires
        beforeTimer: () => (waits++ === 0 ? [{ name: 'recheck' }] : undefined),
      },
    );
    expect(names(r)).toEqual([
      'dialtone-chunk-signals',
      `timer@${at(410)}`,
      `timer@${at(401)}`,
      'dialtone-probe-teams',
      'dialtone-settle-chunk',
    ]);
    expect(probes(r)[0]!.input.at).toBe(at(401));
  });

  it('carries a recheck that arrived during the last check of a generation into the next one', async () => {
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(390), polls: POLLS_PER_GENERATION - 1 };
    const answer = tenant({ size: 2, pending: 2 });
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: at(395),
        answer: (a, now) => ({
          ...answer(a, now),
          ...(a.functionName === 'dialtone-probe-teams' ? { raiseBefore: [{ name: 'recheck' }] } : {}),
        }),
      },
    );
    expect((r.continuedAsNew as ChunkInput).state).toEqual({
      assignedAt: T0,
      pending: 2,
      lastCheckAt: at(400),
      polls: POLLS_PER_GENERATION,
      recheckDue: true,
    });
  });

  it('remembers what Graph refused of the Teams list for its later checks, across continue-as-new', async () => {
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(330), polls: POLLS_PER_GENERATION - 3 };
    const answer = tenant({ size: 2, pending: 2 });
    let n = 0;
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: at(330),
        // the first check learns that Graph refuses the filter, the second that it refuses the list: it only tightens
        answer: (a, now) => {
          const out = answer(a, now);
          if (a.functionName !== 'dialtone-probe-teams') return out;
          const learned = [{ teamsList: 'unfiltered' }, { teamsList: 'perUser' }, { teamsList: 'unfiltered' }][n++];
          return { result: { ...(out as { result: object }).result, ...learned } };
        },
      },
    );
    expect(probes(r).map((p) => p.input.teamsList)).toEqual([undefined, 'unfiltered', 'perUser']);
    expect((r.continuedAsNew as ChunkInput).state).toEqual({
      assignedAt: T0,
      pending: 2,
      lastCheckAt: at(345),
      polls: POLLS_PER_GENERATION,
      teamsList: 'perUser',
    });
    const next = await drive(chunkOrchestrator, r.continuedAsNew, {
      start: at(345),
      answer: tenant({ size: 2, pending: 2, foundAt: at(350) }),
    });
    expect(probes(next).map((p) => p.input.teamsList)).toEqual(['perUser']);
  });

  it('marks a check brought forward by a recheck (read per user), and only that one', async () => {
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(400), polls: 8 };
    const recorded = new Date(Date.parse(at(400)) + 20_000).toISOString();
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      { start: at(400.5), answer: tenant({ size: 2, pending: 2, foundAt: at(410), recheckRequestedAt: recorded }) },
    );
    expect(probes(r).map((p) => [p.input.at, p.input.recheck])).toEqual([
      [at(401), true],
      [at(410), undefined],
    ]);
  });

  it('waits on a durable timer for its reservation in the shared Teams read budget, then checks with the reservation', async () => {
    const slots = new Date(Date.parse(at(1)) + 45_000).toISOString();
    const state = { assignedAt: T0, pending: 2, lastCheckAt: null, polls: 0 };
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: T0,
        answer: tenant({
          size: 2,
          pending: 2,
          foundAt: at(1),
          deferUntil: (_now, reservedAt) => (reservedAt ? undefined : slots),
        }),
      },
    );
    expect(names(r)).toEqual([
      'dialtone-chunk-signals',
      `timer@${at(1)}`,
      'dialtone-probe-teams',
      `timer@${slots}`,
      'dialtone-probe-teams',
      'dialtone-settle-chunk',
    ]);
    expect(probes(r).map((p) => p.input.reservedAt)).toEqual([undefined, slots]);
  });

  it('wakes a little before its reservation when the check says when (resumeAt), and checks with the reservation', async () => {
    const slots = new Date(Date.parse(at(1)) + 45_000).toISOString();
    const resume = new Date(Date.parse(slots) - 5_000).toISOString();
    const state = { assignedAt: T0, pending: 2, lastCheckAt: null, polls: 0 };
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: T0,
        answer: tenant({
          size: 2,
          pending: 2,
          foundAt: at(1),
          deferUntil: (_now, reservedAt) => (reservedAt ? undefined : slots),
          resumeLeadMs: 5_000,
        }),
      },
    );
    expect(names(r)).toEqual([
      'dialtone-chunk-signals',
      `timer@${at(1)}`,
      'dialtone-probe-teams',
      `timer@${resume}`,
      'dialtone-probe-teams',
      'dialtone-settle-chunk',
    ]);
    expect(probes(r).map((p) => p.input.reservedAt)).toEqual([undefined, slots]);
    // the check's time is when its reads happen (the slots), not the early wake-up
    expect(probes(r)[1]!.input.at).toBe(slots);
  });

  // (The check's result here has no reservedUntil, as recorded before it existed: nothing is given back, so such
  // histories replay as they were recorded.)
  it('ends at its deadline when the budget can give a check its reads only after it: no waiting past the deadline', async () => {
    const deadline = at(30);
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(28), polls: 20 };
    // the budget's next room is 40 minutes after assignment, 10 past the deadline
    const r = await drive(
      chunkOrchestrator,
      { ...input, deadline, state },
      { start: at(28), answer: tenant({ size: 2, pending: 2, deferUntil: () => at(40) }) },
    );
    expect(names(r).slice(2)).toEqual(['dialtone-probe-teams', `timer@${deadline}`, 'dialtone-settle-chunk']);
    expect(r.scheduled.at(-1)).toMatchObject({ functionName: 'dialtone-settle-chunk', input: { deadline } });
  });

  it('gives the reservation of a check it will not make back to the read budget at once, then ends at its deadline', async () => {
    const deadline = at(30);
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(28), polls: 20 };
    const r = await drive(
      chunkOrchestrator,
      { ...input, deadline, state },
      { start: at(28), answer: tenant({ size: 2, pending: 2, deferUntil: () => at(40), reservedMs: 5_000 }) },
    );
    // given back before the wait for the deadline, so that number steps reserving meanwhile can take them
    expect(names(r).slice(2)).toEqual([
      'dialtone-probe-teams',
      'dialtone-release-teams-reads',
      `timer@${deadline}`,
      'dialtone-settle-chunk',
    ]);
    expect(r.scheduled.find((a) => a.functionName === 'dialtone-release-teams-reads')!.input).toEqual({
      runKey,
      chunk: 0,
      from: at(40),
      until: new Date(Date.parse(at(40)) + 5_000).toISOString(),
    });
  });

  it('gives back the slots it waited for when the batch is cancelled during the wait', async () => {
    const slots = new Date(Date.parse(at(1)) + 45_000).toISOString();
    const state = { assignedAt: T0, pending: 1, lastCheckAt: null, polls: 0 };
    let timers = 0;
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: T0,
        answer: tenant({ size: 1, pending: 1, deferUntil: () => slots, reservedMs: 2_500 }),
        beforeTimer: () => (timers++ === 1 ? [{ name: 'cancel' }] : undefined),
      },
    );
    expect(names(r).slice(-2)).toEqual(['dialtone-release-teams-reads', 'dialtone-settle-chunk']);
    expect(r.scheduled.find((a) => a.functionName === 'dialtone-release-teams-reads')!.input).toMatchObject({
      from: slots,
    });
    expect(r.scheduled.at(-1)).toMatchObject({ functionName: 'dialtone-settle-chunk', input: { cancelled: true } });
  });

  it('gives back the last slots of a check deferred every time it was allowed to wait (a poll that read nothing)', async () => {
    const state = { assignedAt: T0, pending: 1, lastCheckAt: null, polls: 0 };
    // every check, the reserved one too, is told its reservation is 40 s on (as when each timer fires after its reservation began)
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: T0,
        answer: tenant({
          size: 1,
          pending: 1,
          foundAt: at(10),
          deferUntil: (now) =>
            Date.parse(now) < Date.parse(at(10)) ? new Date(Date.parse(now) + 40_000).toISOString() : undefined,
          reservedMs: 2_500,
        }),
      },
    );
    const oneCheck = [
      'dialtone-probe-teams',
      ...Array.from({ length: MAX_DEFERRALS }, () => [expect.stringMatching(/^timer@/), 'dialtone-probe-teams']).flat(),
      'dialtone-release-teams-reads',
    ];
    expect(names(r).slice(2, 2 + oneCheck.length)).toEqual(oneCheck);
    // what goes back is the last reservation, the one no check will read
    const lastProbe = probes(r)[MAX_DEFERRALS]!;
    const release = r.scheduled.find((a) => a.functionName === 'dialtone-release-teams-reads')!;
    expect(release.input.from).toBe(new Date(Date.parse(lastProbe.input.at) + 40_000).toISOString());
    // only a check left deferred gives slots back: every release follows such a probe directly
    names(r).forEach(
      (n, i, all) => n === 'dialtone-release-teams-reads' && expect(all[i - 1]).toBe('dialtone-probe-teams'),
    );
  });

  it('starts no overdue check once the deadline is more than the floor behind (number steps or a busy host made it late): it settles', async () => {
    const day = 24 * 60;
    const deadline = at(day);
    const state = { assignedAt: T0, pending: 2, lastCheckAt: at(day - 20), polls: 8 };
    const chunk = { ...input, deadline, state, stopsLate: true as const };
    // its next check was due 10 minutes before the deadline; the chunk gets to it two hours after the deadline
    const late = await drive(chunkOrchestrator, chunk, {
      start: at(day + 120),
      answer: tenant({ size: 2, pending: 2, foundAt: at(0) }),
    });
    expect(names(late)).toEqual(['dialtone-chunk-signals', 'dialtone-settle-chunk']);
    // within the floor (a minute) of the deadline the overdue check still runs
    const onTime = await drive(chunkOrchestrator, chunk, {
      start: at(day + 0.5),
      answer: tenant({ size: 2, pending: 2, foundAt: at(0) }),
    });
    expect(names(onTime)).toEqual(['dialtone-chunk-signals', 'dialtone-probe-teams', 'dialtone-settle-chunk']);
    // a chunk started before this rule (no stopsLate) checks late as its history recorded, so that it replays unchanged
    const old = await drive(
      chunkOrchestrator,
      { ...chunk, stopsLate: undefined },
      { start: at(day + 120), answer: tenant({ size: 2, pending: 2, foundAt: at(0) }) },
    );
    expect(names(old)).toEqual(['dialtone-chunk-signals', 'dialtone-probe-teams', 'dialtone-settle-chunk']);
  });

  it('still makes the check at the deadline when its timer fires late, however late (the floor is for overdue checks only)', async () => {
    const deadline = at(3); // a 3-minute wait: the floor scales down to a second
    const state = { assignedAt: T0, pending: 1, lastCheckAt: at(2.9), polls: 8 };
    // every timer fires 30 s late (30 floors): the last check's, due just before the deadline, fires 25 s after it
    const r = await drive(
      chunkOrchestrator,
      { ...input, deadline, state, stopsLate: true },
      { start: at(2.9), answer: tenant({ size: 1, pending: 1 }), timerLateMs: 30_000 },
    );
    expect(names(r)).toEqual([
      'dialtone-chunk-signals',
      expect.stringMatching(/^timer@/),
      'dialtone-probe-teams',
      'dialtone-settle-chunk',
    ]);
    expect(Date.parse(probes(r)[0]!.input.at)).toBeGreaterThan(Date.parse(deadline) + 20_000);
  });

  it('never checks earlier than the budget allows: a deferred check moves later, and the next one counts from it', async () => {
    const slots = at(3.5);
    const state = { assignedAt: T0, pending: 2, lastCheckAt: null, polls: 0 };
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: T0,
        answer: tenant({
          size: 2,
          pending: 2,
          deferUntil: (now, reservedAt) => (!reservedAt && Date.parse(now) < Date.parse(slots) ? slots : undefined),
        }),
      },
    );
    const reads = probes(r)
      .filter((p) => p.input.reservedAt || Date.parse(p.input.at) >= Date.parse(slots))
      .map((p) => p.input.at);
    // the grid's checks at 2 and 3 minutes were taken by the deferral; the next is a minute after the read, not at 4
    expect(reads.slice(0, 3)).toEqual([slots, at(4.5), at(5.5)]);
  });

  it('ends a wait for its read-budget reservation when the batch is cancelled: the licensed rows end assigned', async () => {
    const slots = new Date(Date.parse(at(1)) + 45_000).toISOString();
    const state = { assignedAt: T0, pending: 1, lastCheckAt: null, polls: 0 };
    let timers = 0;
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      {
        start: T0,
        answer: tenant({ size: 1, pending: 1, deferUntil: () => slots }),
        beforeTimer: () => (timers++ === 1 ? [{ name: 'cancel' }] : undefined),
      },
    );
    expect(probes(r)).toHaveLength(1);
    expect(r.scheduled.at(-1)).toMatchObject({ functionName: 'dialtone-settle-chunk', input: { cancelled: true } });
  });

  it('ends the wait without a check when the store records the batch as cancelled (its event dropped by continue-as-new)', async () => {
    const state = { assignedAt: T0, pending: 1, lastCheckAt: at(30), polls: 8 };
    const r = await drive(
      chunkOrchestrator,
      { ...input, state },
      { start: at(30), answer: tenant({ size: 1, pending: 1, cancelled: true }) },
    );
    expect(names(r)).toEqual(['dialtone-chunk-signals', 'dialtone-settle-chunk']);
    expect(r.scheduled.at(-1)!.input).toEqual({ runKey, chunk: 0, deadline: input.deadline, cancelled: true });
  });

  it('scales the schedule and the floor with a short deadline: a 3-minute wait still checks several times', async () => {
    const deadline = new Date(Date.parse(T0) + 3 * 60_000).toISOString();
    const r = await drive(
      chunkOrchestrator,
      { ...input, deadline },
      { start: T0, answer: tenant({ size: 1 }), followContinueAsNew: true },
    );
    const times = probes(r).map((p) => Date.parse(p.input.at));
    expect(times.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1_000);
    expect(r.scheduled.at(-1)).toMatchObject({ functionName: 'dialtone-settle-chunk' });
  });

  describe('the schedule learned from its users (shared/domain/polling.ts)', () => {
    /** 200 users, ready one after another from 30 to 60 minutes after assignment. */
    const readyAt = Array.from({ length: 200 }, (_, i) => 30 + (i * 30) / 200);
    function provisioning() {
      let pending = readyAt.length;
      return (a: DrivenAction, now: string): Answer => {
        switch (a.functionName) {
          case 'dialtone-chunk-signals':
            return { result: { recheckRequestedAt: null, cancelled: false } };
          case 'dialtone-probe-teams': {
            const still = readyAt.filter((m) => Date.parse(at(m)) > Date.parse(now)).length;
            const found = pending - still;
            pending = still;
            return { result: { pending, found, refused: 0, numbered: [] } };
          }
          case 'dialtone-settle-chunk':
            return { result: { total: readyAt.length } };
          default:
            throw new Error(`unexpected ${a.functionName}`);
        }
      };
    }
    const state = { assignedAt: T0, pending: readyAt.length, lastCheckAt: null, polls: 0 };
    const minutes = (r: DriveResult) => probes(r).map((p) => (Date.parse(p.input.at) - Date.parse(T0)) / 60_000);

    it('learns the delays its checks see, carries them across continue-as-new, and checks as the learned schedule says', async () => {
      const chunk: ChunkInput = { ...input, state, stopsLate: true, learnsSchedule: true };
      const r = await drive(chunkOrchestrator, chunk, { start: T0, answer: provisioning(), followContinueAsNew: true });
      // each check where the domain's functions put it after the check before, from what the checks before found (the
      // history keeps a timer's time to the second)
      const times = probes(r).map((p) => new Date(p.input.at));
      const deadline = new Date(chunk.deadline);
      let learned: LearnedDelays | undefined;
      let pending = readyAt.length;
      times.forEach((t, i) => {
        const last = i === 0 ? null : times[i - 1]!;
        const due = learnedNextCheckAt(new Date(T0), last, deadline, learned)!;
        expect(Math.abs(t.getTime() - due.getTime())).toBeLessThan(1_000);
        const still = readyAt.filter((m) => Date.parse(at(m)) > t.getTime()).length;
        learned = learnFromCheck(learned, {
          assignedAt: new Date(T0),
          deadline,
          from: last ?? new Date(T0),
          to: t,
          waiting: pending,
          pending: still,
          found: pending - still,
        });
        pending = still;
      });
      expect(pending).toBe(0);
      // it did learn: the checks differ from the fixed schedule's
      expect(
        times.some((t, i) => t.getTime() !== nextCheckAt(new Date(T0), times[i - 1] ?? null, deadline)!.getTime()),
      ).toBe(true);
      // denser than the fixed schedule's 2 minutes between 30 and 60 once 20 users were seen ready
      expect(minutes(r).filter((m) => m > 30 && m <= 60).length).toBeGreaterThan(20);
      expect(r.generations).toBeGreaterThan(1);
      expect(r.scheduled.at(-1)).toMatchObject({ functionName: 'dialtone-settle-chunk' });
      // one generation's carried state holds what it learned: a histogram, never a list per user
      const one = await drive(chunkOrchestrator, chunk, { start: T0, answer: provisioning() });
      const carried = (one.continuedAsNew as ChunkInput).state!;
      expect(carried.delays!.ready).toHaveLength(DELAY_BUCKET_EDGES_MINUTES.length + 1);
      expect(carried.delays!.waited.reduce((a, n) => a + n, 0)).toBeGreaterThan(0);
      expect(r.largestMessageBytes).toBeLessThan(1_000);
    });

    it('keeps the fixed schedule in a chunk started before it learned (no learnsSchedule), as its history recorded', async () => {
      const chunk: ChunkInput = { ...input, state, stopsLate: true };
      const r = await drive(chunkOrchestrator, chunk, { start: T0, answer: provisioning(), followContinueAsNew: true });
      const fixed: number[] = [];
      for (let t = nextCheckAt(new Date(T0), null, new Date(chunk.deadline)); t;) {
        fixed.push((t.getTime() - Date.parse(T0)) / 60_000);
        if (fixed.at(-1)! >= 60) break;
        t = nextCheckAt(new Date(T0), t, new Date(chunk.deadline));
      }
      expect(minutes(r)).toEqual(fixed);
      const one = await drive(chunkOrchestrator, chunk, { start: T0, answer: provisioning() });
      expect((one.continuedAsNew as ChunkInput).state!.delays).toBeUndefined();
    });
  });

  describe('number steps beside the checks (numbersAside)', () => {
    /** 60 users: 30 ready at the first check, the rest from 5 minutes on; each number step takes 10 minutes. */
    function slowNumbers(o: { fail?: boolean; never?: number } = {}) {
      let pending = 60;
      return (a: DrivenAction, now: string): Answer => {
        switch (a.functionName) {
          case 'dialtone-chunk-signals':
            return { result: { recheckRequestedAt: null, cancelled: false } };
          case 'dialtone-probe-teams': {
            const first = pending === 60;
            const late = Date.parse(now) >= Date.parse(at(5));
            const found = first ? 30 : late ? pending - (o.never ?? 0) : 0;
            const rows = Array.from({ length: found }, (_, i) => 60 - pending + i + 1);
            pending -= found;
            return { result: { pending, found, refused: 0, numbered: rows } };
          }
          case 'dialtone-numbers':
            if (o.fail) return { fail: 'Orchestrator function dialtone-numbers failed: boom', afterMs: 10 * 60_000 };
            return {
              afterMs: 10 * 60_000,
              result: a.input.rows.map((row: number) => ({
                row,
                outcome: 'provisioned',
                reason: '',
                message: '',
                phoneNumber: `+1425555${String(row).padStart(4, '0')}`,
              })),
            };
          case 'dialtone-save-chunk':
            return { result: { pending } };
          case 'dialtone-settle-chunk':
            return { result: { total: 60 } };
          default:
            throw new Error(`unexpected ${a.functionName}`);
        }
      };
    }
    const state = { assignedAt: T0, pending: 60, lastCheckAt: null, polls: 0 };
    const savedRows = (r: DriveResult) =>
      r.scheduled
        .filter((a) => a.functionName === 'dialtone-save-chunk' && a.input.numbers)
        .flatMap((a) => a.input.numbers.map((n: NumberResult) => n.row));

    it('checks again while the numbers of the users found before are being assigned, and saves every row once', async () => {
      const chunk: ChunkInput = { ...input, state, stopsLate: true, learnsSchedule: true, numbersAside: true };
      const r = await drive(chunkOrchestrator, chunk, { start: T0, answer: slowNumbers(), followContinueAsNew: true });
      const order = r.scheduled.map((a) => a.functionName);
      const firstSave = order.findIndex((n, i) => n === 'dialtone-save-chunk' && r.scheduled[i]!.input.numbers);
      const probeTimes = probes(r).map((p) => Date.parse(p.input.at));
      // the users ready from 5 minutes on were found at 5 minutes, not once the first steps had taken their 10
      expect(probeTimes.filter((t) => t < Date.parse(at(10))).length).toBeGreaterThan(2);
      expect(Math.max(...probeTimes)).toBeLessThan(Date.parse(at(6)));
      expect(order.lastIndexOf('dialtone-probe-teams')).toBeLessThan(firstSave);
      // two steps for the first 30, two for the other 30: every row saved once, all before the chunk settles
      expect(r.scheduled.filter((a) => a.actionType === 2)).toHaveLength(4);
      expect(savedRows(r).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(order.at(-1)).toBe('dialtone-settle-chunk');
      expect(order.lastIndexOf('dialtone-save-chunk')).toBeLessThan(order.length - 1);
    });

    it('continues as new once no step is under way, not by stopping its checks to wait for them', async () => {
      const chunk: ChunkInput = { ...input, state, stopsLate: true, learnsSchedule: true, numbersAside: true };
      const r = await drive(chunkOrchestrator, chunk, { start: T0, answer: slowNumbers({ never: 10 }) });
      expect(r.continuedAsNew).toBeDefined();
      // past its 8 polls while the steps ran (until 15 minutes), checking all the while, and every step saved before
      const times = probes(r).map((p) => Date.parse(p.input.at));
      expect(times.length).toBeGreaterThan(POLLS_PER_GENERATION);
      expect(times.length).toBeLessThanOrEqual(MAX_POLLS_PER_GENERATION);
      expect(Math.max(...times)).toBeGreaterThanOrEqual(Date.parse(at(14)));
      // (a generation that waited for its steps after 8 polls would not check between 9 and 15 minutes)
      expect(times.some((t) => t > Date.parse(at(9)) && t < Date.parse(at(15)))).toBe(true);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(5 * 60_000);
      expect(savedRows(r)).toHaveLength(50);
      expect((r.continuedAsNew as ChunkInput).state).toMatchObject({ pending: 10, polls: times.length });
    });

    it('flags the rows of a step that failed outright, and still settles', async () => {
      const chunk: ChunkInput = { ...input, state, stopsLate: true, learnsSchedule: true, numbersAside: true };
      const r = await drive(chunkOrchestrator, chunk, {
        start: T0,
        answer: slowNumbers({ fail: true }),
        followContinueAsNew: true,
      });
      const saved = r.scheduled
        .filter((a) => a.functionName === 'dialtone-save-chunk' && a.input.numbers)
        .flatMap((a) => a.input.numbers as NumberResult[]);
      expect(saved).toHaveLength(60);
      expect(new Set(saved.map((n) => n.reason))).toEqual(new Set(['number_assignment_failed']));
      expect(saved[0]!.message).toMatch(/the number step failed: .*boom/);
      expect(r.scheduled.at(-1)).toMatchObject({ functionName: 'dialtone-settle-chunk' });
    });

    it('waits for each step before checking again in a chunk started before it (no numbersAside), as its history recorded', async () => {
      const chunk: ChunkInput = { ...input, state, stopsLate: true, learnsSchedule: true };
      const r = await drive(chunkOrchestrator, chunk, { start: T0, answer: slowNumbers(), followContinueAsNew: true });
      const order = r.scheduled.map((a) => a.functionName);
      const firstSave = order.findIndex((n, i) => n === 'dialtone-save-chunk' && r.scheduled[i]!.input.numbers);
      expect(order.indexOf('dialtone-probe-teams')).toBeLessThan(firstSave);
      expect(order.indexOf('dialtone-probe-teams', order.indexOf('dialtone-probe-teams') + 1)).toBeGreaterThan(
        firstSave,
      );
      expect(savedRows(r)).toHaveLength(60);
    });
  });

  it('hands the users Teams shows ready to the number step a few at a time, and merges each step into the store', async () => {
    const state = { assignedAt: T0, pending: 60, lastCheckAt: null, polls: 0 };
    const answer = tenant({ size: 60, pending: 60, foundAt: at(1), numbered: true });
    const r = await drive(chunkOrchestrator, { ...input, state }, { start: T0, answer });
    const steps = r.scheduled.filter((a) => a.actionType === 2);
    expect(steps.map((x) => [x.instanceId, x.input.rows.length])).toEqual([
      ['b1:chunk-0:numbers-1', NUMBERS_PER_STEP],
      ['b1:chunk-0:numbers-1-1', NUMBERS_PER_STEP],
      ['b1:chunk-0:numbers-1-2', 60 - 2 * NUMBERS_PER_STEP],
    ]);
    const saves = r.scheduled.filter((a) => a.functionName === 'dialtone-save-chunk');
    expect(saves.map((x) => x.input.numbers.length)).toEqual([
      NUMBERS_PER_STEP,
      NUMBERS_PER_STEP,
      60 - 2 * NUMBERS_PER_STEP,
    ]);
  });
});
