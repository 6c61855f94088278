// The assign activity never waits long for the app's write budget: when its row's write slots start further out than
// MAX_WRITE_WAIT_IN_ACTIVITY_MS it writes nothing and hands back "not before" (WriteDeferred) with the slots it
// reserved, and called again on them (as the chunk orchestration does after a durable timer) it writes on them. On
// real Azurite (the shared ledger blob), the Graph simulator over HTTPS and the real Graph adapter; the budget's time is
// a clock that jumps to the end of every wait, so what is asserted is the slots, never the machine's speed.
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import { stableGuid } from '../../local/graph-sim/tenant';
import {
  createActivities,
  MAX_WRITE_WAIT_IN_ACTIVITY_MS,
  WRITE_DEFER_LEAD_MS,
  WRITE_RESERVATION_LATE_MS,
} from '../../activities/batch';
import type { AssignAnswer, AssignInput, WriteDeferred } from '../../contracts/batch';
import { SLOT_CHUNK_BASE } from '../../contracts/names';
import type { AppTime } from '../../shared/adapters/app-time';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import { DeferredFlagPublisher } from '../../shared/adapters/flags';
import { BlobRateLedger, WriteBudget } from '../../shared/adapters/graph-budget';
import type { ChunkUserResult } from '../../shared/domain/batch';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { adapterFor, simulatorWithAdapter } from '../support/graph';
import { skuIdOf } from '../support/tenant';

const T0 = Date.parse('2026-12-07T08:00:00Z');
/** A clock that stands still and jumps to the end of every wait: the time the budget and the adapter count. */
const jumpingTime = (start: number): AppTime & { set(t: number): void } => {
  let now = start;
  return {
    now: () => now,
    sleep: (ms) => ((now += Math.max(0, ms)), Promise.resolve()),
    set: (t) => (now = Math.max(now, t)),
  };
};

let azurite: Azurite;
let sim: GraphSimulator;
let container: ContainerClient;
let store: BlobBatchStore;
const upns = ['w1', 'w2', 'w3', 'w4'].map((u) => `${u}@contoso.com`);
const userId = (upn: string) => stableGuid(`user:${upn}`);
const writesFor = (upn: string) => sim.record.stateChangingWrites.filter((w) => w.userId === userId(upn));

beforeAll(async () => {
  azurite = await startAzurite();
  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  container = blobs.getContainerClient('dialtone-budgets');
  store = new BlobBatchStore(blobs, 'license-reports');
  ({ sim } = await simulatorWithAdapter({
    clock: new SkipAheadClock(),
    throttling: false,
    tenant: {
      skus: [{ skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: 10 }],
      // w4 has no usage location: its row sets it first (two writes, two consecutive slots)
      users: upns.map((u) => ({ userPrincipalName: u, ...(u.startsWith('w4') ? {} : { usageLocation: 'US' }) })),
    },
  }));
});
afterAll(async () => {
  await sim?.close();
  await azurite?.stop();
});

/** The app's activities on a write budget of `perSecond` in the ledger blob `ledger`, on this clock. */
function activitiesAt(perSecond: number, ledger: string, time: AppTime, events: unknown[] = []) {
  const writeBudget = new WriteBudget(new BlobRateLedger(container, ledger, perSecond, time), time, (e) =>
    events.push(e),
  );
  const graph = adapterFor(sim, { writeBudget, sleep: (ms) => time.sleep(ms), now: () => time.now() });
  const flags = new DeferredFlagPublisher(() => {
    throw new Error('an assignment published flags');
  });
  return createActivities({
    graph,
    store,
    flags,
    profiles: BUILT_IN_PROFILES,
    defaultProfile: 'phone-domestic',
    defaultUsageLocation: undefined,
    writeBudget,
    time,
  });
}

let lists = 0;
async function rowOf(runKey: string, upn: string, row: number): Promise<AssignInput> {
  const chunk = SLOT_CHUNK_BASE + lists++;
  await store.saveWork(runKey, chunk, [
    {
      row,
      userId: userId(upn),
      addSkuIds: [skuIdOf('ENTERPRISEPACK')],
      setUsageLocation: upn.startsWith('w4') ? 'GB' : null,
      pollTeams: false,
    },
  ]);
  return { runKey, chunk, index: 0 };
}
const isDeferred = (a: AssignAnswer): a is WriteDeferred => 'deferred' in a;

describe('the assign activity and the shared write budget', () => {
  it('writes at once on a turn within the threshold, and hands a row back with its reservation when the budget is taken further out', async () => {
    const time = jumpingTime(T0);
    const activities = activitiesAt(1, 'starved.json', time);
    // Another instance of the app took the next 30 s of the write budget (30 writes at 1/s).
    const other = new BlobRateLedger(container, 'starved.json', 1, time);
    expect(await other.reserve(30)).toBe(T0);

    const run = 'hr/starved/20261207T080000Z-0001';
    const first = await activities.assign(await rowOf(run, upns[0]!, 1));
    // Nothing was written and the row is handed back: its slot is the first after the other instance's, kept for it.
    expect(first).toEqual({
      deferred: true,
      row: 1,
      writeSlotAt: new Date(T0 + 30_000).toISOString(),
      writeSlots: 1,
      resumeAt: new Date(T0 + 30_000 - WRITE_DEFER_LEAD_MS).toISOString(),
    });
    expect(writesFor(upns[0]!)).toHaveLength(0);
    // The activity did not wait for it.
    expect(time.now()).toBe(T0);

    // Its durable timer fires at resumeAt: called again with its reservation, it writes on its slot, not before.
    time.set(T0 + 30_000 - WRITE_DEFER_LEAD_MS);
    const again = (await activities.assign({
      ...(await rowOf(run, upns[0]!, 1)),
      writeSlotAt: (first as WriteDeferred).writeSlotAt!,
      writeSlots: 1,
      deferrals: 1,
    })) as ChunkUserResult;
    expect(again).toMatchObject({ row: 1, outcome: 'assigned' });
    expect(writesFor(upns[0]!)).toHaveLength(1);
    expect(time.now()).toBe(T0 + 30_000);
    // Nobody else took the row's slot: the next reservation starts after it.
    expect(await other.reserve(1)).toBe(T0 + 31_000);
  });

  it('reserves two consecutive slots for a row that sets the usage location first, and writes on each', async () => {
    const time = jumpingTime(T0 + 3_600_000);
    const activities = activitiesAt(1, 'two-writes.json', time);
    await new BlobRateLedger(container, 'two-writes.json', 1, time).reserve(20);
    const run = 'hr/two-writes/20261207T090000Z-0002';
    const first = await activities.assign(await rowOf(run, upns[3]!, 4));
    expect(first).toMatchObject({ deferred: true, writeSlots: 2, writeSlotAt: new Date(T0 + 3_620_000).toISOString() });
    time.set(Date.parse((first as WriteDeferred).resumeAt));
    expect(
      await activities.assign({
        ...(await rowOf(run, upns[3]!, 4)),
        writeSlotAt: (first as WriteDeferred).writeSlotAt!,
        writeSlots: 2,
        deferrals: 1,
      }),
    ).toMatchObject({ outcome: 'assigned' });
    expect(writesFor(upns[3]!).map((w) => w.kind)).toEqual(['patchUser', 'assignLicense']);
    // The second write went on the second slot, a second after the first.
    expect(time.now()).toBe(T0 + 3_621_000);
  });

  it('gives up slots its timer came back to too late, and reserves again (handed back again when they are far)', async () => {
    const time = jumpingTime(T0 + 7_200_000);
    const activities = activitiesAt(1, 'late.json', time);
    const other = new BlobRateLedger(container, 'late.json', 1, time);
    await other.reserve(20);
    const run = 'hr/late/20261207T100000Z-0003';
    const first = (await activities.assign(await rowOf(run, upns[1]!, 2))) as WriteDeferred;
    expect(first.writeSlotAt).toBe(new Date(T0 + 7_220_000).toISOString());
    // Meanwhile the other instance reserved the following 20 s, and the row's timer fired 3 s after its slot began.
    await other.reserve(20);
    time.set(T0 + 7_220_000 + WRITE_RESERVATION_LATE_MS + 1_000);
    const late = await activities.assign({
      ...(await rowOf(run, upns[1]!, 2)),
      writeSlotAt: first.writeSlotAt!,
      writeSlots: 1,
      deferrals: 1,
    });
    expect(isDeferred(late) && late.writeSlotAt).toBe(new Date(T0 + 7_241_000).toISOString());
    expect(writesFor(upns[1]!)).toHaveLength(0);
  });

  it('waits inside the activity for a slot within the threshold', async () => {
    const time = jumpingTime(T0 + 10_800_000);
    const activities = activitiesAt(1, 'near.json', time);
    await new BlobRateLedger(container, 'near.json', 1, time).reserve(MAX_WRITE_WAIT_IN_ACTIVITY_MS / 1000);
    const r = await activities.assign(await rowOf('hr/near/20261207T110000Z-0004', upns[2]!, 3));
    expect(r).toMatchObject({ outcome: 'assigned' });
    expect(time.now()).toBe(T0 + 10_800_000 + MAX_WRITE_WAIT_IN_ACTIVITY_MS);
  });
});
