// How a Teams check learns who is provisioned (shared/domain/teams-reads.ts) and the activities' sweeps built on it
// (activities/teams-sweeps.ts): sweep when one sweep costs fewer requests than per-user reads, share a fresh one,
// keep per-user reads for rechecks and small checks, and remember what Graph refused so that it is not asked again.
// The sweeper runs here against a scripted directory that answers the list as the simulator does (its pages, 400s),
// on a virtual clock, so that what it sends is counted exactly.
import { LocalRateLedger } from '../../shared/adapters/graph-budget';
import type { AppTime } from '../../shared/adapters/app-time';
import {
  classifyGraphError,
  type GraphResult,
  type LicensingDirectory,
  type TeamsListOptions,
  type TeamsSweep,
} from '../../shared/domain/directory';
import { chooseTeamsRead, SMALL_CHECK, sweepSince, tighterMode } from '../../shared/domain/teams-reads';
import { createTeamsSweeper, FULL_SWEEP_EVERY_MS, SWEEP_OVERLAP_MS } from '../../activities/teams-sweeps';

describe('chooseTeamsRead', () => {
  const base = { pending: 200, demand: 200, freshSweep: false };

  it('sweeps when one sweep costs fewer requests than per-user reads, and reads per user when it does not', () => {
    expect(chooseTeamsRead({ ...base, estimatedPages: 11 })).toEqual({ how: 'sweep', maxPages: 199 });
    expect(chooseTeamsRead({ ...base, estimatedPages: 200 })).toEqual({ how: 'perUser' });
    expect(chooseTeamsRead({ ...base, estimatedPages: 199 })).toEqual({ how: 'sweep', maxPages: 199 });
    // other chunks' users due about now count: a sweep of 300 pages is cheaper than 10,000 per-user reads
    expect(chooseTeamsRead({ ...base, demand: 10_000, estimatedPages: 300 })).toEqual({
      how: 'sweep',
      maxPages: 9_999,
    });
  });

  it('reuses a fresh sweep at no cost, but never for a recheck or once Graph refused the list', () => {
    expect(chooseTeamsRead({ ...base, freshSweep: true, estimatedPages: 500 })).toEqual({ how: 'cached' });
    expect(chooseTeamsRead({ ...base, freshSweep: true, recheck: true })).toEqual({ how: 'perUser' });
    expect(chooseTeamsRead({ ...base, freshSweep: true, mode: 'perUser' })).toEqual({ how: 'perUser' });
    expect(chooseTeamsRead({ ...base, freshSweep: true, mode: 'unfiltered' })).toEqual({ how: 'cached' });
  });

  it('reads a small check per user until a sweep has shown what the list costs', () => {
    expect(chooseTeamsRead({ ...base, pending: SMALL_CHECK, demand: SMALL_CHECK })).toEqual({ how: 'perUser' });
    expect(chooseTeamsRead({ ...base, pending: SMALL_CHECK + 1, demand: SMALL_CHECK + 1 })).toEqual({
      how: 'sweep',
      maxPages: SMALL_CHECK,
    });
    // a few users of a chunk, but many across the chunks due now: one sweep
    expect(chooseTeamsRead({ ...base, pending: 3, demand: 400 })).toEqual({ how: 'sweep', maxPages: 399 });
    expect(chooseTeamsRead({ ...base, pending: 3, demand: 3, estimatedPages: 1 })).toEqual({
      how: 'sweep',
      maxPages: 2,
    });
    expect(chooseTeamsRead({ ...base, pending: 0, demand: 400 })).toEqual({ how: 'perUser' });
  });

  it('only ever tightens what it remembers', () => {
    expect(tighterMode(undefined, 'unfiltered')).toBe('unfiltered');
    expect(tighterMode('unfiltered', undefined)).toBe('unfiltered');
    expect(tighterMode('unfiltered', 'filtered')).toBe('unfiltered');
    expect(tighterMode('filtered', 'perUser')).toBe('perUser');
    expect(tighterMode('perUser', 'unfiltered')).toBe('perUser');
  });

  it('starts a filtered sweep on an hour boundary at least ten minutes before the earliest assignment', () => {
    expect(new Date(sweepSince(Date.parse('2026-11-25T08:05:00Z'))).toISOString()).toBe('2026-11-25T07:00:00.000Z');
    expect(new Date(sweepSince(Date.parse('2026-11-25T08:30:00Z'))).toISOString()).toBe('2026-11-25T08:00:00.000Z');
  });
});

/** A virtual clock: sleeping moves it. */
function virtualTime(start = Date.parse('2026-11-25T09:00:00Z')): AppTime & { t: number } {
  const time = {
    t: start,
    now: () => time.t,
    sleep: async (ms: number) => void (time.t += Math.max(0, ms)),
  };
  return time;
}

/**
 * A directory whose list holds `users` ids (`ready` of them with a calling plan), paged `page` to a request, refusing
 * a filter or the whole list with 400 as told; every page and every per-user read is counted.
 */
function scripted(o: {
  users: number;
  ready: number;
  page: number;
  refuseFilter?: boolean;
  refuseList?: boolean;
  time: AppTime;
}) {
  const calls = { pages: [] as { since?: number; at: number }[], perUser: 0 };
  const ids = Array.from({ length: o.users }, (_, i) => `u${String(i).padStart(5, '0')}`);
  const graph: LicensingDirectory = {
    listSubscribedSkus: () => Promise.reject(new Error('not used')),
    readUsers: () => Promise.reject(new Error('not used')),
    setUsageLocation: () => Promise.reject(new Error('not used')),
    assignLicenses: () => Promise.reject(new Error('not used')),
    readTeamsFeatures: (userIds) => {
      calls.perUser += userIds.length;
      return Promise.resolve(new Map(userIds.map((id) => [id, { ok: true as const, value: ['Teams'] }])));
    },
    async listTeamsFeatures(q: TeamsListOptions): Promise<GraphResult<TeamsSweep>> {
      const features = new Map<string, string[]>();
      for (let k = 0; k * o.page < ids.length || k === 0; k++) {
        if (k >= q.maxPages) return { ok: true, value: { features, pages: k, complete: false } };
        await q.beforePage?.(k);
        calls.pages.push({ ...(q.since !== undefined ? { since: q.since } : {}), at: o.time.now() });
        if ((q.since !== undefined && o.refuseFilter) || o.refuseList)
          return classifyGraphError(400, 'BadRequest', 'Invalid filter clause');
        for (const id of ids.slice(k * o.page, (k + 1) * o.page))
          features.set(id, Number(id.slice(1)) < o.ready ? ['Teams', 'CallingPlan'] : ['Teams']);
      }
      return { ok: true, value: { features, pages: calls.pages.length, complete: true } };
    },
  };
  return { graph, calls, ids };
}

describe("the activities' sweeps", () => {
  const request = (
    key: string,
    at: number,
    o: Partial<{ pending: number; recheck: boolean; mode: 'perUser' | 'unfiltered'; run: string }> = {},
  ) => ({
    run: o.run ?? 'run',
    key,
    pending: o.pending ?? 200,
    earliestAssignedAt: at - 600_000,
    at,
    freshMs: 30_000,
    ...(o.recheck ? { recheck: true } : {}),
    ...(o.mode ? { mode: o.mode } : {}),
  });

  it('answers many chunks due about now with one sweep, paced by the Teams read budget', async () => {
    const time = virtualTime();
    const { graph, calls } = scripted({ users: 2500, ready: 1000, page: 999, time });
    const sweeper = createTeamsSweeper({ graph, time, teamsReads: new LocalRateLedger(10, time), maxWaitMs: 10_000 });
    const first = await sweeper.answer(request('0', time.now()));
    expect(first.how).toBe('swept');
    expect(first.how === 'swept' && [...first.features.values()].filter((f) => f.includes('CallingPlan')).length).toBe(
      1000,
    );
    expect(calls.pages).toHaveLength(3);
    // the pages went no faster than the budget's 10 a second
    expect(calls.pages[2]!.at - calls.pages[0]!.at).toBeGreaterThanOrEqual(200);
    // a filtered sweep: from the hour boundary before the assignments
    expect(calls.pages[0]!.since).toBe(sweepSince(time.now() - 600_000));
    // the next chunks, checking within the freshness, reuse it
    for (let c = 1; c < 50; c++) expect((await sweeper.answer(request(`${c}`, time.now()))).how).toBe('swept');
    expect(calls.pages).toHaveLength(3);
    expect(calls.perUser).toBe(0);
    // a check later than the freshness sweeps again
    time.t += 60_000;
    expect((await sweeper.answer(request('0', time.now()))).how).toBe('swept');
    expect(calls.pages).toHaveLength(6);
  });

  it('counts the users a sweep would answer for within one run: small checks of other runs do not add up to a sweep', async () => {
    const time = virtualTime();
    const { graph, calls } = scripted({ users: 2500, ready: 0, page: 999, time });
    const sweeper = createTeamsSweeper({ graph, time, maxWaitMs: 10_000 });
    for (let r = 0; r < 5; r++)
      expect(await sweeper.answer(request('0', time.now(), { pending: 10, run: `run-${r}` }))).toEqual({
        how: 'perUser',
      });
    expect(calls.pages).toHaveLength(0);
    // the same run's chunks do
    expect(await sweeper.answer(request('1', time.now(), { pending: 15, run: 'run-0' }))).toMatchObject({
      how: 'swept',
    });
  });

  it('keeps per-user reads for rechecks and small checks', async () => {
    const time = virtualTime();
    const { graph, calls } = scripted({ users: 2500, ready: 0, page: 999, time });
    const sweeper = createTeamsSweeper({ graph, time, maxWaitMs: 10_000 });
    expect(await sweeper.answer(request('a', time.now(), { recheck: true }))).toEqual({ how: 'perUser' });
    expect(await sweeper.answer(request('b', time.now(), { pending: 5 }))).toEqual({ how: 'perUser' });
    expect(calls.pages).toHaveLength(0);
  });

  it('learns the list is longer than the reads it would replace, stops the sweep there, and reads per user after', async () => {
    const time = virtualTime();
    const { graph, calls } = scripted({ users: 50_000, ready: 0, page: 100, time });
    const sweeper = createTeamsSweeper({ graph, time, maxWaitMs: 10_000 });
    expect(await sweeper.answer(request('a', time.now(), { pending: 30 }))).toEqual({ how: 'perUser' });
    // cut short at 29 pages: never more than the 30 per-user reads it would have replaced
    expect(calls.pages).toHaveLength(29);
    time.t += 60_000;
    expect(await sweeper.answer(request('a', time.now(), { pending: 30 }))).toEqual({ how: 'perUser' });
    expect(calls.pages).toHaveLength(29);
  });

  it('falls back from a refused filter to the unfiltered list, and from a refused list to per-user reads, and asks neither again', async () => {
    const time = virtualTime();
    const filterRefused = scripted({ users: 300, ready: 10, page: 999, refuseFilter: true, time });
    const sweeper = createTeamsSweeper({ graph: filterRefused.graph, time, maxWaitMs: 10_000 });
    const first = await sweeper.answer(request('a', time.now()));
    expect(first).toMatchObject({ how: 'swept', learned: 'unfiltered' });
    expect(filterRefused.calls.pages.map((p) => p.since !== undefined)).toEqual([true, false]);
    time.t += 60_000;
    // another chunk, which has learned nothing itself, is told what this process learned
    expect(await sweeper.answer(request('b', time.now()))).toMatchObject({ how: 'swept', learned: 'unfiltered' });
    expect(filterRefused.calls.pages.map((p) => p.since !== undefined)).toEqual([true, false, false]);

    const listRefused = scripted({ users: 300, ready: 10, page: 999, refuseList: true, time });
    const other = createTeamsSweeper({ graph: listRefused.graph, time, maxWaitMs: 10_000 });
    expect(await other.answer(request('a', time.now()))).toEqual({ how: 'perUser', learned: 'perUser' });
    expect(listRefused.calls.pages).toHaveLength(2);
    time.t += 60_000;
    expect(await other.answer(request('a', time.now(), { mode: 'perUser' }))).toEqual({ how: 'perUser' });
    expect(listRefused.calls.pages).toHaveLength(2);
    // a new process (no memory of its own) is told by the chunk's orchestration, and does not ask
    const restarted = createTeamsSweeper({ graph: listRefused.graph, time, maxWaitMs: 10_000 });
    expect(await restarted.answer(request('a', time.now(), { mode: 'perUser' }))).toEqual({ how: 'perUser' });
    expect(listRefused.calls.pages).toHaveLength(2);
  });

  it('reads per user when the budget has no room for a sweep soon, giving the slot back', async () => {
    const time = virtualTime();
    const { graph, calls } = scripted({ users: 2500, ready: 0, page: 999, time });
    const ledger = new LocalRateLedger(10, time);
    await ledger.reserve(1000); // 100 seconds of the budget taken by others
    const sweeper = createTeamsSweeper({ graph, time, teamsReads: ledger, maxWaitMs: 10_000 });
    expect(await sweeper.answer(request('a', time.now()))).toEqual({ how: 'perUser' });
    expect(calls.pages).toHaveLength(0);
  });

  it('asks a later sweep of the same bound only for what changed since the last one began, less the overlap, and answers with the whole list', async () => {
    const time = virtualTime();
    const MIN = 60_000;
    const t0 = time.now();
    // 2,500 users whose configurations last changed at their licensing, five minutes ago; a list that honours the
    // modifiedDateTime filter as Graph documents it, 999 to a page.
    const users = Array.from({ length: 2500 }, (_, i) => ({
      id: `u${String(i).padStart(5, '0')}`,
      modifiedAt: t0 - 5 * MIN,
      features: ['Teams'],
    }));
    const asked: { since: number | undefined; pages: number }[] = [];
    const graph: LicensingDirectory = {
      ...scripted({ users: 0, ready: 0, page: 999, time }).graph,
      async listTeamsFeatures(q: TeamsListOptions): Promise<GraphResult<TeamsSweep>> {
        const listed = users.filter((u) => q.since === undefined || u.modifiedAt >= q.since);
        const pages = Math.max(1, Math.ceil(listed.length / 999));
        for (let k = 0; k < pages; k++) await q.beforePage?.(k);
        asked.push({ since: q.since, pages });
        return {
          ok: true,
          value: { features: new Map(listed.map((u) => [u.id, [...u.features]])), pages, complete: true },
        };
      },
    };
    const sweeper = createTeamsSweeper({ graph, time, maxWaitMs: 10_000 });
    const check = async () => {
      const a = await sweeper.answer({
        ...request('0', time.now(), { pending: 2500 }),
        earliestAssignedAt: t0 - 5 * MIN,
      });
      if (a.how !== 'swept') throw new Error(`expected a sweep, got ${a.how}`);
      return a.features;
    };
    const bound = sweepSince(t0 - 5 * MIN);

    expect((await check()).size).toBe(2500);
    expect(asked).toEqual([{ since: bound, pages: 3 }]);

    // Twenty minutes on: from ten minutes before the first sweep began, which still takes every user in.
    time.t = t0 + 20 * MIN;
    expect((await check()).size).toBe(2500);
    expect(asked[1]).toEqual({ since: t0 - SWEEP_OVERLAP_MS, pages: 3 });

    // Thirty users show a calling plan at +30 minutes, one of them stamped twelve minutes earlier than that; one user
    // loses the Teams feature (a licence removed). The next sweep asks from ten minutes before the last one began: one
    // page, and the answer is the whole list with the changes laid over it.
    for (const u of users.slice(0, 30))
      Object.assign(u, { modifiedAt: t0 + 30 * MIN, features: ['Teams', 'CallingPlan'] });
    users[0]!.modifiedAt = t0 + 18 * MIN;
    Object.assign(users[2499]!, { modifiedAt: t0 + 30 * MIN, features: [] });
    time.t = t0 + 40 * MIN;
    const third = await check();
    expect(asked[2]).toEqual({ since: t0 + 20 * MIN - SWEEP_OVERLAP_MS, pages: 1 });
    expect(third.size).toBe(2500);
    expect([...third].filter(([, f]) => f.includes('CallingPlan')).map(([id]) => id)).toEqual(
      users.slice(0, 30).map((u) => u.id),
    );
    expect(third.get(users[2499]!.id)).toEqual([]);
    expect(third.get(users[100]!.id)).toEqual(['Teams']);

    // Nothing changed since: one page (the thirty again, within the overlap), and the same answer.
    time.t = t0 + 50 * MIN;
    const fourth = await check();
    expect(asked[3]).toEqual({ since: t0 + 40 * MIN - SWEEP_OVERLAP_MS, pages: 1 });
    expect(fourth).toEqual(third);

    // A change the list shows later than the overlap allows (stamped at +35 minutes, shown only now, at +58) is not in
    // the next sweep's pages; an hour after the last full sweep began, the sweep is full again and finds it.
    Object.assign(users[500]!, { modifiedAt: t0 + 35 * MIN, features: ['Teams', 'CallingPlan'] });
    time.t = t0 + 58 * MIN;
    const fifth = await check();
    expect(asked[4]).toEqual({ since: t0 + 50 * MIN - SWEEP_OVERLAP_MS, pages: 1 });
    expect(fifth.get(users[500]!.id)).toEqual(['Teams']);
    time.t = t0 + FULL_SWEEP_EVERY_MS;
    const full = await check();
    expect(asked[5]).toEqual({ since: bound, pages: 3 });
    expect(full.get(users[500]!.id)).toEqual(['Teams', 'CallingPlan']);
  });
});
