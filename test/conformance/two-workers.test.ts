// Two worker processes of the app on the real Durable extension, one task hub (the extension balances its control
// queue partitions between them, as between instances of a scaled-out function app), run one 2,000-user batch:
// nobody is lost, both workers do the work, and the Graph writes of both together stay within Graph's limit for
// the app (3,000 per 150 s), as the simulator records them. Every user needs two writes (usage location, licence).
import { maxInWindow } from '../../bench/workload';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { startStack, type HostProcess, type Stack } from '../../local/stack';
import { postBatch, waitForReport } from '../support/e2e';
import { describeOnExtension } from '../support/extension';

const USERS = 2000;
const WRITE_LIMIT = 3000;
const WINDOW_MS = 150_000;

const tenant: TenantFile = {
  skus: [
    { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: USERS },
    { skuPartNumber: 'MCOEV', prepaidUnits: USERS },
    { skuPartNumber: 'MCOPSTN1', prepaidUnits: USERS },
  ],
  users: Array.from({ length: USERS }, (_, i) => ({ userPrincipalName: `t${i}@contoso.com`, usageLocation: null, teamsProvisioningMinutes: 0.1 })),
};

async function invocations(h: HostProcess): Promise<{ orchestration: number; activity: number }> {
  const r = await fetch(`${h.url}/admin/host/status`);
  return ((await r.json()) as { invocations: { orchestration: number; activity: number } }).invocations;
}

describeOnExtension('two workers on one task hub', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      tenant,
      engine: 'extension',
      settings: {
        DIALTONE_DEADLINE_HOURS: '0.5',
        DIALTONE_DEFAULT_USAGE_LOCATION: 'US',
        DIALTONE_TASK_HUB: 'twoworkers',
        // Twenty chunks of 100: enough sub-orchestrations for both workers' partitions, each with a shorter history.
        DIALTONE_CHUNK_SIZE: '100',
        // The default write budget (18/s) is the whole app's: both workers take their slots from one ledger. (When
        // each paced itself at 18/s, an idle CI machine saw 579 writes refused with 429.)
        AzureWebJobs__Extensions__DurableTask__StorageProvider__MaxQueuePollingInterval: '00:00:01',
      },
    });
    await stack.addWorker();
    // Two .NET hosts and their task hub start slowly on a loaded machine (over three minutes was seen here).
  }, 10 * 60_000);
  afterAll(() => stack?.stop(), 60_000);

  it('runs one 2,000-user batch on both: nobody lost, and their writes together within 3,000 per 150 s', async () => {
    const t0 = Date.now();
    expect((await postBatch(stack, { batchId: 'two-workers', users: Array.from({ length: USERS }, (_, i) => ({ userPrincipalName: `t${i}@contoso.com` })) })).status).toBe(202);
    const report = await waitForReport(stack, 'two-workers', 18 * 60_000);
    const seconds = Math.round((Date.now() - t0) / 1000);
    expect(report.counts.total).toBe(USERS);
    expect(new Set(report.users.map((u) => u.row)).size).toBe(USERS);
    expect(report.counts.provisioned).toBe(USERS);

    const [first, second] = [await invocations(stack.host), await invocations(stack.workers[0]!)];
    const writes = stack.sim.record.stateChangingWrites;
    const busiest = maxInWindow(writes.map((w) => w.at), WINDOW_MS);
    const span = (Math.max(...writes.map((w) => w.at)) - Math.min(...writes.map((w) => w.at))) / 1000;
    process.stderr.write(
      `[two workers] ${USERS} users in ${seconds} s; activities run: ${first.activity} and ${second.activity}, orchestrator episodes: ${first.orchestration} and ${second.orchestration}; ` +
        `${writes.length} Graph writes over ${Math.round(span)} s, at most ${busiest} in any 150 s; throttled: ${JSON.stringify(stack.sim.record.throttledByKind)}\n`,
    );
    expect(first.activity).toBeGreaterThan(0);
    expect(second.activity).toBeGreaterThan(0);
    expect(writes.length).toBe(2 * USERS);
    expect(busiest).toBeLessThanOrEqual(WRITE_LIMIT);
    // The budgets are the app's, not each worker's: both together write at most Graph's average 20/s over any 10 s
    // (each pacing itself at 18/s would reach twice that), and read Teams at most at the read budget's 10/s.
    expect(maxInWindow(writes.map((w) => w.at), 10_000)).toBeLessThanOrEqual(200);
    expect(maxInWindow(stack.sim.record.teamsReads.map((r) => r.at), 10_000)).toBeLessThanOrEqual(100);
    // Graph never had to refuse a write or a Teams read: the app's shared budgets kept both workers under the limits.
    expect(stack.sim.record.throttledByKind).toEqual({});
  }, 20 * 60_000);
});
