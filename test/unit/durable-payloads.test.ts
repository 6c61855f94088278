// No durable message of a 10,000-user batch over 45,000 bytes (above about 45 KB the Azure Storage
// provider moves a message to a blob: a storage round trip and memory for each). The orchestrators are driven through
// the real durable-functions SDK (test/support/orchestration-driver.ts), every input, result, continue-as-new input and
// output measured, with the activities answering as the store would at the worst sizes the settings allow: the largest
// chunk (1,000 rows) and parallelism (50), every error message at its cap (500 characters), every user found ready at
// once and handed to the number step. A 10,000-user batch is its own messages plus its chunks': the batch is driven
// with its 10 (or 50) chunks, and one chunk of each size through assignment, a day of checks and the deadline.
import { batchOrchestrator } from '../../workflows/batch';
import { chunkOrchestrator } from '../../workflows/chunk';
import type { BatchInput, ChunkInput } from '../../contracts/batch';
import { numbersOrchestrator } from '../../workflows/numbers';
import type { NumbersInput } from '../../contracts/numbers';
import type { ChunkUserResult } from '../../shared/domain/batch';
import { MAX_ERROR_CHARS } from '../../shared/domain/text';
import { drive, type Answer, type DrivenAction } from '../support/orchestration-driver';

const LIMIT = 45_000;
const T0 = '2026-11-25T08:00:00.000Z';
const USERS = 10_000;
const longMessage = (what: string) => `${what}: ${'x'.repeat(MAX_ERROR_CHARS)}`.slice(0, MAX_ERROR_CHARS);
const counts = { total: 0, provisioned: 0, assigned: 0, flagged: 0, failed: 0, rejected: 0, cancelled: 0 };

describe(`the largest durable message of a ${USERS.toLocaleString('en')}-user batch`, () => {
  it.each([200, 1000])(
    'stays at or under 45,000 bytes in the batch orchestration, with chunks of %i',
    async (chunkSize) => {
      const chunks = USERS / chunkSize;
      const input: BatchInput = {
        batchId: 'b1',
        runKey: 'default/b1/20261125T080000Z-0a1b2c3d',
        source: 'http',
        input: { container: 'license-reports', name: 'default/b1/20261125T080000Z-0a1b2c3d/_work/input' },
        deadlineHours: 24,
        chunkSize,
        parallelism: 50,
      };
      const r = await drive(batchOrchestrator, input, {
        instanceId: 'b1',
        start: T0,
        answer: (a: DrivenAction): Answer => {
          if (a.functionName === 'dialtone-preflight')
            return { result: { total: USERS, chunks, slots: 0, settled: { ...counts } } };
          // half the chunks fail outright with a long failure: finish is told each one's
          if (a.functionName === 'dialtone-chunk')
            return a.input.chunk % 2 === 0
              ? { result: { chunk: a.input.chunk, counts: { ...counts, total: chunkSize, provisioned: chunkSize } } }
              : { fail: `Orchestrator function 'dialtone-chunk' failed: ${'y'.repeat(4000)}` };
          if (a.functionName === 'dialtone-finish') return { result: { ...counts, total: USERS } };
          throw new Error(`unexpected ${a.functionName}`);
        },
      });
      expect(r.error).toBeUndefined();
      expect(r.scheduled.filter((a) => a.functionName === 'dialtone-chunk')).toHaveLength(chunks);
      expect(r.largestMessageBytes).toBeLessThanOrEqual(LIMIT);
    },
  );

  it.each([200, 1000])(
    "stays at or under 45,000 bytes in a chunk's orchestration of %i users, from assignment to the deadline",
    async (size) => {
      const input: ChunkInput = {
        batchId: 'b1',
        runKey: 'default/b1/20261125T080000Z-0a1b2c3d',
        chunk: 3,
        deadline: '2026-11-26T08:00:00.000Z',
        parallelism: 50,
      };
      let pending = 0;
      let checks = 0;
      const r = await drive(chunkOrchestrator, input, {
        instanceId: 'b1:chunk-3',
        start: T0,
        followContinueAsNew: true,
        answer: (a: DrivenAction, now: string): Answer => {
          switch (a.functionName) {
            case 'dialtone-load-chunk':
              return { result: size };
            case 'dialtone-assign': {
              // every tenth row fails with its message at the cap; the rest are licensed and wait for Teams
              const row = a.input.index + 1;
              const result: ChunkUserResult =
                row % 10 === 0
                  ? {
                      row,
                      outcome: 'failed',
                      reason: 'graph_error',
                      message: longMessage('Graph refused'),
                      assignedAt: null,
                      provisionedAt: null,
                    }
                  : { row, outcome: 'assigned', reason: '', message: '', assignedAt: null, provisionedAt: null };
              return { result };
            }
            case 'dialtone-save-chunk':
              pending += (a.input.results ?? []).filter((x: ChunkUserResult) => x.outcome === 'assigned').length;
              return { result: { pending } };
            case 'dialtone-chunk-signals':
              return { result: { recheckRequestedAt: null, cancelled: false } };
            case 'dialtone-probe-teams': {
              checks++;
              // half of them show up at once after three hours, every one with a number to assign; the rest never do
              if (checks % 3 === 0)
                return {
                  result: {
                    pending,
                    found: 0,
                    refused: 0,
                    numbered: [],
                    deferredUntil: new Date(Date.parse(now) + 30_000).toISOString(),
                  },
                };
              if (Date.parse(now) >= Date.parse(T0) + 3 * 3_600_000 && pending > size / 4) {
                const found = Math.floor(size * 0.45);
                pending -= found;
                return {
                  result: { pending, found, refused: 0, numbered: Array.from({ length: found }, (_, i) => i + 1) },
                };
              }
              return { result: { pending, found: 0, refused: 0, numbered: [] } };
            }
            case 'dialtone-numbers':
              return {
                result: a.input.rows.map((row: number) => ({
                  row,
                  outcome: 'flagged',
                  reason: 'number_assignment_failed',
                  message: longMessage('the number could not be assigned'),
                  phoneNumber: '+14255550100',
                  numberedAt: now,
                  advisories: ['number_kept'],
                })),
              };
            case 'dialtone-settle-chunk':
              return { result: { ...counts, total: size } };
            default:
              throw new Error(`unexpected ${a.functionName}`);
          }
        },
      });
      expect(r.error).toBeUndefined();
      expect(r.output).toMatchObject({ chunk: 3 });
      // it went the whole way: every assignment, number steps, several generations, the deadline
      expect(r.scheduled.filter((a) => a.functionName === 'dialtone-assign')).toHaveLength(size);
      expect(r.scheduled.filter((a) => a.functionName === 'dialtone-numbers').length).toBeGreaterThan(1);
      expect(r.generations).toBeGreaterThan(5);
      expect(r.largestMessageBytes).toBeLessThanOrEqual(LIMIT);
    },
  );

  it('stays at or under 45,000 bytes in a number step (the users a chunk hands it at once)', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => i + 1);
    const input: NumbersInput = { runKey: 'default/b1/20261125T080000Z-0a1b2c3d', chunk: 3, rows, parallelism: 50 };
    const r = await drive(numbersOrchestrator, input, {
      instanceId: 'b1:chunk-3:numbers-9',
      start: T0,
      answer: (a: DrivenAction): Answer => {
        switch (a.functionName) {
          case 'dialtone-number-work':
            return {
              result: rows.map((row) => ({
                runKey: input.runKey,
                row,
                userId: `00000000-0000-4000-8000-${String(row).padStart(12, '0')}`,
                number: { numberType: 'callingPlan', isoCountryCode: 'US' },
              })),
            };
          case 'dialtone-number-start':
            return {
              result: {
                kind: 'ordered',
                order: {
                  row: a.input.row,
                  userId: a.input.userId,
                  telephoneNumber: '+14255550100',
                  numberType: 'callingPlan',
                  operationId: `op-${a.input.row}-${'o'.repeat(60)}`,
                },
              },
            };
          case 'dialtone-number-orders':
            return {
              result: a.input.operationIds.map((operationId: string) => ({
                operationId,
                status: 'running',
                detail: longMessage('still running'),
              })),
            };
          case 'dialtone-number-confirm':
            return {
              result: a.input.orders.map((o: { row: number }) => ({
                row: o.row,
                outcome: 'flagged',
                reason: 'number_assignment_failed',
                message: longMessage('the order did not finish'),
                phoneNumber: null,
              })),
            };
          default:
            throw new Error(`unexpected ${a.functionName}`);
        }
      },
    });
    expect(r.error).toBeUndefined();
    expect(r.largestMessageBytes).toBeLessThanOrEqual(LIMIT);
  });
});
