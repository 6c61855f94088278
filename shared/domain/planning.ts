// Decides, before anything is written to Graph, what happens to each row: rejected (the row cannot be right),
// failed (the tenant cannot satisfy it: no such user, no usage location, no seat), or a plan of what to write.
// Two stages: validateRows needs only configuration; planBatch adds the tenant snapshot read in preflight.
import { type Advisory, type FailureReason, type RejectionReason, type UserOutcome } from './outcomes';
import {
  canonicalPartNumber,
  capabilitiesOf,
  needMet,
  PREREQUISITES,
  type Capability,
  type Need,
  type TenantCatalog,
  type TenantSku,
} from './catalog';
import { CALLING_PLAN_COUNTRIES, normaliseUsageLocation } from './countries';
import {
  enabledPlanNames,
  holdingOf,
  metNeeds,
  unmetDependencies,
  type GroupLicenceError,
  type Holding,
  type PlanEnablement,
  type PlanIds,
  type UserHoldings,
} from './holdings';
import type { InputFormat, InputRow } from './input';
import {
  featureNeededFor,
  planNumber,
  type NumberType,
  type PhoneNumberPolicy,
  type PlannedNumber,
} from './phone-numbers';
import { isProfileName, normaliseProfileName, PART_NUMBER, type Profiles } from './profiles';
import {
  callingPlanSoldIn,
  chooseMoveRemovals,
  chooseReleases,
  keptText,
  movedHoldings,
  type PlannedMove,
  type PlannedRelease,
} from './releases';
import { effectiveDueAt, readEndDate, readStartDate, type ScheduleSettings } from './schedule';
import { errorText, hasHiddenCharacters, shown } from './text';
import { isValidUpn, upnKey } from './upn';

export interface ValidationOptions {
  readonly profiles: Profiles;
  readonly defaultProfile: string;
  /** The request's or the blob folder's profile, used for rows that name none. */
  readonly batchProfile?: string;
  /** How start dates are read, and the batch's start time (horizon, rows whose time has come). */
  readonly schedule?: { readonly settings: ScheduleSettings; readonly now: Date };
}

export interface RowRequest {
  readonly row: number;
  readonly line?: number;
  readonly displayName?: string;
  readonly userPrincipalName: string;
  readonly profile: string;
  readonly partNumbers: readonly string[];
  readonly usageLocation?: string;
  readonly hybrid: boolean;
  /** The row's own number (E.164), its type and emergency location, when it gives them. */
  readonly phoneNumber?: string;
  readonly numberType?: NumberType;
  readonly emergencyLocationId?: string;
  /** For a row with a start date: when its licences are due (the batch's start when that time has passed). */
  readonly scheduledFor?: string;
  /** A leaver's or a mover's row (docs/leavers-and-movers.md); absent for a new hire's (`join`). */
  readonly action?: 'leave' | 'move';
}

interface Settled {
  readonly row: number;
  readonly line?: number;
  readonly displayName?: string;
  readonly userPrincipalName: string;
  readonly profile: string;
  readonly skus: readonly string[];
  readonly message: string;
}

export interface RejectedRow extends Settled {
  readonly kind: 'rejected';
  readonly reason: RejectionReason;
}

export interface FailedRow extends Settled {
  readonly kind: 'failed';
  readonly reason: FailureReason;
}

export type ValidatedRow = { readonly kind: 'request'; readonly request: RowRequest } | RejectedRow;

const CUSTOM_PROFILE = 'custom';
/** More part numbers than any licence combination needs: a longer list is a mistake or an attack, not a request. */
export const MAX_ROW_SKUS = 20;

/** How messages point at a row: its record number, and the file's line when the input has lines. */
export function rowRef(r: { readonly row: number; readonly line?: number }): string {
  return r.line !== undefined ? `row ${r.row} (line ${r.line})` : `row ${r.row}`;
}

function located(r: { readonly row: number; readonly line?: number; readonly displayName?: string }) {
  return {
    row: r.row,
    ...(r.line !== undefined ? { line: r.line } : {}),
    ...(r.displayName !== undefined ? { displayName: r.displayName } : {}),
  };
}

export function validateRows(rows: readonly InputRow[], options: ValidationOptions): ValidatedRow[] {
  const seen = new Map<string, number>();
  const known = () => [...options.profiles.keys()].sort().join(', ');
  return rows.map((r): ValidatedRow => {
    const upn = r.userPrincipalName.trim();
    const profileName = normaliseProfileName(r.profile ?? options.batchProfile ?? options.defaultProfile);
    const profileOk = isProfileName(profileName);
    const ownSkus = r.skus && r.skus.length > 0 ? r.skus : undefined;
    const shownProfile = ownSkus ? (r.profile ? shown(profileName, 64) : CUSTOM_PROFILE) : shown(profileName, 64);
    const rawSkus = ownSkus
      ? ownSkus.slice(0, MAX_ROW_SKUS + 1).map(canonicalPartNumber)
      : [...((profileOk ? options.profiles.get(profileName) : undefined) ?? [])];
    const skus = [...new Set(rawSkus)];
    const where = rowRef(r);
    // Everything a rejected row keeps is cut and escaped: the plan and the report copy it once per row.
    const reject = (reason: RejectionReason, message: string): RejectedRow => ({
      kind: 'rejected',
      ...located(r),
      userPrincipalName: shown(upn),
      profile: shownProfile,
      skus: skus.slice(0, MAX_ROW_SKUS).map((s) => shown(s, 100)),
      reason,
      message: errorText(message),
    });

    if (r.problem?.reason === 'invalid_upn') return reject('invalid_upn', r.problem.message);
    if (!isValidUpn(upn)) {
      if (upn.length === 0) return reject('invalid_upn', `${where}: userPrincipalName is empty`);
      if (hasHiddenCharacters(upn))
        return reject(
          'invalid_upn',
          `${where}: "${clip(upn)}" holds control or text-direction characters (shown as \\u escapes), which could make a report show another user's name`,
        );
      return reject('invalid_upn', `${where}: "${clip(upn)}" is not a user principal name (name@domain)`);
    }
    const key = upnKey(upn);
    const first = seen.get(key);
    if (first !== undefined)
      return reject('duplicate', `${where}: ${upn} already appears in row ${first}; the first row is kept`);
    seen.set(key, r.row);
    if (r.problem) return reject(r.problem.reason, r.problem.message);
    if (ownSkus) {
      if (ownSkus.length > MAX_ROW_SKUS)
        return reject('invalid_field', `${where}: skus lists more than ${MAX_ROW_SKUS} part numbers`);
      const bad = rawSkus.filter((p) => !PART_NUMBER.test(p));
      if (bad.length > 0)
        return reject(
          'unknown_sku',
          `${where}: ${bad
            .slice(0, 3)
            .map((b) => `"${clip(b)}"`)
            .join(', ')} is not a part number (letters, digits and _ ( ) / . , -, e.g. MCOPSTN1)`,
        );
    } else if (!profileOk) {
      return reject(
        'unknown_profile',
        `${where}: "${clip(profileName)}" is not a profile name (lower-case letters, digits, '.', '_' or '-', at most 64); known profiles: ${known()}`,
      );
    }
    if (r.profile && !profileOk) {
      return reject(
        'unknown_profile',
        `${where}: "${clip(profileName)}" is not a profile name (lower-case letters, digits, '.', '_' or '-', at most 64)`,
      );
    }
    if (!ownSkus && !options.profiles.has(profileName)) {
      return reject(
        'unknown_profile',
        `${where}: profile "${clip(profileName)}" does not exist; known profiles: ${known()}`,
      );
    }
    let usageLocation: string | undefined;
    if (r.usageLocation !== undefined && r.usageLocation.trim() !== '') {
      usageLocation = normaliseUsageLocation(r.usageLocation);
      if (!usageLocation)
        return reject(
          'invalid_usage_location',
          `${where}: usage location "${clip(r.usageLocation)}" is not an ISO 3166-1 two-letter country code (e.g. US, GB, DE)`,
        );
    }
    if (r.onPremisesPstn === true && r.numberType !== undefined && r.numberType !== 'directRouting') {
      return reject(
        'calling_plan_not_allowed_hybrid',
        `${where}: a hybrid (on-premises PSTN) user takes a Direct Routing number, not a ${r.numberType} one; set numberType directRouting or leave it out`,
      );
    }
    let scheduledFor: string | undefined;
    if (r.action === 'leave' && r.startDate !== undefined)
      return reject(
        'invalid_field',
        `${where}, field startDate: a leave row gives back the line on its endDate; a start date is for join and move rows`,
      );
    if (r.action === 'leave' && r.endDate !== undefined && options.schedule) {
      const reading = readEndDate(r.endDate, options.schedule.now, options.schedule.settings);
      if (!reading.ok) return reject('invalid_end_date', `${where}, field endDate: ${reading.message}`);
      scheduledFor = effectiveDueAt(reading, options.schedule.now).toISOString();
    }
    if (r.startDate !== undefined && options.schedule) {
      // A move happens at the start of its day, not DIALTONE_LEAD_DAYS before: until then the user keeps its old
      // country's number (docs/leavers-and-movers.md, "Movers").
      const settings = r.action === 'move' ? { ...options.schedule.settings, leadDays: 0 } : options.schedule.settings;
      const reading = readStartDate(r.startDate, options.schedule.now, settings);
      if (!reading.ok) return reject('invalid_start_date', `row ${r.row}, field startDate: ${reading.message}`);
      scheduledFor = effectiveDueAt(reading, options.schedule.now).toISOString();
    }
    return {
      kind: 'request',
      request: {
        ...located(r),
        userPrincipalName: upn,
        profile: shownProfile,
        partNumbers: skus,
        hybrid: r.onPremisesPstn === true,
        ...(usageLocation ? { usageLocation } : {}),
        ...(r.phoneNumber ? { phoneNumber: r.phoneNumber } : {}),
        ...(r.numberType ? { numberType: r.numberType } : {}),
        ...(r.emergencyLocationId ? { emergencyLocationId: r.emergencyLocationId } : {}),
        ...(scheduledFor ? { scheduledFor } : {}),
        ...(r.action === 'leave' || r.action === 'move' ? { action: r.action } : {}),
      },
    };
  });
}

function clip(s: string, n = 80): string {
  return shown(s, n);
}

/** What Graph says about a user before anything is written. */
export interface TenantUserState extends UserHoldings {
  readonly id: string;
  readonly usageLocation: string | null;
  /** Graph's userType: Member or Guest (absent when not read). */
  readonly userType?: string;
}

/**
 * A guest account: userType Guest, or, when userType was not read, a UPN of the #EXT# form Entra gives invited
 * guests (Graph user resource, userType). Guests are never licensed here.
 */
export function isGuest(user: Pick<TenantUserState, 'userType'>, userPrincipalName: string): boolean {
  return user.userType !== undefined
    ? user.userType.toLowerCase() === 'guest'
    : userPrincipalName.toUpperCase().includes('#EXT#');
}

export interface TenantSnapshot {
  readonly catalog: TenantCatalog;
  /** Users by UPN key (lower case); a UPN without an entry does not exist in the tenant. */
  readonly users: ReadonlyMap<string, TenantUserState>;
  /** Service plan name → id from subscribedSkus (disabledPlans are ids); the catalog's defaults otherwise. */
  readonly planIds?: PlanIds;
}

export interface PlanOptions {
  readonly defaultUsageLocation?: string;
  /** What the rows came from, so that messages say what to fix in that input. */
  readonly input?: { readonly format: InputFormat; readonly usageLocationColumn?: string };
  /** false: usage locations are never set (the deployment holds only a read-only user permission); default true. */
  readonly setUsageLocation?: boolean;
  /** Whether rows get phone numbers (DIALTONE_PHONE_NUMBERS, default `row`) and the profiles that set their own. */
  readonly phoneNumbers?: {
    readonly policy: PhoneNumberPolicy;
    readonly byProfile: ReadonlyMap<string, PhoneNumberPolicy>;
  };
  /**
   * DIALTONE_DIRECT_FOR_GROUP_PLANS: a needed plan switched off in a licence the user has only through a group is
   * switched on by assigning the same product directly (no extra seat); default false (the row fails plan_disabled).
   */
  readonly directForGroupPlans?: boolean;
}

/** Why a user without a usage location cannot be licensed when the deployment does not set usage locations. */
export const USAGE_LOCATION_NOT_SET_HERE =
  'the user has no usage location, and this deployment does not set usage locations (DIALTONE_SET_USAGE_LOCATION=false); set it on the user in Entra ID, then send the row again';

export interface AssignmentPlan {
  readonly kind: 'assign';
  readonly row: number;
  readonly line?: number;
  readonly displayName?: string;
  readonly userPrincipalName: string;
  readonly profile: string;
  readonly skus: readonly string[];
  readonly userId: string;
  /** SKUs to buy for the user: those whose needs the user's licences do not meet yet; empty when nothing is missing. */
  readonly addSkuIds: readonly string[];
  /**
   * The same SKUs by part number, in the same order: what the report's addedSkus says this run bought (absent in
   * plans stored before it existed).
   */
  readonly addedSkus?: readonly string[];
  /** SKUs the user holds directly with a needed plan switched off: added again with only the other plans disabled. */
  readonly enable: readonly PlanEnablement[];
  /** What the report's message says of a row that went ahead (a group licence in an error state). */
  readonly note?: string;
  /** Set only when the user has no usage location. */
  readonly setUsageLocation: string | null;
  /** The row includes a Calling Plan or gets a number, so Teams must be watched until it shows what they need. */
  readonly pollTeams: boolean;
  /** Teams must show Phone System rather than a Calling Plan (a Direct Routing or Operator Connect number only). */
  readonly waitFor?: 'PhoneSystem';
  /** The phone number to assign once Teams shows it may be (absent: none). */
  readonly number?: PlannedNumber;
  readonly advisories: readonly Advisory[];
  /**
   * A leaver's row (docs/leavers-and-movers.md): nothing is added; these licences are removed and the user's Teams
   * number unassigned. addSkuIds is then empty, and pollTeams false.
   */
  readonly release?: PlannedRelease;
  /**
   * A mover's row (docs/leavers-and-movers.md, "Movers"): the usage location is set to `to` even though the user has
   * one, and these calling plans are removed in the same assignLicense that adds addSkuIds. The number step then
   * assigns a number of the new country in place of the old one.
   */
  readonly move?: PlannedMove;
}

export type PlannedRow = RejectedRow | FailedRow | AssignmentPlan;

const CAPABILITY_NAMES: Readonly<Record<Capability, string>> = {
  teams:
    'Teams (a suite with Teams such as SPE_E5 or ENTERPRISEPACK, or a Teams SKU such as Microsoft_Teams_EEA_New beside a "no Teams" suite)',
  phoneSystem:
    'Phone System (MCOEV, or a SKU that includes it such as SPE_E5, ENTERPRISEPREMIUM or MCOTEAMS_ESSENTIALS)',
  callingPlan: 'a Calling Plan',
  audioConferencing: 'Audio Conferencing',
  audioConferencingPayPerMinute: 'Audio Conferencing pay-per-minute',
  communicationsCredits: 'Communications Credits (MCOPSTNC)',
  officeSuite: 'an Office suite',
};

export function planBatch(
  rows: readonly ValidatedRow[],
  tenant: TenantSnapshot,
  options: PlanOptions = {},
): PlannedRow[] {
  const seatsLeft = new Map(tenant.catalog.all().map((s) => [s.skuId.toLowerCase(), s.available]));
  return rows.map((v): PlannedRow => (v.kind === 'rejected' ? v : planRow(v.request, tenant, options, seatsLeft)));
}

function planRow(
  req: RowRequest,
  tenant: TenantSnapshot,
  options: PlanOptions,
  seatsLeft: Map<string, number>,
  /** A mover as it will be (new country, calling plans to remove gone): planned against instead of the tenant's. */
  moved?: TenantUserState,
): PlannedRow {
  const settled = {
    ...located(req),
    userPrincipalName: req.userPrincipalName,
    profile: req.profile,
    skus: req.partNumbers,
  };
  const reject = (reason: RejectionReason, message: string): RejectedRow => ({
    kind: 'rejected',
    ...settled,
    reason,
    message,
  });
  const failed = (reason: FailureReason, message: string): FailedRow => ({
    kind: 'failed',
    ...settled,
    reason,
    message,
  });
  const where = rowRef(req);
  if (req.action === 'move' && !req.usageLocation)
    return reject(
      'invalid_field',
      `${where}, field usageLocation: a move row needs the user's new country (a two-letter country code)`,
    );
  if (req.action === 'move') {
    const country = req.usageLocation!;
    const plans = req.partNumbers
      .map((p) => tenant.catalog.lookup(p))
      .flatMap((l) => (l.kind === 'found' && l.sku.capabilities.has('callingPlan') ? [l.sku] : []));
    const unsold = plans.filter((s) => !callingPlanSoldIn(s, country));
    if (unsold.length > 0)
      return reject(
        'plan_not_available_in_country',
        `${where}: ${unsold.map((s) => s.partNumber).join(', ')} is not sold for usage location ${country}${CALLING_PLAN_COUNTRIES.has(country) ? '' : ' (Microsoft sells no Calling Plan there)'}; nothing was changed: the user keeps its licences, usage location and number. Use Direct Routing or Operator Connect there (profile phone-system-only)`,
      );
    return planMove(req, tenant, options, seatsLeft, failed);
  }
  if (req.action === 'leave') return planLeave(req, tenant, settled, failed);

  if (req.partNumbers.length === 0) return reject('unknown_sku', `${where}: no SKUs to assign`);
  const lookups = req.partNumbers.map((p) => ({ p, found: tenant.catalog.lookup(p) }));
  const unknown = lookups.filter((l) => l.found.kind === 'missing').map((l) => l.p);
  if (unknown.length > 0) {
    return reject(
      'unknown_sku',
      `${where}: the tenant has no subscription for ${unknown.join(', ')}; check the part number or buy the licence`,
    );
  }
  for (const { p, found } of lookups) {
    if (found.kind === 'ambiguous') {
      return reject(
        'unknown_sku',
        `${where}: ${p} matches ${found.skus.length} of the tenant's SKUs (skuIds ${found.skus.map((s) => s.skuId).join(', ')}); name the one meant by its skuId`,
      );
    }
  }
  const rowSkus: TenantSku[] = [];
  let readAsCredits = false;
  for (const { found } of lookups) {
    if (found.kind !== 'found') continue;
    if (found.readAs) readAsCredits = true;
    if (!rowSkus.some((s) => s.skuId === found.sku.skuId)) rowSkus.push(found.sku);
  }
  const rowCaps = new Set<Capability>(rowSkus.flatMap((s) => [...s.capabilities]));
  if (req.hybrid && rowCaps.has('callingPlan')) {
    const plans = rowSkus.filter((s) => s.capabilities.has('callingPlan')).map((s) => s.partNumber);
    return reject(
      'calling_plan_not_allowed_hybrid',
      `${where}: users with on-premises PSTN connectivity get Phone System only, never a Calling Plan (${plans.join(', ')}); use the profile phone-system-only`,
    );
  }

  const user = moved ?? tenant.users.get(upnKey(req.userPrincipalName));
  if (!user)
    return failed(
      'user_not_found',
      `${where}: no user ${req.userPrincipalName} in the tenant; create the account first or fix the UPN`,
    );
  if (isGuest(user, req.userPrincipalName)) {
    return failed(
      'guest_account',
      `${where}: ${req.userPrincipalName} is a guest account (userType Guest); dialtone does not license guests. Licence the person's account in their own organisation, or, if they are an employee, send the row with their member account's UPN`,
    );
  }

  const mayAssignLocation = options.setUsageLocation !== false;
  const effectiveLocation =
    user.usageLocation ?? (mayAssignLocation ? (req.usageLocation ?? options.defaultUsageLocation) : undefined) ?? null;
  if (effectiveLocation) {
    const blocked = rowSkus.filter((s) => s.notSoldIn.includes(effectiveLocation));
    if (blocked.length > 0) {
      return reject(
        'plan_not_available_in_country',
        `${where}: ${blocked.map((s) => s.partNumber).join(', ')} is not available for usage location ${effectiveLocation}; use MCOPSTN1 or MCOPSTN2`,
      );
    }
  }

  const holdings = rowSkus.map((sku) => ({ sku, h: holdingOf(user, sku, tenant.planIds) }));
  const skuOf = (id: string) => tenant.catalog.bySkuId(id);
  const enabledNow = enabledPlanNames(user, skuOf, tenant.planIds);
  const heldCaps = capabilitiesOf([...enabledNow]);
  const allCaps = new Set([...rowCaps, ...heldCaps]);
  for (const cap of rowCaps) {
    const needs = PREREQUISITES[cap];
    if (needs && !allCaps.has(needs)) {
      return reject(
        'missing_prerequisite',
        `${where}: ${CAPABILITY_NAMES[cap]} needs ${CAPABILITY_NAMES[needs]}, which neither the row nor the user has`,
      );
    }
  }

  const {
    buy: missing,
    covered,
    besideSuite,
    active,
  } = chooseSkus(holdings, metNeeds(user, skuOf, tenant.planIds), tenant.catalog);
  const enable: PlanEnablement[] = [];
  const adding = new Set<string>(missing.flatMap((s) => s.servicePlans.map((p) => p.toUpperCase())));
  for (const { sku, h } of active) {
    if (h.kind !== 'disabled') continue;
    enable.push({ skuId: sku.skuId, planIds: [...h.planIds] });
    for (const p of h.plans) adding.add(p);
  }
  const unmet = unmetDependencies(adding, new Set([...enabledNow, ...adding]));
  if (unmet.length > 0) {
    const d = unmet[0]!;
    return reject(
      'missing_prerequisite',
      `${where}: service plan ${d.plan} needs one of the service plans ${d.needsOneOf.join(', ')} (a base licence such as ENTERPRISEPACK), which neither the row nor the user has switched on`,
    );
  }

  for (const { sku, h } of active) {
    if (h.kind === 'suspended') {
      return failed(
        'plan_disabled',
        `${where}: ${h.plans.join(', ')} of ${sku.partNumber} is ${h.status} for this user (its subscription is not active); renew the subscription or use another SKU that carries it`,
      );
    }
    if (h.kind === 'disabled' && !h.direct && !options.directForGroupPlans) {
      // Microsoft's group licensing docs (licensing-group-advanced.md, "Direct licenses coexist with group licenses"): an
      // inherited licence cannot be changed on the user, but the same product may be assigned directly beside it to
      // enable more of its services for that user alone, and several licences of one product use one seat; or the
      // user joins another group whose licence enables them.
      return failed(
        'plan_disabled',
        `${where}: ${h.plans.join(', ')} is switched off in ${sku.partNumber}, which the user has only through group ${h.groups.join(', ')}, and a licence inherited from a group cannot be changed on the user. Assign ${sku.partNumber} to the user directly as well, with ${h.plans.join(', ')} switched on (a direct and a group licence of one product use one seat; DIALTONE_DIRECT_FOR_GROUP_PLANS=true lets dialtone do this), or add the user to a group whose ${sku.partNumber} licence switches it on; then send the row again`,
      );
    }
  }
  if ((missing.length > 0 || enable.length > 0) && !effectiveLocation) {
    if (!mayAssignLocation) return failed('usage_location_missing', `${where}: ${USAGE_LOCATION_NOT_SET_HERE}`);
    return failed('usage_location_missing', `${where}: ${noUsageLocation(options.input)}`);
  }
  const short = missing.filter((s) => (seatsLeft.get(s.skuId.toLowerCase()) ?? 0) < 1);
  if (short.length > 0) {
    return failed(
      'insufficient_licenses',
      `${where}: no seats left for ${short.map((s) => s.partNumber).join(', ')}; buy more licences and run the batch again`,
    );
  }
  for (const s of missing) seatsLeft.set(s.skuId.toLowerCase(), (seatsLeft.get(s.skuId.toLowerCase()) ?? 0) - 1);

  const advisories: Advisory[] = [];
  if (user.usageLocation && req.usageLocation && user.usageLocation !== req.usageLocation)
    advisories.push('usage_location_kept');
  if (readAsCredits) advisories.push('mcopstnpp_read_as_mcopstnc');
  const isE5 = [...rowSkus, ...user.skuIds.map((id) => tenant.catalog.bySkuId(id))].some((s) => s?.e5 === true);
  if (isE5 && !allCaps.has('communicationsCredits')) advisories.push('communications_credits_recommended');
  if (
    missing.some((s) => s.capabilities.has('audioConferencing') || s.capabilities.has('audioConferencingPayPerMinute'))
  )
    advisories.push('audio_conferencing_provider_switched');
  const policy = options.phoneNumbers?.byProfile.get(req.profile) ?? options.phoneNumbers?.policy ?? 'row';
  const number = planNumber(req, policy, {
    country: effectiveLocation,
    asksForCallingPlan: rowCaps.has('callingPlan'),
  });
  if (number) {
    const needs = featureNeededFor(number.numberType) === 'CallingPlan' ? 'callingPlan' : 'phoneSystem';
    if (!allCaps.has(needs)) {
      return reject(
        'missing_prerequisite',
        `${where}: a ${number.numberType} number needs ${CAPABILITY_NAMES[needs]}, which neither the row nor the user has`,
      );
    }
  } else if (rowCaps.has('callingPlan')) advisories.push('next_step_phone_number');
  if (enable.length > 0) advisories.push('plans_enabled');
  if (holdings.some((x) => x.h.kind === 'disabled' && !x.h.direct)) advisories.push('direct_beside_group');
  if (holdings.some((x) => x.h.kind === 'held' && x.h.byGroupOnly)) advisories.push('licensed_by_group');
  const groupErrors: GroupLicenceError[] = holdings.flatMap((x) =>
    x.h.kind === 'held' || x.h.kind === 'missing' ? [...x.h.groupErrors] : [],
  );
  if (groupErrors.length > 0) advisories.push('group_licence_error');
  if (covered.length > 0) advisories.push('already_covered');
  if (besideSuite.length > 0) advisories.push('teams_beside_suite');
  const note = [
    ...covered.map((c) => `${c.sku.partNumber} not bought: already covered by ${c.by.join(', ')}`),
    ...besideSuite.map(
      (b) =>
        `${b.instead.partNumber} bought instead of ${b.sku.partNumber}: the user's ${b.suites.join(', ')} has no Teams`,
    ),
    ...groupErrors.map(
      (g) =>
        `group ${g.groupId}'s assignment of ${tenant.catalog.bySkuId(g.skuId)?.partNumber ?? g.skuId} is in state ${g.state} (${g.error})`,
    ),
  ].join('; ');

  return {
    kind: 'assign',
    ...settled,
    userId: user.id,
    addSkuIds: missing.map((s) => s.skuId),
    addedSkus: missing.map((s) => s.partNumber),
    enable,
    ...(note ? { note } : {}),
    setUsageLocation: user.usageLocation ? null : effectiveLocation,
    pollTeams: rowCaps.has('callingPlan') || number !== undefined,
    ...(number && !rowCaps.has('callingPlan') && featureNeededFor(number.numberType) === 'PhoneSystem'
      ? { waitFor: 'PhoneSystem' as const }
      : {}),
    ...(number ? { number } : {}),
    advisories,
  };
}

/**
 * A mover's row (docs/leavers-and-movers.md, "Movers"): a hire's plan of the row in the new country, planned against
 * the user as the move leaves it (the calling plans it gives up removed, the new usage location), so that what the user
 * keeps is never bought again and a seat is needed only for what the user lacks. A move to the country the user is in
 * already (an HR system that synced the usage location before sending the row) skips only the usage location's PATCH:
 * the calling plans that country does not sell are still swapped, and a number of another country still replaced.
 */
function planMove(
  req: RowRequest,
  tenant: TenantSnapshot,
  options: PlanOptions,
  seatsLeft: Map<string, number>,
  failed: (reason: FailureReason, message: string) => FailedRow,
): PlannedRow {
  const { action: _move, ...join } = req;
  const to = req.usageLocation!;
  const user = tenant.users.get(upnKey(req.userPrincipalName));
  // No such user, or a guest: a hire's planning says what becomes of the row.
  if (!user || isGuest(user, req.userPrincipalName)) return planRow(join, tenant, options, seatsLeft);
  const there = user.usageLocation === to;
  if (!there && options.setUsageLocation === false)
    return failed(
      'usage_location_missing',
      `${rowRef(req)}: a move changes the user's usage location (${user.usageLocation ?? 'none'} to ${to}), and ${USAGE_LOCATION_NOT_SET_HERE.replace(/^the user has no usage location, and /, '')}`,
    );
  const rowSkus = req.partNumbers.flatMap((p) => {
    const found = tenant.catalog.lookup(p);
    return found.kind === 'found' ? [found.sku] : [];
  });
  const swap = chooseMoveRemovals(user, rowSkus, to, tenant.catalog);
  // A calling plan the new country does not sell meets no need there, also one a group keeps giving.
  const unsold = user.skuIds.filter((id) => tenant.catalog.bySkuId(id)?.notSoldIn.includes(to));
  const moved = movedHoldings(user, to, [...swap.removeSkuIds, ...unsold]);
  const plan = planRow(join, tenant, options, seatsLeft, moved);
  if (plan.kind !== 'assign') return plan;
  const note = [plan.note, swap.kept.length > 0 ? `kept ${keptText(swap.kept)}` : ''].filter(Boolean).join('; ');
  return {
    ...plan,
    ...(note ? { note } : {}),
    setUsageLocation: there ? null : to,
    move: { from: user.usageLocation, to, ...swap },
  };
}

/**
 * A leaver's row: the phone licences of its profile (or own skus) the user holds directly, and the number
 * (releases.ts). Part numbers the tenant has no subscription for are nothing to give back, not a rejection.
 */
function planLeave(
  req: RowRequest,
  tenant: TenantSnapshot,
  settled: Pick<AssignmentPlan, 'row' | 'line' | 'displayName' | 'userPrincipalName' | 'profile' | 'skus'>,
  failed: (reason: FailureReason, message: string) => FailedRow,
): PlannedRow {
  const user = tenant.users.get(upnKey(req.userPrincipalName));
  if (!user)
    return failed(
      'user_not_found',
      `${rowRef(req)}: no user ${req.userPrincipalName} in the tenant: a deleted account's licences go back with it; if it had a Teams number, check it in the Teams admin center (Voice > Phone numbers)`,
    );
  const rowSkus: TenantSku[] = [];
  for (const p of req.partNumbers) {
    const found = tenant.catalog.lookup(p);
    if (found.kind === 'found' && !rowSkus.some((s) => s.skuId === found.sku.skuId)) rowSkus.push(found.sku);
  }
  const { remove, kept } = chooseReleases(user, rowSkus, tenant.catalog, tenant.planIds);
  return {
    kind: 'assign',
    ...settled,
    userId: user.id,
    addSkuIds: [],
    addedSkus: [],
    enable: [],
    setUsageLocation: null,
    pollTeams: false,
    advisories: [],
    release: { removeSkuIds: remove.map((s) => s.skuId), removeSkus: remove.map((s) => s.partNumber), kept },
  };
}

interface Choice {
  /** SKUs to buy, each once, in the row's order. */
  readonly buy: TenantSku[];
  /** Row SKUs not bought because the user's licences meet every need they stand for, with the SKUs that do. */
  readonly covered: { readonly sku: TenantSku; readonly by: string[] }[];
  /** Suites not bought because the user's own suite qualifies and lacks only Teams: the Teams SKU is bought instead. */
  readonly besideSuite: { readonly sku: TenantSku; readonly instead: TenantSku; readonly suites: string[] }[];
  /** Row SKUs still in play (not covered): their holdings decide plans to switch on, and failures. */
  readonly active: { readonly sku: TenantSku; readonly h: Holding }[];
}

/**
 * Which of the row's SKUs to buy (docs/licence-needs.md). Each SKU stands for the needs its service plans meet; one
 * whose every need the user's enabled plans already meet is not bought, whichever SKU meets them (Phone System
 * through E5, the suite and Teams through Microsoft 365 E5 or Business Premium). A suite of the row whose only unmet
 * need is Teams (the user holds a "no Teams" suite) becomes the tenant's Teams SKU for such suites, when the tenant
 * has one with a seat. A SKU whose plans meet no known need (not a Teams licence) is bought as written.
 */
function chooseSkus(
  holdings: readonly { sku: TenantSku; h: Holding }[],
  met: ReadonlyMap<Need, readonly string[]>,
  catalog: TenantCatalog,
): Choice {
  const held = new Set(met.keys());
  const byOf = (needs: Iterable<Need>) => [
    ...new Set(
      [...needs].flatMap(
        (n) => met.get(n) ?? (n === 'callingPlan:domestic' ? (met.get('callingPlan:international') ?? []) : []),
      ),
    ),
  ];
  const choice: Choice = { buy: [], covered: [], besideSuite: [], active: [] };
  const buy = (sku: TenantSku) => {
    if (!choice.buy.some((b) => b.skuId === sku.skuId)) choice.buy.push(sku);
  };
  for (const x of holdings) {
    const needs = [...x.sku.needs];
    const unmet = needs.filter((n) => !needMet(n, held));
    if (x.h.kind !== 'held' && needs.length > 0 && unmet.length === 0) {
      choice.covered.push({ sku: x.sku, by: byOf(needs) });
      continue;
    }
    choice.active.push(x);
    if (x.h.kind !== 'missing') continue;
    if (unmet.length === 1 && unmet[0] === 'teams' && x.sku.needs.has('suite')) {
      const teams = catalog.all().filter((s) => s.teamsBesideSuite);
      const instead = teams.find((s) => s.available > 0) ?? teams[0];
      if (instead) {
        choice.besideSuite.push({ sku: x.sku, instead, suites: byOf(['suite']) });
        buy(instead);
        continue;
      }
    }
    buy(x.sku);
  }
  return choice;
}

/** What to do about a missing usage location, in the words of the input it came from. */
function noUsageLocation(input: PlanOptions['input']): string {
  const orDefault = 'or configure DIALTONE_DEFAULT_USAGE_LOCATION';
  switch (input?.format) {
    case 'csv':
      return input.usageLocationColumn !== undefined
        ? `the user has no usage location and the "${clip(input.usageLocationColumn, 40)}" cell is blank; fill in a two-letter country code (e.g. US, DE) ${orDefault}`
        : `the user has no usage location and the file has no usage location column; add a "Usage location" column with two-letter country codes ${orDefault}`;
    case 'json':
      return `the user has no usage location and the request gives none; add "usageLocation" (a two-letter country code) to the user ${orDefault}`;
    case 'upn-list':
      return `the user has no usage location, and a list of UPNs cannot give one; set it on the user in the Microsoft 365 admin center, send a CSV with a "Usage location" column, ${orDefault}`;
    default:
      return `the user has no usage location and none was given; add a usage location to the row ${orDefault}`;
  }
}

/** The report row of a row that ended before any write. */
export function settledOutcome(row: RejectedRow | FailedRow): UserOutcome {
  return {
    ...located(row),
    userPrincipalName: row.userPrincipalName,
    profile: row.profile,
    skus: [...row.skus],
    outcome: row.kind,
    reason: row.reason,
    message: row.message,
    advisories: [],
    assignedAt: null,
    provisionedAt: null,
    phoneNumber: null,
  };
}
