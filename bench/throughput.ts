// `npm run bench -- [--users N] [--batches K] [--time-rate R] [--fixed-rate] [--deadline-hours H] [--no-baseline] [--host-log] [--meter] [--json]`:
// licences per minute against Graph's write quota, the app's Teams read rate and detection lag, the size of durable
// messages, and the local runtime's cost. The full pipeline (local host, simulator, Azurite) licenses K generated
// batches of N users at once with throttling on and every Graph request taking 150-400 ms (simulated); the seed's
// loop (three sequential assignLicense calls per user) runs on the same tenant in this process for comparison. With
// --time-rate R the whole local stack runs up to R simulated seconds per wall-clock second while work is in flight
// (local/clock.ts; the host's governor lowers it while its event loop lags, unless --fixed-rate). --host-log prints
// the host's log; --meter counts the storage requests (local/storage-meter.ts). The CPU-seconds of the bench (with the
// simulator), the host and Azurite are read from /proc when the last report is in. Prints a table, or one JSON object.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SkipAheadClock } from '../local/clock';
import { startGraphSimulator } from '../local/graph-sim/server';
import type { SimTenant, TenantFile } from '../local/graph-sim/tenant';
import { awaitFinishedReport } from '../local/batch-client';
import { startStack } from '../local/stack';
import type { StorageCounts } from '../local/storage-meter';
import { GraphLicensingDirectory } from '../shared/adapters/graph/directory';
import { graphCredential } from '../shared/adapters/graph-credential';
import type { BatchReport } from '../shared/domain/report';
import { generateWorkload, maxInSeconds, maxInWindow, percentile } from './workload';

const QUOTA_PER_SECOND = 3000 / 150;
const LATENCY: [number, number] = [150, 400];

/** Most users within the first hour, a long tail to 30 hours, 2% never. */
function skewedMinutes(r: () => number): number | null {
  const x = r();
  if (x < 0.02) return null;
  if (x < 0.75) return 5 + r() * 55;
  if (x < 0.93) return 60 + r() * 300;
  return 360 * Math.exp(r() * Math.log(1800 / 360));
}

/** CPU-seconds (user + system) a live process has used so far, from /proc/<pid>/stat (clock ticks, 100 a second). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14 and 15)
  } catch {
    return 0;
  }
}

function peakRssKiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0');
  } catch {
    return 0;
  }
}

/** The seed's PowerShell loop, on Graph: for each user, E3, Phone System and the calling plan, one call each. */
async function sequentialBaseline(tenant: TenantFile, upns: readonly string[]): Promise<number> {
  const clock = new SkipAheadClock();
  const sim = await startGraphSimulator({
    tenant,
    clock,
    throttling: true,
    faults: { latencyMs: LATENCY, latencyAdvancesClock: true },
  });
  try {
    const graph = new GraphLicensingDirectory({
      baseUrl: sim.url,
      credential: graphCredential(
        {
          kind: 'appRegistration',
          tenantId: sim.authority.tenantId,
          clientId: sim.authority.defaultApp.clientId,
          secret: sim.authority.defaultApp.secret ?? '',
          authorityHost: sim.url,
          instanceDiscovery: false,
        },
        sim.caPem,
      ),
      extraCaPem: sim.caPem,
      writesPerSecond: 1_000_000,
      sleep: async (ms) => clock.skipTo(clock.now() + ms),
    });
    const ids = ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'].map((p) => sim.tenant.skuByPart(p)!.skuId);
    const start = clock.now();
    for (const upn of upns) for (const id of ids) await graph.assignLicenses(upn, [id]); // errors silenced, as in the seed
    const writes = sim.record.stateChangingWrites.filter((w) => w.kind === 'assignLicense');
    return ((writes.at(-1)?.at ?? start) - start) / 1000;
  } finally {
    await sim.close();
  }
}

/**
 * Median time to load the app as the Functions worker loads the deployed package: its dist/main.js is the bundle
 * scripts/bundle.js makes (scripts/package.js), written here under dist-dev/bench so that node_modules resolves as it does
 * in the package. `file` names another entry (the unbundled dist-dev/main.js the local hosts load) to time that instead.
 */
function coldStartMs(runs: number, file?: string): number {
  let main = file;
  if (!main) {
    main = join(__dirname, 'cold-start', 'main.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(join(__dirname, '..', '..', 'scripts', 'bundle.js')) as {
      bundleApp(out: string, entry: string): string;
    };
    bundle.bundleApp(main, join(__dirname, '..', 'main.js'));
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [main], {
      env: { ...process.env, AzureWebJobsStorage: 'UseDevelopmentStorage=true' },
      stdio: 'ignore',
    });
    if (r.status !== 0) throw new Error(`loading ${main} failed`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return Math.round(percentile(times, 50));
}

function chart(points: number[], makespan: number, file: string): void {
  const w = 720;
  const h = 360;
  const pad = 50;
  const tMax = Math.max(makespan, 1) * 1.05;
  const nMax = Math.max(points.length, QUOTA_PER_SECOND * tMax) * 1.02;
  const x = (t: number) => pad + (t / tMax) * (w - 2 * pad);
  const y = (n: number) => h - pad - (n / nMax) * (h - 2 * pad);
  const steps = points.map((t, i) => `${x(t).toFixed(1)},${y(i + 1).toFixed(1)}`).join(' ');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="black"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="black"/>
<line x1="${x(0)}" y1="${y(0)}" x2="${x(tMax)}" y2="${y(QUOTA_PER_SECOND * tMax)}" stroke="#c00" stroke-dasharray="6 4"/>
<polyline fill="none" stroke="#06c" stroke-width="2" points="${steps}"/>
<text x="${w / 2}" y="${h - 12}" text-anchor="middle">simulated seconds since the first licence</text>
<text x="14" y="${h / 2}" transform="rotate(-90 14 ${h / 2})" text-anchor="middle">licences assigned (assignLicense writes)</text>
<text x="${w - pad}" y="${pad - 8}" text-anchor="end" fill="#c00">Graph write quota: 3,000 per 150 s</text>
<text x="${pad + 8}" y="${pad + 4}" fill="#06c">dialtone: ${points.length} in ${makespan.toFixed(0)} s</text>
<text x="${pad}" y="${h - pad + 16}" text-anchor="middle">0</text><text x="${x(tMax / 1.05)}" y="${h - pad + 16}" text-anchor="middle">${(tMax / 1.05).toFixed(0)}</text>
<text x="${pad - 6}" y="${y(points.length)}" text-anchor="end">${points.length}</text>
</svg>\n`;
  writeFileSync(file, svg);
}

function sumCounts(all: readonly BatchReport['counts'][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of all) for (const [k, v] of Object.entries(c)) if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * `--rows FILE`: one JSON line per report row, for reading where a batch's time went: the row's index and outcome,
 * and in simulated minutes after the batch's first assignment when its licences were assigned (`assigned`), when Teams
 * showed its calling plan (`visible`), when a check found it (`found`) and when its number was assigned (`numbered`).
 * No user names: rows are known by their place in the workload (chunk = index / 200).
 */
function rowTimeline(users: BatchReport['users'], tenant: SimTenant, firstAssignment: number): string {
  const minutes = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? null : Math.round(((ms - firstAssignment) / 60_000) * 100) / 100;
  const iso = (s: string | null) => (s ? Date.parse(s) : null);
  return (
    users
      .map((u, index) => {
        const user = tenant.findUser(u.userPrincipalName);
        return JSON.stringify({
          index,
          outcome: u.outcome,
          reason: u.reason,
          assigned: minutes(iso(u.assignedAt)),
          visible: user ? minutes(tenant.callingPlanVisibleAt(user)) : null,
          found: minutes(iso(u.provisionedAt)),
          numbered: u.phoneNumber ? minutes(tenant.numbers.assignedAt.get(u.phoneNumber)) : null,
        });
      })
      .join('\n') + '\n'
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '2000' },
      batches: { type: 'string', default: '1' },
      'time-rate': { type: 'string', default: '1' },
      'deadline-hours': { type: 'string', default: '24' },
      'no-baseline': { type: 'boolean', default: false },
      'fixed-rate': { type: 'boolean', default: false },
      'host-log': { type: 'boolean', default: false },
      meter: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      chart: { type: 'string' },
      rows: { type: 'string' },
      seed: { type: 'string', default: '11' },
    },
  });
  const perBatch = Number(values.users);
  const batches = Number(values.batches);
  const timeRate = Number(values['time-rate']);
  const deadlineHours = Number(values['deadline-hours']);
  if (!Number.isInteger(perBatch) || perBatch < 1)
    throw new Error(`--users must be a whole number above 0, got ${values.users}`);
  if (!Number.isInteger(batches) || batches < 1)
    throw new Error(`--batches must be a whole number above 0, got ${values.batches}`);
  if (!(timeRate > 0)) throw new Error(`--time-rate must be a number above 0, got ${values['time-rate']}`);
  if (!(deadlineHours > 0))
    throw new Error(`--deadline-hours must be a number above 0, got ${values['deadline-hours']}`);
  const users = perBatch * batches;
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const t0 = Date.now();
  // Every row also gets a number from the tenant's pool once Teams shows its calling plan (docs/phone-numbers.md).
  const workload = generateWorkload(users, {
    seed: Number(values.seed),
    provisioningMinutes: skewedMinutes,
    poolNumbers: users,
  });
  log(
    `bench: ${batches} batch(es) of ${perBatch} users through the local stack (throttling on, ${LATENCY[0]}-${LATENCY[1]} ms per Graph request, time rate ${timeRate}, deadline ${deadlineHours} h)…`,
  );
  // Room for every chunk orchestration of every batch at once (the local host refuses new ones past this, as 503).
  const maxRunning = String(Math.max(400, batches * (Math.ceil(perBatch / 200) + 2) + 10));
  const stack = await startStack({
    tenant: workload.tenant,
    throttling: true,
    faults: { latencyMs: LATENCY },
    timeRate,
    // --meter: a counting proxy between the host and Azurite (local/storage-meter.ts); it costs the bench process CPU.
    ...(values.meter ? { storageMeter: {} } : {}),
    ...(values['host-log'] ? { onHostLog: (l: string) => log(`host: ${l}`) } : {}),
    settings: {
      DIALTONE_GRAPH_WRITES_PER_SECOND: '19',
      DIALTONE_PHONE_NUMBERS: 'pool',
      DIALTONE_DEADLINE_HOURS: String(deadlineHours),
      DIALTONE_LOCAL_MAX_RUNNING: maxRunning,
      ...(values['fixed-rate'] ? { DIALTONE_LOCAL_RATE_GOVERNOR: 'off' } : {}),
    },
  });
  // The rate the host's governor allowed (local/clock.ts), sampled each second of wall time while the batches ran.
  const rates: number[] = [];
  const sampler = setInterval(() => rates.push(stack.clock.rate), 1000);
  const simStart = stack.clock.now();
  const wallStart = Date.now();
  let runWallSeconds = Number.NaN;
  let simulatedHours = Number.NaN;
  const reports: BatchReport[] = [];
  const peaks = { bench: 0, host: 0, azurite: 0 };
  const cpu = { bench: 0, host: 0, azurite: 0 };
  let storage: StorageCounts | undefined;
  let maxHistoryEvents = 0;
  let payload = { maxPayloadBytes: 0, largest: '' };
  try {
    const ids = Array.from({ length: batches }, (_, b) => (batches === 1 ? 'bench' : `bench-${b + 1}`));
    for (const [b, batchId] of ids.entries()) {
      const rows = workload.rows.slice(b * perBatch, (b + 1) * perBatch);
      const r = await fetch(`${stack.host.url}/api/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': stack.host.functionKey },
        body: JSON.stringify({ batchId, users: rows }),
      });
      if (r.status !== 202)
        throw new Error(`submit of ${batchId} answered ${r.status}: ${(await r.text()).slice(0, 500)}`);
    }
    for (const batchId of ids) {
      // The summary view costs no blob read; the whole report (for 50,000 rows ~20 MB) is asked for once it is done.
      reports.push(await awaitFinishedReport(stack.host, batchId));
      log(`bench: ${batchId} finished after ${Math.round((Date.now() - t0) / 1000)} s of wall time`);
    }
    clearInterval(sampler);
    runWallSeconds = (Date.now() - wallStart) / 1000;
    simulatedHours = (stack.clock.now() - simStart) / 3_600_000;
    peaks.bench = peakRssKiB(process.pid);
    peaks.host = peakRssKiB(stack.host.child.pid);
    peaks.azurite = peakRssKiB(stack.azurite.pid);
    cpu.bench = cpuSeconds(process.pid);
    cpu.host = cpuSeconds(stack.host.child.pid);
    cpu.azurite = cpuSeconds(stack.azurite.pid);
    storage = stack.storageMeter?.counts();
    const dir = join(stack.workDir, 'host', 'instances');
    for (const f of readdirSync(dir))
      maxHistoryEvents = Math.max(
        maxHistoryEvents,
        (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { history: unknown[] }).history.length,
      );
    payload = JSON.parse(readFileSync(join(stack.workDir, 'host', 'payload-stats.json'), 'utf8')) as typeof payload;
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
  const report = { users: reports.flatMap((r) => r.users), counts: sumCounts(reports.map((r) => r.counts)) };
  const wallSeconds = (Date.now() - t0) / 1000;
  const rec = stack.sim.record;
  const assigns = rec.stateChangingWrites.filter((w) => w.kind === 'assignLicense').map((w) => w.at);
  const first = Math.min(...assigns);
  const assignmentMakespanSeconds = (Math.max(...assigns) - first) / 1000;
  // Graph's identity write quota: assignNumber counts in Teams' own limit instead (throttling-limits.md).
  const writesNeeded = rec.stateChangingWrites.filter((w) => w.kind !== 'assignNumber').length;
  const simId = (upn: string): string => stack.sim.tenant.findUser(upn)!.id;
  const polled = report.users.filter((u) => u.assignedAt && u.skus.includes('MCOPSTN1'));
  const reads = polled.map((u) => rec.byUser.get(simId(u.userPrincipalName))?.teamsUserConfiguration ?? 0);
  const never = polled
    .filter((u) => stack.sim.tenant.findUser(u.userPrincipalName)!.teamsProvisioningMinutes === null)
    .map((u) => rec.byUser.get(simId(u.userPrincipalName))?.teamsUserConfiguration ?? 0);
  const lagOf = report.users
    .filter((u) => u.outcome === 'provisioned' && u.provisionedAt)
    .map((u) => {
      const user = stack.sim.tenant.findUser(u.userPrincipalName)!;
      return {
        lag: (Date.parse(u.provisionedAt!) - stack.sim.tenant.callingPlanVisibleAt(user)!) / 60_000,
        teamsMinutes: user.teamsProvisioningMinutes ?? 0,
      };
    });
  const lags = lagOf.map((l) => l.lag);
  // The lag by when Teams provisioned the user (the schedule checks less often as the wait grows).
  const lagP95Where = (from: number, to: number) =>
    Math.round(
      percentile(
        lagOf.filter((l) => l.teamsMinutes >= from && l.teamsMinutes < to).map((l) => l.lag),
        95,
      ) * 10,
    ) / 10;
  // From Teams showing the calling plan to the number's order finishing in Teams (detection lag included).
  const toNumber = report.users
    .filter((u) => u.outcome === 'provisioned' && u.phoneNumber)
    .map(
      (u) =>
        (stack.sim.tenant.numbers.assignedAt.get(u.phoneNumber!)! -
          stack.sim.tenant.callingPlanVisibleAt(stack.sim.tenant.findUser(u.userPrincipalName)!)!) /
        60_000,
    );
  if (values.rows) writeFileSync(values.rows, rowTimeline(report.users, stack.sim.tenant, first));
  const numbers = report.users.filter((u) => u.phoneNumber).map((u) => u.phoneNumber!);
  // Every Graph request the app made, a $batch's items counted as the requests they are (the $batch itself not).
  const graphRequestsCounted = Object.entries(rec.byKind)
    .filter(([k]) => k !== 'batch')
    .reduce((a, [, n]) => a + n, 0);
  const teamsReadRequests = rec.byKind.teamsUserConfiguration + rec.byKind.teamsUserConfigurationList;
  const baseline = !values['no-baseline'];
  if (baseline) log('bench: the PowerShell page’s sequential loop on the same tenant…');
  const sequentialBaselineMakespanSeconds = baseline
    ? await sequentialBaseline(
        workload.tenant,
        workload.rows.map((r) => r.userPrincipalName),
      )
    : Number.NaN;
  log('bench: cold start…');
  const cold = coldStartMs(7);
  const coldUnbundled = coldStartMs(7, join(__dirname, '..', 'main.js'));
  const result = {
    users,
    batches,
    timeRate,
    // What the governor let the rate be while work was in flight (min and mean of per-second samples), and how much
    // simulated time the batches took per wall-clock second, skips included.
    timeRateGoverned: {
      min: Math.round(Math.min(timeRate, ...rates) * 10) / 10,
      mean: Math.round((rates.reduce((a, b) => a + b, 0) / Math.max(1, rates.length)) * 10) / 10,
    },
    simulatedHours: Math.round(simulatedHours * 10) / 10,
    simulatedSecondsPerWallSecond: Math.round((simulatedHours * 3600) / runWallSeconds),
    deadlineHours,
    writesNeeded,
    assignmentMakespanSeconds: Math.round(assignmentMakespanSeconds * 10) / 10,
    quotaUtilisation: Math.round((writesNeeded / QUOTA_PER_SECOND / assignmentMakespanSeconds) * 1000) / 1000,
    sequentialBaselineMakespanSeconds: Math.round(sequentialBaselineMakespanSeconds),
    speedupOverBaseline: Math.round((sequentialBaselineMakespanSeconds / assignmentMakespanSeconds) * 10) / 10,
    graphRequests: rec.requests,
    graphRequestsPerUser: Math.round((graphRequestsCounted / users) * 10) / 10,
    // Simulated time: the simulator stamps each Teams configuration read with the shared clock; a page of a sweep of
    // the Teams list is one read, whatever the number of users it answers for.
    // Exact from each read's time while the simulator kept them all; from its per-second tally past that (whole
    // seconds: a window can then read up to a second's worth lower than the exact one).
    teamsReadsPerSecondMax:
      (rec.teamsReads.length === teamsReadRequests
        ? maxInWindow(
            rec.teamsReads.map((r) => r.at),
            10_000,
          )
        : maxInSeconds(rec.teamsReadsBySecond, 10)) / 10,
    // Every Teams user configuration request (the checks' per-user reads and list pages, and the number step's reads of
    // a user's numbers), the list's pages among them, and per user whose calling plan was waited for.
    teamsReadRequests,
    teamsListPages: rec.byKind.teamsUserConfigurationList,
    teamsReadRequestsPerPolledUser: Math.round((teamsReadRequests / Math.max(1, polled.length)) * 100) / 100,
    teamsListRefused: rec.teamsListRefused,
    throttled: rec.throttled,
    throttledByKind: rec.throttledByKind,
    pollReadsPerUser: Math.round((reads.reduce((a, b) => a + b, 0) / Math.max(1, reads.length)) * 10) / 10,
    pollReadsPerUserMax: Math.max(0, ...never, ...reads),
    detectionLagP50Minutes: Math.round(percentile(lags, 50) * 10) / 10,
    detectionLagP95Minutes: Math.round(percentile(lags, 95) * 10) / 10,
    detectionLagP95MinutesByTeamsDelay: {
      under1h: lagP95Where(0, 60),
      from1to6h: lagP95Where(60, 360),
      over6h: lagP95Where(360, Number.POSITIVE_INFINITY),
    },
    numbersAssigned: toNumber.length,
    numbersGivenTwice: numbers.length - new Set(numbers).size,
    timeToNumberP50Minutes: Math.round(percentile(toNumber, 50) * 10) / 10,
    timeToNumberP95Minutes: Math.round(percentile(toNumber, 95) * 10) / 10,
    maxDurablePayloadBytes: payload.maxPayloadBytes,
    largestDurablePayload: payload.largest,
    wallSeconds: Math.round(wallSeconds),
    peakRssMiB: Math.round((peaks.bench + peaks.host + peaks.azurite) / 1024),
    peakRssMiBByProcess: {
      benchAndSimulator: Math.round(peaks.bench / 1024),
      host: Math.round(peaks.host / 1024),
      azurite: Math.round(peaks.azurite / 1024),
    },
    // CPU-seconds from the stack's start to the last report (the host and Azurite from their own start), per user.
    cpuSeconds: Math.round(cpu.bench + cpu.host + cpu.azurite),
    cpuMsPerUser: Math.round(((cpu.bench + cpu.host + cpu.azurite) * 1000) / users),
    cpuSecondsByProcess: {
      benchAndSimulator: Math.round(cpu.bench),
      host: Math.round(cpu.host),
      azurite: Math.round(cpu.azurite),
    },
    ...(storage
      ? {
          storageRequestsPerUser: Math.round((storage.total / users) * 10) / 10,
          storageRequestsPerUserByOperation: Object.fromEntries(
            Object.entries(storage.byOperation)
              .sort(([, a], [, b]) => b - a)
              .map(([k, n]) => [k, Math.round((n / users) * 100) / 100]),
          ),
          storageRequestsByResource: storage.byResource,
        }
      : {}),
    maxHistoryEvents,
    coldStartMs: cold,
    coldStartUnbundledMs: coldUnbundled,
    outcomes: report.counts,
    reportRows: report.users.length,
  };
  const chartFile = values.chart ?? join(__dirname, '..', '..', 'bench', `assigned-over-time-${users}.svg`);
  chart(
    assigns.map((a) => (a - first) / 1000).sort((a, b) => a - b),
    assignmentMakespanSeconds,
    chartFile,
  );
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(
      `\n${Object.entries(result)
        .map(([k, v]) => `${k.padEnd(36)} ${typeof v === 'object' ? JSON.stringify(v) : v}`)
        .join('\n')}\nchart: ${chartFile}\n`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
