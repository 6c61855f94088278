// The composition root: the only place that reads configuration and registers functions. Each trigger, orchestrator
// and activity gets a handler built from its dependencies here, so every piece can be tested without the host.
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { createBatchApi, createUnmatchedRoute } from './functions/batches';
import { createConsole } from './functions/console';
import { createHealth, probeTaskHub } from './functions/health';
import { createBlobIntake } from './functions/intake-blob';
import { createActivities } from './orchestrations/activities';
import { batchOrchestrator } from './orchestrations/batch';
import { callbackOrchestrator } from './orchestrations/callback';
import { createCallbackDelivery } from './orchestrations/callback-delivery';
import { createOnboardingActivities } from './orchestrations/onboarding-activities';
import { slotOrchestrator } from './orchestrations/slot';
import { chunkOrchestrator } from './orchestrations/chunk';
import { createNumberActivities } from './orchestrations/number-activities';
import { numbersOrchestrator } from './orchestrations/numbers';
import * as names from './orchestrations/names';
import { BlobBatchStore } from './shared/adapters/batch-store';
import { BlobNumberClaims } from './shared/adapters/number-claims';
import { HttpCallbackSender } from './shared/adapters/callback';
import { loadConfig, loadConsoleSettings, type AppConfig } from './shared/adapters/config';
import { DeferredFlagPublisher, ServiceBusFlagPublisher, StorageQueueFlagPublisher, sentFlagLedgerIn, type FlagPublisher } from './shared/adapters/flags';
import { GraphLicensingDirectory } from './shared/adapters/graph';
import { graphCredential } from './shared/adapters/graph-credential';
import { runHealthChecks, type FlagSink } from './shared/adapters/health';
import { appTime } from './shared/adapters/app-time';
import { BlobRateLedger, WriteBudget } from './shared/adapters/graph-budget';
import { azureCredential, blobServiceFor, queueServiceFor } from './shared/adapters/storage';

function flagPublisherFor(config: AppConfig, store: BlobBatchStore): FlagPublisher {
  const sb = config.serviceBus;
  if (!sb) return new DeferredFlagPublisher(() => new StorageQueueFlagPublisher(queueServiceFor(config).getQueueClient(config.flagsQueue), sentFlagLedgerIn(store)));
  return new DeferredFlagPublisher(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ServiceBusClient } = require('@azure/service-bus') as typeof import('@azure/service-bus');
    const client = 'connectionString' in sb ? new ServiceBusClient(sb.connectionString) : new ServiceBusClient(sb.fullyQualifiedNamespace, azureCredential(config.managedIdentityClientId));
    return new ServiceBusFlagPublisher(client.createSender(config.flagsQueue));
  });
}

/** What the deep health check sends its probe through: the flags' own queue or Service Bus queue. */
function flagSinkFor(config: AppConfig): FlagSink {
  const sb = config.serviceBus;
  if (!sb) return { kind: 'storageQueue', queue: queueServiceFor(config).getQueueClient(config.flagsQueue) };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ServiceBusClient } = require('@azure/service-bus') as typeof import('@azure/service-bus');
  const client = 'connectionString' in sb ? new ServiceBusClient(sb.connectionString) : new ServiceBusClient(sb.fullyQualifiedNamespace, azureCredential(config.managedIdentityClientId));
  return { kind: 'serviceBus', sender: client.createSender(config.flagsQueue), queue: config.flagsQueue };
}

export function registerApp(config: AppConfig): void {
  const store = new BlobBatchStore(blobServiceFor(config), config.reportsContainer, config.privateContainer);
  // The managed identity in Azure, or an app registration against its authority (shared/adapters/graph-credential.ts).
  const credential = graphCredential(config.graphSignIn, config.graphExtraCaPem);
  // One write budget and two Teams read budgets (the checks' and the number step's) for every instance of the app
  // (shared/adapters/graph-budget.ts).
  const budgets = blobServiceFor(config).getContainerClient(config.budgetContainer);
  // When the ledger cannot be used, writes wait and it is asked again (never paced by this instance alone); each time
  // is a warning in the app's log (Application Insights traces in Azure) named budget_ledger_unavailable, with its count.
  const writeBudget = new WriteBudget(new BlobRateLedger(budgets, 'graph-writes.json', config.graphWritesPerSecond), appTime, (e) => console.warn(`${e.name} count=${e.count} retry_in_ms=${e.waitMs}: ${e.error}`));
  const teamsReads = new BlobRateLedger(budgets, 'teams-reads.json', config.teamsReadsPerSecond);
  // The number step's reads have a budget of their own beside the checks' (together within Graph's 30/s): queued with
  // the checks, each of them waited behind every check reserved before it, for 50,000 rows up to an hour and a half.
  const numberReads = new BlobRateLedger(budgets, 'teams-number-reads.json', config.numberReadsPerSecond);
  // Its retry waits follow the app's time (the wall clock in Azure; the local stack's faster clock locally).
  const graph = new GraphLicensingDirectory({ baseUrl: config.graphBaseUrl, credential, extraCaPem: config.graphExtraCaPem, writeBudget, sleep: (ms) => appTime.sleep(ms), now: () => appTime.now() });
  const activities = createActivities({ graph, store, flags: flagPublisherFor(config, store), profiles: config.profiles, defaultProfile: config.defaultProfile, defaultUsageLocation: config.defaultUsageLocation, setUsageLocation: config.setUsageLocation, schedule: config.schedule, phoneNumbers: { policy: config.phoneNumbers, byProfile: config.profilePhoneNumbers }, directForGroupPlans: config.directForGroupPlans, writeBudget, teamsReads, numberReadsPerSecond: config.numberReadsPerSecond, extraRowSkus: config.extraRowSkus });
  const onboarding = createOnboardingActivities({ graph, store, defaultUsageLocation: config.defaultUsageLocation, setUsageLocation: config.setUsageLocation, accountWaitHours: config.accountWaitHours, phoneNumbers: { policy: config.phoneNumbers, byProfile: config.profilePhoneNumbers }, directForGroupPlans: config.directForGroupPlans });
  const numbers = createNumberActivities({ graph, store, claims: new BlobNumberClaims(blobServiceFor(config), config.reportsContainer), teamsReads: numberReads });
  const api = createBatchApi({ config, store });
  const client = df.input.durableClient();

  const routes = [
    { name: 'batches-submit', route: 'batches', methods: ['POST' as const], handler: api.submit },
    { name: 'batches-status', route: 'batches/{batchId}', methods: ['GET' as const], handler: api.status },
    { name: 'batches-list', route: 'batches', methods: ['GET' as const], handler: api.list },
    { name: 'batches-cancel', route: 'batches/{batchId}/cancel', methods: ['POST' as const], handler: api.cancel },
    // A row by its number, or by its UPN in the body: a UPN never goes in a URL (request logs and telemetry keep URLs).
    { name: 'batches-cancel-row', route: 'batches/{batchId}/rows/{row}/cancel', methods: ['POST' as const], handler: api.cancelRow },
    { name: 'batches-cancel-user', route: 'batches/{batchId}/users/cancel', methods: ['POST' as const], handler: api.cancelUser },
    { name: 'batches-recheck', route: 'batches/{batchId}/recheck', methods: ['POST' as const], handler: api.recheck },
  ];
  for (const r of routes) app.http(r.name, { route: r.route, methods: r.methods, authLevel: 'function', extraInputs: [client], handler: r.handler });
  // Liveness for anyone; the deep check (every dependency, with what is missing) for key holders.
  let flagSink: FlagSink | undefined;
  const numbering = config.phoneNumbers !== 'off' || [...config.profilePhoneNumbers.values()].some((p) => p !== 'off');
  const health = createHealth((context) =>
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
    }),
  );
  app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health.liveness });
  app.http('health-deep', { route: 'health/deep', methods: ['GET'], authLevel: 'function', extraInputs: [client], handler: health.deep });
  // The admin console: anonymous at the host, each route checks the Entra sign-in itself, then calls the handlers above.
  const adminConsole = createConsole({ api, settings: loadConsoleSettings(), callers: config.callers, profiles: [...config.profiles.keys()], defaultProfile: config.defaultProfile, health: health.deepReport });
  for (const r of adminConsole.routes) app.http(r.name, { route: r.route, methods: r.methods, authLevel: 'anonymous', extraInputs: [client], handler: r.handler });
  // Last, and last by name too: the Functions host tries routes in the alphabetical order of their functions' names
  // (azure-functions-host#9876, azure-functions-nodejs-library#300), so this catch-all only gets what no route takes.
  app.http('zz-unmatched-route', { route: '{*path}', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], authLevel: 'function', handler: createUnmatchedRoute(routes) });
  // Uploads arrive as Event Grid BlobCreated events (the subscription calls /runtime/webhooks/eventgrid?functionName=batches-intake).
  app.eventGrid('batches-intake', { extraInputs: [client], handler: createBlobIntake(config) });

  df.app.orchestration(names.BATCH_ORCHESTRATOR, batchOrchestrator);
  df.app.orchestration(names.CHUNK_ORCHESTRATOR, chunkOrchestrator);
  df.app.activity(names.PREFLIGHT_ACTIVITY, { handler: activities.preflight });
  df.app.activity(names.LOAD_CHUNK_ACTIVITY, { handler: activities.loadChunk });
  df.app.activity(names.ASSIGN_ACTIVITY, { handler: activities.assign });
  df.app.activity(names.SAVE_CHUNK_ACTIVITY, { handler: activities.saveChunk });
  df.app.activity(names.PROBE_TEAMS_ACTIVITY, { handler: activities.probeTeams });
  df.app.activity(names.SETTLE_CHUNK_ACTIVITY, { handler: activities.settleChunk });
  df.app.activity(names.RELEASE_READS_ACTIVITY, { handler: activities.releaseReads });
  df.app.activity(names.CHUNK_SIGNALS_ACTIVITY, { handler: activities.chunkSignals });
  df.app.activity(names.FINISH_ACTIVITY, { handler: activities.finish });
  df.app.orchestration(names.NUMBERS_ORCHESTRATOR, numbersOrchestrator);
  df.app.activity(names.NUMBER_WORK_ACTIVITY, { handler: numbers.numberWork });
  df.app.activity(names.START_NUMBER_ACTIVITY, { handler: numbers.startNumber });
  df.app.activity(names.READ_NUMBER_ORDERS_ACTIVITY, { handler: numbers.readOrders });
  df.app.activity(names.CONFIRM_NUMBERS_ACTIVITY, { handler: numbers.confirmNumbers });
  df.app.orchestration(names.SLOT_ORCHESTRATOR, slotOrchestrator);
  df.app.activity(names.LOAD_SLOT_ACTIVITY, { handler: onboarding.loadSlot });
  df.app.activity(names.LIVE_IN_SLOT_ACTIVITY, { handler: onboarding.liveInSlot });
  df.app.activity(names.PLAN_SLOT_ACTIVITY, { handler: onboarding.planSlot });
  df.app.activity(names.WRITES_SETTLED_ACTIVITY, { handler: onboarding.writesSettled });
  df.app.activity(names.STOP_BATCH_ACTIVITY, { handler: onboarding.stopBatch, extraInputs: [client] });
  df.app.orchestration(names.CALLBACK_ORCHESTRATOR, callbackOrchestrator);
  df.app.activity(names.DELIVER_CALLBACK_ACTIVITY, { handler: createCallbackDelivery({ store, sender: new HttpCallbackSender(config.callbackSecrets, undefined, undefined, config.localRuntime) }) });
}

registerApp(loadConfig());
