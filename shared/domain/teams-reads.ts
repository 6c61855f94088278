// How one Teams check learns who is provisioned: by reading each pending user (GET
// /admin/teams/userConfigurations/{id}, one request each, 20 to a $batch) or by sweeping the list form of the same
// resource (GET /admin/teams/userConfigurations, paged; one request per page answers for many users). Graph documents
// the list with $select, $filter, $top, $expand and $orderBy (api-reference/v1.0/api/
// teamsadministration-teamsadminroot-list-userconfigurations.md) but not which properties $filter takes, so what
// Graph refuses is remembered here and only ever tightens: a refused filter leaves the unfiltered sweep, a refused
// sweep leaves the per-user reads. Pure: the orchestration carries the memory across continue-as-new
// (docs/teams-checks.md).

/** What Graph is known to accept for the list, most useful first. */
export type TeamsListMode = 'filtered' | 'unfiltered' | 'perUser';

const ORDER: readonly TeamsListMode[] = ['filtered', 'unfiltered', 'perUser'];

/** The tighter of two memories (undefined: nothing learned, the same as 'filtered'). */
export function tighterMode(a: TeamsListMode | undefined, b: TeamsListMode | undefined): TeamsListMode | undefined {
  if (!a) return b;
  if (!b) return a;
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * A check needing no more users than one $batch reads is read per user (Graph's $batch limit of 20,
 * json-batching.md): a small batch never pays for a sweep whose size is not known yet.
 */
export const SMALL_CHECK = 20;

export interface TeamsReadSituation {
  /** Users this check must answer for (the chunk's pending ones). */
  readonly pending: number;
  /** Users a sweep now would answer for: this check's and those of other checks due about now (at least `pending`). */
  readonly demand: number;
  /** A person asked for this check (POST …/recheck): read the chunk's users now, one by one. */
  readonly recheck?: boolean;
  /** What Graph has refused so far. */
  readonly mode?: TeamsListMode;
  /** A sweep recent enough for this check has been made (or is under way): it costs this check nothing. */
  readonly freshSweep: boolean;
  /** Pages the last complete sweep of this kind took (undefined: never swept). */
  readonly estimatedPages?: number;
}

export type TeamsReadChoice =
  { readonly how: 'perUser' } | { readonly how: 'cached' } | { readonly how: 'sweep'; readonly maxPages: number };

/**
 * Sweep when one sweep costs fewer requests than reading the users it answers for one by one; reuse a fresh sweep at
 * no cost; read per user for rechecks, small checks, and once Graph refused the list. A sweep is given at most
 * `demand - 1` pages: it never costs more than the per-user reads it replaces (a tenant larger than that is learned
 * from the cut-short sweep, and per-user reads follow).
 */
export function chooseTeamsRead(s: TeamsReadSituation): TeamsReadChoice {
  if (s.pending <= 0 || s.recheck || s.mode === 'perUser') return { how: 'perUser' };
  if (s.freshSweep) return { how: 'cached' };
  const demand = Math.max(s.pending, s.demand);
  if (s.estimatedPages === undefined ? demand <= SMALL_CHECK : s.estimatedPages >= demand) return { how: 'perUser' };
  return { how: 'sweep', maxPages: demand - 1 };
}

/**
 * The lower bound of a filtered sweep's modifiedDateTime: an hour boundary at least ten minutes before the earliest
 * assignment of the users it answers for, so that the checks of one batch (assigned within minutes of each other)
 * share one sweep. Teams updates modifiedDateTime "each time the user's details are changed" (teamsUserConfiguration
 * resource, v1.0), which a licence that brings a calling plan does after the assignment.
 */
export function sweepSince(earliestAssignedAt: number): number {
  const HOUR = 3_600_000;
  return Math.floor((earliestAssignedAt - 10 * 60_000) / HOUR) * HOUR;
}
