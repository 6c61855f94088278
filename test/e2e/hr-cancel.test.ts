// Cancellation end to end on the local stack, on the real clock (so scheduled rows are certainly still waiting when
// the cancellations arrive): a no-show row is cancelled alone, then the whole batch. Rows not yet licensed end
// cancelled with nothing assigned to them; the row already licensed keeps its licences and ends assigned.
import { stableGuid } from '../../local/graph-sim/tenant';
import { startStack, type Stack } from '../../local/stack';
import { getBatch, outcomesByUpn, postBatch, waitForReport } from '../support/e2e';

const DAY = 86_400_000;
const userId = (upn: string) => stableGuid(`user:${upn.toLowerCase()}`);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    skipAhead: false,
    tenant: {
      skus: [
        { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: 10 },
        { skuPartNumber: 'MCOEV', prepaidUnits: 10 },
        { skuPartNumber: 'MCOPSTN1', prepaidUnits: 10 },
      ],
      users: [
        { userPrincipalName: 'today@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 600 },
        { userPrincipalName: 'monday@contoso.com', usageLocation: 'US' },
        { userPrincipalName: 'noshow@contoso.com', usageLocation: 'US' },
        { userPrincipalName: 'later@contoso.com', usageLocation: 'US' },
      ],
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

async function until<T>(what: string, get: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 60_000;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const post = async (path: string) => {
  const r = await fetch(`${stack.host.url}/api/batches/${path}`, { method: 'POST', headers: { 'x-functions-key': stack.host.functionKey } });
  return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
};

describe('HR onboarding: cancellation', () => {
  it('cancels a no-show row and then the batch: waiting rows end cancelled with nothing assigned, the licensed row ends assigned', async () => {
    const day = (offset: number) => new Date(stack.clock.now() + offset * DAY).toISOString().slice(0, 10);
    const r = await postBatch(stack, {
      batchId: 'cancel-1',
      users: [
        { userPrincipalName: 'today@contoso.com' },
        { userPrincipalName: 'monday@contoso.com', startDate: day(5) },
        { userPrincipalName: 'noshow@contoso.com', startDate: day(5) },
        { userPrincipalName: 'later@contoso.com', startDate: day(9) },
      ],
    });
    expect(r.status).toBe(202);
    // The row without a start date is licensed at once and then waits for Teams; the others wait for their day.
    const live = await until('the licensed row', async () => {
      const s = await getBatch(stack, 'cancel-1');
      return s.body?.counts?.waiting === 1 ? s.body : undefined;
    });
    // Licensed and waiting for Teams: counted as `waiting` while the batch runs.
    expect(live.counts).toMatchObject({ scheduled: 3, waiting: 1 });
    expect(live.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'monday@contoso.com')).toMatchObject({ outcome: 'scheduled', scheduledFor: `${day(4)}T00:00:00.000Z` });

    expect((await post('cancel-1/users/NoShow%40contoso.com/cancel')).status).toBe(202);
    expect((await post('cancel-1/users/noshow%40contoso.com/cancel')).status).toBe(200);
    const afterNoShow = (await getBatch(stack, 'cancel-1')).body;
    expect(afterNoShow.counts).toMatchObject({ scheduled: 2, cancelled: 1, waiting: 1 });
    expect(afterNoShow.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'noshow@contoso.com')).toMatchObject({ outcome: 'cancelled' });
    const licensed = await post('cancel-1/users/today%40contoso.com/cancel');
    expect(licensed.status).toBe(409);
    expect(licensed.body.detail).toContain('licences');
    expect((await post('cancel-1/users/stranger%40contoso.com/cancel')).status).toBe(404);

    expect((await post('cancel-1/cancel')).status).toBe(202);
    const report = await waitForReport(stack, 'cancel-1', 60_000);
    expect(outcomesByUpn(report)).toEqual({
      'today@contoso.com': 'assigned',
      'monday@contoso.com': 'cancelled',
      'noshow@contoso.com': 'cancelled',
      'later@contoso.com': 'cancelled',
    });
    const row = (upn: string) => report.users.find((u) => u.userPrincipalName === upn)!;
    expect(row('noshow@contoso.com').message).toContain('the row was cancelled');
    expect(row('monday@contoso.com').message).toContain('the batch was cancelled');
    expect(row('later@contoso.com').scheduledFor).toBe(`${day(8)}T00:00:00.000Z`);
    expect(report.counts).toMatchObject({ total: 4, assigned: 1, cancelled: 3 });

    // Nothing was ever written for a cancelled row; the licensed row was written once.
    const writes = stack.sim.record.stateChangingWrites;
    for (const upn of ['monday@contoso.com', 'noshow@contoso.com', 'later@contoso.com']) expect(writes.filter((w) => w.userId === userId(upn))).toEqual([]);
    expect(writes.filter((w) => w.userId === userId('today@contoso.com')).map((w) => w.kind)).toEqual(['assignLicense']);

    // The batch, its slots and its chunk have all ended: nothing keeps waiting for a cancelled batch.
    const instances = (await (await fetch(`${stack.host.url}/runtime/webhooks/durabletask/instances?runtimeStatus=Running,Pending&code=${stack.host.functionKey}`)).json()) as { instanceId: string }[];
    expect(instances.filter((i) => i.instanceId.startsWith('cancel-1'))).toEqual([]);
    expect((await post('cancel-1/cancel')).status).toBe(409);
  });
});
