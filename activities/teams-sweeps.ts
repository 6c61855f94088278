// The activities' shared sweeps of the Teams user configurations' list (GET /admin/teams/userConfigurations,
// teamsadministration-teamsadminroot-list-userconfigurations.md): one sweep, a page at a time at the Teams read
// budget's pace, answers the checks of every chunk due about then, so that many pending users cost a few pages instead
// of a request each. What to do for one check is decided by the domain (shared/domain/teams-reads.ts) from what this
// process has seen: the last sweeps, their page counts, what Graph refused, and the users other checks are waiting for.
// A process keeps its sweeps for a few minutes only; the store stays the truth, and a process that has none sweeps
// again (another instance of the app on Azure sweeps on its own, a few pages more).
import { sleepUntil, type AppTime } from '../shared/adapters/app-time';
import type { RateLedger } from '../shared/adapters/graph-budget';
import type { GraphFailure, LicensingDirectory } from '../shared/domain/directory';
import { chooseTeamsRead, sweepSince, tighterMode, type TeamsListMode } from '../shared/domain/teams-reads';

/**
 * Entries asked for per page. Graph documents $top for the list but no maximum; 999 is the largest page the directory's
 * own lists take (users: "$top ... 1 and 999", query-parameters.md). A smaller page from Graph is followed by its next
 * link all the same.
 */
export const SWEEP_PAGE_SIZE = 999;
/** Sweeps a process keeps for later checks to reuse. */
const KEPT_SWEEPS = 4;
/**
 * A later sweep of the same filter asks only for the configurations modified since the last complete one began, less
 * this margin, and lays them over what that one listed (docs/teams-checks.md, "Sweeps that ask only for what
 * changed"): a change whose modifiedDateTime is up to this much older than the moment the list first shows it is still
 * seen.
 */
export const SWEEP_OVERLAP_MS = 10 * 60_000;
/** A sweep of a bound whose last full sweep began this long ago is full again: a change shown later still is caught. */
export const FULL_SWEEP_EVERY_MS = 60 * 60_000;

export interface SweepRequest {
  /** The asking chunk's run: the users a sweep would answer for are counted over the run's chunks due about now. */
  readonly run: string;
  /** The asking chunk (within its run), so that its demand counts once. */
  readonly key: string;
  readonly pending: number;
  /** The earliest assignment among the pending users (ms): where a filtered sweep starts. */
  readonly earliestAssignedAt: number;
  /** The check's time (ms): a sweep started at most `freshMs` before it answers it. */
  readonly at: number;
  readonly freshMs: number;
  readonly recheck?: boolean;
  /** What the chunk's orchestration remembers Graph refused. */
  readonly mode?: TeamsListMode;
}

/** A sweep's answer for a check, or per-user reads; `learned` is what Graph refused during it (for the orchestration). */
export type SweepAnswer =
  | { readonly how: 'perUser'; readonly learned?: TeamsListMode }
  | { readonly how: 'swept'; readonly features: ReadonlyMap<string, string[]>; readonly learned?: TeamsListMode };

type Outcome =
  | { readonly ok: true; readonly features: Map<string, string[]>; readonly complete: boolean; readonly pages: number }
  | { readonly ok: false; readonly failure: GraphFailure | 'budget' };

interface Sweep {
  readonly startedAt: number;
  /** The filter's lower bound the sweep answers for (what it lists is complete from there), undefined: unfiltered. */
  readonly since: number | undefined;
  readonly done: Promise<Outcome>;
}

/** What the last complete filtered sweep of one lower bound listed, when it began, and when the last full one began. */
interface Listed {
  readonly features: ReadonlyMap<string, string[]>;
  readonly asOf: number;
  readonly fullAt: number;
}

export interface SweeperDeps {
  readonly graph: LicensingDirectory;
  readonly time: AppTime;
  readonly teamsReads?: RateLedger;
  /** A page whose turn is further out than this is not waited for: the check reads per user (and defers). */
  readonly maxWaitMs: number;
  readonly pageSize?: number;
}

export function createTeamsSweeper(deps: SweeperDeps) {
  const { graph, time } = deps;
  const pageSize = deps.pageSize ?? SWEEP_PAGE_SIZE;
  let mode: TeamsListMode | undefined;
  const pages: { filtered?: number; unfiltered?: number } = {};
  let sweeps: Sweep[] = [];
  /** By lower bound, the newest few: a sweep of a bound listed before asks only for what changed since. */
  const listed = new Map<number, Listed>();
  const demand = new Map<string, { run: string; pending: number; at: number }>();

  /** Waits for page k's turn in the Teams read budget, one page at a time (pages follow each other's next links). */
  async function pace(): Promise<void> {
    if (!deps.teamsReads) return;
    const start = await deps.teamsReads.reserve(1);
    if (start - time.now() > deps.maxWaitMs) {
      await deps.teamsReads
        .release(`sweep/${start}`, start, start + 1000 / deps.teamsReads.perSecond)
        .catch(() => undefined);
      throw new BudgetFull();
    }
    await sleepUntil(time, start);
  }

  function run(since: number | undefined, maxPages: number): Sweep {
    const started = time.now();
    const kept = since !== undefined ? listed.get(since) : undefined;
    const before = kept && started - kept.fullAt < FULL_SWEEP_EVERY_MS ? kept : undefined;
    const from = since !== undefined && before ? Math.max(since, before.asOf - SWEEP_OVERLAP_MS) : since;
    const done = (async (): Promise<Outcome> => {
      if (!graph.listTeamsFeatures) return { ok: false, failure: 'budget' };
      try {
        const r = await graph.listTeamsFeatures({
          ...(from !== undefined ? { since: from } : {}),
          top: pageSize,
          maxPages,
          beforePage: pace,
        });
        if (!r.ok) return { ok: false, failure: r };
        if (since === undefined || !r.value.complete) return { ok: true, ...r.value };
        // What changed since the last sweep of this bound, over what that one listed: the whole list from the bound.
        const features = before ? new Map([...before.features, ...r.value.features]) : r.value.features;
        // Kept unless a sweep of the bound that began later has finished first (it knows more).
        if ((listed.get(since)?.asOf ?? -Infinity) <= started) {
          listed.delete(since);
          listed.set(since, { features, asOf: started, fullAt: before?.fullAt ?? started });
          for (const k of listed.keys()) if (listed.size > KEPT_SWEEPS) listed.delete(k);
        }
        return { ok: true, ...r.value, features };
      } catch (e) {
        if (e instanceof BudgetFull) return { ok: false, failure: 'budget' };
        throw e;
      }
    })();
    const sweep: Sweep = { startedAt: started, since, done };
    sweeps = [...sweeps.slice(-(KEPT_SWEEPS - 1)), sweep];
    done.then(
      (o) => {
        if (!o.ok) sweeps = sweeps.filter((s) => s !== sweep);
      },
      () => (sweeps = sweeps.filter((s) => s !== sweep)),
    );
    return sweep;
  }

  /** How one check learns who is provisioned now: from a sweep (made now or shortly before), or per user. */
  async function answer(req: SweepRequest): Promise<SweepAnswer> {
    const now = time.now();
    mode = tighterMode(mode, req.mode);
    const before = req.mode;
    // A recheck reads its users itself: it adds nothing to what a sweep would answer.
    if (!req.recheck) demand.set(`${req.run}\u0000${req.key}`, { run: req.run, pending: req.pending, at: now });
    for (const [k, d] of demand) if (d.at < now - 2 * req.freshMs) demand.delete(k);
    const wanted = [...demand.values()].reduce((a, d) => a + (d.run === req.run ? d.pending : 0), 0);
    const learned = () => (mode !== before && mode !== undefined ? { learned: mode } : {});
    for (;;) {
      const filtered = mode !== 'unfiltered' && mode !== 'perUser';
      const since = filtered ? sweepSince(req.earliestAssignedAt) : undefined;
      const fresh = [...sweeps]
        .reverse()
        .find(
          (s) =>
            s.startedAt >= req.at - req.freshMs && (s.since === undefined || (since !== undefined && s.since <= since)),
        );
      const choice = chooseTeamsRead({
        pending: req.pending,
        demand: wanted,
        ...(req.recheck ? { recheck: true } : {}),
        ...(mode ? { mode } : {}),
        freshSweep: fresh !== undefined,
        ...(pages[filtered ? 'filtered' : 'unfiltered'] !== undefined
          ? { estimatedPages: pages[filtered ? 'filtered' : 'unfiltered']! }
          : {}),
      });
      if (choice.how === 'perUser') return { how: 'perUser', ...learned() };
      const sweep = choice.how === 'cached' ? fresh! : run(since, choice.maxPages);
      const o = await sweep.done;
      if (o.ok && o.complete) {
        if (choice.how === 'sweep') pages[filtered ? 'filtered' : 'unfiltered'] = o.pages;
        return { how: 'swept', features: o.features, ...learned() };
      }
      if (o.ok) {
        // Cut short: the list is longer than the per-user reads it would replace. Remembered, and read per user.
        if (choice.how === 'sweep') pages[filtered ? 'filtered' : 'unfiltered'] = o.pages + 1;
        return { how: 'perUser', ...learned() };
      }
      if (o.failure !== 'budget' && o.failure.status === 400) {
        // Graph does not take the query (an option or a filter it does not support for this list): a filtered sweep
        // is tried again without its filter, an unfiltered one is given up for per-user reads.
        if (choice.how === 'cached') continue;
        mode = tighterMode(mode, sweep.since !== undefined ? 'unfiltered' : 'perUser');
        continue;
      }
      // Throttled past the adapter's retries, refused (403: the per-user reads name it per row), or no room in the
      // budget soon: this check reads per user, which defers on a durable timer when the budget is full.
      return { how: 'perUser', ...learned() };
    }
  }

  return {
    answer,
    get mode() {
      return mode;
    },
  };
}

class BudgetFull extends Error {
  constructor() {
    super('no room in the Teams read budget soon');
  }
}
