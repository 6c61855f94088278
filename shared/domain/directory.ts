// What dialtone needs from Microsoft Graph, as the domain sees it, and how Graph's refusals map onto the domain's
// reasons. The Graph adapter implements LicensingDirectory; tests and orchestrations depend only on this.
import type { SubscribedSkuFacts } from './catalog';
import type { FailureReason } from './outcomes';
import type { TenantUserState } from './planning';

export type GraphFailureReason = FailureReason | 'unknown_sku';

export interface GraphFailure {
  readonly ok: false;
  /** Transient failures (429, 5xx, timeouts, resets) are worth retrying; permanent ones are not. */
  readonly transient: boolean;
  readonly reason: GraphFailureReason;
  readonly status: number;
  readonly code: string;
  /** Graph's own message, kept for the report. */
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

export type GraphResult<T> = { readonly ok: true; readonly value: T } | GraphFailure;

export interface DirectoryUser extends TenantUserState {
  readonly userPrincipalName: string;
}

export interface LicensingDirectory {
  listSubscribedSkus(): Promise<GraphResult<SubscribedSkuFacts[]>>;
  /** Reads users by UPN or id; a user Graph does not have comes back as a user_not_found failure. */
  readUsers(idsOrUpns: readonly string[]): Promise<Map<string, GraphResult<DirectoryUser>>>;
  setUsageLocation(userId: string, usageLocation: string): Promise<GraphResult<void>>;
  /** Adds licences (nothing is removed). */
  assignLicenses(userId: string, addSkuIds: readonly string[]): Promise<GraphResult<void>>;
  /** Teams' featureTypes per user id. */
  readTeamsFeatures(userIds: readonly string[]): Promise<Map<string, GraphResult<string[]>>>;
}

const MESSAGE_REASONS: readonly (readonly [RegExp, GraphFailureReason])[] = [
  [/invalid usage location/i, 'usage_location_missing'],
  [/does not have any available licenses|not enough licenses/i, 'insufficient_licenses'],
  [/mutually exclusive/i, 'mutually_exclusive'],
  [/depends on the service plan/i, 'dependency'],
  [/does not correspond to a valid company license/i, 'unknown_sku'],
];

/** Maps a Graph error response (or a network failure, status 0) onto a domain failure. */
export function classifyGraphError(status: number, code: string, message: string, retryAfterSeconds?: number): GraphFailure {
  const base = { ok: false as const, status, code, message, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
  if (status === 429) return { ...base, transient: true, reason: 'throttled' };
  if (status === 0 || status === 408 || status >= 500) return { ...base, transient: true, reason: 'graph_error' };
  if (status === 404 || /Request_ResourceNotFound/i.test(code)) return { ...base, transient: false, reason: 'user_not_found' };
  if (status === 401 || status === 403) return { ...base, transient: false, reason: 'forbidden' };
  for (const [pattern, reason] of MESSAGE_REASONS) if (pattern.test(message)) return { ...base, transient: false, reason };
  return { ...base, transient: false, reason: 'graph_error' };
}
