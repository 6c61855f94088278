// Chunks start in turn on the local stack (docs/architecture.md, "Chunks start in turn"): with a write budget of one
// write a second, four chunks of three users start about 2.4 s apart, so the first chunk's users are checked in Teams
// (and found: Teams shows their calling plan at once) before the last chunk's first licence is written. Started all
// at once, the chunks' writes interleave and the first chunk's check waits for nearly all twelve writes. When Graph
// answers slower than the budget's pace, a chunk still starts only once the chunk CHUNKS_ASSIGNING before it has
// recorded its assignments (it hands on the turn). A batch cancelled while a chunk waits for its turn ends that chunk's rows
// cancelled at once, with nothing written for them.
import { startStack, type Stack, type StackOptions } from '../../local/stack';
import { stableGuid } from '../../local/graph-sim/tenant';
import { CHUNKS_ASSIGNING } from '../../shared/domain/batch';
import { outcomesByUpn, postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

/**
 * A stack whose tenant has `hires` (in the US, shown ready in Teams at once) and a seat of each licence for each; one
 * assignment at a time per chunk, no phone numbers, and `settings` besides.
 */
function stackOf(
  hires: readonly string[],
  settings: Record<string, string>,
  options: Omit<StackOptions, 'tenant' | 'settings'> = {},
): Promise<Stack> {
  const n = hires.length;
  return startStack({
    ...options,
    tenant: {
      skus: tenantSkus({ ENTERPRISEPACK: n, MCOEV: n, MCOPSTN1: n }),
      users: hires.map((userPrincipalName) => ({
        userPrincipalName,
        usageLocation: 'US',
        teamsProvisioningMinutes: 0,
      })),
    },
    settings: { DIALTONE_ASSIGN_PARALLELISM: '1', DIALTONE_PHONE_NUMBERS: 'off', ...settings },
  });
}

const upns = Array.from({ length: 12 }, (_, i) => `hire${i + 1}@contoso.com`);
let stack: Stack;
beforeAll(async () => {
  stack = await stackOf(upns, {
    DIALTONE_CHUNK_SIZE: '3',
    DIALTONE_GRAPH_WRITES_PER_SECOND: '1',
    // a 15-minute deadline checks a second after assignment at first (docs/teams-checks.md)
    DIALTONE_DEADLINE_HOURS: '0.25',
  });
});
afterAll(() => stack?.stop());

it("checks the first chunk's users before the last chunk's licences are written", async () => {
  expect(
    (await postBatch(stack, { batchId: 'stagger-1', users: upns.map((userPrincipalName) => ({ userPrincipalName })) }))
      .status,
  ).toBe(202);
  const report = await waitForReport(stack, 'stagger-1', 120_000);
  expect(report.users.map((u: { outcome: string }) => u.outcome)).toEqual(upns.map(() => 'provisioned'));
  const id = (upn: string) => stableGuid(`user:${upn}`);
  const written = new Map(
    stack.sim.record.stateChangingWrites.filter((w) => w.kind === 'assignLicense').map((w) => [w.userId, w.at]),
  );
  const seen = stack.sim.record.callingPlanSeenAt;
  const firstChunkChecked = Math.max(...upns.slice(0, 3).map((u) => seen.get(id(u))!));
  const lastChunkWritten = Math.min(...upns.slice(9).map((u) => written.get(id(u))!));
  expect(upns.every((u) => written.has(id(u)) && seen.has(id(u)))).toBe(true);
  expect(firstChunkChecked).toBeLessThan(lastChunkWritten);
});

describe('chunks when Graph answers slower than the write budget', () => {
  // Two chunks more than assign at once: the last two each wait for their turn.
  const chunks = CHUNKS_ASSIGNING + 2;
  const hires = Array.from({ length: 3 * chunks }, (_, i) => `slow${i + 1}@contoso.com`);
  let slow: Stack;
  beforeAll(async () => {
    // Every Graph request takes 400 ms; the budget (20 writes a second, one write per user here) would start a chunk of
    // three every 120 ms, long before the one before it has written its three licences.
    slow = await stackOf(
      hires,
      { DIALTONE_CHUNK_SIZE: '3', DIALTONE_GRAPH_WRITES_PER_SECOND: '20', DIALTONE_DEADLINE_HOURS: '0.25' },
      { faults: { latencyMs: [400, 400] } },
    );
  });
  afterAll(() => slow?.stop());

  it('starts a chunk once the chunk CHUNKS_ASSIGNING before it has recorded its assignments, no more assigning at once', async () => {
    expect(
      (await postBatch(slow, { batchId: 'turns', users: hires.map((userPrincipalName) => ({ userPrincipalName })) }))
        .status,
    ).toBe(202);
    const report = await waitForReport(slow, 'turns', 120_000);
    expect(report.users.map((u: { outcome: string }) => u.outcome)).toEqual(hires.map(() => 'provisioned'));
    const written = new Map(
      slow.sim.record.stateChangingWrites.filter((w) => w.kind === 'assignLicense').map((w) => [w.userId, w.at]),
    );
    const chunk = (c: number) => hires.slice(3 * c, 3 * c + 3).map((u) => written.get(stableGuid(`user:${u}`))!);
    for (let c = 0; c < chunks; c++) expect(chunk(c).every((at) => at !== undefined)).toBe(true);
    // The first CHUNKS_ASSIGNING overlap (their turns are the budget's): the last of them starts before the first ends.
    expect(Math.min(...chunk(CHUNKS_ASSIGNING - 1))).toBeLessThan(Math.max(...chunk(0)));
    // Each later one follows the chunk CHUNKS_ASSIGNING before it.
    for (let c = CHUNKS_ASSIGNING; c < chunks; c++)
      expect(Math.min(...chunk(c))).toBeGreaterThan(Math.max(...chunk(c - CHUNKS_ASSIGNING)));
  });
});

describe('a batch cancelled while a chunk waits for its turn', () => {
  const hires = Array.from({ length: 20 }, (_, i) => `waiter${i + 1}@contoso.com`);
  let real: Stack;
  beforeAll(async () => {
    // The real clock: the second chunk's turn (10 writes x 0.8 at one write a second, 8 s) is certainly still ahead
    // when the cancel comes after the first chunk's first write.
    real = await stackOf(
      hires,
      { DIALTONE_CHUNK_SIZE: '10', DIALTONE_GRAPH_WRITES_PER_SECOND: '1' },
      { skipAhead: false },
    );
  });
  afterAll(() => real?.stop());

  it("ends the waiting chunk's rows cancelled at once, nothing written for them", async () => {
    expect(
      (
        await postBatch(real, {
          batchId: 'stagger-cancel',
          users: hires.map((userPrincipalName) => ({ userPrincipalName })),
        })
      ).status,
    ).toBe(202);
    while (!real.sim.record.stateChangingWrites.some((w) => w.kind === 'assignLicense'))
      await new Promise((r) => setTimeout(r, 50));
    const cancel = await fetch(`${real.host.url}/api/batches/stagger-cancel/cancel`, {
      method: 'POST',
      headers: { 'x-functions-key': real.host.functionKey },
    });
    expect(cancel.status).toBe(202);
    // Well within the ten minutes a cancelled batch waits for licence writes to be recorded: the waiting chunk
    // recorded its rows as cancelled when the cancel ended its wait.
    const report = await waitForReport(real, 'stagger-cancel', 60_000);
    const outcomes = outcomesByUpn(report);
    for (const upn of hires.slice(10)) expect(outcomes[upn]).toBe('cancelled');
    const second = new Set(hires.slice(10).map((u) => stableGuid(`user:${u}`)));
    expect(real.sim.record.stateChangingWrites.filter((w) => second.has(w.userId))).toEqual([]);
    const row = report.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === hires[19]);
    expect(row?.message).toContain('the batch was cancelled before this row was licensed');
  });
});
