// The app's activities wired to real Azurite (batch store, storage-queue flags) and the Graph simulator over HTTPS,
// for integration tests that call activities the way the orchestrations do.
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { createActivities, type ActivityDeps } from '../../activities/batch';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import { StorageQueueFlagPublisher, sentFlagLedgerIn } from '../../shared/adapters/flags';
import { simulatorWithAdapter } from './graph';
import { SLOT_CHUNK_BASE } from '../../contracts/names';
import { stableGuid } from '../../local/graph-sim/tenant';
import { skuIdOf } from './tenant';

export interface AssignReference {
  readonly runKey: string;
  readonly chunk: number;
  readonly index: number;
}

export interface ActivitiesStack {
  readonly azurite: Azurite;
  readonly sim: GraphSimulator;
  readonly store: BlobBatchStore;
  readonly activities: ReturnType<typeof createActivities>;
  /** The same activities on the same store and simulator, with some dependencies replaced or added. */
  activitiesWith(deps: Partial<ActivityDeps>): ReturnType<typeof createActivities>;
  /** A leave row giving back these part numbers, stored as a slot hands rows to a chunk; the reference assign takes. */
  leaverWork(upn: string, runKey: string, partNumbers: readonly string[]): Promise<AssignReference>;
  stop(): Promise<void>;
}

/** Azurite, the simulator (no throttling, a skip-ahead clock) with this tenant, and the activities on both. */
export async function startActivitiesStack(tenant: TenantFile): Promise<ActivitiesStack> {
  const azurite = await startAzurite();
  const { sim, graph } = await simulatorWithAdapter({ clock: new SkipAheadClock(), throttling: false, tenant });
  const store = new BlobBatchStore(BlobServiceClient.fromConnectionString(azurite.connectionString), 'license-reports');
  const flags = new StorageQueueFlagPublisher(
    QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('flags'),
    sentFlagLedgerIn(store),
  );
  const base: ActivityDeps = {
    graph,
    store,
    flags,
    releases: graph,
    profiles: new Map(),
    defaultProfile: 'phone-domestic',
    defaultUsageLocation: undefined,
  };
  const activities = createActivities(base);
  let workLists = 0;
  return {
    azurite,
    sim,
    store,
    activities,
    activitiesWith: (deps) => createActivities({ ...base, ...deps }),
    async leaverWork(upn, runKey, partNumbers) {
      const chunk = SLOT_CHUNK_BASE + workLists++;
      await store.saveWork(runKey, chunk, [
        {
          row: 1,
          userId: stableGuid(`user:${upn}`),
          addSkuIds: [],
          setUsageLocation: null,
          pollTeams: false,
          release: { removeSkuIds: partNumbers.map(skuIdOf), removeSkus: [...partNumbers], kept: [] },
        },
      ]);
      return { runKey, chunk, index: 0 };
    },
    async stop() {
      await sim.close();
      await azurite.stop();
    },
  };
}
