// What dialtone needs from Microsoft Graph, as the domain sees it, and how Graph's refusals map onto the domain's
// reasons. The Graph adapter implements LicensingDirectory; tests and orchestrations depend only on this.
import type { SubscribedSkuFacts } from './catalog';
import type { LicenceAddition } from './holdings';
import type { FailureReason } from './outcomes';
import type {
  HeldNumber,
  NumberOrder,
  NumberRelease,
  NumberReleaseRequest,
  NumberUnassignmentSent,
  NumberRequest,
  NumberType,
  TeamsNumber,
} from './phone-numbers';
import type { TenantUserState } from './planning';

export type GraphFailureReason = FailureReason | 'unknown_sku';

/**
 * Why Graph refused to take a licence away, when it says so: the user does not hold the SKU at all
 * (`licence_not_held`), or holds it only through a group, which group-based licensing does not let a direct removal
 * touch (`licence_held_by_group`; Entra's licensing-group-advanced.md), or another licence the user keeps has a plan
 * that needs a plan of this one (`dependent_plan`).
 */
export type GraphRefusal = 'licence_not_held' | 'licence_held_by_group' | 'dependent_plan';

export interface GraphFailure {
  readonly ok: false;
  /** Transient failures (429, 5xx, timeouts, resets) are worth retrying; permanent ones are not. */
  readonly transient: boolean;
  readonly reason: GraphFailureReason;
  readonly status: number;
  readonly code: string;
  /** Graph's own message, kept for the report (for 401/403, prefixed with the permission the app lacks). */
  readonly message: string;
  readonly retryAfterSeconds?: number;
  /** Set when a removal was refused for one of the reasons the domain words itself (GraphRefusal). */
  readonly refusal?: GraphRefusal;
}

export type GraphResult<T> = { readonly ok: true; readonly value: T } | GraphFailure;

export interface DirectoryUser extends TenantUserState {
  readonly userPrincipalName: string;
}

export interface WriteOptions {
  /**
   * A turn (epoch ms) the caller already reserved for this write in the app's shared write budget: the write is sent
   * at it, without taking another. A resend (after a 429, or after the usage location's replication lag) takes a turn
   * of its own as any write does.
   */
  readonly reservedAt?: number;
}

export interface AssignOptions extends WriteOptions {
  /**
   * This run set the user's usage location just before: an "invalid usage location" answer is then most likely
   * replication lag (the PATCH not yet seen by licensing) and is retried a few times with a delay.
   */
  readonly usageLocationJustSet?: boolean;
}

export interface LicensingDirectory {
  listSubscribedSkus(): Promise<GraphResult<SubscribedSkuFacts[]>>;
  /** Reads users by UPN or id; a user Graph does not have comes back as a user_not_found failure. */
  readUsers(idsOrUpns: readonly string[]): Promise<Map<string, GraphResult<DirectoryUser>>>;
  setUsageLocation(userId: string, usageLocation: string, options?: WriteOptions): Promise<GraphResult<void>>;
  /**
   * Adds licences (nothing is removed); a bare skuId adds it with every plan enabled. Nothing to add sends nothing
   * (Graph refuses an empty assignLicense). A 5xx or timeout is not resent here: the first may have landed, so the
   * caller re-reads the user before trying again.
   */
  assignLicenses(
    userId: string,
    add: readonly (string | LicenceAddition)[],
    options?: AssignOptions,
  ): Promise<GraphResult<void>>;
  /** Teams' featureTypes per user id; a response without featureTypes is a failure, never "no features". */
  readTeamsFeatures(userIds: readonly string[]): Promise<Map<string, GraphResult<string[]>>>;
  /** One sweep of the Teams user configurations' list form (absent: this directory reads per user only). */
  listTeamsFeatures?(options: TeamsListOptions): Promise<GraphResult<TeamsSweep>>;
}

/** An assignLicense that adds and removes at once: one request, which Graph applies whole or refuses whole. */
export interface LicenceChange {
  readonly add: readonly (string | LicenceAddition)[];
  /** skuIds of licences assigned directly to the user. */
  readonly remove: readonly string[];
}

/** Giving licences back (leavers) and swapping them (movers), through Graph's assignLicense. */
export interface LicenceReleases {
  /**
   * Removes these directly assigned licences in one assignLicense (removeLicenses); none sends nothing. A refusal
   * carries its GraphRefusal: not held, held only through a group, or needed by a plan the user keeps. As for
   * assignLicenses, only a 429 is resent: after a 5xx or a timeout the caller reads the user again.
   */
  removeLicenses(userId: string, skuIds: readonly string[], options?: WriteOptions): Promise<GraphResult<void>>;
  /** Adds and removes in one assignLicense (a mover's calling plan for another); nothing either way sends nothing. */
  changeLicenses(userId: string, change: LicenceChange, options?: AssignOptions): Promise<GraphResult<void>>;
}

export interface TeamsListOptions {
  /** Only configurations modified at or after this time (ms), by $filter; absent: every configuration. */
  readonly since?: number;
  /** Entries asked for per page ($top). */
  readonly top: number;
  /** Pages read at most; the sweep comes back `complete: false` when there were more. */
  readonly maxPages: number;
  /** Awaited before page k (0-based) is sent: where the read budget paces the pages. */
  readonly beforePage?: (k: number) => Promise<void>;
}

/** What one sweep saw: featureTypes by user id, for the users listed. */
export interface TeamsSweep {
  readonly features: Map<string, string[]>;
  readonly pages: number;
  /** Every page was read (false: cut short at maxPages, or at a next link to another host). */
  readonly complete: boolean;
}

/** Teams phone numbers through Graph's telephoneNumberManagement (docs/phone-numbers.md). */
export interface PhoneNumberDirectory {
  /** Free numbers of a type and country, in the order Graph lists them, at most `limit` (paged with $top/$skip). */
  listFreeNumbers(numberType: NumberType, isoCountryCode: string, limit: number): Promise<GraphResult<TeamsNumber[]>>;
  /** The tenant's record of one number, or null when the tenant has no such number. */
  findNumber(telephoneNumber: string): Promise<GraphResult<TeamsNumber | null>>;
  /** Sends assignNumber and returns its operation, not yet finished. */
  startNumberAssignment(request: NumberRequest): Promise<GraphResult<NumberOrder>>;
  readNumberOrder(operationId: string): Promise<GraphResult<NumberOrder>>;
  /** Sends assignNumber and follows its operation until it finishes or the adapter's patience runs out (status then unfinished). */
  assignNumber(request: NumberRequest): Promise<GraphResult<NumberOrder>>;
  setEmergencyLocation(telephoneNumber: string, locationId: string): Promise<GraphResult<void>>;
  /** Teams' telephoneNumbers per user id: the read-back that confirms an assignment. */
  readHeldNumbers(userIds: readonly string[]): Promise<Map<string, GraphResult<HeldNumber[]>>>;
}

/** Giving a Teams phone number back (unassignNumber, teamsadministration-numberassignment-unassignnumber.md). */
export interface NumberReleases {
  /**
   * Reads the number, and unless it is the user's own (skipped, with the reason), sends unassignNumber and follows
   * its operation until it finishes or the adapter's patience runs out (`unfinished`, to read again later).
   */
  unassignNumber(request: NumberReleaseRequest): Promise<GraphResult<NumberRelease>>;
  /** Follows an unassignNumber order sent earlier (request.onSent) as unassignNumber does, sending nothing. */
  followNumberUnassignment(sent: NumberUnassignmentSent): Promise<GraphResult<NumberRelease>>;
  /** Sends unassignNumber only and returns its operation, not yet finished (readNumberOrder reads it on). */
  startNumberUnassignment(telephoneNumber: string, numberType: NumberType): Promise<GraphResult<NumberOrder>>;
}

/** The Graph calls dialtone makes, for naming the permission a 401/403 means is missing. */
export type GraphOperation =
  | 'listSubscribedSkus'
  | 'readUsers'
  | 'setUsageLocation'
  | 'assignLicenses'
  | 'readTeamsFeatures'
  | 'listTeamsFeatures'
  | 'listNumbers'
  | 'assignNumber'
  | 'unassignNumber'
  | 'readNumberOrder'
  | 'updateNumber';

/**
 * Application permissions that allow each call, least privileged first, from each API page's permissions table in
 * microsoftgraph/microsoft-graph-docs-contrib (api-reference/v1.0/api/<page>.md and its includes/permissions file).
 */
export const GRAPH_PERMISSIONS: Readonly<
  Record<GraphOperation, { readonly request: string; readonly permissions: readonly string[]; readonly doc: string }>
> = {
  // The page names LicenseAssignment.Read.All; one version of its generated include names Organization.Read.All as
  // least privileged. Either works, and so does Directory.Read.All.
  listSubscribedSkus: {
    request: 'GET /subscribedSkus',
    permissions: ['LicenseAssignment.Read.All', 'Organization.Read.All', 'Directory.Read.All'],
    doc: 'https://learn.microsoft.com/graph/api/subscribedsku-list',
  },
  readUsers: {
    request: 'GET /users/{id}',
    permissions: ['User.Read.All', 'Directory.Read.All'],
    doc: 'https://learn.microsoft.com/graph/api/user-get',
  },
  setUsageLocation: {
    request: 'PATCH /users/{id}',
    permissions: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
    doc: 'https://learn.microsoft.com/graph/api/user-update',
  },
  assignLicenses: {
    request: 'POST /users/{id}/assignLicense',
    permissions: ['LicenseAssignment.ReadWrite.All', 'Directory.ReadWrite.All', 'User.ReadWrite.All'],
    doc: 'https://learn.microsoft.com/graph/api/user-assignlicense',
  },
  readTeamsFeatures: {
    request: 'GET /admin/teams/userConfigurations/{id}',
    permissions: ['TeamsUserConfiguration.Read.All'],
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-teamsuserconfiguration-get',
  },
  // The list's page documents the same permission family as the single read: TeamsUserConfiguration.Read.All.
  listTeamsFeatures: {
    request: 'GET /admin/teams/userConfigurations',
    permissions: ['TeamsUserConfiguration.Read.All'],
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-teamsadminroot-list-userconfigurations',
  },
  listNumbers: {
    request: 'GET /admin/teams/telephoneNumberManagement/numberAssignments',
    permissions: ['TeamsTelephoneNumber.Read.All', 'TeamsTelephoneNumber.ReadWrite.All'],
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-telephonenumbermanagementroot-list-numberassignments',
  },
  assignNumber: {
    request: 'POST /admin/teams/telephoneNumberManagement/numberAssignments/assignNumber',
    permissions: ['TeamsTelephoneNumber.ReadWrite.All'],
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-numberassignment-assignnumber',
  },
  unassignNumber: {
    request: 'POST /admin/teams/telephoneNumberManagement/numberAssignments/unassignNumber',
    permissions: ['TeamsTelephoneNumber.ReadWrite.All'],
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-numberassignment-unassignnumber',
  },
  readNumberOrder: {
    request: 'GET /admin/teams/telephoneNumberManagement/operations/{id}',
    permissions: ['TeamsTelephoneNumber.Read.All', 'TeamsTelephoneNumber.ReadWrite.All'],
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-telephonenumberlongrunningoperation-get',
  },
  updateNumber: {
    request: 'POST /admin/teams/telephoneNumberManagement/numberAssignments/updateNumber',
    permissions: ['TeamsTelephoneNumber.ReadWrite.All'],
    doc: 'https://learn.microsoft.com/graph/api/teamsadministration-numberassignment-updatenumber',
  },
};

/**
 * The sentence a report and a flag carry when Graph refuses a call: for lack of permission (403), or because it did
 * not accept the token at all (401 InvalidAuthenticationToken: expired, or issued for another resource or tenant),
 * which no permission fixes.
 */
export function missingPermissionMessage(operation: GraphOperation, status: number, graphMessage: string): string {
  const p = GRAPH_PERMISSIONS[operation];
  if (status === 401)
    return `Graph answered 401 to ${p.request}: it did not accept the app's token (expired, or issued for another resource or tenant); check the app's sign-in (its identity, tenant and Graph cloud). Graph said: ${graphMessage}`;
  const which =
    p.permissions.length === 1
      ? `the application permission ${p.permissions[0]!}`
      : `one of the application permissions ${p.permissions.join(', ')}`;
  return `Graph answered ${status} to ${p.request}: the app's identity needs ${which}, with admin consent (${p.doc}). Graph said: ${graphMessage}`;
}

const MESSAGE_REASONS: readonly (readonly [RegExp, GraphFailureReason])[] = [
  [/invalid usage location/i, 'usage_location_missing'],
  [/does not have any available licenses|not enough licenses/i, 'insufficient_licenses'],
  [/mutually exclusive/i, 'mutually_exclusive'],
  [/depends on the service plan/i, 'dependency'],
  [/does not correspond to a valid company license/i, 'unknown_sku'],
];

/** Graph's texts for a removal it refuses (test/fixtures/graph-errors: remove-not-held, remove-inherited, dependency). */
const REFUSALS: readonly (readonly [RegExp, GraphRefusal])[] = [
  [/does not have a corresponding license/i, 'licence_not_held'],
  [/inherited from (?:a )?group/i, 'licence_held_by_group'],
  [/depends on the service plan/i, 'dependent_plan'],
];

/** An assignLicense failure that removed licences, with its GraphRefusal when Graph's 400 says one. */
export function withRemovalRefusal(f: GraphFailure): GraphFailure {
  const refusal = f.status === 400 ? REFUSALS.find(([pattern]) => pattern.test(f.message))?.[1] : undefined;
  return refusal ? { ...f, refusal } : f;
}

/** Maps a Graph error response (or a network failure, status 0) onto a domain failure. */
export function classifyGraphError(
  status: number,
  code: string,
  message: string,
  retryAfterSeconds?: number,
): GraphFailure {
  const base = {
    ok: false as const,
    status,
    code,
    message,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
  if (status === 429) return { ...base, transient: true, reason: 'throttled' };
  if (status === 0 || status === 408 || status >= 500) return { ...base, transient: true, reason: 'graph_error' };
  if (status === 404 || /Request_ResourceNotFound/i.test(code))
    return { ...base, transient: false, reason: 'user_not_found' };
  if (status === 401 || status === 403) return { ...base, transient: false, reason: 'forbidden' };
  for (const [pattern, reason] of MESSAGE_REASONS)
    if (pattern.test(message)) return { ...base, transient: false, reason };
  return { ...base, transient: false, reason: 'graph_error' };
}
