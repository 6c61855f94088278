// A batch of a few hundred users through the local stack, its Teams checks answered by sweeps of the Teams user
// configurations' list (GET /admin/teams/userConfigurations) instead of a read per user: the simulator's record shows
// far fewer Teams read requests than users over the whole wait, and every row ends as the simulated Teams says it
// should. Then the same with the simulator refusing the list's $filter (Graph documents $filter for the list but not
// the properties it takes): dialtone falls back to unfiltered sweeps after one refusal per process and still finishes
// correctly. Time runs faster than the wall clock (local/clock.ts); assertions are on counts, never on timings.
import { generateWorkload } from '../../bench/workload';
import type { FaultOptions } from '../../local/graph-sim/server';
import { startStack, type Stack } from '../../local/stack';
import { postBatch, waitForReport } from '../support/e2e';

const RATE = 4;
const USERS = 300;

async function run(batchId: string, faults: FaultOptions = {}) {
  // Teams provisions every licensed user within 2-42 minutes, so the batch ends once the last one shows (its wait is
  // the product's default 24 hours, checked on the schedule's one-minute grid at first).
  const workload = generateWorkload(USERS, { seed: 9, provisioningMinutes: (r) => 2 + Math.floor(r() * 40) });
  const stack: Stack = await startStack({
    tenant: workload.tenant,
    throttling: true,
    faults: { latencyMs: [50, 150], ...faults },
    timeRate: RATE,
  });
  try {
    expect((await postBatch(stack, { batchId, users: workload.rows })).status).toBe(202);
    const report = await waitForReport(stack, batchId, 900_000);
    return { report, rec: stack.sim.record, tenant: stack.sim.tenant };
  } finally {
    await stack.stop();
  }
}

type Run = Awaited<ReturnType<typeof run>>;

/** Every row ends with exactly one outcome, and the licensed ones as Teams showed them by the deadline. */
function expectTrueToTeams({ report, tenant, rec }: Run): void {
  expect(report.users).toHaveLength(USERS);
  expect(new Set(report.users.map((u) => u.row)).size).toBe(USERS);
  const deadline = Date.parse(report.deadline!);
  let provisioned = 0;
  for (const u of report.users) {
    const user = tenant.findUser(u.userPrincipalName);
    const shown = user ? tenant.callingPlanVisibleAt(user) : null;
    if (u.outcome === 'provisioned') {
      provisioned++;
      // Teams showed the calling plan to a read (a page of a sweep, or a per-user read), and the check that saw it is
      // recorded at its orchestration's time, which its reads follow by moments (a minute allowed here)
      expect(shown).not.toBeNull();
      expect(rec.callingPlanSeenAt.get(user!.id)).toBeGreaterThanOrEqual(shown!);
      expect(Date.parse(u.provisionedAt!)).toBeGreaterThanOrEqual(shown! - 60_000);
    } else {
      // every licensed user is provisioned within the wait: the others were never licensed (not in the tenant, no
      // usage location, beyond the calling plan's seats)
      expect([u.outcome, u.assignedAt]).toEqual(['failed', null]);
    }
  }
  expect(provisioned).toBeGreaterThan(USERS * 0.9);
  // the batch ended when the last user showed, long before its deadline
  expect(Date.parse(report.finishedAt!)).toBeLessThan(deadline);
}

describe(`${USERS} users' Teams checks by sweeps of the list`, () => {
  it('are checked with far fewer Teams read requests than users, and end as Teams showed them', async () => {
    const r = await run('sweep-300');
    expectTrueToTeams(r);
    const pages = r.rec.teamsReads.filter((t) => t.list).length;
    const perUser = r.rec.teamsReads.filter((t) => !t.list).length;
    expect(pages).toBeGreaterThan(0);
    // Over the whole wait, every check included: the per-user form took several reads per user (bench/README.md).
    expect(pages + perUser).toBeLessThan(USERS / 2);
    expect(r.rec.teamsListRefused).toBe(0);
  }, 900_000);

  it('fall back to unfiltered sweeps when Graph refuses the filter, ask with it no more, and still finish correctly', async () => {
    const r = await run('no-filter-300', { teamsListRefuses: ['$filter'] });
    expectTrueToTeams(r);
    // one refusal for the process (the chunks' checks that were under way together may each meet it once)
    expect(r.rec.teamsListRefused).toBeGreaterThan(0);
    expect(r.rec.teamsListRefused).toBeLessThanOrEqual(2);
    const pages = r.rec.teamsReads.filter((t) => t.list).length;
    expect(pages).toBeGreaterThan(r.rec.teamsListRefused);
    expect(pages + r.rec.teamsReads.filter((t) => !t.list).length).toBeLessThan(USERS / 2);
  }, 900_000);
});
