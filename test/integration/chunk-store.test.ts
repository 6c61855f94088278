// The chunk's activities against real Azurite and the Graph simulator over HTTPS: the orchestration sends
// references (run, chunk, position) and counts, and these activities read the rows and merge results in the batch
// store, so what a chunk learns is recorded there and never travels whole in a durable message. Also the records a
// chunk reads at the start of each generation: a recheck request and a batch cancel.
import type { GraphSimulator } from '../../local/graph-sim/server';
import { stableGuid } from '../../local/graph-sim/tenant';
import type { createActivities } from '../../activities/batch';
import { startActivitiesStack, type ActivitiesStack } from '../support/activities';
import { SLOT_CHUNK_BASE } from '../../contracts/names';
import type { BlobBatchStore } from '../../shared/adapters/batch-store';
import type { ChunkUserResult, PlannedAssignment } from '../../shared/domain/batch';
import { tenantSkus } from '../support/tenant';

let stack: ActivitiesStack;
let sim: GraphSimulator;
let activities: ReturnType<typeof createActivities>;
let store: BlobBatchStore;

const userId = (name: string) => stableGuid(`user:${name}@contoso.com`);
const work: PlannedAssignment[] = [
  {
    row: 1,
    userId: userId('ready'),
    addSkuIds: [],
    setUsageLocation: null,
    pollTeams: true,
    number: { numberType: 'callingPlan', isoCountryCode: 'US' },
  },
  { row: 2, userId: userId('direct'), addSkuIds: [], setUsageLocation: null, pollTeams: true, waitFor: 'PhoneSystem' },
  { row: 3, userId: userId('never'), addSkuIds: [], setUsageLocation: null, pollTeams: true },
  { row: 4, userId: userId('refused'), addSkuIds: [], setUsageLocation: null, pollTeams: true },
  { row: 5, userId: userId('gaveup'), addSkuIds: [], setUsageLocation: null, pollTeams: true },
] as PlannedAssignment[];
const assigned = (row: number, at: string): ChunkUserResult => ({
  row,
  outcome: 'assigned',
  reason: '',
  message: '',
  assignedAt: at,
  provisionedAt: null,
});
const T = '2026-11-25T08:00:00.000Z';
const T1 = '2026-11-25T08:01:00.000Z';

beforeAll(async () => {
  stack = await startActivitiesStack({
    skus: tenantSkus({ ENTERPRISEPREMIUM: 10, MCOPSTN1: 10 }),
    users: [
      {
        userPrincipalName: 'ready@contoso.com',
        usageLocation: 'US',
        assignedSkus: ['ENTERPRISEPREMIUM', 'MCOPSTN1'],
        teamsProvisioningMinutes: 0,
      },
      {
        userPrincipalName: 'direct@contoso.com',
        usageLocation: 'US',
        assignedSkus: ['ENTERPRISEPREMIUM'],
        teamsProvisioningMinutes: 0,
      },
      {
        userPrincipalName: 'never@contoso.com',
        usageLocation: 'US',
        assignedSkus: ['ENTERPRISEPREMIUM', 'MCOPSTN1'],
        teamsProvisioningMinutes: null,
      },
      {
        userPrincipalName: 'refused@contoso.com',
        usageLocation: 'US',
        assignedSkus: ['ENTERPRISEPREMIUM', 'MCOPSTN1'],
        teamsReadStatus: 403,
      },
      { userPrincipalName: 'gaveup@contoso.com', usageLocation: 'US' },
    ],
  });
  ({ sim, store, activities } = stack);
});

afterAll(() => stack?.stop());

describe("a chunk's rows live in the store; activities merge into them", () => {
  const run = 'hr/refs/20261125T080000Z-0001';
  const chunk = SLOT_CHUNK_BASE + 7;
  const ref = { runKey: run, chunk };
  const byRow = async () => new Map((await store.readChunk(run, chunk)).map((r) => [r.row, r]));

  it('counts the chunk, merges each group of assignments, and answers how many wait for Teams', async () => {
    await store.saveWork(run, chunk, work);
    expect(await activities.loadChunk(ref)).toBe(5);
    expect(await activities.saveChunk({ ...ref, results: [assigned(1, T), assigned(2, T)] })).toEqual({ pending: 2 });
    expect(
      await activities.saveChunk({
        ...ref,
        results: [assigned(3, T), assigned(4, T)],
        gaveUp: [
          { index: 4, reason: 'throttled', message: 'gave up after repeated transient Graph errors: throttled' },
        ],
      }),
    ).toEqual({ pending: 4 });
    const rows = await byRow();
    expect([...rows.keys()]).toEqual([1, 2, 3, 4, 5]);
    expect(rows.get(5)).toMatchObject({ outcome: 'failed', reason: 'throttled' });
  });

  it('checks Teams for the pending rows only, recording who is ready (Phone System enough for Direct Routing) and who Graph refuses', async () => {
    const r = await activities.probeTeams({ ...ref, at: T1 });
    expect(r).toEqual({ pending: 1, found: 2, refused: 1, numbered: [1] });
    const rows = await byRow();
    expect(rows.get(1)).toMatchObject({ outcome: 'provisioned', assignedAt: T, provisionedAt: T1 });
    expect(rows.get(2)).toMatchObject({ outcome: 'provisioned', provisionedAt: T1 });
    expect(rows.get(3)).toMatchObject({ outcome: 'assigned' });
    expect(rows.get(4)).toMatchObject({ outcome: 'failed', reason: 'forbidden' });
    expect(rows.get(4)!.message).toMatch(/^licences assigned, but Teams cannot be read to confirm the calling plan: /);
    // a second check reads only the one still pending
    const before = sim.record.byKind.teamsUserConfiguration;
    expect(await activities.probeTeams({ ...ref, at: T1 })).toEqual({ pending: 1, found: 0, refused: 0, numbered: [] });
    expect(sim.record.byKind.teamsUserConfiguration - before).toBe(1);
  });

  it("merges the number step's outcome onto the row it changes, keeping when it was assigned and provisioned", async () => {
    await activities.saveChunk({
      ...ref,
      numbers: [
        { row: 1, outcome: 'provisioned', reason: '', message: '', phoneNumber: '+14255550100', numberedAt: T1 },
      ],
    });
    expect((await byRow()).get(1)).toMatchObject({
      outcome: 'provisioned',
      assignedAt: T,
      provisionedAt: T1,
      phoneNumber: '+14255550100',
      numberedAt: T1,
    });
  });

  it("keeps what the checks and the number step recorded when a group's save is delivered again (a replayed episode)", async () => {
    const before = await byRow();
    expect(
      await activities.saveChunk({
        ...ref,
        results: [assigned(1, T), assigned(2, T)],
        gaveUp: [{ index: 0, reason: 'graph_error', message: 'gave up' }],
      }),
    ).toEqual({ pending: 1 });
    expect(await byRow()).toEqual(before);
  });

  it("flags the rows still pending at the deadline and answers the chunk's counts", async () => {
    const counts = await activities.settleChunk({ ...ref, deadline: '2026-11-26T08:00:00.000Z' });
    expect(counts).toMatchObject({ total: 5, provisioned: 2, flagged: 1, failed: 2, assigned: 0 });
    expect((await byRow()).get(3)).toMatchObject({ outcome: 'flagged', reason: 'no_calling_plan' });
  });

  it('leaves the pending rows of a cancelled chunk assigned, as recorded', async () => {
    const other = { runKey: 'hr/refs-cancelled/20261125T080000Z-0002', chunk };
    await store.saveWork(other.runKey, chunk, work.slice(2, 3));
    await activities.saveChunk({ ...other, results: [assigned(3, T)] });
    expect(await activities.settleChunk({ ...other, deadline: T1, cancelled: true })).toMatchObject({
      total: 1,
      assigned: 1,
      flagged: 0,
    });
  });

  it('ends cancelled the rows of a chunk cancelled while it waited for its turn to start (nothing was written)', async () => {
    const other = { runKey: 'hr/refs-unstarted/20261125T080000Z-0004', chunk };
    await store.saveWork(other.runKey, chunk, work.slice(0, 2));
    await store.addCancellation(other.runKey, { batch: true });
    expect(await activities.settleChunk({ ...other, deadline: T1, cancelled: true })).toMatchObject({
      total: 2,
      cancelled: 2,
      assigned: 0,
    });
    expect((await store.readChunk(other.runKey, chunk)).map((r) => [r.row, r.outcome, r.message])).toEqual([
      [1, 'cancelled', 'the batch was cancelled before this row was licensed; nothing was assigned'],
      [2, 'cancelled', 'the batch was cancelled before this row was licensed; nothing was assigned'],
    ]);
  });
});

describe('what a chunk reads at the start of each generation', () => {
  it('reads the latest recheck request and whether the batch was cancelled', async () => {
    const run = 'hr/signals/20261125T080000Z-0003';
    expect(await activities.chunkSignals({ runKey: run })).toEqual({ recheckRequestedAt: null, cancelled: false });
    await store.requestRecheck(run, T1);
    expect(await activities.chunkSignals({ runKey: run })).toEqual({ recheckRequestedAt: T1, cancelled: false });
    await store.addCancellation(run, { batch: true });
    expect((await activities.chunkSignals({ runKey: run })).cancelled).toBe(true);
  });
});
