import type { InputRow } from '../../shared/domain/input';
import { planBatch, validateRows, type PlannedRow } from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { resolveTenantCatalog } from '../../shared/domain/catalog';
import { ALL_SKUS, skuIdOf, snapshot, subscribed } from '../support/tenant';

const options = { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' };
let n = 0;
const row = (upn: string, extra: Partial<InputRow> = {}): InputRow => ({ row: ++n, userPrincipalName: upn, ...extra });
beforeEach(() => (n = 0));
const row1 = (upn: string, extra: Partial<InputRow> = {}): InputRow => ({ row: 1, userPrincipalName: upn, ...extra });

function plan(
  rows: InputRow[],
  tenant = snapshot(ALL_SKUS, {}),
  opts: { defaultUsageLocation?: string; batchProfile?: string } = {},
): PlannedRow[] {
  const validated = validateRows(rows, {
    ...options,
    ...(opts.batchProfile ? { batchProfile: opts.batchProfile } : {}),
  });
  return planBatch(
    validated,
    tenant,
    opts.defaultUsageLocation ? { defaultUsageLocation: opts.defaultUsageLocation } : {},
  );
}
const reasons = (planned: PlannedRow[]) =>
  planned.map((p) => (p.kind === 'assign' ? 'assign' : `${p.kind}:${p.reason}`));

describe('row validation (rejected, nothing sent to Graph)', () => {
  it.each([
    ['invalid_upn', row1('not-an-upn')],
    ['invalid_upn', row1('')],
    ['invalid_upn', row1('a b@contoso.com')],
    ['unknown_profile', row1('a@contoso.com', { profile: 'gold' })],
    ['invalid_usage_location', row1('a@contoso.com', { usageLocation: 'USA' })],
    ['invalid_usage_location', row1('a@contoso.com', { usageLocation: 'XX' })],
    [
      'invalid_field',
      row1('a@contoso.com', {
        problem: { reason: 'invalid_field', field: 'hybrid', message: 'row 1, field hybrid: bad' },
      }),
    ],
  ])('rejects %s', (reason, input) => {
    const [v] = validateRows([input], options);
    expect(v).toMatchObject({ kind: 'rejected', reason });
    expect(v?.kind === 'rejected' && v.message).toMatch(/^(row 1|users)/);
  });

  it('keeps the first of two rows with the same UPN, whatever the case, and rejects the later as duplicate', () => {
    const v = validateRows([row('A@contoso.com'), row('b@contoso.com'), row('a@CONTOSO.com')], options);
    expect(v.map((x) => x.kind)).toEqual(['request', 'request', 'rejected']);
    expect(v[2]).toMatchObject({
      reason: 'duplicate',
      message: 'row 3: a@CONTOSO.com already appears in row 1; the first row is kept',
    });
  });

  it("takes the row's profile, else the batch's, else the default; explicit skus are a custom profile", () => {
    const v = validateRows(
      [
        row('a@c.com', { profile: 'Phone-International' }),
        row('b@c.com'),
        row('c@c.com', { skus: ['mcoev', 'companyname:ENTERPRISEPACK'] }),
      ],
      { ...options, batchProfile: 'audio-conferencing' },
    );
    expect(v.map((x) => (x.kind === 'request' ? [x.request.profile, x.request.partNumbers] : x.kind))).toEqual([
      ['phone-international', ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN2']],
      ['audio-conferencing', ['ENTERPRISEPACK', 'MCOMEETADV']],
      ['custom', ['MCOEV', 'ENTERPRISEPACK']],
    ]);
  });

  it('normalises usage location to upper case', () => {
    const [v] = validateRows([row('a@c.com', { usageLocation: ' gb ' })], options);
    expect(v?.kind === 'request' && v.request.usageLocation).toBe('GB');
  });
});

describe('planning against the tenant', () => {
  it('plans only the SKUs still missing, sets usage location when the user has none, polls when a calling plan is in the row', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: null, skus: ['ENTERPRISEPACK'] } });
    const [p] = plan([row('a@c.com', { usageLocation: 'US' })], tenant);
    expect(p).toMatchObject({
      kind: 'assign',
      userId: 'id-1',
      addSkuIds: [skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')],
      setUsageLocation: 'US',
      pollTeams: true,
      advisories: ['next_step_phone_number'],
    });
  });

  it('uses the configured default usage location, and keeps an existing different one with an advisory', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': {}, 'b@c.com': { usageLocation: 'CA' } });
    const [a, b] = plan([row('a@c.com'), row('b@c.com', { usageLocation: 'US' })], tenant, {
      defaultUsageLocation: 'GB',
    });
    expect(a).toMatchObject({ kind: 'assign', setUsageLocation: 'GB' });
    expect(b).toMatchObject({ kind: 'assign', setUsageLocation: null });
    expect(b?.kind === 'assign' && b.advisories).toContain('usage_location_kept');
  });

  it('with usage locations not set by this deployment, never plans a PATCH: rows needing one fail usage_location_missing saying why', () => {
    const tenant = snapshot(ALL_SKUS, {
      'a@c.com': { usageLocation: null },
      'b@c.com': { usageLocation: 'CA' },
      'c@c.com': { usageLocation: null, skus: ['ENTERPRISEPACK', 'MCOEV'] },
    });
    const rows = [
      row('a@c.com', { usageLocation: 'US' }),
      row('b@c.com', { usageLocation: 'US' }),
      row('c@c.com', { profile: 'phone-system-only' }),
    ];
    const [a, b, c] = planBatch(validateRows(rows, options), tenant, { setUsageLocation: false });
    expect(a).toMatchObject({ kind: 'failed', reason: 'usage_location_missing' });
    expect(a?.kind === 'failed' && a.message).toBe(
      'row 1: the user has no usage location, and this deployment does not set usage locations (DIALTONE_SET_USAGE_LOCATION=false); set it on the user in Entra ID, then send the row again',
    );
    expect(b).toMatchObject({ kind: 'assign', setUsageLocation: null });
    expect(c).toMatchObject({ kind: 'assign', setUsageLocation: null, addSkuIds: [] });
  });

  it('plans nothing to add for a user who already holds every SKU (already licensed)', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US', skus: ['ENTERPRISEPACK', 'MCOEV'] } });
    expect(plan([row('a@c.com', { profile: 'phone-system-only' })], tenant)[0]).toMatchObject({
      kind: 'assign',
      addSkuIds: [],
      pollTeams: false,
    });
  });

  it('fails user_not_found for a UPN the tenant does not have', () => {
    expect(reasons(plan([row('ghost@c.com')]))).toEqual(['failed:user_not_found']);
  });

  it('fails usage_location_missing when neither user, row nor configuration gives one', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': {} });
    expect(reasons(plan([row('a@c.com')], tenant))).toEqual(['failed:usage_location_missing']);
  });

  it.each([
    [
      { format: 'csv' as const, usageLocationColumn: 'Usage location' },
      /^row 1 \(line 2\): the user has no usage location and the "Usage location" cell is blank; fill in/,
    ],
    [
      { format: 'csv' as const },
      /^row 1 \(line 2\): .* the file has no usage location column; add a "Usage location" column/,
    ],
    [
      { format: 'json' as const },
      /^row 1 \(line 2\): .* add "usageLocation" \(a two-letter country code\) to the user/,
    ],
    [
      { format: 'upn-list' as const },
      /^row 1 \(line 2\): .* a list of UPNs cannot give one; set it on the user in the Microsoft 365 admin center/,
    ],
  ])('says what to fix for usage_location_missing in the words of the input (%j)', (input, message) => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': {} });
    const [p] = planBatch(validateRows([row1('a@c.com', { line: 2, displayName: 'Zoë' })], options), tenant, { input });
    expect(p).toMatchObject({
      kind: 'failed',
      reason: 'usage_location_missing',
      line: 2,
      displayName: 'Zoë',
      message: expect.stringMatching(message),
    });
    expect(p?.kind === 'failed' && p.message).toMatch(/DIALTONE_DEFAULT_USAGE_LOCATION$/);
  });

  it('needs no usage location when nothing is missing', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': { skus: ['ENTERPRISEPACK', 'MCOEV'] } });
    expect(reasons(plan([row('a@c.com', { profile: 'phone-system-only' })], tenant))).toEqual(['assign']);
  });

  it('rejects unknown_sku for a part number the tenant has no subscription for, naming it', () => {
    const tenant = snapshot({ ENTERPRISEPACK: 5, MCOEV: 5 }, { 'a@c.com': { usageLocation: 'US' } });
    const [p] = plan([row('a@c.com')], tenant);
    expect(p).toMatchObject({ kind: 'rejected', reason: 'unknown_sku' });
    expect(p?.kind === 'rejected' && p.message).toContain('MCOPSTN1');
  });

  it('rejects a calling plan for a hybrid user, suggesting phone-system-only, and allows Phone System alone', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US' }, 'b@c.com': { usageLocation: 'US' } });
    const planned = plan(
      [
        row('a@c.com', { onPremisesPstn: true }),
        row('b@c.com', { onPremisesPstn: true, profile: 'phone-system-only' }),
      ],
      tenant,
    );
    expect(reasons(planned)).toEqual(['rejected:calling_plan_not_allowed_hybrid', 'assign']);
    expect(planned[0]?.kind === 'rejected' && planned[0].message).toContain('phone-system-only');
  });

  it('rejects MCOPSTN5 and MCOPSTN6 for US users, by the usage location that will be in force', () => {
    const seats = { ...ALL_SKUS, MCOPSTN5: 10, MCOPSTN6: 10 };
    const tenant = snapshot(seats, {
      'us@c.com': { usageLocation: 'US' },
      'new@c.com': {},
      'gb@c.com': { usageLocation: 'GB' },
      'kept@c.com': { usageLocation: 'US' },
    });
    const planned = plan(
      [
        row('us@c.com', { skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN_5'] }),
        row('new@c.com', { skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN6'], usageLocation: 'US' }),
        row('gb@c.com', { skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN5'] }),
        row('kept@c.com', { skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN5'], usageLocation: 'GB' }),
      ],
      tenant,
    );
    expect(reasons(planned)).toEqual([
      'rejected:plan_not_available_in_country',
      'rejected:plan_not_available_in_country',
      'assign',
      'rejected:plan_not_available_in_country',
    ]);
  });

  it('rejects a calling plan without Phone System, unless the row or the user already has it (E5 carries it)', () => {
    const tenant = snapshot(ALL_SKUS, {
      'a@c.com': { usageLocation: 'US' },
      'b@c.com': { usageLocation: 'US', skus: ['MCOEV'] },
      'c@c.com': { usageLocation: 'US' },
      'd@c.com': { usageLocation: 'US', skus: ['ENTERPRISEPREMIUM'] },
    });
    const planned = plan(
      [
        row('a@c.com', { skus: ['ENTERPRISEPACK', 'MCOPSTN1'] }),
        row('b@c.com', { skus: ['ENTERPRISEPACK', 'MCOPSTN1'] }),
        row('c@c.com', { profile: 'e5-phone-domestic' }),
        row('d@c.com', { skus: ['MCOPSTN2'] }),
      ],
      tenant,
    );
    expect(reasons(planned)).toEqual(['rejected:missing_prerequisite', 'assign', 'assign', 'assign']);
    expect(planned[0]?.kind === 'rejected' && planned[0].message).toContain('Phone System');
  });

  it('rejects pay-per-minute Audio Conferencing without Communications Credits (MCOPSTNC)', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US' }, 'b@c.com': { usageLocation: 'US' } });
    const planned = plan(
      [
        row('a@c.com', { skus: ['ENTERPRISEPACK', 'MCOMEETACPEA'] }),
        row('b@c.com', { skus: ['ENTERPRISEPACK', 'MCOMEETACPEA', 'MCOPSTNC'] }),
      ],
      tenant,
    );
    expect(reasons(planned)).toEqual(['rejected:missing_prerequisite', 'assign']);
  });

  it('gives seats in input order: users beyond the seats fail insufficient_licenses naming the SKU, the others go ahead', () => {
    const users = Object.fromEntries(['a', 'b', 'c', 'd'].map((u) => [`${u}@c.com`, { usageLocation: 'US' }]));
    const tenant = snapshot({ ENTERPRISEPACK: 10, MCOEV: 10, MCOPSTN1: 2 }, users);
    const planned = plan(
      ['a', 'b', 'c', 'd'].map((u) => row(`${u}@c.com`)),
      tenant,
    );
    expect(reasons(planned)).toEqual([
      'assign',
      'assign',
      'failed:insufficient_licenses',
      'failed:insufficient_licenses',
    ]);
    expect(planned[2]?.kind === 'failed' && planned[2].message).toContain('MCOPSTN1');
  });

  it('takes no seat for a SKU the user already holds, and no seat for a row that failed', () => {
    const tenant = snapshot(
      { ENTERPRISEPACK: 1, MCOEV: 1, MCOPSTN1: 1 },
      {
        'holder@c.com': { usageLocation: 'US', skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'] },
        'ghost-free@c.com': {},
        'new@c.com': { usageLocation: 'US' },
      },
    );
    const planned = plan([row('holder@c.com'), row('ghost@c.com'), row('ghost-free@c.com'), row('new@c.com')], tenant);
    expect(reasons(planned)).toEqual(['assign', 'failed:user_not_found', 'failed:usage_location_missing', 'assign']);
  });

  it('counts enabled plus warning units, minus consumed; suspended SKUs give no seats', () => {
    // subscribedSkus as Graph lists it: warning units (a subscription past its end, still usable) count; consumed
    // units are taken; a Suspended SKU gives no seat whatever its units say.
    const skus = (
      facts: Partial<
        Record<
          'ENTERPRISEPACK' | 'MCOEV' | 'MCOPSTN1',
          { status: string; consumed: number; enabled: number; warning: number; suspended: number }
        >
      >,
    ) =>
      subscribed({ ENTERPRISEPACK: 100, MCOEV: 100, MCOPSTN1: 100 }).map((s) => {
        const f = facts[s.skuPartNumber as 'ENTERPRISEPACK'];
        return f
          ? {
              ...s,
              capabilityStatus: f.status,
              consumedUnits: f.consumed,
              prepaidUnits: { enabled: f.enabled, warning: f.warning, suspended: f.suspended },
            }
          : s;
      });
    const tenantWith = (facts: Parameters<typeof skus>[0]) => {
      const base = snapshot(
        {},
        { 'a@c.com': { usageLocation: 'US' }, 'b@c.com': { usageLocation: 'US' }, 'c@c.com': { usageLocation: 'US' } },
      );
      return { ...base, catalog: resolveTenantCatalog(skus(facts)) };
    };
    const three = () => [row('a@c.com'), row('b@c.com'), row('c@c.com')];
    // 1 enabled + 2 warning - 1 consumed = 2 seats: the third user in input order fails, naming the SKU.
    const warning = plan(
      three(),
      tenantWith({ MCOPSTN1: { status: 'Warning', consumed: 1, enabled: 1, warning: 2, suspended: 0 } }),
    );
    expect(reasons(warning)).toEqual(['assign', 'assign', 'failed:insufficient_licenses']);
    expect(warning[2]?.kind === 'failed' && warning[2].message).toContain('MCOPSTN1');
    // Without the warning units there would be none: enabled 3, consumed 3.
    expect(
      reasons(
        plan(
          three(),
          tenantWith({ MCOPSTN1: { status: 'Enabled', consumed: 3, enabled: 3, warning: 0, suspended: 0 } }),
        ),
      ),
    ).toEqual(['failed:insufficient_licenses', 'failed:insufficient_licenses', 'failed:insufficient_licenses']);
    // Suspended: 50 enabled units, none consumed, still no seat.
    expect(
      reasons(
        plan(
          three(),
          tenantWith({ MCOEV: { status: 'Suspended', consumed: 0, enabled: 50, warning: 0, suspended: 50 } }),
        ),
      ),
    ).toEqual(['failed:insufficient_licenses', 'failed:insufficient_licenses', 'failed:insufficient_licenses']);
  });

  it('records advisories: E5 without Communications Credits, Audio Conferencing provider switch, phone number next', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US' }, 'b@c.com': { usageLocation: 'US' } });
    const [a, b] = plan(
      [row('a@c.com', { profile: 'e5-phone-domestic' }), row('b@c.com', { profile: 'audio-conferencing' })],
      tenant,
    );
    expect(a?.kind === 'assign' && a.advisories).toEqual([
      'communications_credits_recommended',
      'audio_conferencing_provider_switched',
      'next_step_phone_number',
    ]);
    expect(b?.kind === 'assign' && b.advisories).toEqual(['audio_conferencing_provider_switched']);
  });

  it('keeps rejected rows from validation in place and in order', () => {
    const tenant = snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US' } });
    expect(plan([row('bad'), row('a@c.com'), row('A@c.com')], tenant).map((p) => p.row)).toEqual([1, 2, 3]);
  });
});
