// The composition root: the only place that registers functions. Each trigger, orchestrator and activity gets a
// handler built from its dependencies (wiring.ts), so every piece can be tested without the host. The configuration
// and the app's time come in: main.ts (what the Functions host loads) gives the wall clock, the local host its own.
import { join } from 'node:path';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { createUnmatchedRoute } from './functions/batches';
import { createConsole } from './functions/console';
import { createHealth } from './functions/health';
import { createBlobIntake } from './functions/intake-blob';
import { batchOrchestrator } from './workflows/batch';
import { callbackOrchestrator } from './workflows/callback';
import { slotOrchestrator } from './workflows/slot';
import { chunkOrchestrator } from './workflows/chunk';
import { numbersOrchestrator } from './workflows/numbers';
import * as names from './contracts/names';
import type { AppTime } from './shared/adapters/app-time';
import { loadConsoleSettings, type AppConfig } from './shared/adapters/config';
import type { AppOverrides, Wiring } from './wiring';

export type { AppOverrides } from './wiring';

/**
 * An object of handlers, each of which runs the real one built by `build` (once, on the first call of any of them):
 * registering a function needs its handler, not what the handler runs on.
 */
function onFirstCall<T, K extends keyof T>(build: () => T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys)
    out[key] = ((...args: unknown[]) => (build()[key] as (...a: unknown[]) => unknown)(...args)) as T[K];
  return out;
}

export function registerApp(config: AppConfig, time: AppTime, overrides: AppOverrides = {}): void {
  // Storage, Graph and callback clients (wiring.ts) are built at the first invocation, not here: a cold start then
  // loads the Functions and Durable libraries only (bench/README.md, "Cold start"). A bad setting still stops the app
  // here, when loadConfig reads it.
  let wiring: Wiring | undefined;
  const wired = (): Wiring =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (wiring ??= (require('./wiring') as typeof import('./wiring')).wireApp(config, time, overrides));
  const api = onFirstCall(
    () => wired().api,
    ['submit', 'status', 'list', 'cancel', 'cancelRow', 'cancelUser', 'recheck'],
  );
  const activities = onFirstCall(
    () => wired().activities,
    [
      'preflight',
      'loadChunk',
      'assign',
      'saveChunk',
      'probeTeams',
      'settleChunk',
      'releaseReads',
      'chunkSignals',
      'finish',
    ],
  );
  const onboarding = onFirstCall(
    () => wired().onboarding,
    ['loadSlot', 'liveInSlot', 'planSlot', 'writesSettled', 'stopBatch', 'passTurn'],
  );
  const numbers = onFirstCall(() => wired().numbers, ['numberWork', 'startNumber', 'readOrders', 'confirmNumbers']);
  const client = df.input.durableClient();

  const routes = [
    { name: 'batches-submit', route: 'batches', methods: ['POST' as const], handler: api.submit },
    { name: 'batches-status', route: 'batches/{batchId}', methods: ['GET' as const], handler: api.status },
    { name: 'batches-list', route: 'batches', methods: ['GET' as const], handler: api.list },
    { name: 'batches-cancel', route: 'batches/{batchId}/cancel', methods: ['POST' as const], handler: api.cancel },
    // A row by its number, or by its UPN in the body: a UPN never goes in a URL (request logs and telemetry keep URLs).
    {
      name: 'batches-cancel-row',
      route: 'batches/{batchId}/rows/{row}/cancel',
      methods: ['POST' as const],
      handler: api.cancelRow,
    },
    {
      name: 'batches-cancel-user',
      route: 'batches/{batchId}/users/cancel',
      methods: ['POST' as const],
      handler: api.cancelUser,
    },
    { name: 'batches-recheck', route: 'batches/{batchId}/recheck', methods: ['POST' as const], handler: api.recheck },
  ];
  for (const r of routes)
    app.http(r.name, {
      route: r.route,
      methods: r.methods,
      authLevel: 'function',
      extraInputs: [client],
      handler: r.handler,
    });
  // Liveness for anyone; the deep check (every dependency, with what is missing) for key holders.
  const health = createHealth((context) => wired().healthChecks(context));
  app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health.liveness });
  app.http('health-deep', {
    route: 'health/deep',
    methods: ['GET'],
    authLevel: 'function',
    extraInputs: [client],
    handler: health.deep,
  });
  // The admin console: anonymous at the host, each route checks the Entra sign-in itself, then calls the handlers above.
  const adminConsole = createConsole({
    api,
    settings: loadConsoleSettings(),
    callers: config.callers,
    profiles: [...config.profiles.keys()],
    defaultProfile: config.defaultProfile,
    health: health.deepReport,
    assetsDir: join(__dirname, 'web'),
  });
  for (const r of adminConsole.routes)
    app.http(r.name, {
      route: r.route,
      methods: r.methods,
      authLevel: 'anonymous',
      extraInputs: [client],
      handler: r.handler,
    });
  // Last, and last by name too: the Functions host tries routes in the alphabetical order of their functions' names
  // (azure-functions-host#9876, azure-functions-nodejs-library#300), so this catch-all only gets what no route takes.
  app.http('zz-unmatched-route', {
    route: '{*path}',
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
    authLevel: 'function',
    handler: createUnmatchedRoute(routes),
  });
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
  df.app.activity(names.PASS_TURN_ACTIVITY, { handler: onboarding.passTurn, extraInputs: [client] });
  df.app.orchestration(names.CALLBACK_ORCHESTRATOR, callbackOrchestrator);
  df.app.activity(names.DELIVER_CALLBACK_ACTIVITY, {
    handler: (input: Parameters<Wiring['deliverCallback']>[0]) => wired().deliverCallback(input),
  });
}
