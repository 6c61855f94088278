// A mover's old number given back by dialtone (docs/leavers-and-movers.md, "Movers", step 5: the tenant's record still
// gives it to the user once the new number is in place) when following the unassignNumber order fails for a moment: the
// confirm activity is retried, and the retry must follow the order the first attempt sent instead of sending a second
// one for the same number (which Teams fails, "not assigned", once the first finishes, and which flagged the row
// number_release_failed although the number went back). Against Azurite and the Graph simulator, as a leaver's retried
// release is (leaver-release-retry.test.ts).
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import { TransientGraphError } from '../../activities/batch';
import { createNumberActivities } from '../../activities/numbers';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import type { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import { BlobNumberClaims } from '../../shared/adapters/number-claims';
import { simulatorWithAdapter } from '../support/graph';
import { MOVER_GB_NEW, MOVER_US_OLD, moverTenant } from '../support/tenant';

const US_OLD = MOVER_US_OLD;
const GB_NEW = MOVER_GB_NEW;
const tenant = moverTenant();

let azurite: Azurite;
let sim: GraphSimulator;
let graph: GraphLicensingDirectory;
let clock: SkipAheadClock;
/** While set, the adapter's waits do not move the clock and every Graph request fails (503/504) from the next wait on. */
let failFromNextWait = false;
beforeAll(async () => {
  azurite = await startAzurite();
  clock = new SkipAheadClock();
  ({ sim, graph } = await simulatorWithAdapter(
    { tenant, clock },
    {
      sleep: async (ms) => {
        if (failFromNextWait) sim.faults = { ...sim.faults, errorRate: 1 };
        else clock.skipTo(clock.now() + ms);
      },
      writesPerSecond: 100_000,
    },
  ));
});
afterAll(async () => {
  await sim?.close();
  await azurite?.stop();
});

const unassignWrites = () => sim.record.stateChangingWrites.filter((w) => w.kind === 'unassignNumber');

it("a mover's confirm retried after following the old number's unassignNumber failed follows that order, sending none again", async () => {
  const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const acts = createNumberActivities({
    graph,
    releases: graph,
    claims: new BlobNumberClaims(blobs, 'mover-release-claims'),
    store: new BlobBatchStore(blobs, 'mover-release-numbers'),
  });
  const userId = sim.tenant.findUser('mover@contoso.com')!.id;
  const work = {
    runKey: 'run-r1',
    row: 1,
    userId,
    number: { numberType: 'callingPlan' as const, isoCountryCode: 'GB' },
    moving: true as const,
  };
  const step = await acts.startNumber(work);
  if (step.kind !== 'ordered') throw new Error('not ordered');
  clock.skipTo(clock.now() + 60_000);
  const [state] = await acts.readOrders({ operationIds: [step.order.operationId] });
  expect(state!.status).toBe('succeeded');
  // The tenant's record still gives the old number to the user: dialtone unassigns it itself.
  sim.tenant.numbers.find(US_OLD)!.assignedTo = userId;
  const confirm = { runKey: 'run-r1', orders: [{ ...step.order, state: state! }], followedMinutes: 1 };

  failFromNextWait = true;
  try {
    await expect(acts.confirmNumbers(confirm)).rejects.toBeInstanceOf(TransientGraphError);
  } finally {
    failFromNextWait = false;
    sim.faults = { ...sim.faults, errorRate: 0 };
  }
  expect(unassignWrites()).toHaveLength(1);
  // The order has not run yet: the record still gives the number to the user when the activity is retried.
  expect(sim.tenant.numbers.find(US_OLD)!.assignedTo).toBe(userId);

  const [result] = await acts.confirmNumbers(confirm);
  expect(result).toMatchObject({
    outcome: 'provisioned',
    phoneNumber: GB_NEW,
    releasedNumber: US_OLD,
    message: `${GB_NEW} assigned in place of ${US_OLD}, which dialtone unassigned once the new one worked`,
  });
  expect(unassignWrites()).toHaveLength(1);
  expect(sim.tenant.numbers.find(US_OLD)!.assignedTo).toBeNull();
});
