// Phone numbers a row can carry, and the policy that decides whether a user gets one: a calling plan without a
// number can neither dial out nor be called. Graph's numberAssignment resource (microsoft-graph-docs-contrib,
// api-reference/v1.0/resources/teamsadministration-numberassignment.md) records numbers with a '+' prefix and knows
// the number types below; assignNumber takes the same types.

export const NUMBER_TYPES = ['callingPlan', 'directRouting', 'operatorConnect'] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

/** `row`: assign only numbers the rows give; `pool`: rows without one get a free number of the tenant; `off`: none. */
export const PHONE_NUMBER_POLICIES = ['row', 'pool', 'off'] as const;
export type PhoneNumberPolicy = (typeof PHONE_NUMBER_POLICIES)[number];

// E.164: a '+', a country code that does not start with 0, at most 15 digits in all (ITU-T E.164 section 6.1).
const E164 = /^\+[1-9]\d{1,14}$/;
// Longest text worth looking at: E.164's 16 characters plus a `tel:` prefix and generous grouping spaces/dashes.
const MAX_RAW_LENGTH = 64;

/**
 * The E.164 form of a number as a person writes it: a `tel:` prefix (RFC 3966) is allowed, spaces and dashes are
 * ignored. Undefined when what is left is not E.164 (no '+', letters, too many digits…).
 */
export function normalisePhoneNumber(raw: string): string | undefined {
  if (raw.length > MAX_RAW_LENGTH) return undefined;
  const compact = raw
    .trim()
    .replace(/^tel:/i, '')
    .replace(/[\s-]+/g, '');
  return E164.test(compact) ? compact : undefined;
}

/** A number type as written in a row, matched case-insensitively ("CallingPlan", "direct routing"…). */
export function parseNumberType(raw: string): NumberType | undefined {
  const key = raw
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '');
  return NUMBER_TYPES.find((t) => t.toLowerCase() === key);
}

// Teams emergency locations (LocationId of Get-CsOnlineLisLocation, Graph's locationId) are GUIDs.
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isEmergencyLocationId(raw: string): boolean {
  return GUID.test(raw.trim());
}

export function parsePhoneNumberPolicy(raw: string): PhoneNumberPolicy | undefined {
  const key = raw.trim().toLowerCase();
  return PHONE_NUMBER_POLICIES.find((p) => p === key);
}

/** The policy for a row's profile: the profile's own when it sets one, else the configured one. */
export function phoneNumberPolicyFor(
  profile: string,
  configured: PhoneNumberPolicy,
  byProfile: ReadonlyMap<string, PhoneNumberPolicy>,
): PhoneNumberPolicy {
  return byProfile.get(profile) ?? configured;
}

/** The number type a row's number is assigned as when the row names none: hybrid rows use Direct Routing. */
export function defaultNumberType(hybrid: boolean): NumberType {
  return hybrid ? 'directRouting' : 'callingPlan';
}

/** A number of the tenant as Graph's numberAssignments list shows it (the fields dialtone reads). */
export interface TeamsNumber {
  readonly telephoneNumber: string;
  readonly numberType: string;
  readonly isoCountryCode: string | null;
  /** unassigned, userAssigned, … (numberassignment.md's assignmentStatus). */
  readonly assignmentStatus: string;
  readonly assignmentTargetId: string | null;
  readonly activationState: string | null;
  readonly locationId: string | null;
  /**
   * What the number may be assigned to (numberassignment.md: userAssignment, conferenceAssignment,
   * voiceApplicationAssignment, …); empty when Graph did not say.
   */
  readonly capabilities: readonly string[];
}

/**
 * Whether a number may go to a user: its capabilities include userAssignment and it is activated (the list page's
 * example for user numbers filters `capabilities/any(c:c eq 'userAssignment')`; a number whose activation or update is
 * pending or failed is not ready to assign).
 */
export function userAssignable(n: Pick<TeamsNumber, 'capabilities' | 'activationState'>): boolean {
  return n.capabilities.includes('userAssignment') && (n.activationState === null || n.activationState === 'activated');
}

/** Where an assignNumber order stands (telephoneNumberLongRunningOperation.status and the number's statusDetail). */
export interface NumberOrder {
  readonly operationId: string;
  /** notStarted, running, succeeded, failed, skipped; anything else Graph may add reads as `unknown`. */
  readonly status: 'notStarted' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'unknown';
  readonly detail: string | null;
}

export interface NumberRequest {
  readonly telephoneNumber: string;
  /** The user's object id. */
  readonly userId: string;
  readonly numberType: NumberType;
  readonly locationId?: string;
}

/** A number to give back: the user it should be taken from, and the type the caller expects it to be (if known). */
export interface NumberReleaseRequest {
  /** E.164 with its '+' (as normalisePhoneNumber gives it, and as the numbers list records numbers). */
  readonly telephoneNumber: string;
  /** The user's object id. */
  readonly userId: string;
  readonly numberType?: NumberType;
  /**
   * Called once the unassignNumber order is sent, before it is followed: a caller that keeps the order can follow it
   * on after a failure (followNumberUnassignment) instead of sending a second order for the same number, which Teams
   * fails ("not assigned") once the first finishes.
   */
  readonly onSent?: (sent: NumberUnassignmentSent) => Promise<void>;
}

/** An unassignNumber order sent: its number and operation. */
export interface NumberUnassignmentSent {
  readonly telephoneNumber: string;
  readonly numberType: NumberType;
  readonly operationId: string;
}

/**
 * Why a number was not sent for unassignment: the tenant has no such number, nobody holds it, another user (or a
 * resource account, a conference bridge) holds it, or it is not of the type the caller expected or not a user's number.
 */
export type NumberReleaseSkip = 'number_not_in_tenant' | 'not_assigned' | 'held_by_another_user' | 'other_type';

/** What became of a number to give back. */
export type NumberRelease =
  /** unassignNumber was sent and its operation succeeded: the number is the tenant's again. */
  | {
      readonly outcome: 'released';
      readonly telephoneNumber: string;
      readonly numberType: NumberType;
      readonly operationId: string;
    }
  /** Nothing was sent. */
  | {
      readonly outcome: 'skipped';
      readonly telephoneNumber: string;
      readonly reason: NumberReleaseSkip;
      readonly detail: string;
    }
  /** Sent; the operation failed (detail: its statusDetail) or was skipped by Teams. */
  | {
      readonly outcome: 'failed';
      readonly telephoneNumber: string;
      readonly numberType: NumberType;
      readonly operationId: string;
      readonly detail: string | null;
    }
  /** Sent; not finished when the adapter stopped reading (read it on with readNumberOrder). */
  | {
      readonly outcome: 'unfinished';
      readonly telephoneNumber: string;
      readonly numberType: NumberType;
      readonly operationId: string;
      readonly status: NumberOrder['status'];
    };

/** A number a user holds, as Teams' user configuration lists it (telephoneNumbers, assignedTelephoneNumber). */
export interface HeldNumber {
  readonly telephoneNumber: string;
  readonly assignmentCategory: string;
}

export function isFinished(order: NumberOrder): boolean {
  return order.status === 'succeeded' || order.status === 'failed' || order.status === 'skipped';
}

/**
 * The number a planned row is to get once Teams shows what the number needs: the row's own (`telephoneNumber` set)
 * or one of the tenant's free numbers of `numberType` in `isoCountryCode` (from the pool).
 */
export interface PlannedNumber {
  readonly telephoneNumber?: string;
  readonly numberType: NumberType;
  /** The pool's country (the user's usage location); null for a row's own number. */
  readonly isoCountryCode: string | null;
  readonly locationId?: string;
}

/** What Teams must show before a number of this type can be assigned (Teams' rules, as the simulator's refusal cites). */
export function featureNeededFor(numberType: NumberType): 'CallingPlan' | 'PhoneSystem' {
  return numberType === 'callingPlan' ? 'CallingPlan' : 'PhoneSystem';
}

/**
 * The number a row gets under `policy`, or undefined. A row's own number is assigned under `row` and `pool`; the pool
 * serves only rows that ask for a calling plan and are not hybrid (hybrid rows take Direct Routing numbers from the
 * row only), in the user's usage location's country.
 */
export function planNumber(
  row: {
    readonly phoneNumber?: string;
    readonly numberType?: NumberType;
    readonly emergencyLocationId?: string;
    readonly hybrid: boolean;
  },
  policy: PhoneNumberPolicy,
  user: { readonly country: string | null; readonly asksForCallingPlan: boolean },
): PlannedNumber | undefined {
  if (policy === 'off') return undefined;
  const location = row.emergencyLocationId ? { locationId: row.emergencyLocationId } : {};
  if (row.phoneNumber)
    return {
      telephoneNumber: row.phoneNumber,
      numberType: row.numberType ?? defaultNumberType(row.hybrid),
      isoCountryCode: null,
      ...location,
    };
  if (policy !== 'pool' || row.hybrid || !user.asksForCallingPlan || !user.country) return undefined;
  return { numberType: row.numberType ?? 'callingPlan', isoCountryCode: user.country, ...location };
}

/**
 * Why a row's own number, as the tenant lists it (`found`, null when it has none such), cannot go to the user
 * `userId`: not the tenant's, another user's, or not for users; undefined when it can. The number step checks this
 * before it claims the number, and `dialtone plan` before any write.
 */
export function ownNumberProblem(
  telephoneNumber: string,
  found: TeamsNumber | null,
  userId: string,
): { readonly reason: 'number_assignment_failed' | 'number_in_use'; readonly message: string } | undefined {
  if (!found) return { reason: 'number_assignment_failed', message: NUMBER_MESSAGES.notInTenant(telephoneNumber) };
  const holder = found.assignmentTargetId;
  if (holder && holder.toLowerCase() !== userId.toLowerCase())
    return { reason: 'number_in_use', message: NUMBER_MESSAGES.inUse(telephoneNumber) };
  // A number for conferences or voice applications only (or not activated) never goes to a user.
  if (!holder && !userAssignable(found))
    return {
      reason: 'number_assignment_failed',
      message: NUMBER_MESSAGES.notForUsers(found.telephoneNumber, found.capabilities, found.activationState),
    };
  return undefined;
}

/** A number's claim in storage: which run's row took it, and when. */
export interface NumberClaim {
  /** `<run key>#<row>`: the same row claiming again (a retried activity) finds its own claim. */
  readonly owner: string;
  readonly claimedAt: string;
}

/**
 * How long a claim holds a number that Graph still lists as unassigned. A claim is made just before assignNumber,
 * whose order finishes within minutes; a claim this old on a number nobody holds was left by a run that died between
 * claiming and assigning (or failed without releasing it), and the number goes back to the pool.
 */
export const CLAIM_HOLD_MINUTES = 60;

export function claimHasLapsed(claim: NumberClaim, now: Date): boolean {
  const at = Date.parse(claim.claimedAt);
  return !Number.isFinite(at) || now.getTime() - at >= CLAIM_HOLD_MINUTES * 60_000;
}

/** Why a row's number step ended without the number, in the report's words: what happened and what an admin does. */
export const NUMBER_MESSAGES = {
  noFreeNumber: (numberType: NumberType, country: string) =>
    `licences assigned and Teams shows the calling plan, but the tenant has no free ${numberType} number in ${country} left; get more numbers (Teams admin center, Voice > Phone numbers), then assign one to the user there or send the row again`,
  inUse: (telephoneNumber: string) =>
    `licences assigned and Teams shows the calling plan, but ${telephoneNumber} belongs to another user; give the row a free number (or leave it out with DIALTONE_PHONE_NUMBERS=pool), or unassign it from the other user first, then send the row again`,
  notInTenant: (telephoneNumber: string) =>
    `licences assigned and Teams shows the calling plan, but the tenant has no number ${telephoneNumber}; acquire or port it (Teams admin center, Voice > Phone numbers), or correct the row, then send it again`,
  notForUsers: (telephoneNumber: string, capabilities: readonly string[], activationState: string | null) =>
    `licences assigned and Teams shows the calling plan, but ${telephoneNumber} cannot be assigned to a user (${capabilities.includes('userAssignment') ? `its activation state is ${activationState ?? 'unknown'}` : `it is for ${capabilities.length > 0 ? capabilities.join(', ') : 'no assignment'} only`}); give the row a user number (Teams admin center, Voice > Phone numbers), then send it again`,
  oldKept: (telephoneNumber: string) =>
    `the user keeps ${telephoneNumber}: a mover's old number is given back only once a number of the new country is in place`,
  failed: (telephoneNumber: string, detail: string) =>
    `licences assigned and Teams shows the calling plan, but assigning ${telephoneNumber} failed: ${detail}; fix what Teams says, then assign the number in the Teams admin center or send the row again`,
} as const;
