// host.json's functionTimeout on both engines: with a short one (AzureFunctionsJobHost__functionTimeout, the app
// setting that overrides host.json in Azure) and Graph holding the answer to the first licence write, the activity
// that sent it runs past the limit. The real extension's WebJobs host fails it with its own text ("Timeout value of
// 00:00:15 was exceeded by function: Functions.dialtone-assign" in Azure, which the extension hands the orchestration as
// "Activity function '…' failed: …"); the local engine must do the same. The durable retry policy then runs it again,
// the write Graph had kept is found, and the row ends as it would have: the same failure texts, the same number of
// tries and the same report on both engines.
//
// On the same stacks, a second batch finds the app's write budget taken for the next 40 s by another instance (the test
// reserves it in the shared ledger blob), far beyond the 15 s limit. No activity may wait for its turns: each row is
// handed back with its turns reserved, the chunk waits on a durable timer, and every row is licensed on its turn with
// no activity timing out, the same on both engines.
//
// Last, small probe orchestrations that only these hosts register (test/support/durable-probes.ts) drive four durable
// behaviours where the local engine must do what the extension does (docs/conformance.md, "The local engine as strict
// as the extension"): an orchestration that returns while a task it started is still open, an event to an instance
// waiting on a timer days ahead, events raised at once, and payloads over the large-message threshold.
import { BlobServiceClient } from '@azure/storage-blob';
import { BlobRateLedger } from '../../shared/adapters/graph-budget';
import { wallClock } from '../../shared/adapters/app-time';
import { stableGuid } from '../../local/graph-sim/tenant';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { startStack, type Stack } from '../../local/stack';
import { instanceIdOf } from '../../functions/callers';
import { ASSIGN_ACTIVITY, PROBE_TEAMS_ACTIVITY } from '../../contracts/names';
import { chunkInstanceId } from '../../contracts/instance-ids';
import { SINGLE_CALLER } from '../../shared/adapters/config';
import { EventType } from '../../local/host/durable/engine';
import type { BatchReport } from '../../shared/domain/report';
import { postBatch, waitForReport } from '../support/e2e';
import { expectEngineRan, expectTaskHubEnded, HostLog, withoutTimesAndIds } from '../support/conformance';
import { describeOnExtension } from '../support/extension';
import { tenantSkus } from '../support/tenant';
import { PROBE } from '../support/durable-probes';
import {
  probeModule,
  runLarge,
  runLongTimer,
  runRacingEvents,
  runUnfinished,
  type EventsOutcome,
  type LargeOutcome,
  type LongTimerOutcome,
  type UnfinishedOutcome,
} from '../support/probe-scenarios';

const STARVED = ['starved1@contoso.com', 'starved2@contoso.com', 'starved3@contoso.com'];
/** How long the write budget is taken by "another instance" before the starved batch, ms: well past the limit. */
const STARVED_MS = 40_000;
/** A row whose licence write Graph answers 503 (not applied) FLAKY_FAILS times before it takes it. */
const FLAKY = 'flaky@contoso.com';
const FLAKY_FAILS = 2;
/** The app's default write budget (DIALTONE_GRAPH_WRITES_PER_SECOND). */
const WRITES_PER_SECOND = 18;

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
  users: [
    { userPrincipalName: 'slow@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0.1 },
    { userPrincipalName: 'quick@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0.1 },
    ...STARVED.map((userPrincipalName) => ({ userPrincipalName, usageLocation: 'US', teamsProvisioningMinutes: 0.1 })),
    { userPrincipalName: FLAKY, usageLocation: 'US', teamsProvisioningMinutes: 0.1 },
  ],
};

/** Shorter than the Graph client's own 30 s request timeout, so that the host's limit is what ends the activity. */
const TIMEOUT = '00:00:15';

interface Outcome {
  readonly report: BatchReport;
  /** The chunk's failed activities, as its history records them: "<activity name>: <reason>". */
  readonly failures: string[];
  readonly assignTries: number;
  readonly assignLicenseRequests: number;
  readonly starved: Starved;
  readonly flaky: Flaky;
  readonly probes: Probes;
}

interface Probes {
  readonly unfinished: UnfinishedOutcome;
  readonly long10: LongTimerOutcome;
  readonly long4: LongTimerOutcome;
  readonly events: EventsOutcome;
  readonly large: LargeOutcome;
  /** 'ok' when every instance of the task hub ended Completed after the probes, else why not. */
  readonly hubEnded: string;
}

const TASK_HUB = 'functiontimeout';
/** Over both thresholds: 45 KB of UTF-8 for a queue message, 60 KB of UTF-16 for a history property. */
const LARGE = 50_000;
/** Events raised at once, twice. */
const RACING = 5;

/** The probes, one after the other, once the app's batches are over (each a few seconds on the extension). */
async function runProbes(stack: Stack): Promise<Probes> {
  const unfinished = await runUnfinished(stack);
  const long10 = await runLongTimer(stack, 10, 'probe-long-10');
  const long4 = await runLongTimer(stack, 4, 'probe-long-4');
  const events = await runRacingEvents(stack, RACING);
  const large = await runLarge(stack, TASK_HUB, LARGE);
  // Every instance of the hub ended Completed, the probes' too (an error here is asserted below, not thrown, so that a
  // probe that failed shows in its own check).
  const hubEnded = await expectTaskHubEnded(stack, 60_000).then(
    () => 'ok',
    (e: unknown) => String(e instanceof Error ? e.message : e),
  );
  return { unfinished, long10, long4, events, large, hubEnded };
}

interface Flaky {
  readonly report: BatchReport;
  readonly failures: string[];
  readonly assignTries: number;
  /** Licence writes Graph applied for the row (its failed ones were not). */
  readonly appliedWrites: number;
}

interface Starved {
  readonly report: BatchReport;
  readonly failures: string[];
  /** How many times the chunk called the assign activity. */
  readonly assignTries: number;
  /** Timers that fired while the chunk assigned (before its first Teams check). */
  readonly timers: number;
  /** Assign answers that handed a row back ("not before", WriteDeferred) instead of writing. */
  readonly handedBack: number;
  /** When the other instance's stretch of the budget ended, and when Graph took each row's write (the simulator's clock). */
  readonly stretchEnd: number;
  readonly writesAt: number[];
}

interface HistoryEvent {
  EventType: string | number;
  Reason?: string;
  Name?: string;
  FunctionName?: string;
  Input?: string;
  Result?: unknown;
}

const is = (e: HistoryEvent, name: keyof typeof EventType) => e.EventType === name || e.EventType === EventType[name];

async function chunkHistory(stack: Stack, batchId: string, index = 0): Promise<HistoryEvent[]> {
  const chunk = chunkInstanceId(instanceIdOf(SINGLE_CALLER, batchId), index);
  const r = await fetch(
    `${stack.host.url}/runtime/webhooks/durabletask/instances/${encodeURIComponent(chunk)}?showHistory=true&showHistoryOutput=true&showInput=true&code=${encodeURIComponent(stack.host.functionKey)}`,
  );
  return ((await r.json()) as { historyEvents?: HistoryEvent[] }).historyEvents ?? [];
}

/** The flaky batch: Graph fails its one row's licence write FLAKY_FAILS times, and the durable retry policy runs it again. */
async function runFlaky(stack: Stack, engine: 'extension' | 'local'): Promise<Flaky> {
  expect((await postBatch(stack, { batchId: 'flaky', users: [{ userPrincipalName: FLAKY }] })).status).toBe(202);
  const report = await waitForReport(stack, 'flaky', 8 * 60_000);
  await expectTaskHubEnded(stack, 3 * 60_000);
  const history = await chunkHistory(stack, 'flaky');
  const failures = history.filter((e) => is(e, 'TaskFailed')).map((e) => String(e.Reason).split('\n')[0]!);
  const assignTries =
    engine === 'extension'
      ? history.filter((e) => (is(e, 'TaskCompleted') || is(e, 'TaskFailed')) && e.FunctionName === ASSIGN_ACTIVITY)
          .length
      : history.filter((e) => is(e, 'TaskScheduled') && e.Name === ASSIGN_ACTIVITY).length;
  // The simulator records a request for the user only once it passes the fault (the ones it failed never reached the
  // tenant): the write Graph applied.
  const flaky = stableGuid(`user:${FLAKY}`);
  return {
    report,
    failures,
    assignTries,
    appliedWrites: stack.sim.record.stateChangingWrites.filter((w) => w.userId === flaky && w.kind === 'assignLicense')
      .length,
  };
}

/** The starved batch: the write budget taken for STARVED_MS by another instance just before it is sent. */
async function runStarved(stack: Stack, engine: 'extension' | 'local'): Promise<Starved> {
  const budgets = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
    'dialtone-budgets',
  );
  await budgets.createIfNotExists();
  // These stacks run on the wall clock (no skip-ahead), as the app's ledgers then do.
  const other = new BlobRateLedger(budgets, 'graph-writes.json', WRITES_PER_SECOND, wallClock);
  const stretchEnd = (await other.reserve((WRITES_PER_SECOND * STARVED_MS) / 1000)) + STARVED_MS;
  expect(
    (await postBatch(stack, { batchId: 'starved', users: STARVED.map((userPrincipalName) => ({ userPrincipalName })) }))
      .status,
  ).toBe(202);
  const report = await waitForReport(stack, 'starved', 8 * 60_000);
  await expectTaskHubEnded(stack, 3 * 60_000);
  // Two rows a chunk (DIALTONE_CHUNK_SIZE): the three rows are in two chunks.
  const histories = [await chunkHistory(stack, 'starved', 0), await chunkHistory(stack, 'starved', 1)];
  const history = histories.flat();
  const failures = history.filter((e) => is(e, 'TaskFailed')).map((e) => String(e.Reason).split('\n')[0]!);
  // The extension folds each TaskScheduled into its answer (naming the function there), and each TimerCreated into its
  // TimerFired; the local engine lists them raw.
  const assignCalls =
    engine === 'extension'
      ? history.filter((e) => (is(e, 'TaskCompleted') || is(e, 'TaskFailed')) && e.FunctionName === ASSIGN_ACTIVITY)
      : history.filter((e) => is(e, 'TaskScheduled') && e.Name === ASSIGN_ACTIVITY);
  const timers = histories
    .map((h) => {
      const firstProbe = h.findIndex((e) => e.Name === PROBE_TEAMS_ACTIVITY || e.FunctionName === PROBE_TEAMS_ACTIVITY);
      return h.slice(0, firstProbe < 0 ? h.length : firstProbe).filter((e) => is(e, 'TimerFired')).length;
    })
    .reduce((a, b) => a + b, 0);
  const ids = new Set(STARVED.map((u) => stableGuid(`user:${u}`)));
  const writesAt = stack.sim.record.stateChangingWrites
    .filter((w) => ids.has(w.userId) && w.kind === 'assignLicense')
    .map((w) => w.at);
  // Only the assign activity answers `deferred: true` (its results are in both histories, as a string or as JSON).
  const handedBack = history.filter(
    (e) =>
      is(e, 'TaskCompleted') &&
      /"deferred":\s*true/.test(typeof e.Result === 'string' ? e.Result : JSON.stringify(e.Result ?? null)),
  ).length;
  return { report, failures, assignTries: assignCalls.length, timers, handedBack, stretchEnd, writesAt };
}

async function run(engine: 'extension' | 'local', stacks: Stack[], log: HostLog, probes: string): Promise<Outcome> {
  const stack = await startStack({
    tenant,
    engine,
    onHostLog: log.onHostLog,
    faults: { holdAssignLicense: 1, failAssignLicenseFor: { [FLAKY]: FLAKY_FAILS } },
    // Both on the wall clock: the local engine's skip-ahead clock would jump over an activity's wait for its turns, and
    // the wait the starved batch must not make would pass unseen there.
    skipAhead: false,
    settings: {
      AzureFunctionsJobHost__functionTimeout: TIMEOUT,
      DIALTONE_DEADLINE_HOURS: '0.08',
      DIALTONE_TASK_HUB: TASK_HUB,
      DIALTONE_EXTRA_FUNCTIONS: probes,
      // One user per assign activity, one after the other: the held write is the first user's.
      DIALTONE_CHUNK_SIZE: '2',
      AzureWebJobs__Extensions__DurableTask__StorageProvider__MaxQueuePollingInterval: '00:00:01',
    },
  });
  stacks.push(stack);
  expect(
    (
      await postBatch(stack, {
        batchId: 'timeout',
        users: [{ userPrincipalName: 'slow@contoso.com' }, { userPrincipalName: 'quick@contoso.com' }],
      })
    ).status,
  ).toBe(202);
  const report = await waitForReport(stack, 'timeout', 10 * 60_000);
  await expectTaskHubEnded(stack, 3 * 60_000);
  await expectEngineRan(stack, engine);
  const history = await chunkHistory(stack, 'timeout');
  const failures = history.filter((e) => is(e, 'TaskFailed')).map((e) => String(e.Reason).split('\n')[0]!);
  // The extension's HTTP API folds each TaskScheduled into the TaskCompleted or TaskFailed that answers it (naming
  // the function there: DurableClient in Azure/azure-functions-durable-extension); the local engine lists them raw.
  const assignTries =
    engine === 'extension'
      ? history.filter((e) => (is(e, 'TaskCompleted') || is(e, 'TaskFailed')) && e.FunctionName === ASSIGN_ACTIVITY)
          .length
      : history.filter((e) => is(e, 'TaskScheduled') && e.Name === ASSIGN_ACTIVITY).length;
  const assignLicenseRequests = [...stack.sim.record.assignLicenseRequests.values()].reduce((a, b) => a + b, 0);
  return {
    report,
    failures,
    assignTries,
    assignLicenseRequests,
    starved: await runStarved(stack, engine),
    flaky: await runFlaky(stack, engine),
    probes: await runProbes(stack),
  };
}

describeOnExtension("host.json's functionTimeout on both engines", () => {
  const stacks: Stack[] = [];
  const logs = { extension: new HostLog(), local: new HostLog() };
  let real: Outcome;
  let local: Outcome;
  beforeAll(async () => {
    const probes = probeModule();
    const [a, b] = await Promise.allSettled([
      run('extension', stacks, logs.extension, probes),
      run('local', stacks, logs.local, probes),
    ]);
    if (a.status === 'rejected') throw a.reason;
    if (b.status === 'rejected') throw b.reason;
    [real, local] = [a.value, b.value];
    process.stderr.write(
      `[function timeout] real extension: ${JSON.stringify({ failures: real.failures, assignTries: real.assignTries, assignLicenseRequests: real.assignLicenseRequests })}\n`,
    );
  }, 15 * 60_000);
  afterAll(() => Promise.all(stacks.map((s) => s.stop())), 60_000);

  it("fails the activity with the host's timeout text on the real extension, and the same on the local engine", () => {
    // WebJobs quotes the function's short name: the Functions host names its functions Functions.<name>, and the
    // local engine says what Azure says; the plain WebJobs host here names them by their function name alone.
    expect(real.failures).toEqual([
      `Activity function '${ASSIGN_ACTIVITY}' failed: Timeout value of ${TIMEOUT} was exceeded by function: ${ASSIGN_ACTIVITY}`,
    ]);
    expect(local.failures).toEqual([
      `Activity function '${ASSIGN_ACTIVITY}' failed: Timeout value of ${TIMEOUT} was exceeded by function: Functions.${ASSIGN_ACTIVITY}`,
    ]);
    expect(local.failures.map((f) => f.replace('by function: Functions.', 'by function: '))).toEqual(real.failures);
  });

  it('retries it under the durable retry policy the same number of times on both', () => {
    expect(real.assignTries).toBe(3); // two users, one of them twice
    expect(local.assignTries).toBe(real.assignTries);
    expect(local.assignLicenseRequests).toBe(real.assignLicenseRequests);
  });

  it('ends with the same report on both: the write Graph kept is found on the retry', () => {
    expect(withoutTimesAndIds(local.report)).toEqual(withoutTimesAndIds(real.report));
    expect(real.report.users.map((u) => u.outcome)).toEqual(['provisioned', 'provisioned']);
  });

  describe('a batch that finds the write budget taken for longer than functionTimeout', () => {
    it('completes on both engines with every row licensed and no activity failed or timed out', () => {
      for (const o of [real, local]) {
        expect(o.starved.failures).toEqual([]);
        expect(o.starved.report.users.map((u) => u.outcome)).toEqual(['provisioned', 'provisioned', 'provisioned']);
      }
      expect(withoutTimesAndIds(local.starved.report)).toEqual(withoutTimesAndIds(real.starved.report));
    });

    it('waited on durable timers: its rows were handed back and called again, not held in an activity', () => {
      for (const o of [real, local]) {
        // every row handed back at least once, and called again (handed back, then written on its turns) after a
        // timer in each chunk before its first Teams check
        expect(o.starved.handedBack).toBeGreaterThanOrEqual(STARVED.length);
        expect(o.starved.assignTries).toBeGreaterThanOrEqual(2 * STARVED.length);
        expect(o.starved.timers).toBeGreaterThanOrEqual(2);
      }
    });

    it("wrote each row once, on its turns after the other instance's stretch of the budget", () => {
      for (const o of [real, local]) {
        expect(o.starved.writesAt).toHaveLength(STARVED.length);
        // the simulator's clock is the wall clock on both stacks here; a second of slack for the two clocks' reads
        for (const at of o.starved.writesAt) expect(at).toBeGreaterThanOrEqual(o.starved.stretchEnd - 1_000);
      }
    });
  });

  describe('an activity that fails and is retried under the durable retry policy (Graph answers 503)', () => {
    it('fails with the same text, is retried the same number of times and ends the same on both engines', () => {
      // Two spaces after "failed:": the extension takes the message from the host's RpcException text with the space
      // after "Exception:" (OutOfProcExceptionHelpers); the local engine says the same.
      const text = `Activity function '${ASSIGN_ACTIVITY}' failed:  graph_error: HTTP 503 serviceNotAvailable The service is not available. Try the request again after a delay.`;
      expect(real.flaky.failures).toEqual(Array.from({ length: FLAKY_FAILS }, () => text));
      expect(local.flaky.failures).toEqual(real.flaky.failures);
      expect(real.flaky.assignTries).toBe(FLAKY_FAILS + 1);
      expect(local.flaky.assignTries).toBe(real.flaky.assignTries);
      expect([real.flaky.appliedWrites, local.flaky.appliedWrites]).toEqual([1, 1]);
      expect(real.flaky.report.users.map((u) => u.outcome)).toEqual(['provisioned']);
      expect(withoutTimesAndIds(local.flaky.report)).toEqual(withoutTimesAndIds(real.flaky.report));
    });
  });

  describe('the local engine as strict as the extension (probe orchestrations on both engines)', () => {
    it('does not complete an orchestration that returned while a task it started is still open, until that task ends', () => {
      // Task.all of a failing activity and an event: the SDK settles it on the failure and the orchestrator returns;
      // the extension's shim waits for every task of the Task.all before it completes the instance.
      for (const o of [real, local]) {
        expect(o.probes.unfinished.statusBeforeEvent).toBe('Running');
        expect([o.probes.unfinished.raised, o.probes.unfinished.final]).toEqual([202, 'Completed']);
      }
      expect(real.probes.unfinished.output).toBe(
        `Activity function '${PROBE.fail}' failed:  probe activity failed on purpose`,
      );
      expect(local.probes.unfinished.output).toEqual(real.probes.unfinished.output);
    });

    it('waits for a timer days ahead as the Azure Storage provider does, and an event wakes the instance the same way', () => {
      // Over 6 days: a first segment of 3 days; up to 6 days: the timer whole.
      expect([real.probes.long10.firstTimerDays, real.probes.long4.firstTimerDays]).toEqual([3, 4]);
      expect([local.probes.long10.firstTimerDays, local.probes.long4.firstTimerDays]).toEqual([3, 4]);
      for (const o of [real, local])
        for (const p of [o.probes.long10, o.probes.long4]) {
          expect([p.raised, p.final]).toEqual([[202, 202], 'Completed']);
          expect(p.output).toEqual(['wake-0', 'wake-1']);
        }
    });

    it('leaves every instance Completed, the probes too', () => {
      expect([real.probes.hubEnded, local.probes.hubEnded]).toEqual(['ok', 'ok']);
    });

    it('takes every one of several events raised at once, on both engines', () => {
      const all = [
        ...Array.from({ length: RACING }, (_, i) => `a${i}`),
        ...Array.from({ length: RACING }, (_, i) => `b${i}`),
      ];
      for (const o of [real, local]) {
        expect(o.probes.events.statuses).toEqual(all.map(() => 202));
        expect([o.probes.events.final, o.probes.events.output]).toEqual(['Completed', all]);
      }
    });

    it('moves an input, an activity result and an output over the thresholds into <taskhub>-largemessages, and they round-trip', () => {
      for (const o of [real, local]) {
        expect(o.probes.large.final).toBe('Completed');
        expect([o.probes.large.output?.input, o.probes.large.output?.result]).toEqual([LARGE, LARGE]);
      }
      expect(local.probes.large.output).toEqual(real.probes.large.output);
      expect(real.probes.large.blobs).toEqual([
        'probe-large-1/history-0000000000000001-ExecutionStarted-<r>-Input.json.gz',
        'probe-large-1/history-0000000000000005-TaskCompleted-<r>-Result.json.gz',
        'probe-large-1/history-0000000000000006-ExecutionCompleted-<r>-Result.json.gz',
        'probe-large-1/message-<id>-ExecutionStarted.json.gz',
        'probe-large-1/message-<id>-TaskCompleted.json.gz',
      ]);
      expect(local.probes.large.blobs).toEqual(real.probes.large.blobs);
      // The history blobs hold the payloads themselves, the same on both.
      expect(Object.keys(real.probes.large.history)).toHaveLength(3);
      expect(local.probes.large.history).toEqual(real.probes.large.history);
    });
  });

  it('logged nothing troubling on the extension but the timeout itself and the failures Graph caused', () => {
    expect(
      logs.extension.expectClean(undefined, ASSIGN_ACTIVITY, [
        {
          name: ASSIGN_ACTIVITY,
          instanceId: chunkInstanceId(instanceIdOf(SINGLE_CALLER, 'flaky'), 0),
          times: FLAKY_FAILS,
        },
        { name: PROBE.fail, instanceId: 'probe-unfinished-1', times: 1 },
      ]),
    ).toBeGreaterThan(0);
    expect(logs.local.expectClean()).toBe(0);
  });
});
