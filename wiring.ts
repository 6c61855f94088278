// What the app's handlers run on: storage, Microsoft Graph, the flag queue and callbacks, built from the configuration.
// app.ts registers the functions without it and requires this module on the first invocation, so a cold start loads
// only what registering needs (the Functions and Durable libraries) and not the storage, Graph and HTTP SDKs, which
// are most of the app's load time (bench/README.md, "Cold start").
import type { InvocationContext } from '@azure/functions';
import type { TokenCredential } from '@azure/identity';
import { createBatchApi } from './functions/batches';
import { probeTaskHub } from './functions/health';
import { createActivities } from './activities/batch';
import { createCallbackDelivery } from './activities/callback';
import { createOnboardingActivities } from './activities/onboarding';
import { createNumberActivities } from './activities/numbers';
import { BlobBatchStore } from './shared/adapters/batch-store';
import { BlobNumberClaims } from './shared/adapters/number-claims';
import { HttpCallbackSender } from './shared/adapters/callback';
import type { AppConfig } from './shared/adapters/config';
import {
  DeferredFlagPublisher,
  ServiceBusFlagPublisher,
  StorageQueueFlagPublisher,
  sentFlagLedgerIn,
  type FlagPublisher,
} from './shared/adapters/flags';
import { GraphLicensingDirectory } from './shared/adapters/graph/directory';
import { graphCredential } from './shared/adapters/graph-credential';
import { runHealthChecks, type FlagSink } from './shared/adapters/health';
import type { AppTime } from './shared/adapters/app-time';
import { BlobRateLedger, WriteBudget } from './shared/adapters/graph-budget';
import { azureCredential, blobServiceFor, queueServiceFor } from './shared/adapters/storage';

function flagPublisherFor(config: AppConfig, store: BlobBatchStore): FlagPublisher {
  const sb = config.serviceBus;
  if (!sb)
    return new DeferredFlagPublisher(
      () =>
        new StorageQueueFlagPublisher(
          queueServiceFor(config).getQueueClient(config.flagsQueue),
          sentFlagLedgerIn(store),
        ),
    );
  return new DeferredFlagPublisher(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ServiceBusClient } = require('@azure/service-bus') as typeof import('@azure/service-bus');
    const client =
      'connectionString' in sb
        ? new ServiceBusClient(sb.connectionString)
        : new ServiceBusClient(sb.fullyQualifiedNamespace, azureCredential(config.managedIdentityClientId));
    return new ServiceBusFlagPublisher(client.createSender(config.flagsQueue));
  });
}

/** What the deep health check sends its probe through: the flags' own queue or Service Bus queue. */
function flagSinkFor(config: AppConfig): FlagSink {
  const sb = config.serviceBus;
  if (!sb) return { kind: 'storageQueue', queue: queueServiceFor(config).getQueueClient(config.flagsQueue) };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ServiceBusClient } = require('@azure/service-bus') as typeof import('@azure/service-bus');
  const client =
    'connectionString' in sb
      ? new ServiceBusClient(sb.connectionString)
      : new ServiceBusClient(sb.fullyQualifiedNamespace, azureCredential(config.managedIdentityClientId));
  return { kind: 'serviceBus', sender: client.createSender(config.flagsQueue), queue: config.flagsQueue };
}

export type Wiring = ReturnType<typeof wireApp>;

/** What a host other than Azure's may hand the app instead of building it from the settings. */
export interface AppOverrides {
  /**
   * The credential Graph's calls use: the local host of a run from an admin's workstation asks the `dialtone`
   * process, where the admin signed in, for each token (local/host/parent-credential.ts).
   */
  readonly graphCredential?: TokenCredential;
}

export function wireApp(config: AppConfig, time: AppTime, overrides: AppOverrides = {}) {
  const store = new BlobBatchStore(blobServiceFor(config), config.reportsContainer, config.privateContainer);
  // The managed identity in Azure, or an app registration against its authority (shared/adapters/graph-credential.ts).
  const credential = overrides.graphCredential ?? graphCredential(config.graphSignIn, config.graphExtraCaPem);
  // One write budget and two Teams read budgets (the checks' and the number step's) for every instance of the app
  // (shared/adapters/graph-budget.ts).
  const budgets = blobServiceFor(config).getContainerClient(config.budgetContainer);
  // When the ledger cannot be used, writes wait and it is asked again (never paced by this instance alone); each time
  // is a warning in the app's log (Application Insights traces in Azure) named budget_ledger_unavailable, with its count.
  const writeBudget = new WriteBudget(
    new BlobRateLedger(budgets, 'graph-writes.json', config.graphWritesPerSecond, time),
    time,
    (e) => console.warn(`${e.name} count=${e.count} retry_in_ms=${e.waitMs}: ${e.error}`),
  );
  const teamsReads = new BlobRateLedger(budgets, 'teams-reads.json', config.teamsReadsPerSecond, time);
  // The number step's reads have a budget of their own beside the checks' (together within Graph's 30/s): queued with
  // the checks, each of them waited behind every check reserved before it, for 50,000 rows up to an hour and a half.
  const numberReads = new BlobRateLedger(budgets, 'teams-number-reads.json', config.numberReadsPerSecond, time);
  // Its retry waits follow the app's time (the wall clock in Azure; the local stack's faster clock locally).
  const graph = new GraphLicensingDirectory({
    baseUrl: config.graphBaseUrl,
    credential,
    extraCaPem: config.graphExtraCaPem,
    writeBudget,
    sleep: (ms) => time.sleep(ms),
    now: () => time.now(),
  });
  const numbering = config.phoneNumbers !== 'off' || [...config.profilePhoneNumbers.values()].some((p) => p !== 'off');
  const activities = createActivities({
    graph,
    releases: graph,
    // unassignNumber needs TeamsTelephoneNumber.ReadWrite.All, which the deployment holds only while numbering is on.
    releaseNumbers: numbering,
    store,
    flags: flagPublisherFor(config, store),
    profiles: config.profiles,
    defaultProfile: config.defaultProfile,
    defaultUsageLocation: config.defaultUsageLocation,
    setUsageLocation: config.setUsageLocation,
    schedule: config.schedule,
    phoneNumbers: { policy: config.phoneNumbers, byProfile: config.profilePhoneNumbers },
    directForGroupPlans: config.directForGroupPlans,
    writeBudget,
    teamsReads,
    numberReadsPerSecond: config.numberReadsPerSecond,
    extraRowSkus: config.extraRowSkus,
    time,
  });
  const onboarding = createOnboardingActivities({
    graph,
    store,
    defaultUsageLocation: config.defaultUsageLocation,
    setUsageLocation: config.setUsageLocation,
    accountWaitHours: config.accountWaitHours,
    phoneNumbers: { policy: config.phoneNumbers, byProfile: config.profilePhoneNumbers },
    directForGroupPlans: config.directForGroupPlans,
    writesPerSecond: config.graphWritesPerSecond,
  });
  const numbers = createNumberActivities({
    graph,
    store,
    claims: new BlobNumberClaims(blobServiceFor(config), config.reportsContainer),
    teamsReads: numberReads,
    time,
    releases: graph,
  });
  const api = createBatchApi({ config, store, time });
  // Liveness for anyone; the deep check (every dependency, with what is missing) for key holders.
  let flagSink: FlagSink | undefined;
  const healthChecks = (context: InvocationContext) =>
    runHealthChecks({
      graphBaseUrl: config.graphBaseUrl,
      credential,
      graph,
      numbering,
      containers: [
        { client: blobServiceFor(config).getContainerClient(config.reportsContainer), writes: true },
        { client: budgets, writes: true },
        { client: blobServiceFor(config).getContainerClient(config.intakeContainer), writes: false },
      ],
      flags: (flagSink ??= flagSinkFor(config)),
      taskHub: () => probeTaskHub(context),
    });
  const deliverCallback = createCallbackDelivery({
    store,
    sender: new HttpCallbackSender(config.callbackSecrets, undefined, undefined, config.localRuntime),
  });
  return { api, activities, onboarding, numbers, healthChecks, deliverCallback };
}
