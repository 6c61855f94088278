// Guests are never licensed: a row whose user is a guest (userType Guest, or a #EXT# UPN when userType was not read)
// fails guest_account before anything is written, and takes no seat.
import { planBatch, validateRows, isGuest, type TenantSnapshot } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { snapshot } from '../support/tenant';

const withTypes = (tenant: TenantSnapshot, types: Record<string, string>): TenantSnapshot => ({
  ...tenant,
  users: new Map([...tenant.users].map(([k, u]) => [k, types[k] ? { ...u, userType: types[k] } : u])),
});

describe('guest accounts', () => {
  it('fails a guest row guest_account, saying what to do, and gives its seat to the next member', () => {
    const guest = 'ann_fabrikam.com#EXT#@contoso.onmicrosoft.com';
    const tenant = withTypes(
      snapshot({ ENTERPRISEPACK: 1, MCOEV: 1, MCOPSTN1: 1 }, { [guest]: {}, 'bob@contoso.com': {} }),
      { [guest.toLowerCase()]: 'Guest', 'bob@contoso.com': 'Member' },
    );
    const rows = validateRows(
      [guest, 'bob@contoso.com'].map((u, i) => ({ row: i + 1, userPrincipalName: u, usageLocation: 'US' })),
      { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' },
    );
    const [g, b] = planBatch(rows, tenant);
    expect(g).toMatchObject({ kind: 'failed', reason: 'guest_account' });
    expect(g?.kind === 'failed' && g.message).toMatch(
      /^row 1: .* is a guest account \(userType Guest\); dialtone does not license guests\. Licence the person's account in their own organisation/,
    );
    expect(b).toMatchObject({ kind: 'assign', addedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'] });
  });

  it('trusts userType when Graph gave it (a converted member keeps its #EXT# UPN), and the #EXT# form only without it', () => {
    expect(isGuest({ userType: 'Member' }, 'x#EXT#@c.com')).toBe(false);
    expect(isGuest({ userType: 'Guest' }, 'x@c.com')).toBe(true);
    expect(isGuest({}, 'x_f.com#ext#@c.com')).toBe(true);
    expect(isGuest({}, 'x@c.com')).toBe(false);
  });
});
