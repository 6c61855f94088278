// The simulator's createdAfterMinutes: an account HR announced before inbound provisioning created it. Graph answers
// 404 Request_ResourceNotFound for it (as for any user that does not exist: user-get.md) until it is created; read
// over HTTPS through the real adapter's $batch reads.
import { SkipAheadClock } from '../../local/clock';
import type { GraphSimulator } from '../../local/graph-sim/server';
import { SimTenant } from '../../local/graph-sim/tenant';
import type { GraphLicensingDirectory } from '../../shared/adapters/graph/directory';
import { simulatorWithAdapter } from '../support/graph';
import { tenantSkus } from '../support/tenant';

let sim: GraphSimulator;
let graph: GraphLicensingDirectory;
const clock = new SkipAheadClock();

beforeAll(async () => {
  ({ sim, graph } = await simulatorWithAdapter({
    clock,
    throttling: false,
    tenant: {
      skus: tenantSkus({ ENTERPRISEPACK: 5 }),
      users: [
        { userPrincipalName: 'here@contoso.com', usageLocation: 'US' },
        { userPrincipalName: 'newhire@contoso.com', usageLocation: 'US', createdAfterMinutes: 120 },
      ],
    },
  }));
});

afterAll(async () => {
  await sim.close();
});

describe('accounts created after the simulator starts', () => {
  it('does not exist before its creation time and does after it, by UPN and by object id', async () => {
    const before = await graph.readUsers(['here@contoso.com', 'newhire@contoso.com']);
    expect(before.get('here@contoso.com')?.ok).toBe(true);
    expect(before.get('newhire@contoso.com')).toMatchObject({ ok: false, reason: 'user_not_found', status: 404 });

    clock.skipTo(clock.now() + 119 * 60_000);
    expect((await graph.readUsers(['newhire@contoso.com'])).get('newhire@contoso.com')).toMatchObject({
      ok: false,
      reason: 'user_not_found',
    });

    clock.skipTo(clock.now() + 2 * 60_000);
    const after = (await graph.readUsers(['newhire@contoso.com'])).get('newhire@contoso.com');
    expect(after?.ok).toBe(true);
    if (!after?.ok) return;
    expect(after.value.userPrincipalName).toBe('newhire@contoso.com');
    expect((await graph.readUsers([after.value.id])).get(after.value.id)?.ok).toBe(true);
    expect(sim.record.byKind.batch).toBe(4);
  });

  it('refuses a tenant file that gives licences to an account not created yet', () => {
    expect(
      () =>
        new SimTenant(
          {
            skus: tenantSkus({ ENTERPRISEPACK: 1 }),
            users: [{ userPrincipalName: 'x@contoso.com', createdAfterMinutes: 5, assignedSkus: ['ENTERPRISEPACK'] }],
          },
          0,
        ),
    ).toThrow(/created later/);
  });
});
