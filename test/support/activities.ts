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

export interface ActivitiesStack {
  readonly azurite: Azurite;
  readonly sim: GraphSimulator;
  readonly store: BlobBatchStore;
  readonly activities: ReturnType<typeof createActivities>;
  /** The same activities on the same store and simulator, with some dependencies replaced or added. */
  activitiesWith(deps: Partial<ActivityDeps>): ReturnType<typeof createActivities>;
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
  return {
    azurite,
    sim,
    store,
    activities,
    activitiesWith: (deps) => createActivities({ ...base, ...deps }),
    async stop() {
      await sim.close();
      await azurite.stop();
    },
  };
}
