// The simulator's record of what the app asked stays bounded on a long run (bench/README.md, 50,000 rows): every
// Teams read is counted, and tallied per simulated second for the read rate, while the detail of each read is kept
// only up to a limit.
import { SkipAheadClock } from '../../local/clock';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { maxInSeconds, maxInWindow } from '../../bench/workload';
import { simulatorWithAdapter } from '../support/graph';

const tenant: TenantFile = {
  skus: [{ skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: 100 }],
  users: Array.from({ length: 25 }, (_, i) => ({ userPrincipalName: `reader${i}@contoso.com`, usageLocation: 'US' })),
};

it('counts every Teams read and its second, and keeps the detail of the first few only', async () => {
  const clock = new SkipAheadClock();
  const { sim, graph } = await simulatorWithAdapter(
    { tenant, clock, teamsReadsKept: 5 },
    { sleep: async (ms) => clock.skipTo(clock.now() + ms), writesPerSecond: 100_000 },
  );
  try {
    const users = await graph.readUsers(tenant.users.map((u) => u.userPrincipalName));
    const ids = [...users.values()].map((r) => (r.ok ? r.value.id : 'missing'));
    // Two rounds of 25 reads, the second a minute of simulated time later.
    expect((await graph.readTeamsFeatures(ids)).size).toBe(25);
    clock.skipTo(clock.now() + 60_000);
    expect((await graph.readTeamsFeatures(ids)).size).toBe(25);
    const rec = sim.record;
    expect(rec.byKind.teamsUserConfiguration).toBe(50);
    expect(rec.teamsReads).toHaveLength(5);
    expect([...rec.teamsReadsBySecond.values()].reduce((a, n) => a + n, 0)).toBe(50);
    // The tally gives the same busiest ten seconds as the kept detail would have (one round of 25 at a time).
    expect(maxInSeconds(rec.teamsReadsBySecond, 10)).toBe(25);
    expect(
      maxInWindow(
        rec.teamsReads.map((r) => r.at),
        10_000,
      ),
    ).toBe(5);
  } finally {
    await sim.close();
  }
});
