// What a user really holds. Graph's assignedLicenses lists a SKU even when the service plan dialtone needs from it is
// switched off for the user (disabledPlans), when it comes only from a group, or when its plan is suspended; a SKU
// counts as held only when the plans that matter are on. Also the documented service-plan dependencies (an add-on
// plan needs a base plan), which planning checks before any write and the tenant simulator enforces.
// Sources: Graph resources user.md (assignedLicenses, assignedPlans, licenseAssignmentStates), assignedlicense.md,
// assignedplan.md, licenseassignmentstate.md; Entra licensing-groups-resolve-problems.md and licensing-group-advanced.md.
import { capabilitiesOf, needsOf, SERVICE_PLAN_IDS, type Need, type TenantSku } from './catalog';

/** One entry of licenseAssignmentStates: a direct assignment (assignedByGroup null) or one inherited from a group. */
export interface LicenceAssignment {
  readonly skuId: string;
  readonly assignedByGroup: string | null;
  /** servicePlanIds switched off in this assignment. */
  readonly disabledPlanIds: readonly string[];
  /** Active, ActiveWithError, Disabled or Error. */
  readonly state: string;
  /** CountViolation, MutuallyExclusiveViolation, DependencyViolation, ProhibitedInUsageLocationViolation, UniquenessViolation, Other; null when none. */
  readonly error: string | null;
}

/** One entry of assignedLicenses: the SKU as the user effectively has it. */
export interface AssignedLicence {
  readonly skuId: string;
  readonly disabledPlanIds: readonly string[];
}

/** A SKU to add, or to add again with another set of disabled service plans (how assignLicense changes them). */
export interface LicenceAddition {
  readonly skuId: string;
  readonly disabledPlanIds: readonly string[];
}

/** Service plans (ids) to switch on in a SKU the user holds directly. */
export interface PlanEnablement {
  readonly skuId: string;
  readonly planIds: readonly string[];
}

/**
 * The assignLicense entry that switches `e.planIds` on and keeps every other plan the user has switched off, or
 * null when they are on already (or the user no longer holds the SKU: nothing to switch on).
 */
export function enablementFor(user: UserHoldings, e: PlanEnablement): LicenceAddition | null {
  if (!user.skuIds.some((s) => s.toLowerCase() === e.skuId.toLowerCase())) return null;
  const current = user.licences?.find((l) => l.skuId.toLowerCase() === e.skuId.toLowerCase())?.disabledPlanIds ?? [];
  const on = new Set(e.planIds.map((p) => p.toLowerCase()));
  if (!current.some((p) => on.has(p.toLowerCase()))) return null;
  return { skuId: e.skuId, disabledPlanIds: current.filter((p) => !on.has(p.toLowerCase())) };
}

/** One entry of assignedPlans. */
export interface AssignedPlan {
  readonly servicePlanId: string;
  /** Enabled, Warning, Suspended, Deleted or LockedOut. */
  readonly capabilityStatus: string;
}

/** What Graph says the user holds; every field but skuIds is optional so that a bare list of skuIds still plans. */
export interface UserHoldings {
  /** assignedLicenses[].skuId */
  readonly skuIds: readonly string[];
  readonly licences?: readonly AssignedLicence[];
  readonly assignments?: readonly LicenceAssignment[];
  readonly plans?: readonly AssignedPlan[];
}

/** Service plan name → servicePlanId, as the tenant's subscribedSkus lists them. */
export type PlanIds = ReadonlyMap<string, string>;

export function planIdOf(name: string, planIds?: PlanIds): string | undefined {
  return planIds?.get(name.toUpperCase()) ?? SERVICE_PLAN_IDS[name.toUpperCase()];
}

/** A group assignment of the SKU that Graph records in an error state. */
export interface GroupLicenceError {
  readonly skuId: string;
  readonly groupId: string;
  readonly state: string;
  readonly error: string;
}

export type Holding =
  | { readonly kind: 'missing'; readonly groupErrors: readonly GroupLicenceError[] }
  | { readonly kind: 'held'; readonly byGroupOnly: boolean; readonly groupErrors: readonly GroupLicenceError[] }
  /** Held, but plans the row needs are switched off for the user. */
  | {
      readonly kind: 'disabled';
      readonly plans: readonly string[];
      readonly planIds: readonly string[];
      readonly direct: boolean;
      readonly groups: readonly string[];
    }
  /** Held, but plans the row needs are suspended, locked out or deleted (a lapsed subscription). */
  | { readonly kind: 'suspended'; readonly plans: readonly string[]; readonly status: string };

/**
 * The service plans of a SKU that a phone line needs switched on: those that give a Teams capability. Skype for
 * Business Online (MCOSTANDARD) is left out: tenants often switch it off on purpose, and TEAMS1 serves as the base.
 */
export function neededPlans(sku: Pick<TenantSku, 'servicePlans'>): string[] {
  return sku.servicePlans
    .map((p) => p.toUpperCase())
    .filter((p) => p !== 'MCOSTANDARD' && capabilitiesOf([p]).size > 0);
}

const LIVE_PLAN_STATUS = new Set(['enabled', 'warning']);

export function holdingOf(
  user: UserHoldings,
  sku: Pick<TenantSku, 'skuId' | 'servicePlans'>,
  planIds?: PlanIds,
): Holding {
  const id = sku.skuId.toLowerCase();
  const assignments = (user.assignments ?? []).filter((a) => a.skuId.toLowerCase() === id);
  const groupErrors = assignments
    .filter((a) => a.assignedByGroup !== null && (a.state === 'Error' || a.state === 'ActiveWithError'))
    .map((a) => ({ skuId: sku.skuId, groupId: a.assignedByGroup!, state: a.state, error: a.error ?? 'Other' }));
  if (!user.skuIds.some((s) => s.toLowerCase() === id)) return { kind: 'missing', groupErrors };

  const licence = user.licences?.find((l) => l.skuId.toLowerCase() === id);
  const disabled = new Set((licence?.disabledPlanIds ?? []).map((p) => p.toLowerCase()));
  const needed = neededPlans(sku);
  const off = needed.filter((p) => disabled.has((planIdOf(p, planIds) ?? '').toLowerCase()));
  // Without licenseAssignmentStates (not $select-ed) a licence is taken to be direct.
  const direct = assignments.length === 0 || assignments.some((a) => a.assignedByGroup === null && a.state !== 'Error');
  const groups = assignments
    .filter((a) => a.assignedByGroup !== null && a.state !== 'Error')
    .map((a) => a.assignedByGroup!);
  if (off.length > 0) {
    return { kind: 'disabled', plans: off, planIds: off.map((p) => planIdOf(p, planIds)!), direct, groups };
  }
  for (const p of needed) {
    const pid = planIdOf(p, planIds)?.toLowerCase();
    const entries = (user.plans ?? []).filter((e) => e.servicePlanId.toLowerCase() === pid);
    if (entries.length > 0 && !entries.some((e) => LIVE_PLAN_STATUS.has(e.capabilityStatus.toLowerCase()))) {
      return { kind: 'suspended', plans: [p], status: entries[0]!.capabilityStatus };
    }
  }
  return { kind: 'held', byGroupOnly: !direct, groupErrors };
}

/** Names of the service plans the user has switched on, over every SKU the user holds (for prerequisite checks). */
export function enabledPlanNames(
  user: UserHoldings,
  skuOf: (skuId: string) => Pick<TenantSku, 'servicePlans'> | undefined,
  planIds?: PlanIds,
): Set<string> {
  const on = new Set<string>();
  for (const skuId of user.skuIds) {
    const sku = skuOf(skuId);
    if (!sku) continue;
    const licence = user.licences?.find((l) => l.skuId.toLowerCase() === skuId.toLowerCase());
    const disabled = new Set((licence?.disabledPlanIds ?? []).map((p) => p.toLowerCase()));
    for (const p of sku.servicePlans)
      if (!disabled.has((planIdOf(p, planIds) ?? '').toLowerCase())) on.add(p.toUpperCase());
  }
  return on;
}

/** Assignment states in which a licence gives its plans (licenseassignmentstate.md: Active, ActiveWithError, Disabled, Error). */
const GIVING_STATES = new Set(['active', 'activewitherror']);

/**
 * The needs the user's licences meet now, each with the part numbers that meet it: over every SKU the user holds,
 * directly or through a group, leaving out a licence whose every assignment is in the Error or Disabled state, a
 * plan switched off for the user (disabledPlans), and a plan whose assignedPlans entries are all suspended, locked
 * out or deleted.
 */
export function metNeeds(
  user: UserHoldings,
  skuOf: (skuId: string) => Pick<TenantSku, 'partNumber' | 'servicePlans'> | undefined,
  planIds?: PlanIds,
): Map<Need, string[]> {
  const met = new Map<Need, string[]>();
  for (const skuId of user.skuIds) {
    const sku = skuOf(skuId);
    if (!sku) continue;
    const id = skuId.toLowerCase();
    const states = (user.assignments ?? []).filter((a) => a.skuId.toLowerCase() === id);
    if (states.length > 0 && !states.some((a) => GIVING_STATES.has(a.state.toLowerCase()))) continue;
    const licence = user.licences?.find((l) => l.skuId.toLowerCase() === id);
    const disabled = new Set((licence?.disabledPlanIds ?? []).map((p) => p.toLowerCase()));
    for (const plan of sku.servicePlans) {
      const pid = (planIdOf(plan, planIds) ?? '').toLowerCase();
      if (pid && disabled.has(pid)) continue;
      const entries = (user.plans ?? []).filter((e) => e.servicePlanId.toLowerCase() === pid);
      if (entries.length > 0 && !entries.some((e) => LIVE_PLAN_STATUS.has(e.capabilityStatus.toLowerCase()))) continue;
      for (const need of needsOf([plan])) {
        const by = met.get(need) ?? [];
        if (!by.includes(sku.partNumber)) by.push(sku.partNumber);
        met.set(need, by);
      }
    }
  }
  return met;
}

/**
 * Service plans that need another plan in the user's licences: [plan, needs any one of]. Entra documents that Audio
 * Conferencing and Phone System depend on the Teams / Skype for Business Online plans of a base licence
 * (licensing-groups-resolve-problems.md: "Audio Conferencing is dependent on Skype for Business"); Teams' licensing
 * pages make Calling Plans an add-on of Phone System and pay-per-minute conferencing one of Communications Credits.
 */
export const SERVICE_PLAN_DEPENDENCIES: readonly (readonly [string, readonly string[]])[] = [
  ['MCOEV', ['MCOSTANDARD', 'TEAMS1']],
  ['MCOMEETADV', ['MCOSTANDARD', 'TEAMS1']],
  ['MCOPSTN1', ['MCOEV']],
  ['MCOPSTN2', ['MCOEV']],
  ['MCOPSTN5', ['MCOEV']],
  ['MCOPSTN6', ['MCOEV']],
  ['MCOMEETACPEA', ['MCOPSTNC']],
];

export interface UnmetDependency {
  readonly plan: string;
  readonly needsOneOf: readonly string[];
}

/** The dependencies of `adding` that `all` (the plans the user will hold, `adding` included) does not meet. */
export function unmetDependencies(
  adding: Iterable<string>,
  all: ReadonlySet<string>,
  dependencies: readonly (readonly [string, readonly string[]])[] = SERVICE_PLAN_DEPENDENCIES,
): UnmetDependency[] {
  const out: UnmetDependency[] = [];
  for (const plan of new Set([...adding].map((p) => p.toUpperCase()))) {
    for (const [p, needs] of dependencies) {
      if (p.toUpperCase() === plan && !needs.some((n) => all.has(n.toUpperCase())))
        out.push({ plan, needsOneOf: needs });
    }
  }
  return out;
}
