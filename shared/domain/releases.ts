// What a leaver gives back (docs/leavers-and-movers.md): the phone licences of the row's profile (or its own skus)
// that the user holds directly, and the Teams number the user holds. Base licences (suites with Teams) are never
// taken: mailbox and file retention are the tenant's policy, not a phone tool's. Licences the user has through a group
// are never touched (group-based licensing does not let a direct removal change them; Entra's
// licensing-group-advanced.md) and the row says which group holds them. A licence another kept licence depends on is
// kept too (Graph refuses such a removal: user-assignlicense.md, and the dependencies in holdings.ts). Pure: the
// activity that removes applies the same rules to the user as Graph shows it at that moment.
import type { Capability, TenantCatalog, TenantSku } from './catalog';
import { CALLING_PLAN_COUNTRIES } from './countries';
import { enabledPlanNames, SERVICE_PLAN_DEPENDENCIES, type PlanIds, type UserHoldings } from './holdings';

/** The capabilities that make a SKU a phone licence: what a phone line costs beyond the base licence. */
const PHONE_CAPABILITIES: readonly Capability[] = [
  'phoneSystem',
  'callingPlan',
  'audioConferencing',
  'audioConferencingPayPerMinute',
  'communicationsCredits',
];

/** A phone licence: it gives a phone capability and is no base (no Teams, no Office suite in it). */
export function isPhoneLicence(sku: Pick<TenantSku, 'capabilities'>): boolean {
  return (
    PHONE_CAPABILITIES.some((c) => sku.capabilities.has(c)) &&
    !sku.capabilities.has('teams') &&
    !sku.capabilities.has('officeSuite')
  );
}

/** How the user holds one SKU: directly, through groups (their ids), both, or not at all. */
export interface HeldHow {
  readonly direct: boolean;
  readonly groups: readonly string[];
}

export function heldHow(user: UserHoldings, skuId: string): HeldHow {
  const id = skuId.toLowerCase();
  if (!user.skuIds.some((s) => s.toLowerCase() === id)) return { direct: false, groups: [] };
  const states = (user.assignments ?? []).filter((a) => a.skuId.toLowerCase() === id);
  // Without licenseAssignmentStates a licence reads as direct (holdings.ts does the same).
  if (states.length === 0) return { direct: true, groups: [] };
  return {
    direct: states.some((a) => a.assignedByGroup === null),
    groups: [...new Set(states.flatMap((a) => (a.assignedByGroup !== null ? [a.assignedByGroup] : [])))],
  };
}

/** A phone licence of the row that stays with the user, and why. */
export interface KeptLicence {
  readonly partNumber: string;
  /** Groups that give it to the user (empty when kept because a licence the user keeps depends on it). */
  readonly groups: readonly string[];
  /** For one kept because another depends on it: the part number that does. */
  readonly neededBy?: string;
}

export interface LicenceReleaseChoice {
  /** Directly held phone licences to remove, in the row's order. */
  readonly remove: readonly TenantSku[];
  readonly kept: readonly KeptLicence[];
}

/**
 * Which of `rowSkus` to take back from `user`: the phone licences held directly and by no group, less any that a
 * licence the user keeps needs (a calling plan through a group keeps the Phone System it depends on).
 */
export function chooseReleases(
  user: UserHoldings,
  rowSkus: readonly TenantSku[],
  catalog: TenantCatalog,
  planIds?: PlanIds,
): LicenceReleaseChoice {
  const kept: KeptLicence[] = [];
  let remove: TenantSku[] = [];
  for (const sku of rowSkus) {
    if (!isPhoneLicence(sku)) continue;
    const how = heldHow(user, sku.skuId);
    if (how.groups.length > 0) kept.push({ partNumber: sku.partNumber, groups: how.groups });
    else if (how.direct) remove.push(sku);
  }
  // A plan the user keeps that needs one of the plans being removed keeps the licence that gives it.
  for (let changed = true; changed;) {
    changed = false;
    const removing = new Set(remove.map((s) => s.skuId.toLowerCase()));
    const keeps: UserHoldings = { ...user, skuIds: user.skuIds.filter((s) => !removing.has(s.toLowerCase())) };
    const keptPlans = enabledPlanNames(keeps, (id) => catalog.bySkuId(id), planIds);
    for (const [plan, needsOneOf] of SERVICE_PLAN_DEPENDENCIES) {
      if (!keptPlans.has(plan) || needsOneOf.some((n) => keptPlans.has(n))) continue;
      const giver = remove.find((s) => s.servicePlans.some((p) => needsOneOf.includes(p.toUpperCase())));
      if (!giver) continue;
      const by = user.skuIds
        .map((id) => catalog.bySkuId(id))
        .find((s) => s && !removing.has(s.skuId.toLowerCase()) && s.servicePlans.includes(plan));
      kept.push({ partNumber: giver.partNumber, groups: [], neededBy: by?.partNumber ?? plan });
      remove = remove.filter((s) => s !== giver);
      changed = true;
      break;
    }
  }
  return { remove, kept };
}

/** What a leaver's row will give back, as planned before any write (the activity re-reads the user). */
export interface PlannedRelease {
  /** skuIds of the directly held phone licences to remove. */
  readonly removeSkuIds: readonly string[];
  /** The same by part number, in the same order. */
  readonly removeSkus: readonly string[];
  /** Phone licences of the row that stay, each with the groups that hold it or the licence that needs it. */
  readonly kept: readonly KeptLicence[];
}

/** "MCOPSTN1 (held through group 7f3…), MCOEV (needed by MCOPSTN1)": kept licences, for the row's message. */
export function keptText(kept: readonly KeptLicence[]): string {
  return kept
    .map((k) =>
      k.groups.length > 0
        ? `${k.partNumber} (held through group ${k.groups.join(', ')})`
        : `${k.partNumber} (needed by ${k.neededBy ?? 'a licence the user keeps'})`,
    )
    .join(', ');
}

/**
 * What a mover's row swaps (docs/leavers-and-movers.md, "Movers"): the user's usage location, and the calling plans
 * the user holds directly that the new country does not sell. What the row needs in the new country is planned as for
 * a hire (planning.ts), against the user without those plans: a calling plan the user keeps meets the row's calling-plan
 * need as it would a hire's, and is not bought again.
 */
export interface PlannedMove {
  /** The usage location the user had when the row was planned (null: none). */
  readonly from: string | null;
  readonly to: string;
  /** skuIds of the directly held calling plans to remove in the same assignLicense that adds the row's licences. */
  readonly removeSkuIds: readonly string[];
  /** The same by part number, in the same order. */
  readonly removeSkus: readonly string[];
  /** Calling plans that should go but stay: held through a group (named), or kept for the user's number. */
  readonly kept: readonly KeptLicence[];
}

/**
 * Whether a calling plan is sold in a country: Microsoft sells Calling Plans there (CALLING_PLAN_COUNTRIES) and this
 * one is not among those it does not sell there (docs/leavers-and-movers.md, "Movers").
 */
export function callingPlanSoldIn(sku: TenantSku, country: string): boolean {
  return CALLING_PLAN_COUNTRIES.has(country) && !sku.notSoldIn.includes(country);
}

/** Why a calling plan stays when the move row brings no calling plan in its place. */
export const KEPT_FOR_NUMBER =
  "the user's Calling Plan number: the row brings no calling plan, and Teams unassigns the number with the last one; give the number back first (a leave row, or the Teams admin center)";

/**
 * The calling plans a mover gives up: each one the user holds that `to` does not sell. One sold there stays, whether
 * or not the row's SKUs name it: what it gives meets the row's needs as it would a hire's, and a need met by a licence
 * the user holds is never bought again (docs/licence-needs.md). Only direct licences are removed (a group's stay, naming the group), never a base licence (a suite's calling
 * plan is not a phone licence), never one that gives more than a calling plan (its Phone System would go with it),
 * and none at all when the row brings no calling plan of its own: taking the last calling plan takes the user's
 * Calling Plan number with it (Teams, phone-numbers-licensing-changes.md), while one calling plan swapped for another
 * in one assignLicense keeps it.
 */
export function chooseMoveRemovals(
  user: UserHoldings,
  rowSkus: readonly TenantSku[],
  to: string,
  catalog: TenantCatalog,
): Pick<PlannedMove, 'removeSkuIds' | 'removeSkus' | 'kept'> {
  const bringsPlan = rowSkus.some((s) => s.capabilities.has('callingPlan') && callingPlanSoldIn(s, to));
  const remove: TenantSku[] = [];
  const kept: KeptLicence[] = [];
  const seen = new Set<string>();
  for (const id of user.skuIds) {
    const sku = catalog.bySkuId(id);
    if (!sku || seen.has(sku.skuId.toLowerCase())) continue;
    seen.add(sku.skuId.toLowerCase());
    if (!isPhoneLicence(sku) || !sku.capabilities.has('callingPlan')) continue;
    // A SKU that gives Phone System, Audio Conferencing or credits beside its calling plan (Teams Phone with Calling
    // Plan, Microsoft 365 Business Voice) is not a calling plan alone: a move never removes those
    // (docs/leavers-and-movers.md, "Movers"), so it stays, and planning counts what it gives as held.
    if (PHONE_CAPABILITIES.some((c) => c !== 'callingPlan' && sku.capabilities.has(c))) continue;
    if (callingPlanSoldIn(sku, to)) continue;
    const how = heldHow(user, sku.skuId);
    if (how.groups.length > 0) kept.push({ partNumber: sku.partNumber, groups: how.groups });
    else if (!bringsPlan) kept.push({ partNumber: sku.partNumber, groups: [], neededBy: KEPT_FOR_NUMBER });
    else if (how.direct) remove.push(sku);
  }
  return { removeSkuIds: remove.map((s) => s.skuId), removeSkus: remove.map((s) => s.partNumber), kept };
}

/**
 * The user as planning sees it in the new country: without the licences `gone` (the calling plans the move removes,
 * and any the new country does not sell, whoever gives them: they meet no need there), with the new usage location.
 */
export function movedHoldings<U extends UserHoldings & { readonly usageLocation: string | null }>(
  user: U,
  to: string,
  gone: readonly string[],
): U {
  const out = new Set(gone.map((s) => s.toLowerCase()));
  const assignments = user.assignments?.filter((a) => !out.has(a.skuId.toLowerCase()));
  return {
    ...user,
    usageLocation: to,
    skuIds: user.skuIds.filter((s) => !out.has(s.toLowerCase())),
    ...(assignments ? { assignments } : {}),
  };
}
