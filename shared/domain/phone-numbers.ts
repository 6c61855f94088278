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
  const compact = raw.trim().replace(/^tel:/i, '').replace(/[\s-]+/g, '');
  return E164.test(compact) ? compact : undefined;
}

/** A number type as written in a row, matched case-insensitively ("CallingPlan", "direct routing"…). */
export function parseNumberType(raw: string): NumberType | undefined {
  const key = raw.trim().toLowerCase().replace(/[\s_-]+/g, '');
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
export function phoneNumberPolicyFor(profile: string, configured: PhoneNumberPolicy, byProfile: ReadonlyMap<string, PhoneNumberPolicy>): PhoneNumberPolicy {
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

/** A number a user holds, as Teams' user configuration lists it (telephoneNumbers, assignedTelephoneNumber). */
export interface HeldNumber {
  readonly telephoneNumber: string;
  readonly assignmentCategory: string;
}

export function isFinished(order: NumberOrder): boolean {
  return order.status === 'succeeded' || order.status === 'failed' || order.status === 'skipped';
}
