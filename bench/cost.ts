// `npm run cost -- [--users N] [--idle-minutes M] [--deadline-hours H] [--label L] [--set KEY=VALUE]… [--json]`:
// what a batch and an idle month cost in Azure. The app runs on the real Durable extension (local/extension-host)
// over Azurite behind a counting proxy (local/storage-meter.ts) that tallies every storage request by the class Azure
// bills it in; the bridge counts the orchestrator episodes and activities it runs and the time an instance was
// executing. First the task hub sits idle for M minutes (no batch: the extension's queue polling and lease renewals),
// then one batch of N generated users runs to its report. bench/cost-model.ts prices the counts with
// bench/azure-prices.json: `azureCostPer1000UsersUsd` (the batch scaled to 1,000 users) and `idleCostPerMonthUsd`.
// --set passes a setting to the host (an app setting, e.g. AzureWebJobs__Extensions__DurableTask__… overriding
// host.json) to compare a change on the same run. Writes bench/results-cost[-L].json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { awaitFinishedReport } from '../local/batch-client';
import { startStack } from '../local/stack';
import type { StorageCounts } from '../local/storage-meter';
import { biggestTerm, costPer1000Users, idleCostPerMonth, type AzurePrices, type Deployment } from './cost-model';
import { generateWorkload } from './workload';

const LATENCY: [number, number] = [150, 400];

/** infra/main.bicep's defaults: 2,048 MB instances, one always-ready instance for the durable group, Service Bus. */
const DEPLOYMENT: Deployment = { instanceMemoryGb: 2, alwaysReadyInstances: 1, serviceBus: true };

function loadPrices(file: string): AzurePrices {
  const j = JSON.parse(readFileSync(file, 'utf8')) as {
    functions: AzurePrices['functions'];
    storage: { per10kOperationsUsd: AzurePrices['storagePer10kUsd'] };
    serviceBus: AzurePrices['serviceBus'];
  };
  return { functions: j.functions, storagePer10kUsd: j.storage.per10kOperationsUsd, serviceBus: j.serviceBus };
}

/** What the real-extension host says it ran (local/extension-host/main.ts, /admin/host/status). */
interface ExtensionHostStatus {
  readonly invocations: { orchestration: number; activity: number };
  readonly invocationsByFunction: Record<string, number>;
  readonly invocationMsByFunction: Record<string, number>;
  readonly invocationTime: { busyMs: number; invocationMs: number };
}

async function hostStatusOf(host: { url: string }): Promise<ExtensionHostStatus> {
  const r = await fetch(`${host.url}/admin/host/status`);
  if (r.status !== 200) throw new Error(`/admin/host/status answered ${r.status}`);
  const s = (await r.json()) as Partial<ExtensionHostStatus> & { engine?: string };
  if (
    s.engine !== 'extension' ||
    !s.invocations ||
    !s.invocationTime ||
    !s.invocationsByFunction ||
    !s.invocationMsByFunction
  )
    throw new Error(`the host is not the real-extension host with invocation counts: ${JSON.stringify(s)}`);
  return s as ExtensionHostStatus;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const delta = (a: ExtensionHostStatus, b: ExtensionHostStatus) => ({
  orchestration: b.invocations.orchestration - a.invocations.orchestration,
  activity: b.invocations.activity - a.invocations.activity,
  busySeconds: (b.invocationTime.busyMs - a.invocationTime.busyMs) / 1000,
  invocationSeconds: (b.invocationTime.invocationMs - a.invocationTime.invocationMs) / 1000,
  byFunction: Object.fromEntries(
    Object.entries(b.invocationsByFunction)
      .map(([k, v]) => [k, v - (a.invocationsByFunction[k] ?? 0)] as const)
      .filter(([, v]) => v > 0)
      .sort(([, x], [, y]) => y - x),
  ),
  secondsByFunction: Object.fromEntries(
    Object.entries(b.invocationMsByFunction)
      .map(([k, v]) => [k, Number(((v - (a.invocationMsByFunction[k] ?? 0)) / 1000).toFixed(1))] as const)
      .filter(([, v]) => v > 0)
      .sort(([, x], [, y]) => y - x),
  ),
});

const round = (usd: number, digits = 4) => Number(usd.toFixed(digits));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '300' },
      'idle-minutes': { type: 'string', default: '10' },
      'deadline-hours': { type: 'string', default: '0.1' },
      label: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      seed: { type: 'string', default: '7' },
      json: { type: 'boolean', default: false },
    },
  });
  const users = Number(values.users);
  const idleMinutes = Number(values['idle-minutes']);
  const deadlineHours = Number(values['deadline-hours']);
  if (!Number.isInteger(users) || users < 1)
    throw new Error(`--users must be a whole number above 0, got ${values.users}`);
  if (!(idleMinutes > 0)) throw new Error(`--idle-minutes must be a number above 0, got ${values['idle-minutes']}`);
  if (!(deadlineHours > 0))
    throw new Error(`--deadline-hours must be a number above 0, got ${values['deadline-hours']}`);
  const extra: Record<string, string> = {};
  for (const kv of values.set ?? []) {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`--set takes KEY=VALUE, got ${kv}`);
    extra[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const root = join(__dirname, '..', '..');
  const prices = loadPrices(join(root, 'bench', 'azure-prices.json'));
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const t0 = Date.now();
  // Teams shows most users' calling plans within a few minutes and 5% never: the extension's timers follow the wall
  // clock, so the batch is compressed in time (a deadline of minutes; the check schedule shrinks with it).
  const workload = generateWorkload(users, {
    seed: Number(values.seed),
    provisioningMinutes: (r) => (r() < 0.05 ? null : 0.2 + r() * 2),
  });
  const intake = 'license-requests';
  const stack = await startStack({
    tenant: workload.tenant,
    engine: 'extension',
    throttling: true,
    faults: { latencyMs: LATENCY },
    // The local host makes sure of the intake container and lists it four times a second to notice uploads
    // (local/host/blob-watcher.ts); in Azure, Event Grid pushes the event and infra/ creates the container, so those
    // requests are not counted.
    storageMeter: {
      exclude: (service, o) =>
        service === 'blob' && o.resource === intake && ['ListBlobs', 'CreateContainer'].includes(o.operation),
    },
    settings: { DIALTONE_DEADLINE_HOURS: String(deadlineHours), DIALTONE_INTAKE_CONTAINER: intake, ...extra },
  });
  const meter = stack.storageMeter!;
  try {
    // Idle: let the start-up's own work (creating the task hub's queues, tables and leases) settle, then count.
    log(
      `cost: host ready after ${Math.round((Date.now() - t0) / 1000)} s; settling for 60 s, then ${idleMinutes} idle minutes…`,
    );
    await sleep(60_000);
    const idleStart = await hostStatusOf(stack.host);
    meter.reset();
    const idleT0 = Date.now();
    await sleep(idleMinutes * 60_000);
    const idleCounts: StorageCounts = meter.reset();
    const idleHours = (Date.now() - idleT0) / 3_600_000;
    const idleEnd = await hostStatusOf(stack.host);
    const idleRuns = delta(idleStart, idleEnd);

    log(`cost: idle counted (${idleCounts.total} storage requests); submitting ${users} users…`);
    const batchT0 = Date.now();
    const r = await fetch(`${stack.host.url}/api/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': stack.host.functionKey },
      body: JSON.stringify({ batchId: 'cost', users: workload.rows }),
    });
    if (r.status !== 202) throw new Error(`submit answered ${r.status}: ${(await r.text()).slice(0, 500)}`);
    const report = await awaitFinishedReport(stack.host, 'cost', 10_000);
    // The last episodes (the batch's own completion) may still be writing: a few seconds more.
    await sleep(15_000);
    const batchCounts = meter.reset();
    const batchWallSeconds = (Date.now() - batchT0) / 1000;
    const batchEnd = await hostStatusOf(stack.host);
    const batchRuns = delta(idleEnd, batchEnd);
    // Trigger executions: the submission and the report read (the bench's status polls every 10 s are the client's
    // choice and are left out; a status read is an HTTP execution and a table read or two).
    const httpExecutions = 2;
    const executions = batchRuns.orchestration + batchRuns.activity + httpExecutions;
    const flagged = report.counts.flagged + report.counts.failed;
    const perThousand = costPer1000Users(
      {
        users,
        storage: batchCounts.byClass,
        executions,
        busySeconds: batchRuns.busySeconds,
        serviceBusOperations: flagged,
      },
      prices,
      DEPLOYMENT,
    );
    const idle = idleCostPerMonth(
      { storage: idleCounts.byClass, executions: idleRuns.orchestration + idleRuns.activity, hours: idleHours },
      prices,
      DEPLOYMENT,
    );
    const scale = 1000 / users;
    const result = {
      label: values.label ?? null,
      settings: extra,
      users,
      deadlineHours,
      outcomes: report.counts,
      reportRows: report.users.length,
      azureCostPer1000UsersUsd: round(perThousand.totalUsd),
      idleCostPerMonthUsd: round(idle.totalUsd, 2),
      per1000Users: {
        storageUsd: round(perThousand.storageUsd),
        storageByClassUsd: Object.fromEntries(
          Object.entries(perThousand.storageByClassUsd).map(([k, v]) => [k, round(v, 5)]),
        ),
        executionsUsd: round(perThousand.executionsUsd, 5),
        gbSecondsUsd: round(perThousand.gbSecondsUsd),
        biggestTerm: biggestTerm({
          ...Object.fromEntries(Object.entries(perThousand.storageByClassUsd).map(([k, v]) => [`storage.${k}`, v])),
          executions: perThousand.executionsUsd,
          gbSeconds: perThousand.gbSecondsUsd,
        }),
        storageRequests: Math.round(batchCounts.total * scale),
        storageRequestsByClass: Object.fromEntries(
          Object.entries(batchCounts.byClass).map(([k, v]) => [k, Math.round(v * scale)]),
        ),
        executions: Math.round(executions * scale),
        orchestratorEpisodes: Math.round(batchRuns.orchestration * scale),
        activities: Math.round(batchRuns.activity * scale),
        busySeconds: Number((batchRuns.busySeconds * scale).toFixed(1)),
      },
      idlePerMonth: {
        storageUsd: round(idle.storageUsd, 2),
        storageByClassUsd: Object.fromEntries(Object.entries(idle.storageByClassUsd).map(([k, v]) => [k, round(v, 3)])),
        executionsUsd: round(idle.executionsUsd, 3),
        alwaysReadyBaselineUsd: round(idle.alwaysReadyBaselineUsd, 2),
        serviceBusBaseUsd: round(idle.serviceBusBaseUsd, 2),
        biggestTerm: biggestTerm({
          storage: idle.storageUsd,
          executions: idle.executionsUsd,
          alwaysReadyBaseline: idle.alwaysReadyBaselineUsd,
          serviceBusBase: idle.serviceBusBaseUsd,
        }),
        storageRequestsPerHour: Math.round(idleCounts.total / idleHours),
        storageRequestsPerHourByClass: Object.fromEntries(
          Object.entries(idleCounts.byClass).map(([k, v]) => [k, Math.round(v / idleHours)]),
        ),
        executionsPerHour: Math.round((idleRuns.orchestration + idleRuns.activity) / idleHours),
      },
      measured: {
        idleMinutes: Number((idleHours * 60).toFixed(2)),
        idleStorage: idleCounts,
        idleRuns,
        batchWallSeconds: Math.round(batchWallSeconds),
        batchStorage: batchCounts,
        batchRuns,
        httpExecutions,
        flagsSent: flagged,
      },
      deployment: DEPLOYMENT,
      prices: 'bench/azure-prices.json',
      wallSeconds: Math.round((Date.now() - t0) / 1000),
    };
    const file = join(root, 'bench', `results-cost${values.label ? `-${values.label}` : ''}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`cost: wrote ${file}`);
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await stack.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
