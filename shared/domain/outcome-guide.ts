// The words a person reads about an outcome: what each outcome means and what an admin does next, and the next step
// for each reason a row needs a person. One module, so that `dialtone run`'s summary, the admin console, the
// callback's rows and docs/outcomes.md say the same thing (test/unit/outcome-guide.test.ts checks the doc's tables
// against it). The row's own message says what is wrong for that row; these say what to do about it.
import {
  FAILURE_REASONS,
  FLAG_REASONS,
  REJECTION_REASONS,
  RELEASE_REASONS,
  type Outcome,
  type Reason,
  type UserOutcome,
} from './outcomes';

export interface OutcomeWords {
  /** What the outcome means, in a clause. */
  readonly meaning: string;
  /** What an admin does next. */
  readonly next: string;
}

/** What each outcome means, and what an admin does about it. */
export const OUTCOME_GUIDE: Readonly<Record<Outcome, OutcomeWords>> = {
  provisioned: {
    meaning:
      'licences assigned, Teams shows the calling plan (or Phone System), and the phone number is assigned when one was to be',
    next: 'nothing; give the user a phone number if the report says so (next_step_phone_number)',
  },
  assigned: {
    meaning: 'licences assigned, nothing to wait for (no calling plan in the row, or already licensed)',
    next: 'nothing',
  },
  released: {
    meaning:
      "a leaver's phone licences held directly and phone number were given back (rows with action leave); base licences kept",
    next: 'nothing; for group_licences_kept, take the user out of the group the message names',
  },
  flagged: {
    meaning:
      'licences assigned, but Teams showed no calling plan by the deadline, or the phone number could not be assigned',
    next: "see the row's reason and message; for no_calling_plan, check the user in the Teams admin center and, if it still has none, open a Microsoft support case",
  },
  failed: {
    meaning: 'the row was fine, but the tenant or Graph refused it',
    next: 'fix what the message says (create the account, set a usage location, buy seats, grant the permission) and send the rows again',
  },
  rejected: {
    meaning: 'the row itself is unusable; nothing was sent to Graph',
    next: 'correct the row in the file (the message names row, line and field) and send it again',
  },
  cancelled: {
    meaning: 'the batch or the row was cancelled before its licences were assigned; nothing was assigned',
    next: 'nothing; send the row again if the hire comes after all',
  },
};

/** A row's state while its batch runs, before it has an outcome (the status API's and the console's words). */
export type LiveState = 'waiting' | 'scheduled' | 'pending';

export const LIVE_STATE_GUIDE: Readonly<Record<LiveState, OutcomeWords>> = {
  waiting: {
    meaning: 'licences assigned, waiting for Teams to show the calling plan; ends provisioned or flagged',
    next: 'nothing yet: Teams can take up to 24 hours to show the calling plan',
  },
  scheduled: {
    meaning: 'waiting for its start date (or for its account to exist) before its licences are assigned',
    next: 'nothing: licences are assigned shortly before the start date',
  },
  pending: { meaning: 'no result yet', next: 'nothing yet' },
};

/**
 * The reasons a row needs a person: every failure, rejection, flag and release reason (already_licensed and
 * nothing_to_release need nobody).
 */
export type ActionReason = Exclude<Reason, 'already_licensed' | 'nothing_to_release'>;

/** The outcome each reason belongs to. */
export const REASON_OUTCOME: Readonly<Record<ActionReason, Outcome>> = {
  ...(Object.fromEntries(FAILURE_REASONS.map((r) => [r, 'failed'])) as Record<
    (typeof FAILURE_REASONS)[number],
    Outcome
  >),
  ...(Object.fromEntries(REJECTION_REASONS.map((r) => [r, 'rejected'])) as Record<
    (typeof REJECTION_REASONS)[number],
    Outcome
  >),
  ...(Object.fromEntries(FLAG_REASONS.map((r) => [r, 'flagged'])) as Record<(typeof FLAG_REASONS)[number], Outcome>),
  ...(Object.fromEntries(RELEASE_REASONS.map((r) => [r, 'released'])) as Record<
    (typeof RELEASE_REASONS)[number],
    Outcome
  >),
};

/**
 * What a person does about each reason a row needs one (the type makes a new reason add its line here). The row's
 * message says what is wrong for that row.
 */
export const REASON_GUIDE: Readonly<Record<ActionReason, string>> = {
  user_not_found: 'create the account, or correct the UPN, then send the row again',
  guest_account:
    "guests are never licensed: licence the person in their own organisation, or send their member account's UPN",
  usage_location_missing:
    'give the row a usage location (a two-letter country code), set it on the user, or set DIALTONE_DEFAULT_USAGE_LOCATION; then send the row again',
  insufficient_licenses: 'buy more seats of the SKU the message names (or free some), then send the row again',
  mutually_exclusive:
    "the user holds a licence that cannot be held with the row's (the message names both): remove one, or use another profile",
  dependency:
    'a licence of the row needs a service plan the user lacks (the message names it): add the base licence first, then send the row again',
  forbidden: 'grant the app the Graph permission the message names (admin consent), then send the row again',
  plan_disabled:
    "switch the service plan on in the licence the message names (in the group's licence for a group licence), or renew the subscription",
  throttled: 'Graph was busy for too long: send the row again later',
  graph_error:
    'Graph answered with an error (the message holds it): send the row again; if it repeats, check the user in the admin center',
  invalid_upn: 'correct the userPrincipalName (name@domain) in the file',
  duplicate: 'the UPN appears earlier in the file; remove the later row',
  unknown_profile: 'use a profile the message lists, or configure one (DIALTONE_PROFILES)',
  unknown_sku: 'correct the part number, or buy the licence the message names',
  invalid_usage_location: 'use a two-letter ISO country code (US, GB, DE)',
  calling_plan_not_allowed_hybrid:
    'a hybrid (on-premises PSTN) user gets Phone System only: use the profile phone-system-only',
  plan_not_available_in_country:
    "that calling plan is not sold in the user's country: use MCOPSTN1 or MCOPSTN2 where they are sold; where no Calling Plan is sold (a mover's new country), use Direct Routing or Operator Connect (profile phone-system-only)",
  missing_prerequisite:
    'add the licence the message says is needed (e.g. Phone System for a Calling Plan) to the row or the user',
  invalid_field: 'correct the field the message names in the file',
  invalid_phone_number: 'give the number in E.164 form (+ country code and number, e.g. +14255550100)',
  invalid_start_date:
    'give the start date as 2026-12-07 (or a date-time with an offset), within the horizon the message gives',
  invalid_end_date:
    'give the end date as 2026-12-07 (or a date-time with an offset), within the horizon the message gives',
  sku_not_allowed:
    "the row's integration may not use that profile or list its own part numbers: use a profile it may use, or ask the operator to allow it (DIALTONE_CALLERS)",
  no_calling_plan:
    'check the user in the Teams admin center; if there is still no calling plan, open a Microsoft support case',
  no_free_number:
    "the pool has no free number of that type in the user's country: get more numbers (Teams admin center, Voice > Phone numbers), then assign one or send the row again",
  number_in_use:
    "the row's number belongs to another user: give the row a free number (or leave it out under DIALTONE_PHONE_NUMBERS=pool), or unassign it from the other user first, then send the row again",
  number_assignment_failed:
    'Teams refused the number (the message holds its statusDetail): fix what it says, then assign the number in the Teams admin center or send the row again',
  number_release_failed:
    "the leaver's number was not given back (Teams refused it, the message holds its statusDetail, or numbering is off here), so its phone licences were kept: removing them would take the number with it; unassign the number in the Teams admin center (Voice > Phone numbers), then send the leave row again. A mover's: its new number is assigned, but Teams still lists the old one; unassign the old one there",
  group_licences_kept:
    'a phone licence comes to the user through a group, which dialtone never changes: take the user out of the group the message names (or remove the licence from the group)',
};

/** The phone number reasons (a flagged row whose licensing worked), which the summary explains apart. */
export const NUMBER_REASONS = FLAG_REASONS.filter((r) => r !== 'no_calling_plan');

/** What to do about one row: its reason's step, else its outcome's (a cancelled row's is always the outcome's). */
export function nextStepFor(row: Pick<UserOutcome, 'outcome' | 'reason'>): string {
  if (
    row.outcome !== 'cancelled' &&
    row.reason &&
    row.reason !== 'already_licensed' &&
    row.reason !== 'nothing_to_release'
  )
    return REASON_GUIDE[row.reason];
  return OUTCOME_GUIDE[row.outcome].next;
}
