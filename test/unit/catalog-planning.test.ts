// Planning against today's suites and the table's part numbers: Microsoft 365 E5, the "no Teams" suites, MCOPSTNPP
// beside Communications Credits, and a tenant holding two SKUs under one part number.
import { resolveTenantCatalog } from '../../shared/domain/catalog';
import type { InputRow } from '../../shared/domain/input';
import { planBatch, validateRows, type PlannedRow, type TenantSnapshot } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { skuIdOf, snapshot } from '../support/tenant';

let n = 0;
beforeEach(() => (n = 0));
const row = (upn: string, extra: Partial<InputRow> = {}): InputRow => ({
  row: ++n,
  userPrincipalName: upn,
  usageLocation: 'US',
  ...extra,
});
const plan = (rows: InputRow[], tenant: TenantSnapshot): PlannedRow[] =>
  planBatch(validateRows(rows, { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' }), tenant);
const users = (...upns: string[]) => Object.fromEntries(upns.map((u) => [u, {}]));

describe("planning with today's suites", () => {
  it('gives a Microsoft 365 E5 user a Calling Plan without a separate Phone System, and watches Teams for it', () => {
    const tenant = snapshot({ SPE_E5: 5, MCOEV: 5, MCOPSTN1: 5 }, users('e5@c.com'));
    const [p] = plan([row('e5@c.com', { profile: 'm365-e5-phone-domestic' })], tenant);
    expect(p).toMatchObject({ kind: 'assign', addSkuIds: [skuIdOf('SPE_E5'), skuIdOf('MCOPSTN1')], pollTeams: true });
    expect(p?.kind === 'assign' && p.advisories).toContain('communications_credits_recommended');
  });

  it('refuses Phone System to a "no Teams" suite user without a Teams licence, naming Teams', () => {
    const tenant = snapshot(
      {
        'Microsoft_365_E5_(no_Teams)': 5,
        'Microsoft_365_E3_(no_Teams)': 5,
        Microsoft_Teams_EEA_New: 5,
        MCOEV: 5,
        MCOPSTN1: 5,
      },
      {
        ...users('a@c.com', 'b@c.com', 'c@c.com'),
        'held@c.com': { skus: ['Microsoft_Teams_EEA_New'] },
      },
    );
    const planned = plan(
      [
        row('a@c.com', { skus: ['Microsoft_365_E5_(no_Teams)', 'MCOPSTN1'] }),
        row('b@c.com', { skus: ['microsoft_365_e3_(no_teams)', 'MCOEV'] }),
        row('c@c.com', { profile: 'm365-e5-no-teams-phone-domestic' }),
        row('held@c.com', { skus: ['Microsoft_365_E5_(no_Teams)', 'MCOPSTN1'] }),
      ],
      tenant,
    );
    expect(planned.map((p) => (p.kind === 'assign' ? 'assign' : `${p.kind}:${p.reason}`))).toEqual([
      'rejected:missing_prerequisite',
      'rejected:missing_prerequisite',
      'assign',
      'assign',
    ]);
    expect(planned[0]?.kind === 'rejected' && planned[0].message).toMatch(/^row 1: Phone System .* needs Teams \(/);
    expect(planned[2]).toMatchObject({
      addSkuIds: [skuIdOf('Microsoft_365_E5_(no_Teams)'), skuIdOf('Microsoft_Teams_EEA_New'), skuIdOf('MCOPSTN1')],
      pollTeams: true,
    });
  });

  it('gives Teams Phone with Calling Plan on a suite with Teams', () => {
    const tenant = snapshot({ ENTERPRISEPACK: 5, MCOTEAMS_ESSENTIALS: 5 }, users('a@c.com'));
    const [p] = plan([row('a@c.com', { profile: 'teams-phone-with-calling-plan' })], tenant);
    expect(p).toMatchObject({
      kind: 'assign',
      addSkuIds: [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOTEAMS_ESSENTIALS')],
      pollTeams: true,
    });
  });
});

describe('MCOPSTNPP and Communications Credits', () => {
  it('means the MCOPSTNPP SKU (a usage calling plan) when the tenant has it, and MCOPSTNC stays Communications Credits', () => {
    const tenant = snapshot(
      { ENTERPRISEPACK: 5, MCOEV: 5, MCOMEETACPEA: 5, MCOPSTNPP: 5, MCOPSTNC: 5 },
      users('pp@c.com', 'cc@c.com'),
    );
    const [pp, cc] = plan(
      [
        row('pp@c.com', { skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTNPP'] }),
        row('cc@c.com', { skus: ['ENTERPRISEPACK', 'MCOMEETACPEA', 'MCOPSTNC'] }),
      ],
      tenant,
    );
    expect(pp).toMatchObject({
      kind: 'assign',
      addSkuIds: [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOEV'), skuIdOf('MCOPSTNPP')],
      pollTeams: true,
    });
    expect(pp?.kind === 'assign' && pp.advisories).not.toContain('mcopstnpp_read_as_mcopstnc');
    expect(cc).toMatchObject({
      kind: 'assign',
      addSkuIds: [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOMEETACPEA'), skuIdOf('MCOPSTNC')],
      pollTeams: false,
    });
  });

  it('reads MCOPSTNPP as Communications Credits when the tenant has only MCOPSTNC, and says so in the report', () => {
    const tenant = snapshot({ ENTERPRISEPACK: 5, MCOMEETACPEA: 5, MCOPSTNC: 1 }, users('a@c.com', 'b@c.com'));
    const [a, b] = plan(
      [
        row('a@c.com', { skus: ['ENTERPRISEPACK', 'MCOMEETACPEA', 'mcopstnpp'] }),
        row('b@c.com', { skus: ['ENTERPRISEPACK', 'MCOMEETACPEA', 'MCOPSTNPP', 'MCOPSTNC'] }),
      ],
      tenant,
    );
    expect(a).toMatchObject({
      kind: 'assign',
      skus: ['ENTERPRISEPACK', 'MCOMEETACPEA', 'MCOPSTNPP'],
      addSkuIds: [skuIdOf('ENTERPRISEPACK'), skuIdOf('MCOMEETACPEA'), skuIdOf('MCOPSTNC')],
      pollTeams: false,
    });
    expect(a?.kind === 'assign' && a.advisories).toContain('mcopstnpp_read_as_mcopstnc');
    // Both names are one SKU here: one seat asked for, and the only seat went to a@.
    expect(b).toMatchObject({ kind: 'failed', reason: 'insufficient_licenses' });
  });

  it('does not read MCOPSTNC as MCOPSTNPP: a tenant without Communications Credits has none to give', () => {
    const tenant = snapshot({ ENTERPRISEPACK: 5, MCOMEETACPEA: 5, MCOPSTNPP: 5 }, users('a@c.com'));
    const [a] = plan([row('a@c.com', { skus: ['ENTERPRISEPACK', 'MCOMEETACPEA', 'MCOPSTNC'] })], tenant);
    expect(a).toMatchObject({
      kind: 'rejected',
      reason: 'unknown_sku',
      message: 'row 1: the tenant has no subscription for MCOPSTNC; check the part number or buy the licence',
    });
  });
});

describe('a tenant with two SKUs under one part number', () => {
  const [x, y] = ['0a000000-0000-4000-8000-000000000005', '0b000000-0000-4000-8000-000000000005'];
  const catalog = resolveTenantCatalog([
    {
      skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965',
      skuPartNumber: 'SPE_E3',
      consumedUnits: 0,
      prepaidUnits: { enabled: 5 },
    },
    { skuId: x, skuPartNumber: 'MCOPSTN5', consumedUnits: 0, prepaidUnits: { enabled: 5 } },
    { skuId: y, skuPartNumber: 'MCOPSTN_5', consumedUnits: 0, prepaidUnits: { enabled: 1 } },
    {
      skuId: 'e43b5b99-8dfb-405f-9987-dc307f34bcbd',
      skuPartNumber: 'MCOEV',
      consumedUnits: 0,
      prepaidUnits: { enabled: 5 },
    },
  ]);
  const tenant: TenantSnapshot = {
    catalog,
    users: new Map(['a', 'b', 'c'].map((u) => [`${u}@c.com`, { id: `id-${u}`, usageLocation: 'GB', skuIds: [] }])),
  };

  it('keeps both, with their own seats', () => {
    expect(catalog.all().map((s) => [s.skuId, s.partNumber, s.available])).toEqual([
      ['05e9a617-0261-4cee-bb44-138d3ef5d965', 'SPE_E3', 5],
      [x, 'MCOPSTN5', 5],
      [y, 'MCOPSTN5', 1],
      ['e43b5b99-8dfb-405f-9987-dc307f34bcbd', 'MCOEV', 5],
    ]);
  });

  it('rejects a row naming the part number, naming both skuIds; a row naming a skuId gets that SKU', () => {
    const [a, b, c] = plan(
      [
        row('a@c.com', { skus: ['SPE_E3', 'MCOEV', 'MCOPSTN5'], usageLocation: 'GB' }),
        row('b@c.com', { skus: ['SPE_E3', 'MCOEV', y.toUpperCase()], usageLocation: 'GB' }),
        row('c@c.com', { skus: ['SPE_E3', x], usageLocation: 'GB' }),
      ],
      tenant,
    );
    expect(a).toMatchObject({
      kind: 'rejected',
      reason: 'unknown_sku',
      message: `row 1: MCOPSTN5 matches 2 of the tenant's SKUs (skuIds ${x}, ${y}); name the one meant by its skuId`,
    });
    expect(b?.kind).toBe('assign');
    expect(b?.kind === 'assign' && b.addSkuIds).toEqual([
      '05e9a617-0261-4cee-bb44-138d3ef5d965',
      'e43b5b99-8dfb-405f-9987-dc307f34bcbd',
      y,
    ]);
    // SPE_E3 has no Phone System: a calling plan named by skuId is still held to the rules.
    expect(c).toMatchObject({ kind: 'rejected', reason: 'missing_prerequisite' });
  });
});
