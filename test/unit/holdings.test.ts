// What a user really holds decides what planning writes: disabled plans, group licences, suspended plans and the
// documented service-plan dependencies.
import { SERVICE_PLAN_IDS } from '../../shared/domain/catalog';
import { enablementFor, unmetDependencies, type LicenceAssignment } from '../../shared/domain/holdings';
import {
  planBatch,
  validateRows,
  type AssignmentPlan,
  type PlannedRow,
  type TenantSnapshot,
  type TenantUserState,
} from '../../shared/domain/planning';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { ALL_SKUS, skuIdOf, snapshot } from '../support/tenant';

const MCOEV = SERVICE_PLAN_IDS['MCOEV']!;
const MCOSTANDARD = SERVICE_PLAN_IDS['MCOSTANDARD']!;
const TEAMS1 = SERVICE_PLAN_IDS['TEAMS1']!;
const E5 = skuIdOf('ENTERPRISEPREMIUM');
const GROUP = '0c9d4a1e-6f43-4b2a-9d77-1f0e4b0c2a11';

/** A tenant with one user whose licences are given as Graph returns them. */
function tenantWith(
  user: Omit<TenantUserState, 'id' | 'usageLocation'> & { usageLocation?: string | null },
): TenantSnapshot {
  const base = snapshot(ALL_SKUS, {});
  const users = new Map([['a@c.com', { id: 'id-a', usageLocation: 'US', ...user }]]);
  return { ...base, users };
}

function planOne(tenant: TenantSnapshot, extra: { profile?: string; skus?: string[] } = {}): PlannedRow {
  const [v] = validateRows([{ row: 1, userPrincipalName: 'a@c.com', ...extra }], {
    profiles: BUILT_IN_PROFILES,
    defaultProfile: 'phone-domestic',
  });
  return planBatch([v!], tenant)[0]!;
}

function assignment(p: PlannedRow): AssignmentPlan {
  if (p.kind !== 'assign') throw new Error(`expected an assignment, got ${p.kind}: ${p.message}`);
  return p;
}

const direct = (skuId: string, disabled: string[] = []): LicenceAssignment => ({
  skuId,
  assignedByGroup: null,
  disabledPlanIds: disabled,
  state: 'Active',
  error: null,
});
const viaGroup = (
  skuId: string,
  disabled: string[] = [],
  state = 'Active',
  error: string | null = null,
): LicenceAssignment => ({ skuId, assignedByGroup: GROUP, disabledPlanIds: disabled, state, error });

describe('what a user really holds', () => {
  it('switches Phone System on for an E5 user who has it disabled, keeping the other disabled plans, instead of already_licensed', () => {
    const t = tenantWith({
      skuIds: [E5],
      licences: [{ skuId: E5, disabledPlanIds: [MCOEV, MCOSTANDARD] }],
      assignments: [direct(E5, [MCOEV, MCOSTANDARD])],
    });
    const p = assignment(planOne(t, { profile: 'e5-phone-domestic' }));
    expect(p.addSkuIds).toEqual([skuIdOf('MCOPSTN1')]);
    expect(p.enable).toEqual([{ skuId: E5, planIds: [MCOEV] }]);
    expect(p.advisories).toContain('plans_enabled');
    const only = assignment(planOne(t, { skus: ['ENTERPRISEPREMIUM'] }));
    expect([only.addSkuIds, only.enable.length]).toEqual([[], 1]);
  });

  it('builds the assignLicense entry that switches the plan on and keeps the rest switched off; nothing when it is on already', () => {
    const user = { skuIds: [E5], licences: [{ skuId: E5, disabledPlanIds: [MCOEV, MCOSTANDARD] }] };
    expect(enablementFor(user, { skuId: E5, planIds: [MCOEV] })).toEqual({ skuId: E5, disabledPlanIds: [MCOSTANDARD] });
    expect(
      enablementFor(
        { skuIds: [E5], licences: [{ skuId: E5, disabledPlanIds: [MCOSTANDARD] }] },
        { skuId: E5, planIds: [MCOEV] },
      ),
    ).toBeNull();
    expect(enablementFor({ skuIds: [] }, { skuId: E5, planIds: [MCOEV] })).toBeNull();
  });

  it('fails plan_disabled, naming the group, when the plan is switched off in a licence the user has only through a group', () => {
    const t = tenantWith({
      skuIds: [E5],
      licences: [{ skuId: E5, disabledPlanIds: [MCOEV] }],
      assignments: [viaGroup(E5, [MCOEV])],
    });
    const p = planOne(t, { profile: 'e5-phone-domestic' });
    expect(p).toMatchObject({ kind: 'failed', reason: 'plan_disabled' });
    expect(p.kind !== 'assign' && p.message).toMatch(
      new RegExp(`MCOEV is switched off in ENTERPRISEPREMIUM, which the user has only through group ${GROUP}`),
    );
  });

  it("says what Microsoft's group licensing docs give: a direct assignment of the same product (one seat) or a group that enables it", () => {
    const t = tenantWith({
      skuIds: [E5],
      licences: [{ skuId: E5, disabledPlanIds: [MCOEV] }],
      assignments: [viaGroup(E5, [MCOEV])],
    });
    const p = planOne(t, { profile: 'e5-phone-domestic' });
    const message = p.kind !== 'assign' ? p.message : '';
    expect(message).toMatch(
      /a licence inherited from a group cannot be changed on the user\. Assign ENTERPRISEPREMIUM to the user directly as well, with MCOEV switched on \(a direct and a group licence of one product use one seat; DIALTONE_DIRECT_FOR_GROUP_PLANS=true lets dialtone do this\), or add the user to a group whose ENTERPRISEPREMIUM licence switches it on/,
    );
    expect(message).not.toMatch(/switch it on in the group's licence/);
  });

  it('with DIALTONE_DIRECT_FOR_GROUP_PLANS, assigns the group-held product directly with the plan on: no seat bought, the other plans kept off', () => {
    const t = tenantWith({
      skuIds: [E5],
      licences: [{ skuId: E5, disabledPlanIds: [MCOEV, MCOSTANDARD] }],
      assignments: [viaGroup(E5, [MCOEV, MCOSTANDARD])],
    });
    const [v] = validateRows([{ row: 1, userPrincipalName: 'a@c.com', profile: 'e5-phone-domestic' }], {
      profiles: BUILT_IN_PROFILES,
      defaultProfile: 'phone-domestic',
    });
    const p = assignment(planBatch([v!], t, { directForGroupPlans: true })[0]!);
    expect(p.addSkuIds).toEqual([skuIdOf('MCOPSTN1')]);
    expect(p.enable).toEqual([{ skuId: E5, planIds: [MCOEV] }]);
    expect(p.advisories).toEqual(expect.arrayContaining(['plans_enabled', 'direct_beside_group']));
    // What the assign step sends for it: E5 again, directly, with only the other disabled plan off.
    expect(enablementFor(t.users.get('a@c.com')!, p.enable[0]!)).toEqual({ skuId: E5, disabledPlanIds: [MCOSTANDARD] });
  });

  it('counts a licence held only through a group as held, with the licensed_by_group advisory', () => {
    const t = tenantWith({ skuIds: [E5], licences: [{ skuId: E5, disabledPlanIds: [] }], assignments: [viaGroup(E5)] });
    const p = assignment(planOne(t, { skus: ['ENTERPRISEPREMIUM'] }));
    expect([p.addSkuIds, p.enable, p.advisories]).toEqual([
      [],
      [],
      ['communications_credits_recommended', 'licensed_by_group'],
    ]);
  });

  it('assigns directly a SKU whose group assignment is in an error state, and reports the group error', () => {
    const t = tenantWith({ skuIds: [], licences: [], assignments: [viaGroup(E5, [], 'Error', 'CountViolation')] });
    const p = assignment(planOne(t, { skus: ['ENTERPRISEPREMIUM'] }));
    expect(p.addSkuIds).toEqual([E5]);
    expect(p.advisories).toContain('group_licence_error');
    expect(p.note).toBe(`group ${GROUP}'s assignment of ENTERPRISEPREMIUM is in state Error (CountViolation)`);
  });

  it('fails plan_disabled when a needed plan is suspended (a lapsed subscription)', () => {
    const t = tenantWith({
      skuIds: [E5],
      licences: [{ skuId: E5, disabledPlanIds: [] }],
      plans: [
        { servicePlanId: MCOEV, capabilityStatus: 'Suspended' },
        { servicePlanId: TEAMS1, capabilityStatus: 'Enabled' },
      ],
    });
    expect(planOne(t, { skus: ['ENTERPRISEPREMIUM'] })).toMatchObject({
      kind: 'failed',
      reason: 'plan_disabled',
      message: expect.stringMatching(/MCOEV of ENTERPRISEPREMIUM is Suspended/),
    });
  });

  it('plans a bare list of skuIds (no disabled plans read) as direct licences, as before', () => {
    const p = assignment(
      planOne(
        snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US', skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'] } }),
      ),
    );
    expect([p.addSkuIds, p.enable]).toEqual([[], []]);
  });
});

describe('service plan dependencies (Entra: Phone System and Audio Conferencing need a base licence)', () => {
  it('rejects Phone System or Audio Conferencing alone for a user with no base licence, before any write', () => {
    // Phone System is caught first by the catalog's capability rule (Phone System needs Teams); Audio Conferencing
    // by the service-plan dependencies.
    const alone = (sku: string) => planOne(snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US' } }), { skus: [sku] });
    expect(alone('MCOEV')).toMatchObject({
      kind: 'rejected',
      reason: 'missing_prerequisite',
      message: expect.stringMatching(/Phone System .* needs Teams/),
    });
    expect(alone('MCOMEETADV')).toMatchObject({
      kind: 'rejected',
      reason: 'missing_prerequisite',
      message: expect.stringMatching(/service plan MCOMEETADV needs one of the service plans MCOSTANDARD, TEAMS1/),
    });
  });

  it('accepts them for a user whose base licence has Teams switched on, or when the row brings the base', () => {
    expect(
      planOne(snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US', skus: ['ENTERPRISEPACK'] } }), { skus: ['MCOEV'] })
        .kind,
    ).toBe('assign');
    expect(
      planOne(snapshot(ALL_SKUS, { 'a@c.com': { usageLocation: 'US' } }), { skus: ['ENTERPRISEPACK', 'MCOMEETADV'] })
        .kind,
    ).toBe('assign');
  });

  it('does not count a base licence whose Teams and Skype plans are both switched off', () => {
    const E3 = skuIdOf('ENTERPRISEPACK');
    const t = tenantWith({ skuIds: [E3], licences: [{ skuId: E3, disabledPlanIds: [TEAMS1, MCOSTANDARD] }] });
    expect(planOne(t, { skus: ['MCOEV'] })).toMatchObject({ kind: 'rejected', reason: 'missing_prerequisite' });
    expect(planOne(t, { skus: ['MCOMEETADV'] })).toMatchObject({ kind: 'rejected', reason: 'missing_prerequisite' });
  });

  it('reads dependencies as data: each plan needs any one of its list', () => {
    expect(unmetDependencies(['MCOEV'], new Set(['MCOEV']))).toEqual([
      { plan: 'MCOEV', needsOneOf: ['MCOSTANDARD', 'TEAMS1'] },
    ]);
    expect(unmetDependencies(['MCOEV'], new Set(['MCOEV', 'TEAMS1']))).toEqual([]);
    expect(unmetDependencies(['X'], new Set(['X']), [['X', ['Y']]])).toEqual([{ plan: 'X', needsOneOf: ['Y'] }]);
  });
});
