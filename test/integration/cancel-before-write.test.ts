// The cancel-versus-write race: a row handed to a chunk before its batch (or the row) was cancelled must not
// be licensed once the cancellation is recorded. The assign activity reads the run's cancellations just before its
// first write; against real Azurite and the Graph simulator over HTTPS, a recorded cancel means no write reaches Graph,
// while a row whose write already landed (a retried activity) stays assigned.
import type { GraphSimulator } from '../../local/graph-sim/server';
import { stableGuid } from '../../local/graph-sim/tenant';
import type { createActivities } from '../../activities/batch';
import { startActivitiesStack, type ActivitiesStack } from '../support/activities';
import type { BlobBatchStore } from '../../shared/adapters/batch-store';
import { SLOT_CHUNK_BASE } from '../../contracts/names';
import { skuIdOf, tenantSkus } from '../support/tenant';

let stack: ActivitiesStack;
let sim: GraphSimulator;
let activities: ReturnType<typeof createActivities>;
let store: BlobBatchStore;

const userId = (upn: string) => stableGuid(`user:${upn}`);
const planned = (row: number, upn: string) => ({
  row,
  userId: userId(upn),
  addSkuIds: [skuIdOf('ENTERPRISEPACK')],
  setUsageLocation: null,
  pollTeams: false,
});
let workLists = 0;
/** The row handed to a chunk as a slot hands rows over (a work list in the store), and the reference the chunk sends. */
async function assignment(row: number, upn: string, runKey: string) {
  const chunk = SLOT_CHUNK_BASE + workLists++;
  await store.saveWork(runKey, chunk, [planned(row, upn)]);
  return { runKey, chunk, index: 0 };
}
const writesFor = (upn: string) => sim.record.stateChangingWrites.filter((w) => w.userId === userId(upn)).length;

beforeAll(async () => {
  stack = await startActivitiesStack({
    skus: tenantSkus({ ENTERPRISEPACK: 10 }),
    users: ['a', 'b', 'c', 'd', 'e'].map((u) => ({ userPrincipalName: `${u}@contoso.com`, usageLocation: 'US' })),
  });
  ({ sim, store, activities } = stack);
});

afterAll(() => stack?.stop());

describe("a licence write checks the run's cancellations just before it is sent", () => {
  it('sends nothing for any row of a batch whose cancellation is recorded', async () => {
    const run = 'hr/cancelled-batch/20261125T100000Z-0001';
    await store.addCancellation(run, { batch: true });
    expect(await activities.assign(await assignment(1, 'a@contoso.com', run))).toMatchObject({
      row: 1,
      outcome: 'cancelled',
      reason: '',
      message: 'the batch was cancelled before this row was licensed; nothing was assigned',
    });
    expect(writesFor('a@contoso.com')).toBe(0);
  });

  it('sends nothing for a cancelled row, and licenses the row beside it', async () => {
    const run = 'hr/noshow/20261125T100000Z-0002';
    await store.addCancellation(run, { row: 2 });
    expect(await activities.assign(await assignment(2, 'b@contoso.com', run))).toMatchObject({
      outcome: 'cancelled',
      message: 'the row was cancelled before it was licensed; nothing was assigned',
    });
    expect(await activities.assign(await assignment(3, 'c@contoso.com', run))).toMatchObject({ outcome: 'assigned' });
    expect([writesFor('b@contoso.com'), writesFor('c@contoso.com')]).toEqual([0, 1]);
  });

  it('keeps a row assigned when its write landed before the cancel (the activity is run again)', async () => {
    const run = 'hr/landed/20261125T100000Z-0003';
    expect(await activities.assign(await assignment(1, 'd@contoso.com', run))).toMatchObject({ outcome: 'assigned' });
    await store.addCancellation(run, { batch: true });
    expect(await activities.assign(await assignment(1, 'd@contoso.com', run))).toMatchObject({ outcome: 'assigned' });
    expect(writesFor('d@contoso.com')).toBe(1);
  });
});
