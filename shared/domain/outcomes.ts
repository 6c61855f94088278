// The vocabulary every row ends in: one outcome, and a reason from a fixed list, as docs/outcomes.md's tables
// give them (their words: outcome-guide.ts).

export const OUTCOMES = ['provisioned', 'assigned', 'released', 'flagged', 'failed', 'rejected', 'cancelled'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const FAILURE_REASONS = [
  'user_not_found',
  // The user is a guest (userType Guest): paid licences are never assigned to guests.
  'guest_account',
  'usage_location_missing',
  'insufficient_licenses',
  'mutually_exclusive',
  'dependency',
  'forbidden',
  // A service plan the row needs is switched off in a licence the user holds and dialtone
  // cannot switch it on (the licence comes from a group), or the plan is suspended. Without it such a row would be
  // reported already_licensed although the user has no phone line.
  'plan_disabled',
  'throttled',
  'graph_error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const REJECTION_REASONS = [
  'invalid_upn',
  'duplicate',
  'unknown_profile',
  'unknown_sku',
  'invalid_usage_location',
  'calling_plan_not_allowed_hybrid',
  'plan_not_available_in_country',
  'missing_prerequisite',
  // A field other than the UPN or usage location that cannot be read (e.g. onPremisesPstn
  // "maybe", skus not a list). Without it such a row would have to be guessed at or given a wrong reason.
  'invalid_field',
  // A row's phone number that is not E.164 (docs/phone-numbers.md).
  'invalid_phone_number',
  'invalid_start_date',
  // A leaver's end date that cannot be read, or lies beyond the horizon (read as the start date is).
  'invalid_end_date',
  // A profile or own skus the row's integration (or the uploads) may not use (shared/domain/entitlements.ts).
  'sku_not_allowed',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Why a licensed user is `flagged`: Teams showed no calling plan, or the phone number could not be assigned. */
export const FLAG_REASONS = [
  'no_calling_plan',
  'no_free_number',
  'number_in_use',
  'number_assignment_failed',
  // A leaver's or mover's old number that Teams would not take back (its operation failed).
  'number_release_failed',
] as const;
export type FlagReason = (typeof FLAG_REASONS)[number];

/**
 * Why a leaver's row is `released` with something left for a person: a phone licence of the row that the user has
 * only through a group (dialtone never changes group licences; the message names the group).
 */
export const RELEASE_REASONS = ['group_licences_kept'] as const;
export type ReleaseReason = (typeof RELEASE_REASONS)[number];

export type Reason =
  | FailureReason
  | RejectionReason
  | FlagReason
  | ReleaseReason
  | 'already_licensed'
  // A leaver who held none of the row's phone licences directly and no number: nothing to give back.
  | 'nothing_to_release';

/** Advisories never block; they are recorded in the report for the admin's next step. */
export const ADVISORIES = {
  communications_credits_recommended: 'E5 users are recommended Communications Credits (MCOPSTNC) as well.',
  audio_conferencing_provider_switched:
    'Assigning Audio Conferencing switches the user from a third-party conferencing provider to Microsoft.',
  next_step_phone_number: 'Next step: assign the user a phone number (Teams admin center or Graph numberAssignments).',
  usage_location_kept: 'The user already had a different usage location; it was kept.',
  mcopstnpp_read_as_mcopstnc:
    "The row names MCOPSTNPP, which this tenant does not have; it was read as Communications Credits (MCOPSTNC), the SKU the Teams docs call MCOPSTNPP. Microsoft's licensing table lists MCOPSTNPP as its own SKU (Skype for Business PSTN Usage Calling Plan).",
  licensed_by_group:
    'A licence of the row comes only from a group the user belongs to: it goes away if the user leaves the group.',
  group_licence_error:
    'A group assignment of a licence of the row is in an error state; the message names the group and the error.',
  plans_enabled:
    'Service plans the row needs were switched off in a licence the user holds; they were switched on, the other disabled plans kept.',
  direct_beside_group:
    'Service plans the row needs were switched off in a licence the user has only through a group: the same product was assigned to the user directly with them switched on (DIALTONE_DIRECT_FOR_GROUP_PLANS); a direct and a group licence of one product use one seat, and the direct one stays if the user leaves the group.',
  number_kept: 'The user already had a primary phone number in Teams; it was kept and no other number was assigned.',
  already_covered:
    "A licence of the row was not bought: the user's licences already give what it stands for; the message names the licence that does.",
  teams_beside_suite:
    'The user\'s suite qualifies but has no Teams ("no Teams" suite): the Teams licence sold beside such suites was bought instead of another suite.',
} as const;
export type Advisory = keyof typeof ADVISORIES;

/** One row of the report. */
export interface UserOutcome {
  row: number;
  /** The physical line of the input file where the row starts (absent for JSON). */
  line?: number;
  /** The person's name as the input gave it, to help find the row. */
  displayName?: string;
  userPrincipalName: string;
  profile: string;
  skus: string[];
  /**
   * Part numbers this run assigned to the user; [] when none (the report always has it; absent only in rows built
   * before the report, which buildReport fills in).
   */
  addedSkus?: string[];
  outcome: Outcome;
  reason: Reason | '';
  message: string;
  advisories: Advisory[];
  /** When the row's licences are (or were) due, for a row with a start date that had to wait; null otherwise. */
  scheduledFor?: string | null;
  assignedAt: string | null;
  provisionedAt: string | null;
  /** The Teams phone number the user holds after the run (assigned by it, or kept), or null. */
  phoneNumber: string | null;
  /**
   * Part numbers this run took back from the user (a leaver's phone licences, a mover's old calling plan); [] when
   * none (absent only in rows built before the report, which buildReport fills in).
   */
  releasedSkus?: string[];
  /** The Teams number this run unassigned from the user (a leaver's, or a mover's old one), or null. */
  releasedNumber?: string | null;
}

/** How many rows ended in each outcome, of `total` rows: the counts the report, the callback and the CLI give. */
export type OutcomeCounts = { total: number } & Record<Outcome, number>;

export function countOutcomes(users: readonly Pick<UserOutcome, 'outcome'>[], total = users.length): OutcomeCounts {
  const counts = { total, provisioned: 0, assigned: 0, released: 0, flagged: 0, failed: 0, rejected: 0, cancelled: 0 };
  for (const u of users) counts[u.outcome]++;
  return counts;
}

/** Seats bought per part number, in the order first met. */
export type SeatsBought = Record<string, number>;

export function seatsBought(users: readonly Pick<UserOutcome, 'addedSkus'>[]): SeatsBought {
  const bought: SeatsBought = {};
  for (const u of users) for (const sku of u.addedSkus ?? []) bought[sku] = (bought[sku] ?? 0) + 1;
  return bought;
}

/** What a run gave back: seats per part number, and how many numbers were unassigned. */
export interface GivenBack {
  readonly seats: SeatsBought;
  readonly numbers: number;
}

export function givenBack(users: readonly Pick<UserOutcome, 'releasedSkus' | 'releasedNumber'>[]): GivenBack {
  const seats: SeatsBought = {};
  let numbers = 0;
  for (const u of users) {
    for (const sku of u.releasedSkus ?? []) seats[sku] = (seats[sku] ?? 0) + 1;
    if (u.releasedNumber) numbers++;
  }
  return { seats, numbers };
}
