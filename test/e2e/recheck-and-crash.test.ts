// A recheck ends a wait early (on the real clock), and a host killed with SIGKILL in the middle of a run resumes
// from its persisted state: the same outcomes, and never a second assignLicense request for a user, even when the kill
// lands inside a write Graph has applied.
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { getBatch, outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

describe('recheck', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      tenant: {
        skus: tenantSkus({ ENTERPRISEPACK: 5, MCOEV: 5, MCOPSTN1: 5 }),
        users: [{ userPrincipalName: 'quick@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0 }],
      },
      skipAhead: false,
      settings: { DIALTONE_LOCAL_MAX_RUNNING: '2' },
      // The first licence write is held, so that a recheck can be asked while the batch is still licensing.
      faults: { holdAssignLicense: 1 },
    });
  });
  afterAll(() => stack?.stop());
  const recheck = async (batchId: string) => {
    const r = await fetch(`${stack.host.url}/api/batches/${batchId}/recheck`, {
      method: 'POST',
      headers: { 'x-functions-key': stack.host.functionKey },
    });
    return {
      status: r.status,
      body: (await r.json()) as {
        checksRequested?: number;
        chunksAsked?: number;
        reason?: string;
        message?: string;
        detail?: string;
      },
    };
  };

  it('checks Teams at once instead of waiting for the next poll', async () => {
    expect(
      (await postBatch(stack, { batchId: 'recheck-1', users: [{ userPrincipalName: 'quick@contoso.com' }] })).status,
    ).toBe(202);
    // Asked while the licence write is in Graph's hands: nobody waits for Teams yet, and the answer says so.
    await stack.sim.heldWrite;
    const early = await recheck('recheck-1');
    expect([early.status, early.body.checksRequested, early.body.reason]).toEqual([202, 0, 'still_assigning']);
    expect(early.body.message).toMatch(
      /^nobody waits for Teams yet: 1 row\(s\) of batch recheck-1 are still being licensed/,
    );
    stack.sim.releaseHeldWrite();
    // Wait (bounded by jest's timeout, not by a clock here) until the chunk has assigned (the live row reads waiting): it then waits on its first
    // check's timer, a minute away on the real clock.
    while ((await getBatch(stack, 'recheck-1')).body?.users?.[0]?.outcome !== 'waiting')
      await new Promise((r) => setTimeout(r, 100));
    // Teams has not been asked yet: the only read that can come before the one-minute timer is the recheck's.
    expect(stack.sim.record.byKind.teamsUserConfiguration).toBe(0);
    // At capacity (a batch and its chunk running), a new batch is refused with 503 and Retry-After, starting nothing.
    const busy = await postBatch(stack, { batchId: 'too-many', users: [{ userPrincipalName: 'quick@contoso.com' }] });
    expect([busy.status, busy.headers.get('retry-after'), busy.headers.get('content-type')]).toEqual([
      503,
      '10',
      'application/problem+json',
    ]);
    expect((await getBatch(stack, 'too-many')).status).toBe(404);
    const asked = await recheck('recheck-1');
    expect([asked.status, asked.body.checksRequested, asked.body.chunksAsked, asked.body.reason]).toEqual([
      202,
      1,
      1,
      undefined,
    ]);
    expect(asked.body.message).toMatch(
      /^Teams will be checked now for the 1 user\(s\) of batch recheck-1 waiting for their calling plan/,
    );
    const report = await waitForReport(stack, 'recheck-1', 30_000);
    expect(report.users[0]).toMatchObject({ outcome: 'provisioned' });
    // One Teams read, the recheck's, saw the calling plan.
    expect([stack.sim.record.byKind.teamsUserConfiguration, stack.sim.record.callingPlanSeenAt.size]).toEqual([1, 1]);
    // The first scheduled check is a minute after the assignment: a calling plan seen before then was seen by the recheck.
    expect(Date.parse(report.users[0]!.provisionedAt!) - Date.parse(report.users[0]!.assignedAt!)).toBeLessThan(60_000);
    // Finished: nothing can be rechecked.
    expect((await recheck('recheck-1')).status).toBe(409);
    expect((await recheck('nope')).status).toBe(404);
  });
});

describe('crash and resume', () => {
  const n = 60;
  const seats = n - 8;
  const tenant: TenantFile = {
    skus: [
      { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: n },
      { skuPartNumber: 'MCOEV', prepaidUnits: n },
      { skuPartNumber: 'MCOPSTN1', prepaidUnits: seats },
    ],
    users: Array.from({ length: n }, (_, i) => ({
      userPrincipalName: `u${i}@contoso.com`,
      usageLocation: i % 13 === 0 ? null : 'US',
      teamsProvisioningMinutes: i % 7 === 0 ? null : 30,
    })),
  };
  // Expected outcomes from the generated tenant alone: rows without a usage location fail, the Calling Plan seats run
  // out for the last rows that need one, and users whose Teams never shows the plan are flagged.
  const expected = new Map<string, string>();
  let seatsLeft = seats;
  for (let i = 0; i < n; i++) {
    const upn = `u${i}@contoso.com`;
    if (i % 13 === 0) expected.set(upn, 'failed/usage_location_missing');
    else if (seatsLeft-- <= 0) expected.set(upn, 'failed/insufficient_licenses');
    else expected.set(upn, i % 7 === 0 ? 'flagged/no_calling_plan' : 'provisioned');
  }
  const licensed = [...expected].filter(([, o]) => !o.startsWith('failed/')).map(([upn]) => upn);
  const heldNth = 8;
  let stack: Stack;
  beforeAll(async () => {
    // Its never-provisioned users are checked up to 214 times in the day (polling by budget): the report
    // came after ~125 s here under a load of 10 and after 186-193 s beside two benchmarks (and once not within 240 s
    // during a CI run beside them), so it is waited for up to 7 minutes.
    stack = await startStack({
      tenant,
      faults: { latencyMs: [60, 120], holdAssignLicense: heldNth },
      settings: { DIALTONE_CHUNK_SIZE: '15', DIALTONE_ASSIGN_PARALLELISM: '2' },
    });
  });
  afterAll(() => stack?.stop());

  it('finishes with the same report after a SIGKILL inside a licence write, sending exactly one assignLicense per licensed user', async () => {
    const users = Array.from({ length: n }, (_, i) => ({ userPrincipalName: `u${i}@contoso.com` }));
    expect((await postBatch(stack, { batchId: 'crash-1', users })).status).toBe(202);
    // The simulator applies the 8th assignLicense and holds its answer: the kill lands while that write is in flight.
    const heldUser = await stack.sim.heldWrite;
    const requestsAtKill = [...stack.sim.record.assignLicenseRequests.values()].reduce((a, b) => a + b, 0);
    await stack.crashAndRestartHost();
    expect(requestsAtKill).toBeGreaterThanOrEqual(heldNth);
    expect(requestsAtKill).toBeLessThan(licensed.length);
    const report = await waitForReport(stack, 'crash-1', 420_000);
    expect(report.counts.total).toBe(n);
    expect(report.users.map((u) => u.row)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(new Map(Object.entries(outcomesByUpn(report)))).toEqual(expected);
    // Every assignLicense request that reached Graph, per user, whether or not it changed anything.
    const requests = new Map(
      [...stack.sim.record.assignLicenseRequests].map(([id, count]) => [
        stack.sim.tenant.findUser(id)!.userPrincipalName,
        count,
      ]),
    );
    expect(requests).toEqual(new Map(licensed.map((upn) => [upn, 1])));
    expect(requests.get(stack.sim.tenant.findUser(heldUser)!.userPrincipalName)).toBe(1);
    // The seats Graph counts as used: one per licensed user, none twice.
    const consumed = Object.fromEntries(
      stack.sim.tenant.subscribedSkus().map((s) => [s['skuPartNumber'], s['consumedUnits']]),
    );
    expect(consumed).toEqual({ ENTERPRISEPACK: licensed.length, MCOEV: licensed.length, MCOPSTN1: licensed.length });
  }, 480_000);
});
