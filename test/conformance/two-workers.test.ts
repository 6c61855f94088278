// Two worker processes of the app on the real Durable extension, one task hub (the extension balances its control
// queue partitions between them, and both take activities from its work-item queue, as instances of a scaled-out
// function app do), run one batch whose users each need two Graph writes (usage location, licence), at a write
// budget of 3 a second: so low that either worker alone, pacing itself, would reach it, and both together would go
// over it. With the app-wide budget (one ledger blob both take their slots from: shared/adapters/graph-budget.ts) the
// writes of both stay within it in every window, as the simulator records them. A control run beside it gives each
// worker a ledger of its own (its own budget container: per-process pacing, what the app did before the shared budget)
// and must fail the same bound, so that the test shows it can. Nobody is lost in either.
import { maxInWindow } from '../../bench/workload';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { startStack, type Stack } from '../../local/stack';
import { postBatch, waitForReport } from '../support/e2e';
import { expectEngineRan, expectTaskHubEnded, HostLog } from '../support/conformance';
import { describeOnExtension } from '../support/extension';

const USERS = 240;
/** Writes a second for the whole app (DIALTONE_GRAPH_WRITES_PER_SECOND). */
const RATE = 3;
const WINDOW_MS = 20_000;
/** Users per chunk: twelve chunks, more than a chunk's group of assignments (the app's assign parallelism, 10). */
const CHUNK_SIZE = 20;
/**
 * The most writes the shared budget lets into any 20 s window: its 60 slots, plus those of 5 s more, for slots used
 * late (a write goes when its process gets round to it, and a loaded machine delays that) and the simulator's arrival
 * times. Two workers each pacing at 3/s write about twice the 60.
 */
const BOUND = (RATE * (WINDOW_MS + 5_000)) / 1000;

const tenant: TenantFile = {
  skus: [
    { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: USERS },
    { skuPartNumber: 'MCOEV', prepaidUnits: USERS },
    { skuPartNumber: 'MCOPSTN1', prepaidUnits: USERS },
  ],
  users: Array.from({ length: USERS }, (_, i) => ({
    userPrincipalName: `t${i}@contoso.com`,
    usageLocation: null,
    teamsProvisioningMinutes: 0.1,
  })),
};

interface Run {
  readonly stack: Stack;
  readonly log: HostLog;
  readonly leasesMoveFrom: number;
  readonly seconds: number;
  readonly busiest: number;
  readonly writes: number;
  readonly provisioned: number;
  readonly rows: number;
  readonly activities: number[];
  readonly ledgerUnavailable: number;
}

/** Starts a stack with two workers (`perWorker`: each one's own settings), runs the batch and measures the writes. */
async function twoWorkers(
  taskHub: string,
  perWorker: [Record<string, string>, Record<string, string>],
  stacks: Stack[],
): Promise<Run> {
  const log = new HostLog();
  const stack = await startStack({
    tenant,
    engine: 'extension',
    onHostLog: log.onHostLog,
    settings: {
      DIALTONE_DEADLINE_HOURS: '0.5',
      DIALTONE_DEFAULT_USAGE_LOCATION: 'US',
      DIALTONE_TASK_HUB: taskHub,
      DIALTONE_GRAPH_WRITES_PER_SECOND: String(RATE),
      // Twelve chunks of 20: sub-orchestrations for both workers' partitions.
      DIALTONE_CHUNK_SIZE: String(CHUNK_SIZE),
      AzureWebJobs__Extensions__DurableTask__StorageProvider__MaxQueuePollingInterval: '00:00:01',
      ...perWorker[0],
    },
  });
  stacks.push(stack);
  // From here on the second worker takes partitions from the first (HostLog.expectClean's leasesMoved).
  const leasesMoveFrom = log.lines.length;
  await stack.addWorker(perWorker[1]);
  const t0 = Date.now();
  expect(
    (
      await postBatch(stack, {
        batchId: 'two-workers',
        users: Array.from({ length: USERS }, (_, i) => ({ userPrincipalName: `t${i}@contoso.com` })),
      })
    ).status,
  ).toBe(202);
  const report = await waitForReport(stack, 'two-workers', 12 * 60_000);
  const seconds = Math.round((Date.now() - t0) / 1000);
  const activities: number[] = [];
  for (const h of [stack.host, ...stack.workers])
    activities.push(
      ((await (await fetch(`${h.url}/admin/host/status`)).json()) as { invocations: { activity: number } }).invocations
        .activity,
    );
  const writes = stack.sim.record.stateChangingWrites;
  return {
    stack,
    log,
    leasesMoveFrom,
    seconds,
    busiest: maxInWindow(
      writes.map((w) => w.at),
      WINDOW_MS,
    ),
    writes: writes.length,
    provisioned: report.counts.provisioned ?? 0,
    rows: new Set(report.users.map((u) => u.row)).size,
    activities,
    ledgerUnavailable: log.lines.filter((l) => l.includes('budget_ledger_unavailable')).length,
  };
}

describeOnExtension('two workers on one task hub', () => {
  const stacks: Stack[] = [];
  let shared: Run;
  let control: Run;
  beforeAll(async () => {
    // Side by side: the control's own budget containers make each worker pace alone at 3/s. Both end before a
    // failure of either is thrown, so that nothing is left running against a stopped stack.
    const [a, b] = await Promise.allSettled([
      twoWorkers('twoworkers', [{}, {}], stacks),
      twoWorkers(
        'twoworkerscontrol',
        [{ DIALTONE_BUDGET_CONTAINER: 'budget-worker-1' }, { DIALTONE_BUDGET_CONTAINER: 'budget-worker-2' }],
        stacks,
      ),
    ]);
    if (a.status === 'rejected') throw a.reason;
    if (b.status === 'rejected') throw b.reason;
    [shared, control] = [a.value, b.value];
    for (const [name, r] of [
      ['one shared budget', shared],
      ['control, each worker its own', control],
    ] as const) {
      process.stderr.write(
        `[two workers] ${name}: ${USERS} users in ${r.seconds} s; activities run: ${r.activities.join(' and ')}; ${r.writes} writes, at most ${r.busiest} in any ${WINDOW_MS / 1000} s (bound ${BOUND}); budget_ledger_unavailable: ${r.ledgerUnavailable}\n`,
      );
    }
  }, 20 * 60_000);
  afterAll(() => Promise.all(stacks.map((s) => s.stop())), 60_000);

  it('ran on the real extension, both workers, every instance Completed, no error or aborted function, no more than the warnings of a lease handover', async () => {
    for (const r of [shared, control]) {
      await expectEngineRan(r.stack, 'extension', { everyWorkerActive: true });
      await expectTaskHubEnded(r.stack, 2 * 60_000);
      // The second worker takes partitions from the first as both start: the leases move on purpose.
      // The widest episode: the batch starting its twelve chunks.
      r.log.expectClean(undefined, undefined, undefined, { from: r.leasesMoveFrom, episodeWidth: USERS / CHUNK_SIZE });
    }
  });

  it('runs the batch on both workers with nobody lost, in both runs', () => {
    for (const r of [shared, control]) {
      expect(r.rows).toBe(USERS);
      expect(r.provisioned).toBe(USERS);
      expect(r.writes).toBe(2 * USERS);
      for (const a of r.activities) expect(a).toBeGreaterThan(0);
    }
  });

  it('keeps the writes of both workers within the app-wide budget in every window', () => {
    expect(shared.busiest).toBeLessThanOrEqual(BOUND);
  });

  it('goes over the same bound when each worker paces itself (the control), so the bound can fail', () => {
    expect(control.busiest).toBeGreaterThan(BOUND);
  });
});
