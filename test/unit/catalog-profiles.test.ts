import { canonicalPartNumber, resolveTenantCatalog } from '../../shared/domain/catalog';
import { BUILT_IN_PROFILES, mergeProfiles } from '../../shared/domain/profiles';

describe('licence catalog', () => {
  it("keeps MCOPSTNPP its own part number, strips MSOnline tenant prefixes, upper-cases and resolves the table's spellings", () => {
    expect(canonicalPartNumber('mcopstnpp')).toBe('MCOPSTNPP');
    expect(canonicalPartNumber('contoso:ENTERPRISEPACK ')).toBe('ENTERPRISEPACK');
    expect(canonicalPartNumber('MCOPSTN_5')).toBe('MCOPSTN5');
    expect(canonicalPartNumber('MCOPSTN_6')).toBe('MCOPSTN6');
  });

  it("takes ids and service plans from the tenant's subscribedSkus over the built-in catalog", () => {
    const catalog = resolveTenantCatalog([
      {
        skuId: 'aaaaaaaa-0000-4000-8000-000000000001',
        skuPartNumber: 'MCOPSTNC',
        consumedUnits: 0,
        prepaidUnits: { enabled: 5 },
      },
      {
        skuId: 'aaaaaaaa-0000-4000-8000-000000000002',
        skuPartNumber: 'CUSTOM_SUITE',
        consumedUnits: 0,
        prepaidUnits: { enabled: 5 },
        servicePlans: [{ servicePlanName: 'MCOEV' }, { servicePlanName: 'TEAMS1' }],
      },
    ]);
    expect(catalog.byPartNumber('MCOPSTNC')?.skuId).toBe('aaaaaaaa-0000-4000-8000-000000000001');
    expect(catalog.byPartNumber('MCOPSTNC')?.capabilities.has('communicationsCredits')).toBe(true);
    expect([...catalog.byPartNumber('custom_suite')!.capabilities].sort()).toEqual(['phoneSystem', 'teams']);
    expect(catalog.byPartNumber('MCOEV')).toBeUndefined();
  });

  it('counts enabled and warning units as assignable, suspended SKUs as none, and never below zero', () => {
    const catalog = resolveTenantCatalog([
      {
        skuId: '1',
        skuPartNumber: 'ENTERPRISEPACK',
        capabilityStatus: 'Warning',
        consumedUnits: 3,
        prepaidUnits: { enabled: 2, warning: 2, suspended: 9 },
      },
      {
        skuId: '2',
        skuPartNumber: 'MCOEV',
        capabilityStatus: 'Suspended',
        consumedUnits: 0,
        prepaidUnits: { enabled: 5 },
      },
      { skuId: '3', skuPartNumber: 'MCOPSTN1', consumedUnits: 7, prepaidUnits: { enabled: 5 } },
    ]);
    expect(catalog.all().map((s) => [s.partNumber, s.available])).toEqual([
      ['ENTERPRISEPACK', 1],
      ['MCOEV', 0],
      ['MCOPSTN1', 0],
    ]);
  });

  it('marks MCOPSTN5 and MCOPSTN6 as not sold in the US', () => {
    const catalog = resolveTenantCatalog([
      { skuId: '5', skuPartNumber: 'MCOPSTN5', consumedUnits: 0, prepaidUnits: { enabled: 1 } },
      { skuId: '6', skuPartNumber: 'MCOPSTN6', consumedUnits: 0, prepaidUnits: { enabled: 1 } },
    ]);
    expect(catalog.all().map((s) => s.notSoldIn)).toEqual([['US'], ['US']]);
  });
});

describe('licence profiles', () => {
  it("has the built-in profiles of docs/licence-profiles.md and today's suites", () => {
    expect(BUILT_IN_PROFILES.get('phone-domestic')).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    expect([...BUILT_IN_PROFILES.keys()].sort()).toEqual([
      'audio-conferencing',
      'e5-phone-domestic',
      'm365-e3-no-teams-phone-domestic',
      'm365-e3-phone-domestic',
      'm365-e5-no-teams-phone-domestic',
      'm365-e5-phone-domestic',
      'o365-e3-no-teams-phone-domestic',
      'phone-domestic',
      'phone-international',
      'phone-system-only',
      'teams-phone-with-calling-plan',
    ]);
  });

  it('merges overrides: adds, replaces, removes with an empty list, canonicalises part numbers', () => {
    const { profiles, problems } = mergeProfiles({
      'Sales-Phone': ['standardpack', 'MCOEV', 'MCOPSTN1'],
      'phone-domestic': ['ENTERPRISEPREMIUM', 'MCOPSTN1'],
      'audio-conferencing': [],
    });
    expect(problems).toEqual([]);
    expect(profiles.get('sales-phone')).toEqual(['STANDARDPACK', 'MCOEV', 'MCOPSTN1']);
    expect(profiles.get('phone-domestic')).toEqual(['ENTERPRISEPREMIUM', 'MCOPSTN1']);
    expect(profiles.get('audio-conferencing')).toBeUndefined();
  });

  it('lists every problem in an override at once', () => {
    expect(mergeProfiles({ 'bad name!': ['MCOEV'], x: 'MCOEV', y: ['MCO EV'] }).problems).toEqual([
      "profile name \"bad name!\" must be lower-case letters, digits, '.', '_' or '-' (at most 64)",
      'profile "x" must be an array of part numbers',
      'profile "y" has invalid part numbers: MCO EV',
    ]);
    expect(mergeProfiles([1]).problems).toHaveLength(1);
  });
});
