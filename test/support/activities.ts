// The app's activities wired to real Azurite (batch store, storage-queue flags) and the Graph simulator over HTTPS,
// for integration tests that call activities the way the orchestrations do.
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { createActivities } from '../../activities/batch';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import { StorageQueueFlagPublisher, sentFlagLedgerIn } from '../../shared/adapters/flags';
import { simulatorWithAdapter } from './graph';

export interface ActivitiesStack {
  readonly azurite: Azurite;
  readonly sim: GraphSimulator;
  readonly store: BlobBatchStore;
  readonly activities: ReturnType<typeof createActivities>;
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
  const activities = createActivities({
    graph,
    store,
    flags,
    profiles: new Map(),
    defaultProfile: 'phone-domestic',
    defaultUsageLocation: undefined,
  });
  return {
    azurite,
    sim,
    store,
    activities,
    async stop() {
      await sim.close();
      await azurite.stop();
    },
  };
}
