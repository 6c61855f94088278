// Activity answers are checked, not cast (contracts/activities.ts): an answer replayed from an instance's history, as
// whatever version recorded it, is read only when it holds what the orchestrator decides on; an older version's
// answer without a field added since is read as that version meant it (workflows/versions.ts); an answer the
// orchestrator cannot read fails the instance with a message naming the activity and the field, rather than lead it to
// a decision about money on a value that is not there.
import { activityAnswer, ACTIVITY_ANSWERS } from '../../contracts/activities';
import * as names from '../../contracts/names';
import { chunkOrchestrator } from '../../workflows/chunk';
import { batchOrchestrator } from '../../workflows/batch';
import { drive, type Answer, type DrivenAction } from '../support/orchestration-driver';
import { flatActions, type ReplayState } from '../support/durable-sdk';
import type { BatchInput, ChunkInput } from '../../contracts/batch';

const T0 = '2026-11-25T08:00:00.000Z';
const runKey = 'default/b1/20261125T080000Z-0a1b2c3d';

describe('activity answers', () => {
  it('has a check for every activity the app registers', () => {
    const activities = Object.entries(names)
      .filter(([k]) => k.endsWith('_ACTIVITY'))
      .map(([, v]) => v)
      .sort();
    expect(Object.keys(ACTIVITY_ANSWERS).sort()).toEqual(activities);
  });

  it('hands the answer on as it came: fields the check does not name are kept', () => {
    const answer = { pending: 1, found: 2, refused: 0, numbered: [3], somethingNewer: { a: 1 } };
    expect(activityAnswer(names.PROBE_TEAMS_ACTIVITY, answer)).toBe(answer);
  });

  it('refuses an answer without what the orchestrator decides on, naming the activity and the field', () => {
    expect(() => activityAnswer(names.PROBE_TEAMS_ACTIVITY, { pending: '2', numbered: [] })).toThrow(
      /^dialtone-probe-teams answered with a payload this version cannot read: pending: .*expected number/,
    );
    expect(() => activityAnswer(names.SAVE_CHUNK_ACTIVITY, null)).toThrow(/dialtone-save-chunk .*\(the answer\)/);
    expect(() => activityAnswer(names.PLAN_SLOT_ACTIVITY, { chunks: [1], waiting: 0 })).toThrow(/waitUntil/);
  });

  it('reads a deferred check recorded before resumeAt and reservedUntil existed (both optional)', () => {
    const answer = { pending: 1, found: 0, refused: 0, numbered: [], deferredUntil: T0 };
    expect(activityAnswer(names.PROBE_TEAMS_ACTIVITY, answer)).toBe(answer);
  });

  const chunkInput: ChunkInput = {
    batchId: 'b1',
    runKey,
    chunk: 0,
    deadline: '2026-11-26T08:00:00.000Z',
    parallelism: 2,
  };

  it('fails a chunk whose replayed probe answer it cannot read, before any further write or check', async () => {
    const answer = (a: DrivenAction): Answer => {
      switch (a.functionName) {
        case 'dialtone-load-chunk':
          return { result: 1 };
        case 'dialtone-assign':
          return {
            result: { row: 1, outcome: 'assigned', reason: '', message: '', assignedAt: null, provisionedAt: null },
          };
        case 'dialtone-save-chunk':
          return { result: { pending: 1 } };
        case 'dialtone-chunk-signals':
          return { result: { recheckRequestedAt: null, cancelled: false } };
        case 'dialtone-probe-teams':
          // `numbered` missing: the chunk cannot tell whose number step follows
          return { result: { pending: 0, found: 1, refused: 0 } };
        default:
          throw new Error(`unexpected ${a.functionName}`);
      }
    };
    // The SDK fails the turn as the extension sees a failed orchestration: the error, and the state it reached.
    const failure = await drive(chunkOrchestrator, chunkInput, { start: T0, answer }).then(
      () => new Error('the chunk went on'),
      (e: Error) => e,
    );
    const marker = '$OutOfProcData$:';
    const state = JSON.parse(failure.message.slice(failure.message.indexOf(marker) + marker.length)) as ReplayState;
    expect(state.error).toMatch(/^dialtone-probe-teams answered with a payload this version cannot read: numbered:/);
    const scheduled = flatActions(state.actions).filter((a) => a.actionType === 1);
    expect(scheduled.map((a) => a.functionName).at(-1)).toBe('dialtone-probe-teams');
  });

  it('reads a preflight answer recorded before start-date slots existed as one with none', async () => {
    const input: BatchInput = {
      batchId: 'b1',
      runKey,
      source: 'http',
      input: { container: 'c', name: 'n' },
      deadlineHours: 24,
      chunkSize: 200,
      parallelism: 10,
    };
    const answer = (a: DrivenAction): Answer => {
      if (a.functionName === 'dialtone-preflight') return { result: { total: 3, chunks: 1, settled: { total: 0 } } };
      if (a.functionName === 'dialtone-chunk') return { result: { chunk: 0, counts: { total: 3 } } };
      if (a.functionName === 'dialtone-finish') return { result: { total: 3 } };
      throw new Error(`unexpected ${a.functionName}`);
    };
    const r = await drive(batchOrchestrator, input, { instanceId: 'b1', start: T0, answer });
    expect(r.error).toBeUndefined();
    expect(r.scheduled.map((a) => a.functionName)).toEqual(['dialtone-preflight', 'dialtone-chunk', 'dialtone-finish']);
  });
});
