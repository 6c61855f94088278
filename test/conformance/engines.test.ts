// The same end-to-end scenarios on the real Durable Functions extension (the .NET host in local/extension-host) and
// on the local durable engine, each with its own Azurite and Graph simulator on the same tenant and input: every
// outcome, resubmission with the same and a new id, a recheck while waiting, a worker killed mid-run and restarted,
// continue-as-new generations and a 1,000-user batch. Every row must end with the same outcome and reason on both.
// The extension's durable timers follow the wall clock, so the deadline is minutes (the polling grid shrinks with it).
// Four stacks (the short batches and the 1,000-user batch, on each engine) start together and run side by side.
// Each stack must prove which engine ran it (the extension's .NET process and the bridge's invocations, or the local
// engine and no bridge), end every instance of its task hub Completed (but the probes failed on purpose) and log no
// error, split brain, aborted function or message out of order (test/support/conformance.ts).
import type { TenantFile } from '../../local/graph-sim/tenant';
import { startStack, type Stack } from '../../local/stack';
import { instanceIdOf } from '../../functions/callers';
import { POLLS_PER_GENERATION } from '../../workflows/chunk';
import {} from '../../contracts/names';
import { chunkInstanceId } from '../../contracts/instance-ids';
import { SINGLE_CALLER } from '../../shared/adapters/config';
import type { BatchReport } from '../../shared/domain/report';
import { getBatch, postBatch, waitForReport } from '../support/e2e';
import {
  expectEngineRan,
  expectTaskHubEnded,
  graphView,
  HostLog,
  withoutTimesAndIds,
  type GraphView,
  type InstanceSummary,
  type LeaseMove,
} from '../support/conformance';
import { describeOnExtension } from '../support/extension';
import { tenantSkus } from '../support/tenant';

const QUICK = 0.1; // minutes until Teams shows the calling plan
const BIG = 1000;

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 2000, MCOEV: 2000, MCOPSTN1: 2000, MCOPSTN2: 1 }),
  users: [
    { userPrincipalName: 'a-soon@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: QUICK },
    { userPrincipalName: 'a-never@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: null },
    { userPrincipalName: 'a-hybrid@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'a-hybrid-cp@contoso.com', usageLocation: 'US' },
    { userPrincipalName: 'a-noloc@contoso.com', usageLocation: null },
    { userPrincipalName: 'a-seat1@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: QUICK },
    { userPrincipalName: 'a-seat2@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: QUICK },
    ...Array.from({ length: 5 }, (_, i) => ({
      userPrincipalName: `r${i}@contoso.com`,
      usageLocation: 'US',
      teamsProvisioningMinutes: QUICK,
    })),
    { userPrincipalName: 'w-never@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: null },
    { userPrincipalName: 'w-soon@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0.25 },
    ...Array.from({ length: BIG }, (_, i) => ({
      userPrincipalName: `b${i}@contoso.com`,
      usageLocation: i % 100 === 7 ? null : 'US',
      teamsProvisioningMinutes: QUICK,
    })),
  ],
};

const EVERY_OUTCOME = {
  batchId: 'every-outcome',
  users: [
    { userPrincipalName: 'a-soon@contoso.com' },
    { userPrincipalName: 'a-never@contoso.com' },
    { userPrincipalName: 'a-hybrid@contoso.com', profile: 'phone-system-only', onPremisesPstn: true },
    { userPrincipalName: 'a-hybrid-cp@contoso.com', onPremisesPstn: true },
    { userPrincipalName: 'a-noloc@contoso.com' },
    { userPrincipalName: 'a-ghost@contoso.com' },
    { userPrincipalName: 'a-seat1@contoso.com', profile: 'phone-international' },
    { userPrincipalName: 'a-seat2@contoso.com', profile: 'phone-international' },
    { userPrincipalName: 'not-a-upn' },
  ],
};
const EXPECTED_EVERY_OUTCOME = [
  'provisioned',
  'flagged/no_calling_plan',
  'assigned',
  'rejected/calling_plan_not_allowed_hybrid',
  'failed/usage_location_missing',
  'failed/user_not_found',
  'provisioned',
  'failed/insufficient_licenses',
  'rejected/invalid_upn',
];
const RESUBMIT_USERS = Array.from({ length: 5 }, (_, i) => ({ userPrincipalName: `r${i}@contoso.com` }));
const BIG_USERS = Array.from({ length: BIG }, (_, i) => ({ userPrincipalName: `b${i}@contoso.com` }));

const COMMON = {
  // As an app setting overrides host.json in Azure (AzureFunctionsJobHost__…), here for the plain WebJobs host:
  // idle queues are polled every second instead of backing off to five, so that short timers stay short.
  AzureWebJobs__Extensions__DurableTask__StorageProvider__MaxQueuePollingInterval: '00:00:01',
  // A message the killed worker had taken (an activity, an orchestrator episode) becomes visible to the restarted one
  // after a minute, the least the extension accepts, instead of the documented default of five (host.json reference:
  // durableTask.storageProvider controlQueueVisibilityTimeout, workItemQueueVisibilityTimeout). Activities here take
  // seconds.
  AzureWebJobs__Extensions__DurableTask__StorageProvider__ControlQueueVisibilityTimeout: '00:01:00',
  AzureWebJobs__Extensions__DurableTask__StorageProvider__WorkItemQueueVisibilityTimeout: '00:01:00',
};
/**
 * The batches that wait for their deadline: 4.8 minutes, which leaves the waiting chunk time for more than two
 * generations of checks on a heavily loaded machine (3 minutes did not, at a load average of 40), and still ends well
 * before the 1,000-user batch beside it.
 */
const SHORT = { ...COMMON, DIALTONE_DEADLINE_HOURS: '0.08', DIALTONE_TASK_HUB: 'conformance' };
/**
 * The 1,000-user batch with its crash, on stacks of its own: its users all settle before the deadline, so it ends
 * when they do, and the deadline (30 minutes) only has to be later than its assignments, which on a shared 2-core
 * machine, with a worker killed and restarted in the middle, can take several minutes of wall-clock time.
 */
const LONG = {
  ...COMMON,
  DIALTONE_DEADLINE_HOURS: '0.5',
  DIALTONE_TASK_HUB: 'conformancebig',
  // Twenty chunks of 50 rather than five of 200: more sub-orchestrations spread over the task hub's partitions, and
  // each orchestrator episode replays a quarter of the history (the cost of a chunk's replays grows with its square).
  DIALTONE_CHUNK_SIZE: '50',
  // A chunk's group of assignments, the app's default, set here because the log's reading after the crash counts on it.
  DIALTONE_ASSIGN_PARALLELISM: '10',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function durableStatus(
  stack: Stack,
  instanceId: string,
): Promise<{ runtimeStatus: string; input: unknown } | undefined> {
  const r = await fetch(
    `${stack.host.url}/runtime/webhooks/durabletask/instances/${instanceId}?code=${encodeURIComponent(stack.host.functionKey)}`,
  );
  return r.status === 200 || r.status === 202
    ? ((await r.json()) as { runtimeStatus: string; input: unknown })
    : undefined;
}

/**
 * The Teams checks follow the wall clock (and the rechecks sent), so they are counted but not compared per user; nor
 * are the $batch requests that carry them (20 checks to a request, as many as are due together), nor the pages of the
 * sweeps of the Teams list that answer many checks at once.
 */
const TIMED_KINDS = ['teamsUserConfiguration', 'teamsUserConfigurationList'];
const ALL_UPNS = tenant.users.map((u) => u.userPrincipalName);

/** What Graph saw that does not follow the clock: every count but the Teams checks and their $batch envelopes. */
function comparable(v: GraphView): unknown {
  const {
    teamsUserConfiguration: checks = 0,
    teamsUserConfigurationList: pages = 0,
    batch: _envelopes,
    ...byKind
  } = v.byKind;
  return { ...v, byKind, reads: v.reads - checks - pages };
}

interface Short {
  readonly graph: GraphView;
  readonly clientRules: string[];
  readonly reports: Record<string, BatchReport>;
  readonly resubmitSame: { status: number; existing: unknown };
  readonly recheck: { status: number; chunksAsked: unknown };
  readonly rechecksSent: number;
  /** Teams checks of the user who never gets a calling plan, as the simulator saw them (one per check of the chunk). */
  readonly neverUserChecks: number;
  /** Whether the waiting chunk's current generation was started by continue-as-new (its input carries state). */
  readonly waitingChunkContinued: boolean;
  readonly seconds: number;
  readonly ended: Ended;
}

/** How a stack ended: its engine's runs, its task hub's instances and how many troubling log lines were accepted. */
interface Ended {
  readonly runs: { orchestration: number; activity: number };
  readonly instances: InstanceSummary[];
  readonly acceptedLogLines: number;
}

/** The durable client probes of clientRules start these instances, each failing on purpose (its input is null). */
const PROBE_COUNT = 7;
const isProbe = (id: string) => !id.startsWith(`${SINGLE_CALLER}~`);

async function settle(
  stack: Stack,
  engine: 'extension' | 'local',
  log: HostLog,
  probes: boolean,
  leasesMoved?: LeaseMove,
): Promise<Ended> {
  const instances = await expectTaskHubEnded(
    stack,
    5 * 60_000,
    probes ? { failedOnPurpose: isProbe, failedCount: PROBE_COUNT } : {},
  );
  const runs = await expectEngineRan(stack, engine);
  const acceptedLogLines = log.expectClean(
    probes ? { name: 'dialtone-batch', appInstancePrefix: `${SINGLE_CALLER}~` } : undefined,
    undefined,
    undefined,
    leasesMoved,
  );
  return { runs, instances, acceptedLogLines };
}

interface Big {
  readonly graph: GraphView;
  readonly report: BatchReport;
  readonly writesBeforeCrash: number;
  readonly assignWrites: Map<string, number>;
  readonly seconds: number;
  /** Seconds until the crash, for the restart, and from the restart to the report. */
  readonly phases: [number, number, number];
  readonly ended: Ended;
}

/**
 * The durable client's rules, asked of the extension's HTTP API directly (the JS client calls the same endpoints):
 * instance ids it refuses, startNew on a running and on a failed instance, unknown ids, and an orchestrator that
 * fails (its input is not a batch). One line per probe: what was asked, the status, and the error's message.
 */
async function clientRules(stack: Stack, runningId: string): Promise<string[]> {
  const base = `${stack.host.url}/runtime/webhooks/durabletask`;
  const code = `code=${encodeURIComponent(stack.host.functionKey)}`;
  const ask = async (label: string, method: string, path: string, body?: string) => {
    const r = await fetch(`${base}/${path}${path.includes('?') ? '&' : '?'}${code}`, {
      method,
      ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    let message = '';
    try {
      const parsed = JSON.parse(text) as { ExceptionMessage?: string };
      message = parsed.ExceptionMessage ?? '';
    } catch {
      /* no JSON body */
    }
    return `${label} → ${r.status}${message ? ` ${message}` : ''}`;
  };
  const out: string[] = [];
  // '@' as the JS client sends it (it does not encode ids); '#', '?', '\\' and control characters can only travel
  // percent-encoded. The extension 3.19 decodes them and accepts them all, as it does 257 characters.
  for (const [label, id] of [
    ['leading @', '@probe'],
    ['encoded #', 'a%23b'],
    ['encoded ?', 'a%3Fb'],
    ['encoded backslash', 'a%5Cb'],
    ['encoded control character', 'a%01b'],
    ['257 characters', 'x'.repeat(257)],
  ] as const) {
    out.push(await ask(`startNew with ${label}`, 'POST', `orchestrators/dialtone-batch/${id}`, 'null'));
  }
  out.push(
    await ask('getStatus of the encoded id, as sent', 'GET', 'instances/a%23b').then((x) => x.replace(/ \{.*$/, '')),
  );
  out.push(
    await ask(
      'startNew on a running instance',
      'POST',
      `orchestrators/dialtone-batch/${encodeURIComponent(runningId)}`,
      'null',
    ),
  );
  out.push(await ask('getStatus of an unknown id', 'GET', 'instances/no-such-instance'));
  out.push(await ask('raiseEvent to an unknown id', 'POST', 'instances/no-such-instance/raiseEvent/recheck', 'null'));
  const started = await ask('startNew with a null input', 'POST', 'orchestrators/dialtone-batch/probe-failing', 'null');
  out.push(started.replace(/ \{.*$/, ''));
  const failed = await until('the probe to fail', 120_000, async () => {
    const st = await durableStatus(stack, 'probe-failing');
    return st && st.runtimeStatus !== 'Running' && st.runtimeStatus !== 'Pending' ? st : undefined;
  });
  out.push(
    `the orchestrator with a null input ends ${failed.runtimeStatus}: ${String((failed as { output?: unknown }).output).split('\n')[0]}`,
  );
  out.push(await ask('raiseEvent to a failed instance', 'POST', 'instances/probe-failing/raiseEvent/recheck', 'null'));
  out.push(
    (
      await ask('startNew on the failed instance', 'POST', 'orchestrators/dialtone-batch/probe-failing', 'null')
    ).replace(/ \{.*$/, ''),
  );
  return out;
}

/** Every outcome, resubmission, recheck and continue-as-new, started together so that wall-clock waits overlap. */
async function runShort(stack: Stack, engine: 'extension' | 'local', log: HostLog, timeoutMs: number): Promise<Short> {
  const t0 = Date.now();
  for (const body of [
    EVERY_OUTCOME,
    { batchId: 'resubmit-1', users: RESUBMIT_USERS },
    {
      batchId: 'waiting',
      users: [{ userPrincipalName: 'w-never@contoso.com' }, { userPrincipalName: 'w-soon@contoso.com' }],
    },
  ]) {
    const r = await postBatch(stack, body);
    expect([body.batchId, r.status]).toEqual([body.batchId, 202]);
  }
  const same = await postBatch(stack, { batchId: 'resubmit-1', users: RESUBMIT_USERS });
  const resubmitSame = { status: same.status, existing: same.body?.existing };

  // A recheck while the waiting batch waits for Teams (its live row reads waiting).
  await until('the waiting batch to assign', timeoutMs, async () => {
    const live = await getBatch(stack, 'waiting');
    return live.body?.users?.some(
      (u: { userPrincipalName: string; outcome: string }) =>
        u.userPrincipalName === 'w-never@contoso.com' && u.outcome === 'waiting',
    )
      ? true
      : undefined;
  });
  const recheckOnce = () =>
    fetch(`${stack.host.url}/api/batches/waiting/recheck`, {
      method: 'POST',
      headers: { 'x-functions-key': stack.host.functionKey },
    });
  const r = await recheckOnce();
  const recheck = { status: r.status, chunksAsked: ((await r.json()) as { chunksAsked?: unknown }).chunksAsked };
  // More rechecks while it waits: each is a check of Teams at once, so the chunk reaches several continue-as-new
  // generations on the real extension too, however slowly its timers come round on a loaded machine. Some arrive
  // while a generation continues as new, which is where the extension's event rules matter.
  let rechecksSent = 1;
  let waitingDone = false;
  const pump = (async () => {
    while (!waitingDone) {
      await sleep(1500);
      if (
        !waitingDone &&
        (await recheckOnce()
          .then((x) => x.status)
          .catch(() => 0)) === 202
      )
        rechecksSent++;
    }
  })();
  // The client's rules meanwhile, with the waiting batch's own instance as the running one.
  const rules = await clientRules(stack, instanceIdOf(SINGLE_CALLER, 'waiting'));

  await waitForReport(stack, 'resubmit-1', timeoutMs);
  expect((await postBatch(stack, { batchId: 'resubmit-2', users: RESUBMIT_USERS })).status).toBe(202);

  const reports: Record<string, BatchReport> = {};
  try {
    for (const id of ['every-outcome', 'resubmit-1', 'resubmit-2', 'waiting'])
      reports[id] = await waitForReport(stack, id, timeoutMs);
  } finally {
    waitingDone = true;
    await pump;
  }
  const chunk = await durableStatus(stack, chunkInstanceId(instanceIdOf(SINGLE_CALLER, 'waiting'), 0));
  const waitingChunkContinued = (chunk?.input as { state?: unknown } | undefined)?.state !== undefined;
  const neverUser = stack.sim.tenant.requireUser('w-never@contoso.com').id;
  const neverUserChecks = stack.sim.record.byUser.get(neverUser)?.teamsUserConfiguration ?? 0;
  const ended = await settle(stack, engine, log, true);
  return {
    graph: graphView(stack, ALL_UPNS, TIMED_KINDS),
    clientRules: rules,
    reports,
    resubmitSame,
    recheck,
    rechecksSent,
    neverUserChecks,
    waitingChunkContinued,
    seconds: Math.round((Date.now() - t0) / 1000),
    ended,
  };
}

/** 1,000 users, with the worker killed (SIGKILL, the .NET host too) while they are being assigned, then restarted. */
async function runBig(stack: Stack, engine: 'extension' | 'local', log: HostLog, timeoutMs: number): Promise<Big> {
  const t0 = Date.now();
  const assignWrites = () => stack.sim.record.stateChangingWrites.filter((w) => w.kind === 'assignLicense').length;
  expect((await postBatch(stack, { batchId: 'big', users: BIG_USERS })).status).toBe(202);
  await until('the big batch to start assigning', timeoutMs, async () => (assignWrites() >= 60 ? true : undefined));
  const writesBeforeCrash = assignWrites();
  const t1 = Date.now();
  // From here on the killed worker's partitions move to its successor (HostLog.expectClean's leasesMoved).
  const killedAt = log.lines.length;
  await stack.crashAndRestartHost();
  const t2 = Date.now();
  const report = await waitForReport(stack, 'big', timeoutMs);
  const t3 = Date.now();
  const perUser = new Map<string, number>();
  for (const w of stack.sim.record.stateChangingWrites)
    if (w.kind === 'assignLicense') perUser.set(w.userId, (perUser.get(w.userId) ?? 0) + 1);
  const secs = (a: number, b: number) => Math.round((b - a) / 1000);
  // The widest episode: a batch starting its chunks, or a chunk's group of assignments.
  const episodeWidth = Math.max(
    BIG_USERS.length / Number(LONG.DIALTONE_CHUNK_SIZE),
    Number(LONG.DIALTONE_ASSIGN_PARALLELISM),
  );
  const ended = await settle(stack, engine, log, false, { from: killedAt, episodeWidth });
  return {
    graph: graphView(
      stack,
      BIG_USERS.map((u) => u.userPrincipalName),
    ),
    report,
    writesBeforeCrash,
    assignWrites: perUser,
    seconds: secs(t0, t3),
    phases: [secs(t0, t1), secs(t1, t2), secs(t2, t3)],
    ended,
  };
}

const rows = (report: BatchReport) =>
  report.users.map((u) => `${u.row} ${u.userPrincipalName} ${u.outcome}${u.reason ? `/${u.reason}` : ''}`);

describeOnExtension('the real Durable extension and the local engine give the same reports', () => {
  let real: Short;
  let local: Short;
  let realBig: Big;
  let localBig: Big;
  const stacks: Stack[] = [];
  const start = async (
    engine: 'extension' | 'local',
    settings: Record<string, string>,
    run: (s: Stack, engine: 'extension' | 'local', log: HostLog, timeoutMs: number) => Promise<Short | Big>,
  ) => {
    const log = new HostLog();
    const s = await startStack({ tenant, engine, settings, onHostLog: log.onHostLog });
    stacks.push(s);
    return run(s, engine, log, 20 * 60_000);
  };

  beforeAll(async () => {
    // Each scenario starts as soon as its own stack is up, so that one stack's start overlaps another's wall-clock waits.
    const t0 = Date.now();
    [real, realBig, local, localBig] = (await Promise.all([
      start('extension', SHORT, runShort),
      start('extension', LONG, runBig),
      start('local', SHORT, runShort),
      start('local', LONG, runBig),
    ])) as [Short, Big, Short, Big];
    process.stderr.write(
      `[conformance] wall-clock seconds: real extension ${real.seconds} (short-deadline batches), ${realBig.seconds} (1,000 users with a crash: ${realBig.phases.join(' + ')}); ` +
        `local engine ${local.seconds} and ${localBig.seconds} (${localBig.phases.join(' + ')}, skip-ahead clock); ${Math.round((Date.now() - t0) / 1000)} in all\n`,
    );
  }, 25 * 60_000);

  afterAll(async () => {
    await Promise.all(stacks.map((s) => s.stop()));
  }, 60_000);

  it('ran each stack on its own engine, ended every instance as expected and logged no trouble', () => {
    process.stderr.write(
      `[conformance] runs (orchestrator episodes/activities): real extension ${real.ended.runs.orchestration}/${real.ended.runs.activity} and ${realBig.ended.runs.orchestration}/${realBig.ended.runs.activity} (after the restart) through the bridge; ` +
        `local engine ${local.ended.runs.orchestration}/${local.ended.runs.activity} and ${localBig.ended.runs.orchestration}/${localBig.ended.runs.activity}; ` +
        `instances: ${[real, realBig, local, localBig].map((o) => o.ended.instances.length).join(', ')}; log lines of the failed probes: ${real.ended.acceptedLogLines} on the extension\n`,
    );
    // settle() asserted all of it as each stack ended; the same instances on both engines, by id and status.
    const ids = (o: { ended: Ended }) =>
      o.ended.instances.map((i) => `${i.instanceId} ${i.name} ${i.runtimeStatus}`).sort();
    expect(ids(real)).toEqual(ids(local));
    expect(ids(realBig)).toEqual(ids(localBig));
    expect(real.ended.acceptedLogLines).toBeGreaterThan(0);
    expect(local.ended.acceptedLogLines).toBe(0);
  });

  it('ends every row of every batch with the same outcome and reason on both engines', () => {
    for (const id of Object.keys(local.reports)) {
      expect([id, rows(real.reports[id]!)]).toEqual([id, rows(local.reports[id]!)]);
      expect([id, real.reports[id]!.counts]).toEqual([id, local.reports[id]!.counts]);
    }
    expect(rows(realBig.report)).toEqual(rows(localBig.report));
  });

  it('gives whole reports that are equal but for times and ids', () => {
    for (const id of Object.keys(local.reports))
      expect([id, withoutTimesAndIds(real.reports[id])]).toEqual([id, withoutTimesAndIds(local.reports[id])]);
    expect(withoutTimesAndIds(realBig.report)).toEqual(withoutTimesAndIds(localBig.report));
  });

  it('shows Graph the same run on both engines: requests per user by kind, writes, reads, licences in use', () => {
    process.stderr.write(
      `[conformance] what Graph saw: real extension ${real.graph.writes} writes, ${real.graph.reads} reads (${real.graph.byKind['teamsUserConfiguration'] ?? 0} Teams checks); local engine ${local.graph.writes} and ${local.graph.reads} (${local.graph.byKind['teamsUserConfiguration'] ?? 0}); ` +
        `1,000 users with a crash: ${realBig.graph.writes} writes, ${realBig.graph.reads} reads on the extension, ${localBig.graph.writes} and ${localBig.graph.reads} locally\n`,
    );
    expect(comparable(real.graph)).toEqual(comparable(local.graph));
    // With a worker killed, the requests in flight at that moment are made again after the restart, and the moment
    // differs between engines: what changed the tenant, per user, and the licences in use must still be the same.
    expect(realBig.graph.changesPerUser).toEqual(localBig.graph.changesPerUser);
    expect(realBig.graph.consumedUnits).toEqual(localBig.graph.consumedUnits);
    expect(Object.keys(realBig.graph.changesPerUser)).toHaveLength(BIG - 10);
  });

  it('covers every outcome, as the product contract says', () => {
    for (const o of [real, local])
      expect(o.reports['every-outcome']!.users.map((u) => (u.reason ? `${u.outcome}/${u.reason}` : u.outcome))).toEqual(
        EXPECTED_EVERY_OUTCOME,
      );
  });

  it('answers a resubmission with the same id with the existing run, and runs a new id', () => {
    for (const o of [real, local]) {
      expect(o.resubmitSame).toEqual({ status: 200, existing: true });
      expect(o.reports['resubmit-2']!.counts.total).toBe(RESUBMIT_USERS.length);
    }
  });

  it("follows the extension's durable client rules: refused ids, startNew on running and failed instances, unknown ids, failure text", () => {
    process.stderr.write(
      `[conformance] durable client rules on the real extension:\n  ${real.clientRules.join('\n  ')}\n`,
    );
    expect(local.clientRules).toEqual(real.clientRules);
  });

  it('accepts a recheck while waiting', () => {
    expect(real.recheck).toEqual({ status: 202, chunksAsked: 1 });
    expect(local.recheck).toEqual(real.recheck);
  });

  it('survives a worker killed mid-run: all 1,000 rows settle and no user is assigned twice', () => {
    for (const o of [realBig, localBig]) {
      expect(o.writesBeforeCrash).toBeLessThan(BIG);
      expect(o.report.counts.total).toBe(BIG);
      expect(new Set(o.report.users.map((u) => u.row)).size).toBe(BIG);
      expect(Math.max(...o.assignWrites.values())).toBe(1);
    }
    expect(realBig.report.counts).toMatchObject({ failed: 10, provisioned: BIG - 10 });
  });

  it('continues the waiting chunk as new several times on both engines', () => {
    process.stderr.write(
      `[conformance] Teams checks of the never-provisioned waiting user: ${real.neverUserChecks} on the real extension (${real.rechecksSent} rechecks sent), ${local.neverUserChecks} on the local engine\n`,
    );
    // The chunk continues as new after every POLLS_PER_GENERATION checks while a user is pending; this user was
    // pending at every check up to the deadline's, so more than twice that many checks means at least two generations.
    for (const o of [real, local]) {
      expect(o.neverUserChecks).toBeGreaterThan(2 * POLLS_PER_GENERATION);
      expect(o.waitingChunkContinued).toBe(true);
    }
  });
});
