// The read models of a batch that has not finished (shared/domain/batch-view.ts): the live report from the plan, the
// chunks' results and the recorded cancellations, and the one rule for whether a batch is open.
import type { ChunkUserResult, StoredPlan } from '../../shared/domain/batch';
import { OPEN_RUNTIME_STATUSES, isBatchOpen, liveReport } from '../../shared/domain/batch-view';
import type { ScheduledRow } from '../../shared/domain/onboarding';
import type { RowRequest } from '../../shared/domain/planning';
import { NO_CANCELLATIONS } from '../../shared/domain/onboarding';

const assign = (row: number, pollTeams: boolean) => ({
  kind: 'assign' as const,
  row,
  userPrincipalName: `u${row}@contoso.com`,
  profile: 'phone-domestic',
  skus: ['MCOEV', 'MCOPSTN1'],
  userId: `id-${row}`,
  addSkuIds: ['sku-pstn'],
  addedSkus: ['MCOPSTN1'],
  enable: [],
  setUsageLocation: null,
  pollTeams,
  advisories: [],
});
const scheduled = (row: number): ScheduledRow => ({
  kind: 'scheduled',
  row,
  userPrincipalName: `u${row}@contoso.com`,
  profile: 'phone-domestic',
  skus: ['MCOEV'],
  scheduledFor: '2026-12-01T08:00:00.000Z',
  slot: 0,
  request: {} as RowRequest,
});
const plan: StoredPlan = {
  batchId: 'b-1',
  source: 'http',
  startedAt: '2026-11-25T00:00:00.000Z',
  deadline: '2026-11-27T00:00:00.000Z',
  chunkSize: 10,
  advisories: ['input_decoded_windows_1252'],
  rows: [
    assign(1, true),
    assign(2, false),
    assign(3, true),
    scheduled(4),
    scheduled(5),
    {
      kind: 'rejected',
      row: 6,
      userPrincipalName: 'not-a-upn',
      profile: 'phone-domestic',
      skus: [],
      reason: 'invalid_upn',
      message: 'row 6: not a UPN',
    },
  ],
};
const results: ChunkUserResult[] = [
  {
    row: 1,
    outcome: 'assigned',
    reason: '',
    message: 'licensed',
    assignedAt: '2026-11-25T00:01:00.000Z',
    provisionedAt: null,
    addedSkus: ['MCOPSTN1'],
  },
  {
    row: 2,
    outcome: 'assigned',
    reason: '',
    message: 'licensed',
    assignedAt: '2026-11-25T00:01:00.000Z',
    provisionedAt: null,
    addedSkus: ['MCOPSTN1'],
  },
];

describe('the live report', () => {
  it('counts a licensed row that waits for Teams as waiting, a slot row as scheduled, a row with no result as pending', () => {
    const r = liveReport(plan, results, NO_CANCELLATIONS);
    expect(r.counts).toEqual({
      total: 6,
      provisioned: 0,
      assigned: 1,
      released: 0,
      flagged: 0,
      failed: 0,
      rejected: 1,
      cancelled: 0,
      waiting: 1,
      pending: 1,
      scheduled: 2,
    });
    expect(r.users.map((u) => [u.row, u.outcome])).toEqual([
      [1, 'waiting'],
      [2, 'assigned'],
      [4, 'scheduled'],
      [5, 'scheduled'],
      [6, 'rejected'],
    ]);
    expect(r.users.find((u) => u.row === 4)).toMatchObject({
      scheduledFor: '2026-12-01T08:00:00.000Z',
      message: 'waiting until 2026-12-01T08:00:00.000Z (or for the account to exist)',
      addedSkus: [],
    });
    expect([r.bought, r.finishedAt, r.fileNotes.length]).toEqual([{ MCOPSTN1: 2 }, null, 1]);
  });

  it('shows a waiting row whose cancellation is recorded as cancelled already, and counts it so', () => {
    const r = liveReport(plan, results, { batch: false, rows: [5] });
    expect([r.counts.cancelled, r.counts.scheduled, r.counts.pending]).toEqual([1, 1, 1]);
    expect(r.users.find((u) => u.row === 5)).toMatchObject({
      outcome: 'cancelled',
      scheduledFor: '2026-12-01T08:00:00.000Z',
    });
  });

  it("says the plan's error when the input as a whole could not be used", () => {
    expect(liveReport({ ...plan, rows: [], error: 'no rows' }, [], NO_CANCELLATIONS)).toMatchObject({
      error: 'no rows',
      counts: { total: 0, pending: 0 },
      users: [],
    });
  });
});

describe('whether a batch is open', () => {
  it.each(OPEN_RUNTIME_STATUSES)('%s is open until the batch reaches its last phase', (runtimeStatus) => {
    expect(isBatchOpen({ runtimeStatus, customStatus: { phase: 'licensing' } })).toBe(true);
    expect(isBatchOpen({ runtimeStatus, customStatus: null })).toBe(true);
    expect(isBatchOpen({ runtimeStatus, customStatus: { phase: 'done' } })).toBe(false);
  });

  it('a Suspended batch is open (it is resumed later); Completed, Failed, Terminated and unknown statuses are not', () => {
    expect(isBatchOpen({ runtimeStatus: 'Suspended' })).toBe(true);
    for (const runtimeStatus of ['Completed', 'Failed', 'Terminated', 'Canceled', undefined])
      expect([runtimeStatus, isBatchOpen({ runtimeStatus })]).toEqual([runtimeStatus, false]);
  });
});
