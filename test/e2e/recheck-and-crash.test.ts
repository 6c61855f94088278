// A recheck ends a wait early (on the real clock), and a host killed with SIGKILL in the middle of a run resumes
// from its persisted state: the same outcomes, and never a second state-changing assignLicense for a user.
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { getBatch, outcomesByUpn, postBatch, waitForReport } from '../support/e2e';

describe('recheck', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      tenant: { skus: [{ skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: 5 }, { skuPartNumber: 'MCOEV', prepaidUnits: 5 }, { skuPartNumber: 'MCOPSTN1', prepaidUnits: 5 }], users: [{ userPrincipalName: 'quick@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0 }] },
      skipAhead: false,
      settings: { DIALTONE_LOCAL_MAX_RUNNING: '2' },
    });
  });
  afterAll(() => stack?.stop());

  it('checks Teams at once instead of waiting for the next poll', async () => {
    const t0 = Date.now();
    expect((await postBatch(stack, { batchId: 'recheck-1', users: [{ userPrincipalName: 'quick@contoso.com' }] })).status).toBe(202);
    // wait until the chunk has assigned and is waiting on its first poll timer (10 minutes away on the real clock)
    for (;;) {
      const live = await getBatch(stack, 'recheck-1');
      if (live.status === 200 && live.body.users?.[0]?.outcome === 'assigned') break;
      if (Date.now() - t0 > 30_000) throw new Error('never assigned');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    // At capacity (a batch and its chunk running), a new batch is refused with 503 and Retry-After, starting nothing.
    const busy = await postBatch(stack, { batchId: 'too-many', users: [{ userPrincipalName: 'quick@contoso.com' }] });
    expect([busy.status, busy.headers.get('retry-after'), busy.headers.get('content-type')]).toEqual([503, '10', 'application/problem+json']);
    expect((await getBatch(stack, 'too-many')).status).toBe(404);
    const r = await fetch(`${stack.host.url}/api/batches/recheck-1/recheck`, { method: 'POST', headers: { 'x-functions-key': stack.host.functionKey } });
    expect(r.status).toBe(202);
    expect(((await r.json()) as { chunksAsked: number }).chunksAsked).toBe(1);
    const report = await waitForReport(stack, 'recheck-1', 30_000);
    expect(report.users[0]).toMatchObject({ outcome: 'provisioned' });
    expect(Date.parse(report.users[0]!.provisionedAt!) - Date.parse(report.users[0]!.assignedAt!)).toBeLessThan(10 * 60_000);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const unknown = await fetch(`${stack.host.url}/api/batches/nope/recheck`, { method: 'POST', headers: { 'x-functions-key': stack.host.functionKey } });
    expect(unknown.status).toBe(404);
  });
});

describe('crash and resume', () => {
  const n = 60;
  const tenant: TenantFile = {
    skus: [
      { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: n },
      { skuPartNumber: 'MCOEV', prepaidUnits: n },
      { skuPartNumber: 'MCOPSTN1', prepaidUnits: n - 8 },
    ],
    users: Array.from({ length: n }, (_, i) => ({
      userPrincipalName: `u${i}@contoso.com`,
      usageLocation: i % 13 === 0 ? null : 'US',
      teamsProvisioningMinutes: i % 7 === 0 ? null : 30,
    })),
  };
  const expected = (i: number) => (i % 13 === 0 ? 'failed/usage_location_missing' : i >= n - 3 ? 'failed/insufficient_licenses' : i % 7 === 0 ? 'flagged/no_calling_plan' : 'provisioned');
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ tenant, faults: { latencyMs: [60, 120] }, settings: { DIALTONE_CHUNK_SIZE: '15', DIALTONE_ASSIGN_PARALLELISM: '2' } });
  });
  afterAll(() => stack?.stop());

  it('finishes with the same report after SIGKILL mid-run, with at most one state-changing assignLicense per user', async () => {
    const users = Array.from({ length: n }, (_, i) => ({ userPrincipalName: `u${i}@contoso.com` }));
    expect((await postBatch(stack, { batchId: 'crash-1', users })).status).toBe(202);
    const writes = () => stack.sim.record.stateChangingWrites.filter((w) => w.kind === 'assignLicense').length;
    while (writes() < 8) await new Promise((r) => setTimeout(r, 20));
    const before = writes();
    await stack.crashAndRestartHost();
    expect(before).toBeLessThan(n - 10);
    const report = await waitForReport(stack, 'crash-1', 120_000);
    expect(report.counts.total).toBe(n);
    const outcomes = outcomesByUpn(report);
    expect(Object.keys(outcomes)).toHaveLength(n);
    for (let i = 0; i < n; i++) expect([i, outcomes[`u${i}@contoso.com`]]).toEqual([i, expected(i)]);
    const perUser = new Map<string, number>();
    for (const w of stack.sim.record.stateChangingWrites) if (w.kind === 'assignLicense') perUser.set(w.userId, (perUser.get(w.userId) ?? 0) + 1);
    expect(Math.max(...perUser.values())).toBe(1);
    expect(perUser.size).toBe(report.users.filter((u) => u.assignedAt).length);
  });
});
