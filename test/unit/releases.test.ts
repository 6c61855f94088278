// What a leaver gives back (docs/leavers-and-movers.md): only the phone licences of the row's profile held directly,
// never a base licence, never a licence a group gives (named), never one a kept licence depends on; nothing for a
// rejected row; a leave row for a user dialtone never licensed works the same way.
import type { InputRow } from '../../shared/domain/input';
import type { LicenceAssignment } from '../../shared/domain/holdings';
import {
  planBatch,
  validateRows,
  type PlanOptions,
  type PlannedRow,
  type TenantSnapshot,
} from '../../shared/domain/planning';
import { plannedWrites, type PlannedAssignment } from '../../shared/domain/batch';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { chooseReleases, isPhoneLicence, KEPT_FOR_NUMBER } from '../../shared/domain/releases';
import { DEFAULT_SCHEDULE } from '../../shared/domain/schedule';
import { resolveTenantCatalog } from '../../shared/domain/catalog';
import { ALL_SKUS, skuIdOf, snapshot, subscribed } from '../support/tenant';

const options = { profiles: BUILT_IN_PROFILES, defaultProfile: 'phone-domestic' };
const leave = (upn: string, extra: Partial<InputRow> = {}): InputRow => ({
  row: 1,
  userPrincipalName: upn,
  action: 'leave',
  ...extra,
});
const GROUP = '0d6f5c1a-8d4e-4a39-9a51-2b3f2f9c7e10';

/** A tenant whose one user holds `direct` part numbers directly and `viaGroup` through GROUP. */
function tenantWith(direct: string[], viaGroup: string[] = [], usageLocation = 'US'): TenantSnapshot {
  const base = snapshot(ALL_SKUS, { 'leaver@c.com': { usageLocation, skus: [...direct, ...viaGroup] } });
  const user = base.users.get('leaver@c.com')!;
  const state = (part: string, group: string | null): LicenceAssignment => ({
    skuId: skuIdOf(part),
    assignedByGroup: group,
    disabledPlanIds: [],
    state: 'Active',
    error: null,
  });
  const assignments = [...direct.map((p) => state(p, null)), ...viaGroup.map((p) => state(p, GROUP))];
  return { ...base, users: new Map([['leaver@c.com', { ...user, skuIds: [...new Set(user.skuIds)], assignments }]]) };
}

function plan(rows: InputRow[], tenant: TenantSnapshot, planOptions: PlanOptions = {}): PlannedRow[] {
  return planBatch(validateRows(rows, options), tenant, planOptions);
}

describe('a leaver', () => {
  it('gives back the directly held phone licences of the default profile and keeps the base licence', () => {
    const [p] = plan([leave('leaver@c.com')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']));
    expect(p).toMatchObject({
      kind: 'assign',
      profile: 'phone-domestic',
      addSkuIds: [],
      pollTeams: false,
      release: { removeSkus: ['MCOEV', 'MCOPSTN1'], removeSkuIds: [skuIdOf('MCOEV'), skuIdOf('MCOPSTN1')], kept: [] },
    });
    expect(p!.kind === 'assign' && p!.number).toBeUndefined();
  });

  it('gives back Audio Conferencing and Communications Credits of its own profile, and nothing outside it', () => {
    const [p] = plan(
      [leave('leaver@c.com', { skus: ['MCOMEETADV', 'MCOPSTNC', 'ENTERPRISEPACK'] })],
      tenantWith(['ENTERPRISEPACK', 'MCOMEETADV', 'MCOPSTNC', 'MCOEV']),
    );
    expect(p).toMatchObject({ release: { removeSkus: ['MCOMEETADV', 'MCOPSTNC'], kept: [] } });
  });

  it('never touches a licence a group gives, naming the group, and keeps Phone System a group calling plan needs', () => {
    const [p] = plan([leave('leaver@c.com')], tenantWith(['ENTERPRISEPACK', 'MCOEV'], ['MCOPSTN1']));
    expect(p).toMatchObject({
      release: {
        removeSkus: [],
        kept: [
          { partNumber: 'MCOPSTN1', groups: [GROUP] },
          { partNumber: 'MCOEV', groups: [], neededBy: 'MCOPSTN1' },
        ],
      },
    });
  });

  it('keeps a licence held both directly and through a group (its seat would not come back)', () => {
    const [p] = plan([leave('leaver@c.com')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'], ['MCOEV']));
    expect(p).toMatchObject({ release: { kept: [{ partNumber: 'MCOEV', groups: [GROUP] }] } });
    // With MCOEV kept, the calling plan that depends on it may still go.
    expect(p).toMatchObject({ release: { removeSkus: ['MCOPSTN1'] } });
  });

  it('works for a user dialtone never licensed, and only on phone licences: an E5 base stays', () => {
    const [p] = plan(
      [leave('leaver@c.com', { profile: 'e5-phone-domestic' })],
      tenantWith(['ENTERPRISEPREMIUM', 'MCOPSTN1']),
    );
    expect(p).toMatchObject({ release: { removeSkus: ['MCOPSTN1'], kept: [] } });
    expect(isPhoneLicence(snapshot(ALL_SKUS, {}).catalog.byPartNumber('ENTERPRISEPREMIUM')!)).toBe(false);
  });

  it('has nothing to give back when the user holds none of the phone licences', () => {
    const [p] = plan([leave('leaver@c.com')], tenantWith(['ENTERPRISEPACK']));
    expect(p).toMatchObject({ kind: 'assign', release: { removeSkus: [], kept: [] } });
  });

  it('fails user_not_found for an account that is gone, saying its licences went with it', () => {
    const [p] = plan([leave('gone@c.com')], tenantWith([]));
    expect(p).toMatchObject({ kind: 'failed', reason: 'user_not_found' });
    expect(p!.kind === 'failed' && p!.message).toMatch(/licences go back with it/);
  });

  it('is planned with nothing to remove when its row is rejected (a bad end date, a start date on a leave row)', () => {
    const tenant = tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
    const schedule = {
      settings: { timeZone: 'UTC', leadDays: 1, horizonDays: 120 },
      now: new Date('2026-12-07T00:00:00Z'),
    };
    for (const extra of [{ endDate: 'tomorrow' }, { startDate: '2026-12-08' }]) {
      const planned = planBatch(validateRows([leave('leaver@c.com', extra)], { ...options, schedule }), tenant);
      expect(planned).toEqual([expect.objectContaining({ kind: 'rejected' })]);
      expect('release' in planned[0]!).toBe(false);
    }
  });

  it('chooses from the SKUs it is given, whatever their order', () => {
    const tenant = tenantWith(['MCOPSTN1', 'MCOEV', 'ENTERPRISEPACK']);
    const skus = ['MCOPSTN1', 'ENTERPRISEPACK', 'MCOEV'].map((p) => tenant.catalog.byPartNumber(p)!);
    expect(
      chooseReleases(tenant.users.get('leaver@c.com')!, skus, tenant.catalog).remove.map((s) => s.partNumber),
    ).toEqual(['MCOPSTN1', 'MCOEV']);
  });
});

describe('a mover', () => {
  const move = (usageLocation: string | undefined, profile = 'phone-domestic'): InputRow => ({
    row: 1,
    userPrincipalName: 'leaver@c.com',
    action: 'move',
    profile,
    ...(usageLocation ? { usageLocation } : {}),
  });

  it('is rejected before any write when the calling plan is not sold in its new country, saying nothing was changed', () => {
    const [p] = plan([move('BR')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']));
    expect(p).toMatchObject({ kind: 'rejected', reason: 'plan_not_available_in_country' });
    expect(p!.kind === 'rejected' && p!.message).toMatch(
      /^row 1: MCOPSTN1 is not sold for usage location BR \(Microsoft sells no Calling Plan there\); nothing was changed/,
    );
  });

  it('needs its new country', () => {
    expect(plan([move(undefined)], tenantWith(['MCOEV']))[0]).toMatchObject({
      kind: 'rejected',
      reason: 'invalid_field',
    });
  });

  const pool: PlanOptions = { phoneNumbers: { policy: 'pool', byProfile: new Map() } };

  it('US to GB keeping its domestic calling plan: buys nothing, removes nothing, sets GB and takes a GB pool number', () => {
    const [p] = plan([move('GB')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']), pool);
    expect(p).toMatchObject({
      kind: 'assign',
      addSkuIds: [],
      addedSkus: [],
      setUsageLocation: 'GB',
      pollTeams: true,
      number: { numberType: 'callingPlan', isoCountryCode: 'GB' },
      move: { from: 'US', to: 'GB', removeSkuIds: [], removeSkus: [], kept: [] },
    });
  });

  it('swaps a calling plan the new country does not sell for the profile’s, in one change, taking one seat', () => {
    const [p] = plan([move('US')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN6'], [], 'GB'));
    expect(p).toMatchObject({
      addSkuIds: [skuIdOf('MCOPSTN1')],
      addedSkus: ['MCOPSTN1'],
      setUsageLocation: 'US',
      move: { from: 'GB', to: 'US', removeSkuIds: [skuIdOf('MCOPSTN6')], removeSkus: ['MCOPSTN6'], kept: [] },
    });
  });

  it('keeps a calling plan the new country sells that its profile does not name, when it covers the need: nothing bought', () => {
    // The international plan gives domestic calling too: the domestic profile's need is met, so MCOPSTN1 is not bought.
    const [p] = plan([move('GB')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN2']));
    expect(p).toMatchObject({ kind: 'assign', addSkuIds: [], addedSkus: [], setUsageLocation: 'GB' });
    expect(p!.kind === 'assign' && p!.move).toMatchObject({ removeSkuIds: [], removeSkus: [], kept: [] });
    expect(p!.kind === 'assign' && p!.note).toMatch(/MCOPSTN1 not bought: already covered by MCOPSTN2/);
    // With the international plan in its profile it keeps it and buys nothing as well.
    const [same] = plan([move('GB', 'phone-international')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN2']));
    expect(same).toMatchObject({ addedSkus: [], move: { removeSkus: [] } });
  });

  it('never removes a licence that gives Phone System or Audio Conferencing beside its calling plan, nor buys what it gives', () => {
    for (const bundle of ['MCOTEAMS_ESSENTIALS', 'BUSINESS_VOICE_MED2']) {
      const [p] = plan([move('GB')], tenantWith(['ENTERPRISEPACK', bundle]));
      expect(p).toMatchObject({ kind: 'assign', addedSkus: [], move: { removeSkus: [], kept: [] } });
    }
  });

  it('never removes a calling plan a group gives: the row says which group, and what the user lacks is bought', () => {
    const [p] = plan([move('US')], tenantWith(['ENTERPRISEPACK', 'MCOEV'], ['MCOPSTN6'], 'GB'));
    expect(p).toMatchObject({
      addedSkus: ['MCOPSTN1'],
      move: { removeSkus: [], kept: [{ partNumber: 'MCOPSTN6', groups: [GROUP] }] },
    });
    expect(p!.kind === 'assign' && p!.note).toBe(`kept MCOPSTN6 (held through group ${GROUP})`);
  });

  it('keeps the calling plans when its row brings none (Teams would take the number with the last one)', () => {
    const [p] = plan([move('BR', 'phone-system-only')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']));
    expect(p).toMatchObject({
      addedSkus: [],
      pollTeams: false,
      move: { to: 'BR', removeSkus: [], kept: [{ partNumber: 'MCOPSTN1', groups: [], neededBy: KEPT_FOR_NUMBER }] },
    });
  });

  it('to the country the user is in already: no usage location write, nothing bought again, the number step still run as a mover’s', () => {
    const [p] = plan([move('US')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']), pool);
    expect(p).toMatchObject({
      kind: 'assign',
      addedSkus: [],
      setUsageLocation: null,
      number: { numberType: 'callingPlan', isoCountryCode: 'US' },
      move: { from: 'US', to: 'US', removeSkuIds: [], removeSkus: [], kept: [] },
    });
    expect(plannedWrites(p as PlannedAssignment)).toBe(0);
  });

  it('to the country the user is in already still swaps a calling plan that country does not sell', () => {
    // An HR system that syncs the usage location before it sends the move row: the user is in US with MCOPSTN6.
    const [p] = plan([move('US')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN6'], [], 'US'), pool);
    expect(p).toMatchObject({
      kind: 'assign',
      addSkuIds: [skuIdOf('MCOPSTN1')],
      addedSkus: ['MCOPSTN1'],
      setUsageLocation: null,
      number: { numberType: 'callingPlan', isoCountryCode: 'US' },
      move: { from: 'US', to: 'US', removeSkuIds: [skuIdOf('MCOPSTN6')], removeSkus: ['MCOPSTN6'], kept: [] },
    });
    expect(plannedWrites(p as PlannedAssignment)).toBe(1);
    // It needs no usage location write, so a deployment that never sets one can still run it.
    expect(
      plan([move('US')], tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN6'], [], 'US'), { setUsageLocation: false })[0],
    ).toMatchObject({ kind: 'assign', setUsageLocation: null, move: { removeSkus: ['MCOPSTN6'] } });
  });

  it('fails before any write where the deployment does not set usage locations, or a seat is missing', () => {
    expect(plan([move('GB')], tenantWith(['MCOEV', 'ENTERPRISEPACK']), { setUsageLocation: false })[0]).toMatchObject({
      kind: 'failed',
      reason: 'usage_location_missing',
    });
    const full = tenantWith(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN6'], [], 'GB');
    const noSeat = {
      ...full,
      catalog: resolveTenantCatalog(subscribed({ ...ALL_SKUS, MCOPSTN1: 0 })),
    };
    expect(plan([move('US')], noSeat)[0]).toMatchObject({ kind: 'failed', reason: 'insufficient_licenses' });
  });

  it('moves at the start of its start date, not DIALTONE_LEAD_DAYS before as a hire is licensed', () => {
    const schedule = { settings: { ...DEFAULT_SCHEDULE, leadDays: 3 }, now: new Date('2026-12-07T09:00:00Z') };
    const due = (action: InputRow['action']) => {
      const [v] = validateRows([{ ...move('GB'), startDate: '2026-12-20', ...(action ? { action } : {}) }], {
        ...options,
        schedule,
      });
      return v!.kind === 'request' ? v!.request.scheduledFor : v!.message;
    };
    expect(due('move')).toBe('2026-12-20T00:00:00.000Z');
    expect(due('join')).toBe('2026-12-17T00:00:00.000Z');
  });
});
