// The app-wide Graph budgets on real Azurite: several instances (ledger objects) sharing one blob never get
// overlapping reservations, and writes paced through them stay at the rate in every window, counted in the
// budget's own time (a virtual clock that moves only when someone sleeps, so nothing here depends on the machine).
import { BlobServiceClient, BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../local/azurite';
import type { AppTime } from '../../shared/adapters/app-time';
import { BlobRateLedger, WriteBudget } from '../../shared/adapters/graph-budget';
import { createActivities, TEAMS_DEFER_LEAD_MS } from '../../activities/batch';
import type { TeamsSeen } from '../../contracts/batch';
import { BlobBatchStore } from '../../shared/adapters/batch-store';
import { DeferredFlagPublisher } from '../../shared/adapters/flags';
import type { GraphResult, LicensingDirectory } from '../../shared/domain/directory';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';

/** Time that stands still until a sleep moves it to the sleeper's wake-up time (the earliest sleeper first). */
function virtualTime(start: number): AppTime & { runUntil<T>(work: Promise<T>): Promise<T> } {
  let now = start;
  const sleepers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep(ms: number) {
      return new Promise<void>((resolve) => sleepers.push({ at: now + Math.max(0, ms), resolve }));
    },
    /** Wakes sleepers in time order, one at a time, until the work is done (storage round trips run meanwhile). */
    async runUntil<T>(work: Promise<T>): Promise<T> {
      let done = false;
      const result = work.finally(() => (done = true));
      while (!done) {
        await new Promise((r) => setTimeout(r, 10));
        if (sleepers.length === 0) continue;
        sleepers.sort((x, y) => x.at - y.at);
        const s = sleepers.shift()!;
        now = Math.max(now, s.at);
        s.resolve();
      }
      return result;
    },
  };
}

describe('shared Graph budgets in blob storage', () => {
  let azurite: Azurite;
  let container: ContainerClient;
  beforeAll(async () => {
    azurite = await startAzurite();
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('dialtone-budgets');
  });
  afterAll(() => azurite?.stop());

  it('gives racing instances disjoint reservations that together keep the rate', async () => {
    const t0 = Date.parse('2026-11-25T08:00:00Z');
    const time = virtualTime(t0);
    const instances = [0, 1, 2, 3].map(() => new BlobRateLedger(container, 'race.json', 10, time));
    // the losers of a race back off (a short sleep) before reading the ledger again
    const starts = await time.runUntil(Promise.all(Array.from({ length: 40 }, (_, i) => instances[i % 4]!.reserve(5))));
    // 40 reservations of 5 reads at 10/s: back to back, half a second each, none shared, from t0 on.
    expect([...starts].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => t0 + i * 500));
  });

  it('makes the reservations an instance is asked for while its round trip is in flight together, still disjoint', async () => {
    const t0 = Date.parse('2026-11-25T08:30:00Z');
    const time = virtualTime(t0);
    const instances = [0, 1].map(() => new BlobRateLedger(container, 'grouped.json', 10, time));
    const uploads = jest.spyOn(BlockBlobClient.prototype, 'upload');
    try {
      // 100 reservations of different sizes asked at once of two instances racing for the same blob
      const sizes = Array.from({ length: 100 }, (_, i) => 1 + (i % 3));
      const starts = await time.runUntil(Promise.all(sizes.map((n, i) => instances[i % 2]!.reserve(n))));
      const spans = starts.map((s, i) => ({ s, e: s + sizes[i]! * 100 })).sort((a, b) => a.s - b.s);
      // back to back from t0, none shared: together exactly the turns asked for
      expect(spans[0]!.s).toBe(t0);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.s).toBe(spans[i - 1]!.e);
      expect(spans.at(-1)!.e - t0).toBe(sizes.reduce((a, b) => a + b, 0) * 100);
      // one conditional write per group, not per reservation (412s included): far fewer than 100
      expect(uploads.mock.calls.length).toBeLessThan(20);
    } finally {
      uploads.mockRestore();
    }
  });

  it('paces the writes of two instances together at the shared rate in every one-second window', async () => {
    const t0 = Date.parse('2026-11-25T09:00:00Z');
    const time = virtualTime(t0);
    const budgets = [0, 1].map(() => new WriteBudget(new BlobRateLedger(container, 'writes.json', 18, time), time));
    const sentAt: number[] = [];
    await time.runUntil(
      Promise.all(Array.from({ length: 120 }, (_, i) => budgets[i % 2]!.acquire().then(() => sentAt.push(time.now())))),
    );
    expect(sentAt).toHaveLength(120);
    const sorted = sentAt.sort((a, b) => a - b);
    for (const t of sorted) expect(sorted.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(18);
    // and it uses the budget: 120 writes at 18/s take 6.6 s of budget time, not more than a second over
    expect(sorted.at(-1)! - t0).toBeLessThan((120 / 18) * 1000 + 1000);
  });

  /**
   * Five chunks of 60 users on two instances check Teams once each, as their orchestrations would: a deferred check's
   * timer fires `late(chunk)` ms after its resumeAt, and the check comes back with its reservation.
   */
  async function checkChunks(ledgerName: string, t0: number, late: (chunk: number, deferral: number) => number) {
    const time = virtualTime(t0);
    const store = new BlobBatchStore(
      BlobServiceClient.fromConnectionString(azurite.connectionString),
      'license-reports',
    );
    // The check publishes no flags; a publisher that is created only when used, and fails then, proves it.
    const flags = new DeferredFlagPublisher(() => {
      throw new Error('a Teams check published flags');
    });
    // Graph as the budget sees it: each $batch answers after 150-400 ms (seeded), and a read counts when it arrives.
    let seed = 7;
    const readAt: number[] = [];
    const readUsers: string[] = [];
    const graph = {
      async readTeamsFeatures(ids: readonly string[]) {
        seed = (seed * 48271) % 2147483647;
        await time.sleep(150 + (seed % 250));
        for (const id of ids) {
          readAt.push(time.now());
          readUsers.push(id);
        }
        return new Map<string, GraphResult<string[]>>(
          ids.map((id) => [id, { ok: true, value: ['Teams', 'CallingPlan'] }]),
        );
      },
    } as unknown as LicensingDirectory;
    let reservations = 0;
    const ledger = () => {
      const l = new BlobRateLedger(container, ledgerName, 10, time);
      return {
        perSecond: l.perSecond,
        reserve: (n: number) => (reservations++, l.reserve(n)),
        release: l.release.bind(l),
      };
    };
    const instances = [0, 1].map(() =>
      createActivities({
        graph,
        store,
        flags,
        profiles: BUILT_IN_PROFILES,
        defaultProfile: 'phone-domestic',
        defaultUsageLocation: undefined,
        teamsReads: ledger(),
        time,
      }),
    );
    const chunks = 5;
    const perChunk = 60;
    const usersOf = (c: number) => Array.from({ length: perChunk }, (_, i) => `id-${c * perChunk + i + 1}`);
    let deferrals = 0;
    const check = async (c: number): Promise<TeamsSeen> => {
      const activities = instances[c % 2]!;
      let r = await activities.checkTeams({ userIds: usersOf(c) });
      for (let d = 0; r.deferredUntil && d < 3; d++) {
        deferrals++;
        expect(Date.parse(r.resumeAt!)).toBe(Date.parse(r.deferredUntil) - TEAMS_DEFER_LEAD_MS);
        const due = Date.parse(r.resumeAt!) + late(c, d);
        if (due > time.now()) await time.sleep(due - time.now());
        r = await activities.checkTeams({ userIds: usersOf(c), reservedAt: r.deferredUntil });
      }
      return r;
    };
    const results = await time.runUntil(Promise.all(Array.from({ length: chunks }, (_, c) => check(c))));
    // every check ended with its reads done
    expect(results.map((r) => [r.found.length, r.deferredUntil])).toEqual(
      Array.from({ length: chunks }, () => [perChunk, undefined]),
    );
    // every pending user read exactly once
    expect([...readUsers].sort()).toEqual(Array.from({ length: chunks * perChunk }, (_, i) => `id-${i + 1}`).sort());
    const sorted = [...readAt].sort((a, b) => a - b);
    const most = (windowMs: number) =>
      Math.max(...sorted.map((t) => sorted.filter((u) => u >= t && u < t + windowMs).length));
    return { chunks, deferrals, reservations, most };
  }

  it('keeps the Teams reads of chunks on two instances within the read budget in every 10 s, late timers and slow answers included', async () => {
    // Chunk 3's first timer fires a second after its slots began: its reads are reserved again.
    const { deferrals, most } = await checkChunks('teams-reads.json', Date.parse('2026-11-25T10:00:00Z'), (c, d) =>
      c === 3 && d === 0 ? TEAMS_DEFER_LEAD_MS + 1000 : 0,
    );
    // some checks were deferred (300 reads at 10/s take half a minute)
    expect(deferrals).toBeGreaterThan(0);
    expect(most(10_000)).toBeLessThanOrEqual(100);
    expect(most(1_000)).toBeLessThanOrEqual(20);
  });

  it('keeps a deferred check’s reservation when its timer fires late by less than the lead: each check reserves once', async () => {
    // Every deferred check's timer fires 4 s late (under the 5 s lead). Before the lead, each of them found its slots
    // begun, reserved again behind the others, further out than an activity may wait, and was deferred again.
    const { chunks, deferrals, reservations, most } = await checkChunks(
      'teams-reads-late.json',
      Date.parse('2026-11-25T11:00:00Z'),
      () => 4000,
    );
    expect(deferrals).toBeGreaterThan(0);
    expect(reservations).toBe(chunks);
    expect(most(10_000)).toBeLessThanOrEqual(100);
  });
  it('gives slots back across instances: never two holders of one slot, whatever the races and retried releases', async () => {
    const t0 = Date.parse('2026-11-26T08:00:00Z');
    const time = virtualTime(t0);
    const instances = [0, 1, 2, 3].map(() => new BlobRateLedger(container, 'release-race.json', 10, time));
    // Each holder takes n slots (a tenth of a second each); odd holders give theirs back, twice (an activity retried).
    const held: { key: string; from: number; end: number }[] = [];
    const returned = new Set<string>();
    await time.runUntil(
      Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const ledger = instances[i % 4]!;
          const n = 5 + (i % 7) * 10;
          const from = await ledger.reserve(n);
          const slots = { key: `k${i}`, from, end: from + n * 100 };
          held.push(slots);
          if (i % 2 === 1) {
            await Promise.all([
              ledger.release(slots.key, slots.from, slots.end),
              instances[(i + 1) % 4]!.release(slots.key, slots.from, slots.end),
            ]);
            returned.add(slots.key);
          }
        }),
      ),
    );
    // What is still held (never given back) never overlaps; slots taken from given-back ones overlap only those.
    const kept = held.filter((h) => !returned.has(h.key)).sort((a, b) => a.from - b.from);
    for (let i = 1; i < kept.length; i++) expect(kept[i]!.from).toBeGreaterThanOrEqual(kept[i - 1]!.end);
    // and some reservations did take given-back slots: the queue's end is short of the sum of all reservations
    const state = JSON.parse(
      (await container.getBlockBlobClient('release-race.json').downloadToBuffer()).toString(),
    ) as { nextFreeAt: number };
    const total = held.reduce((a, h) => a + (h.end - h.from), 0);
    expect(state.nextFreeAt - t0).toBeLessThan(total);
  });

  it('lets the next reservation take the slots a chunk ending at its deadline gave back, on another instance', async () => {
    const t0 = Date.parse('2026-11-26T09:00:00Z');
    const time = virtualTime(t0);
    const store = new BlobBatchStore(
      BlobServiceClient.fromConnectionString(azurite.connectionString),
      'license-reports',
    );
    const flags = new DeferredFlagPublisher(() => {
      throw new Error('unused');
    });
    const graph = {
      readTeamsFeatures: () => Promise.reject(new Error('a deferred check must not read')),
    } as unknown as LicensingDirectory;
    const [a, b] = [0, 1].map(() => new BlobRateLedger(container, 'release-deadline.json', 10, time));
    // Others have the next ten minutes; this chunk's check of 400 users is deferred behind them.
    await a!.reserve(6_000);
    const activities = createActivities({
      graph,
      store,
      flags,
      profiles: BUILT_IN_PROFILES,
      defaultProfile: 'phone-domestic',
      defaultUsageLocation: undefined,
      teamsReads: a!,
      time,
    });
    const seen = await activities.checkTeams({ userIds: Array.from({ length: 400 }, (_, i) => `id-${i}`) });
    expect(seen.deferredUntil).toBe(new Date(t0 + 600_000).toISOString());
    // 20 slices of 20 reads, each 2 s plus its guard
    expect(Date.parse(seen.reservedUntil!) - Date.parse(seen.deferredUntil!)).toBe(20 * 2_500);
    // Before the give-back, a reservation of 3 reads would wait behind the check.
    const probe = new BlobRateLedger(container, 'release-deadline.json', 10, time);
    expect(await probe.reserve(0)).toBe(Date.parse(seen.reservedUntil!));
    // The chunk ends at its deadline instead: it gives the slots back (twice: the activity was retried).
    const release = { runKey: 'run-r', chunk: 4, from: seen.deferredUntil!, until: seen.reservedUntil! };
    expect(await activities.releaseReads(release)).toBe(true);
    expect(await activities.releaseReads(release)).toBe(true);
    const returned = (
      JSON.parse((await container.getBlockBlobClient('release-deadline.json').downloadToBuffer()).toString()) as {
        returned: unknown[];
      }
    ).returned;
    expect(returned).toEqual([
      { key: `run-r/4/${seen.deferredUntil!}`, from: t0 + 600_001, end: Date.parse(seen.reservedUntil!) },
    ]);
    time.now = () => t0 + 600_000 - 30_000;
    const taken = await time.runUntil(Promise.all([b!.reserve(3), b!.reserve(3)]));
    expect([...taken].sort((x, y) => x - y)).toEqual([t0 + 600_001, t0 + 600_301]);
  });
});
