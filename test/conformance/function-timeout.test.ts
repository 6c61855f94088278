// host.json's functionTimeout on both engines: with a short one (AzureFunctionsJobHost__functionTimeout, the app
// setting that overrides host.json in Azure) and Graph holding the answer to the first licence write, the activity
// that sent it runs past the limit. The real extension's WebJobs host fails it with its own text ("Timeout value of
// 00:00:15 was exceeded by function: Functions.dialtone-assign" in Azure, which the extension hands the orchestration as
// "Activity function '…' failed: …"); the local engine must do the same. The durable retry policy then runs it again,
// the write Graph had kept is found, and the row ends as it would have: the same failure texts, the same number of
// tries and the same report on both engines.
import type { TenantFile } from '../../local/graph-sim/tenant';
import { startStack, type Stack } from '../../local/stack';
import { instanceIdOf } from '../../functions/callers';
import { chunkInstanceId, ASSIGN_ACTIVITY } from '../../orchestrations/names';
import { SINGLE_CALLER } from '../../shared/adapters/config';
import { EventType } from '../../local/host/durable/engine';
import type { BatchReport } from '../../shared/domain/report';
import { postBatch, waitForReport } from '../support/e2e';
import { expectEngineRan, expectTaskHubEnded, HostLog, withoutTimesAndIds } from '../support/conformance';
import { describeOnExtension } from '../support/extension';
import { tenantSkus } from '../support/tenant';

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10 }),
  users: [
    { userPrincipalName: 'slow@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0.1 },
    { userPrincipalName: 'quick@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0.1 },
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
}

interface HistoryEvent {
  EventType: string | number;
  Reason?: string;
  Name?: string;
  FunctionName?: string;
}

async function run(engine: 'extension' | 'local', stacks: Stack[], log: HostLog): Promise<Outcome> {
  const stack = await startStack({
    tenant,
    engine,
    onHostLog: log.onHostLog,
    faults: { holdAssignLicense: 1 },
    settings: {
      AzureFunctionsJobHost__functionTimeout: TIMEOUT,
      DIALTONE_DEADLINE_HOURS: '0.08',
      DIALTONE_TASK_HUB: 'functiontimeout',
      // One user per assign activity, one after the other: the held write is the first user's.
      DIALTONE_CHUNK_SIZE: '2',
      AzureWebJobs__Extensions__DurableTask__StorageProvider__MaxQueuePollingInterval: '00:00:01',
    },
  });
  stacks.push(stack);
  expect((await postBatch(stack, { batchId: 'timeout', users: [{ userPrincipalName: 'slow@contoso.com' }, { userPrincipalName: 'quick@contoso.com' }] })).status).toBe(202);
  const report = await waitForReport(stack, 'timeout', 10 * 60_000);
  await expectTaskHubEnded(stack, 3 * 60_000);
  await expectEngineRan(stack, engine);
  const chunk = chunkInstanceId(instanceIdOf(SINGLE_CALLER, 'timeout'), 0);
  const r = await fetch(`${stack.host.url}/runtime/webhooks/durabletask/instances/${encodeURIComponent(chunk)}?showHistory=true&showHistoryOutput=true&code=${encodeURIComponent(stack.host.functionKey)}`);
  const history = ((await r.json()) as { historyEvents?: HistoryEvent[] }).historyEvents ?? [];
  const is = (e: HistoryEvent, name: keyof typeof EventType) => e.EventType === name || e.EventType === EventType[name];
  const failures = history.filter((e) => is(e, 'TaskFailed')).map((e) => String(e.Reason).split('\n')[0]!);
  // The extension's HTTP API folds each TaskScheduled into the TaskCompleted or TaskFailed that answers it (naming
  // the function there: DurableClient in Azure/azure-functions-durable-extension); the local engine lists them raw.
  const assignTries =
    engine === 'extension'
      ? history.filter((e) => (is(e, 'TaskCompleted') || is(e, 'TaskFailed')) && e.FunctionName === ASSIGN_ACTIVITY).length
      : history.filter((e) => is(e, 'TaskScheduled') && e.Name === ASSIGN_ACTIVITY).length;
  return { report, failures, assignTries, assignLicenseRequests: [...stack.sim.record.assignLicenseRequests.values()].reduce((a, b) => a + b, 0) };
}

describeOnExtension("host.json's functionTimeout on both engines", () => {
  const stacks: Stack[] = [];
  const logs = { extension: new HostLog(), local: new HostLog() };
  let real: Outcome;
  let local: Outcome;
  beforeAll(async () => {
    const [a, b] = await Promise.allSettled([run('extension', stacks, logs.extension), run('local', stacks, logs.local)]);
    if (a.status === 'rejected') throw a.reason;
    if (b.status === 'rejected') throw b.reason;
    [real, local] = [a.value, b.value];
    process.stderr.write(`[function timeout] real extension: ${JSON.stringify({ failures: real.failures, assignTries: real.assignTries, assignLicenseRequests: real.assignLicenseRequests })}\n`);
  }, 15 * 60_000);
  afterAll(() => Promise.all(stacks.map((s) => s.stop())), 60_000);

  it("fails the activity with the host's timeout text on the real extension, and the same on the local engine", () => {
    // WebJobs quotes the function's short name: the Functions host names its functions Functions.<name>, and the
    // local engine says what Azure says; the plain WebJobs host here names them by their function name alone.
    expect(real.failures).toEqual([`Activity function '${ASSIGN_ACTIVITY}' failed: Timeout value of ${TIMEOUT} was exceeded by function: ${ASSIGN_ACTIVITY}`]);
    expect(local.failures).toEqual([`Activity function '${ASSIGN_ACTIVITY}' failed: Timeout value of ${TIMEOUT} was exceeded by function: Functions.${ASSIGN_ACTIVITY}`]);
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

  it('logged nothing troubling on the extension but the timeout itself', () => {
    expect(logs.extension.expectClean(undefined, ASSIGN_ACTIVITY)).toBeGreaterThan(0);
    expect(logs.local.expectClean()).toBe(0);
  });
});
