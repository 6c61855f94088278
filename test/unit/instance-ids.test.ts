// Child instance ids are built and read back by kind (contracts/instance-ids.ts): each says what it is (a chunk, a
// start-date slot's round, a slot's chunk, a number step, the callback) without packing numbers into one, and an id
// an instance already has (a slot's chunk named by its chunk number in the run's folder) still reads as what it is.
import {
  callbackInstanceId,
  childInstanceId,
  chunkInstanceId,
  numbersInstanceId,
  parseInstanceId,
  slotChunkInstanceId,
  slotInstanceId,
  type ChildInstance,
} from '../../contracts/instance-ids';
import { slotChunkId } from '../../contracts/names';
import type { SlotInput } from '../../contracts/slot';
import { slotOrchestrator } from '../../workflows/slot';
import { drive, type Answer, type DrivenAction } from '../support/orchestration-driver';

const batch = 'hr-system~intake-2026-11-25';

describe('child instance ids', () => {
  const children: [ChildInstance, string][] = [
    [{ kind: 'chunk', chunk: 7 }, ':chunk-7'],
    [{ kind: 'slot', slot: 3, round: 0 }, ':slot-3'],
    [{ kind: 'slot', slot: 3, round: 2 }, ':slot-3-r2'],
    [{ kind: 'slot-chunk', slot: 3, round: 2, part: 1 }, ':slot-3-r2-chunk-1'],
    [{ kind: 'numbers', polls: 4, part: 0 }, ':numbers-4'],
    [{ kind: 'numbers', polls: 4, part: 2 }, ':numbers-4-2'],
    [{ kind: 'callback' }, ':callback'],
  ];

  it.each(children)('builds %o as %s under its parent, and reads it back', (child, suffix) => {
    const id = childInstanceId(batch, child);
    expect(id).toBe(`${batch}${suffix}`);
    expect(parseInstanceId(id)).toEqual({ batch, path: [child] });
  });

  it('the builders by kind agree with childInstanceId', () => {
    expect(chunkInstanceId(batch, 2)).toBe(`${batch}:chunk-2`);
    expect(slotInstanceId(batch, 1)).toBe(`${batch}:slot-1`);
    expect(slotInstanceId(batch, 1, 3)).toBe(`${batch}:slot-1-r3`);
    expect(slotChunkInstanceId(batch, 1, 3, 0)).toBe(`${batch}:slot-1-r3-chunk-0`);
    expect(numbersInstanceId(chunkInstanceId(batch, 2), 5, 1)).toBe(`${batch}:chunk-2:numbers-5-1`);
    expect(callbackInstanceId(batch)).toBe(`${batch}:callback`);
  });

  it('reads a number step under a slot chunk as the path from the batch down', () => {
    expect(parseInstanceId(numbersInstanceId(slotChunkInstanceId(batch, 0, 1, 4), 9))).toEqual({
      batch,
      path: [
        { kind: 'slot-chunk', slot: 0, round: 1, part: 4 },
        { kind: 'numbers', polls: 9, part: 0 },
      ],
    });
  });

  it("reads a slot's chunk named the way earlier versions named it (its chunk number in the run's folder)", () => {
    expect(parseInstanceId(`${batch}:chunk-${slotChunkId(12, 3, 45)}`)).toEqual({
      batch,
      path: [{ kind: 'slot-chunk', slot: 12, round: 3, part: 45 }],
    });
    expect(parseInstanceId(`${batch}:chunk-${slotChunkId(12, 3, 45)}:numbers-2`)?.path[1]).toEqual({
      kind: 'numbers',
      polls: 2,
      part: 0,
    });
  });

  it('refuses an id not of its making', () => {
    expect(parseInstanceId(`${batch}:chunk-x`)).toBeNull();
    expect(parseInstanceId(`${batch}:slot-1-chunk-2`)).toBeNull();
    expect(parseInstanceId(`${batch}:something`)).toBeNull();
    expect(parseInstanceId(batch)).toEqual({ batch, path: [] });
  });

  it("names a slot round's chunks by slot, round and part, while they work on the chunk numbers of the run's folder", async () => {
    const input: SlotInput = {
      batchId: 'intake-2026-11-25',
      runKey: 'hr-system/intake-2026-11-25/20261125T080000Z-0a1b2c3d',
      batchInstanceId: batch,
      slot: 2,
      round: 1,
      deadlineHours: 24,
      parallelism: 10,
      chunkSize: 200,
      checkAt: '2026-11-25T09:00:00.000Z',
      slotAt: '2026-11-25T08:00:00.000Z',
    };
    const chunks = [slotChunkId(2, 1, 0), slotChunkId(2, 1, 1)];
    const answer = (a: DrivenAction): Answer => {
      if (a.functionName === 'dialtone-plan-slot') return { result: { chunks, waiting: 0, waitUntil: null } };
      if (a.functionName === 'dialtone-chunk') return { result: { chunk: a.input.chunk, counts: { total: 1 } } };
      throw new Error(`unexpected ${a.functionName}`);
    };
    const r = await drive(slotOrchestrator, input, {
      instanceId: slotInstanceId(batch, 2, 1),
      start: '2026-11-25T08:30:00.000Z',
      answer,
    });
    const subs = r.scheduled.filter((a) => a.functionName === 'dialtone-chunk');
    expect(subs.map((a) => a.instanceId)).toEqual([`${batch}:slot-2-r1-chunk-0`, `${batch}:slot-2-r1-chunk-1`]);
    expect(subs.map((a) => a.input.chunk)).toEqual(chunks);
    expect(r.output).toBe(2);
    // a plan recorded before chunks started in turn has no chunkStaggerMs: the round's chunks all start at once
    expect(subs.map((a) => a.input.startAt)).toEqual([undefined, undefined]);
    const staggered = await drive(slotOrchestrator, input, {
      instanceId: slotInstanceId(batch, 2, 1),
      start: '2026-11-25T08:30:00.000Z',
      answer: (a) =>
        a.functionName === 'dialtone-plan-slot'
          ? { result: { chunks, waiting: 0, waitUntil: null, chunkStaggerMs: 60_000 } }
          : answer(a),
    });
    expect(staggered.scheduled.filter((a) => a.functionName === 'dialtone-chunk').map((a) => a.input.startAt)).toEqual([
      undefined,
      '2026-11-25T09:01:00.000Z',
    ]);
  });
});
