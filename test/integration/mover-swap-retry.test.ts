// A mover's swap (docs/leavers-and-movers.md, "Movers") as the assign activity sends it: the new usage location, then
// one assignLicense that adds the new country's calling plan and removes the one it does not sell. Durable Functions
// runs an activity at least once: a retry after the swap landed with its answer lost must send neither the PATCH nor
// the swap again, and must still say, once, what was given back. Against real Azurite and the Graph simulator.
import { stableGuid } from '../../local/graph-sim/tenant';
import type { GraphSimulator } from '../../local/graph-sim/server';
import { TransientGraphError } from '../../activities/batch';
import { SLOT_CHUNK_BASE } from '../../contracts/names';
import { startActivitiesStack, type ActivitiesStack } from '../support/activities';
import { skuIdOf, tenantSkus } from '../support/tenant';

let stack: ActivitiesStack;
let sim: GraphSimulator;
const UPN = 'mover@contoso.com';
const userId = stableGuid(`user:${UPN}`);
const writes = (kind: string) => sim.record.stateChangingWrites.filter((w) => w.userId === userId && w.kind === kind);
const held = () =>
  [...sim.tenant.licences(sim.tenant.findUser(UPN)!).keys()]
    .map((id) => ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1', 'MCOPSTN6'].find((p) => skuIdOf(p) === id))
    .sort();

beforeAll(async () => {
  stack = await startActivitiesStack({
    skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 10, MCOPSTN6: 10 }),
    users: [{ userPrincipalName: UPN, usageLocation: 'GB', assignedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN6'] }],
  });
  ({ sim } = stack);
});
afterAll(() => stack?.stop());

describe("a mover's retried swap", () => {
  it('counts a swap that landed with its answer lost once, and sends nothing again', async () => {
    const runKey = 'hr/movers/20261207T110000Z-0001';
    const chunk = SLOT_CHUNK_BASE;
    await stack.store.saveWork(runKey, chunk, [
      {
        row: 1,
        userId,
        addSkuIds: [skuIdOf('MCOPSTN1')],
        addedSkus: ['MCOPSTN1'],
        setUsageLocation: 'US',
        pollTeams: true,
        move: { from: 'GB', to: 'US', removeSkuIds: [skuIdOf('MCOPSTN6')], removeSkus: ['MCOPSTN6'], kept: [] },
      },
    ]);
    const work = { runKey, chunk, index: 0 };
    const before = { MCOPSTN1: sim.tenant.skuByPart('MCOPSTN1')!.consumedUnits };
    sim.faults = { ...sim.faults, lostWriteResponseRate: 1 };
    try {
      await expect(stack.activities.assign(work)).rejects.toBeInstanceOf(TransientGraphError);
    } finally {
      sim.faults = { ...sim.faults, lostWriteResponseRate: 0 };
    }
    // The PATCH and the swap landed: US, MCOPSTN1 in place of MCOPSTN6.
    expect(sim.tenant.findUser(UPN)!.usageLocation).toBe('US');
    expect(held()).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    const r = await stack.activities.assign(work);
    expect(r).toMatchObject({
      outcome: 'assigned',
      reason: '',
      addedSkus: ['MCOPSTN1'],
      releasedSkus: ['MCOPSTN6'],
      message: 'usage location set to US (was GB); gave back MCOPSTN6',
    });
    // One PATCH, one assignLicense: the retry read the user and found nothing left to send.
    expect(writes('patchUser')).toHaveLength(1);
    expect(writes('assignLicense')).toHaveLength(1);
    expect(sim.tenant.skuByPart('MCOPSTN1')!.consumedUnits).toBe(before.MCOPSTN1 + 1);
    // A third attempt says the same, still without a write.
    expect(await stack.activities.assign(work)).toEqual(r);
    expect(writes('assignLicense')).toHaveLength(1);
  });
});
