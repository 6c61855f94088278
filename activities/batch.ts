// The activities: every piece of I/O the orchestrations need (the batch store, Graph, the flags queue), built from
// their dependencies so they can be tested against Azurite and the Graph simulator without the Functions host.
import { sleepUntil, wallClock, type AppTime } from '../shared/adapters/app-time';
import type { BatchStore } from '../shared/adapters/batch-store';
import type { RateLedger, WriteBudget } from '../shared/adapters/graph-budget';
import type { FlagMessage, FlagPublisher } from '../shared/adapters/flags';
import {
  chunkAssignments,
  chunkStaggerMs,
  finalReport,
  type ChunkUserResult,
  type PlannedAssignment,
  type StoredPlan,
} from '../shared/domain/batch';
import { resolveTenantCatalog, type SubscribedSkuFacts } from '../shared/domain/catalog';
import type {
  DirectoryUser,
  GraphFailure,
  GraphResult,
  LicenceReleases,
  LicensingDirectory,
  NumberReleases,
  PhoneNumberDirectory,
} from '../shared/domain/directory';
import { enforceRights, type RowRights } from '../shared/domain/entitlements';
import { enablementFor, type LicenceAddition } from '../shared/domain/holdings';
import { parseInput } from '../shared/domain/input';
import {
  cancelledMessage,
  cancelledOutcome,
  isCancelled,
  planOnboarding,
  type ScheduledRow,
  type StoredRow,
} from '../shared/domain/onboarding';
import {
  USAGE_LOCATION_NOT_SET_HERE,
  validateRows,
  type FailedRow,
  type PlanOptions,
  type TenantUserState,
} from '../shared/domain/planning';
import { heldHow, keptText, type KeptLicence } from '../shared/domain/releases';
import { DEFAULT_SCHEDULE, type ScheduleSettings } from '../shared/domain/schedule';
import type { Profiles } from '../shared/domain/profiles';
import { countOutcomes, type OutcomeCounts } from '../shared/domain/report';
import { errorText } from '../shared/domain/text';
import type { TeamsListMode } from '../shared/domain/teams-reads';
import { upnKey } from '../shared/domain/upn';
import type {
  AssignAnswer,
  AssignInput,
  ChunkProgress,
  ChunkRef,
  ChunkSignals,
  FinishInput,
  PreflightInput,
  PreflightResult,
  ProbeInput,
  ProbeResult,
  ReleaseReadsInput,
  SaveChunkInput,
  SettleChunkInput,
  TeamsCheck,
  TeamsSeen,
  WriteDeferred,
} from '../contracts/batch';
import { SLOT_CHUNK_BASE } from '../contracts/names';
import { createTeamsSweeper } from './teams-sweeps';

/** What a leaver's row has already sent, kept in the run's work store between attempts of its release. */
interface ReleaseState {
  /** An unassignNumber order sent and not seen finished. */
  readonly pending?: { readonly telephoneNumber: string; readonly operationId: string };
  /** The number Teams took back. */
  readonly releasedNumber?: string;
  /** The licences a removal was sent for (it may have landed with its answer lost). */
  readonly removing?: readonly { readonly skuId: string; readonly partNumber: string }[];
}

export interface ActivityDeps {
  readonly graph: LicensingDirectory;
  readonly store: BatchStore;
  readonly flags: FlagPublisher;
  readonly profiles: Profiles;
  readonly defaultProfile: string;
  readonly defaultUsageLocation: string | undefined;
  /** false: the app never PATCHes a user (its identity holds only User.Read.All); default true. */
  readonly setUsageLocation?: boolean;
  /** DIALTONE_PHONE_NUMBERS and the profiles that set their own policy (default: `row`, none). */
  readonly phoneNumbers?: PlanOptions['phoneNumbers'];
  /** DIALTONE_DIRECT_FOR_GROUP_PLANS (PlanOptions.directForGroupPlans). */
  readonly directForGroupPlans?: boolean;
  /** How start dates are read (DIALTONE_TIME_ZONE, DIALTONE_LEAD_DAYS, DIALTONE_SCHEDULE_HORIZON_DAYS). */
  readonly schedule?: ScheduleSettings;
  readonly now?: () => Date;
  /**
   * The app's write budget, shared by every instance (graph-budget.ts): the assign activity takes its rows' reserved writes
   * from it and hands a row back when they are not soon. Without it, the Graph adapter paces the writes as they go.
   */
  readonly writeBudget?: WriteReservations;
  /** The app's Teams read budget, shared by every instance (graph-budget.ts); without it, reads are not paced. */
  readonly teamsReads?: RateLedger;
  /** The number step's read budget beside it (DIALTONE_NUMBER_READS_PER_SECOND): slices leave room for its reads. */
  readonly numberReadsPerSecond?: number;
  /** The clock the read budget's waits follow (a test's virtual clock; the wall clock otherwise). */
  readonly time?: AppTime;
  /** Part numbers a row's own skus may name besides the Teams phone and meeting SKUs (DIALTONE_EXTRA_ROW_SKUS). */
  readonly extraRowSkus?: readonly string[];
  /** What gives a leaver's licences and number back (the Graph adapter); a leave row cannot run without it. */
  readonly releases?: LicenceReleases &
    NumberReleases &
    Pick<PhoneNumberDirectory, 'readHeldNumbers' | 'readNumberOrder'>;
  /** Whether a leaver's Teams number is given back (numbering on: the permission unassignNumber needs); default true. */
  readonly releaseNumbers?: boolean;
}

/** What the assign activity needs of the write budget. */
export type WriteReservations = Pick<WriteBudget, 'book' | 'perSecond'>;

/**
 * Reserved writes that start within this are waited for inside the assign activity; further out, the row is handed back to
 * the orchestration, which waits on a durable timer (WriteDeferred). A few seconds: a durable timer costs history
 * events and queue messages and can fire late by the queue's polling interval (see TEAMS_DEFER_LEAD_MS), while a wait
 * this short holds the worker no longer than a slow Graph answer does and stays far inside any functionTimeout
 * (host.json; docs/conformance.md).
 */
export const MAX_WRITE_WAIT_IN_ACTIVITY_MS = 5_000;
/** A deferred row's timer fires this long before its reserved writes, and the activity waits the rest (at most the above). */
export const WRITE_DEFER_LEAD_MS = 2_000;
/**
 * A reserved write turn is still written on this long after it began (a timer that fired late); later, the row reserves
 * again. Graph counts writes over 150 s (throttling-limits.md); writes up to 2 s late put at most 2 s of the budget's
 * writes (36 at 18/s) into a window, far inside the margin between the budget (2,700 per 150 s) and Graph's 3,000.
 */
export const WRITE_RESERVATION_LATE_MS = 2_000;

/** A check whose reads would start further out than this is handed back to the orchestration as a durable timer. */
export const MAX_BUDGET_WAIT_IN_ACTIVITY_MS = 10_000;
/**
 * A deferred check's timer fires this long before its turns start, and the activity waits the rest. Without it, a
 * timer that fired a little late (on Azure, by the queue's polling interval; locally, by a stall) found its turns
 * begun, gave them up and reserved again behind everyone else, further out than it could wait, and was deferred
 * again: with many chunks reserving, checks went round without reading, and the turns they gave up were lost to all.
 * Azure: a durable timer is a queue message that becomes visible at its due time (Microsoft Learn,
 * durable-functions-timers.md, "Timer limitations"), and the Azure Storage provider polls its queues with a back-off
 * up to `maxQueuePollingInterval`, 30 s by default (durable-functions-host-json-settings.md; AzureStorageOptions.
 * MaxQueuePollingInterval), so a timer can fire seconds late on a quiet task hub. The lead covers the common case;
 * a later one still reserves again, bounded by MAX_DEFERRALS.
 */
export const TEAMS_DEFER_LEAD_MS = 5_000;
/** Added to each slice's turn in the read budget: room for a slice sent late or answered slowly. */
export const TEAMS_SLICE_GUARD_MS = 500;
/** A slice is sent no later than this after its turn starts; later, its reads are reserved again. */
export const TEAMS_SLICE_LATE_MS = 250;

/**
 * Teams reads sent together (one $batch) at their turns in the read budget: Graph's $batch limit of 20, and no more than
 * keeps any one second under Graph's 30 Teams GETs per second (throttling-limits.md, Teams service limits) when the
 * next slice follows at the budget's pace and the number step's reads go beside it at theirs (`besidePerSecond`). At
 * the defaults (10/s for the checks, 5/s for the number step): 15 reads every 2 seconds.
 */
export function teamsReadsPerSlice(perSecond: number, besidePerSecond = 0): number {
  if (!Number.isFinite(perSecond)) return 20;
  return Math.max(1, Math.min(20, 30 - Math.ceil(perSecond) - Math.ceil(besidePerSecond)));
}

/** Teams shows the user ready: CallingPlan, or PhoneSystem where that is enough (a Direct Routing number). */
function ready(featureTypes: readonly string[], phoneSystemOnly: boolean): boolean {
  return featureTypes.includes('CallingPlan') || (phoneSystemOnly && featureTypes.includes('PhoneSystem'));
}

/** Thrown for a transient Graph failure so that callActivityWithRetry tries again. */
export class TransientGraphError extends Error {
  constructor(failure: GraphFailure) {
    // Cut: the text travels through durable history and may end in a row's message or the batch's status.
    super(errorText(`${failure.reason}: HTTP ${failure.status} ${failure.code} ${failure.message}`));
    this.name = 'TransientGraphError';
  }
}

export function createActivities(deps: ActivityDeps) {
  const { graph, store, flags } = deps;
  const time = deps.time ?? wallClock;
  const now = deps.now ?? (() => new Date(time.now()));
  const sweeper = createTeamsSweeper({
    graph,
    time,
    ...(deps.teamsReads ? { teamsReads: deps.teamsReads } : {}),
    maxWaitMs: MAX_BUDGET_WAIT_IN_ACTIVITY_MS,
  });

  async function failPlan(
    runKey: string,
    base: Omit<StoredPlan, 'rows' | 'error'>,
    message: string,
  ): Promise<PreflightResult> {
    const error = errorText(message);
    await store.savePlan(runKey, { ...base, error, rows: [] });
    return { total: 0, chunks: 0, slots: 0, error, settled: countOutcomes([]) };
  }

  async function preflight(input: PreflightInput): Promise<PreflightResult> {
    const base = {
      batchId: input.batchId,
      source: input.source,
      startedAt: input.startedAt,
      deadline: input.deadline,
      chunkSize: input.chunkSize,
    };
    const read = await store.readInput(input.input);
    if (!read.ok) return failPlan(input.runKey, base, read.message);
    const sourceName = input.source.startsWith('blob:') ? input.source.slice('blob:'.length) : 'request body';
    const planned = await planBatch(deps, {
      bytes: read.bytes,
      sourceName,
      startedAt: input.startedAt,
      ...(read.charset ? { charset: read.charset } : {}),
      ...(input.json ? { json: true } : {}),
      ...(input.profile ? { profile: input.profile } : {}),
      ...(input.rights ? { rights: input.rights } : {}),
      ...(input.caller ? { caller: input.caller } : {}),
    });
    if (!planned.ok) return failPlan(input.runKey, base, planned.message);
    const { rows, slots, error } = planned;
    const described = { ...base, ...planned.described };
    await store.savePlan(input.runKey, { ...described, rows, slots, ...(error ? { error } : {}) });
    // Each slot keeps its own rows, so that a slot's rounds never read the whole plan.
    const bySlot = slots.map((): ScheduledRow[] => []);
    for (const r of rows) if (r.kind === 'scheduled') bySlot[r.slot]?.push(r);
    for (const [i, at] of slots.entries()) await store.saveSlot(input.runKey, i, { at, waiting: bySlot[i] ?? [] });
    const settled = countOutcomes(
      rows.flatMap((r) => (r.kind === 'rejected' || r.kind === 'failed' ? [{ outcome: r.kind }] : [])),
      0,
    );
    const chunks = chunkAssignments(rows, input.chunkSize);
    const stagger = deps.writeBudget ? chunkStaggerMs(chunks, deps.writeBudget.perSecond) : 0;
    return {
      total: rows.length,
      chunks: chunks.length,
      slots: slots.length,
      settled,
      ...(error ? { error } : {}),
      ...(stagger > 0 ? { chunkStaggerMs: stagger } : {}),
    };
  }

  /**
   * A chunk's work (what each of its users needs), read once per process and kept for its assignments and checks: a
   * preflight chunk's from the plan (split once per run), a slot's from its own work list. A few runs and chunks at a
   * time; the store is the truth, this only saves reads.
   */
  const planChunks = new Map<string, Promise<PlannedAssignment[][]>>();
  const slotWork = new Map<string, Promise<PlannedAssignment[]>>();
  function remember<T>(cache: Map<string, Promise<T>>, key: string, limit: number, read: () => Promise<T>): Promise<T> {
    let p = cache.get(key);
    if (!p) {
      p = read();
      p.catch(() => cache.delete(key));
      cache.set(key, p);
      if (cache.size > limit) cache.delete(cache.keys().next().value!);
    }
    return p;
  }
  async function chunkWork(ref: ChunkRef): Promise<PlannedAssignment[]> {
    // Rows licensed when their slot's time came were handed over in a work list of their own.
    if (ref.chunk >= SLOT_CHUNK_BASE)
      return remember(
        slotWork,
        `${ref.runKey}\u0000${ref.chunk}`,
        16,
        async () => (await store.readWork(ref.runKey, ref.chunk)) ?? [],
      );
    const chunks = await remember(planChunks, ref.runKey, 2, async () => {
      const plan = await store.readPlan(ref.runKey);
      if (!plan) throw new Error(`no stored plan for run ${ref.runKey}`);
      return chunkAssignments(plan.rows, plan.chunkSize);
    });
    return chunks[ref.chunk] ?? [];
  }

  /** How many users the chunk has (the rows stay in the store). */
  async function loadChunk(input: ChunkRef): Promise<number> {
    return (await chunkWork(input)).length;
  }

  /** The chunk's users still waiting for Teams: rows it polls whose stored outcome is still `assigned`. */
  function pendingOf(work: readonly PlannedAssignment[], results: readonly ChunkUserResult[]): PlannedAssignment[] {
    const assigned = new Set(results.filter((r) => r.outcome === 'assigned').map((r) => r.row));
    return work.filter((w) => w.pollTeams && assigned.has(w.row));
  }

  /** Merges changed rows into the stored chunk (one writer: the chunk's orchestration calls one activity at a time). */
  async function mergeChunk(
    ref: ChunkRef,
    change: (byRow: Map<number, ChunkUserResult>) => void,
  ): Promise<ChunkUserResult[]> {
    const byRow = new Map((await store.readChunk(ref.runKey, ref.chunk)).map((r) => [r.row, r]));
    change(byRow);
    const merged = [...byRow.values()].sort((a, b) => a.row - b.row);
    await store.saveChunk(ref.runKey, ref.chunk, merged);
    return merged;
  }

  /**
   * Whether the row's batch, or the row, was cancelled: read just before the first write for the row. A cancel recorded
   * after this read and before Graph takes the write (a few milliseconds) is the one window left; that row ends
   * `assigned` like any row licensed before the cancel, which is what the cancel route promises.
   */
  async function cancelledBeforeWrite(runKey: string, a: PlannedAssignment): Promise<ChunkUserResult | undefined> {
    const c = await store.readCancellations(runKey);
    if (!isCancelled(c, a.row)) return undefined;
    return {
      row: a.row,
      outcome: 'cancelled',
      reason: '',
      message: cancelledMessage(c, a.row),
      assignedAt: null,
      provisionedAt: null,
    };
  }

  /**
   * n consecutive reserved writes for a row: those it reserved on an earlier call (AssignInput.writeSlotAt) while they are
   * still usable, else new ones. Turns that start within MAX_WRITE_WAIT_IN_ACTIVITY_MS are the row's to write on now;
   * later ones are kept for it and handed back (WriteDeferred), as is a ledger that cannot be used (nothing reserved,
   * asked again after its back-off).
   */
  async function bookWrites(
    budget: WriteReservations,
    input: AssignInput,
    row: number,
    n: number,
  ): Promise<{ at: number; interval: number } | WriteDeferred> {
    const interval = 1000 / budget.perSecond;
    const deferrals = input.deferrals ?? 0;
    const kept = input.writeSlotAt ? Date.parse(input.writeSlotAt) : Number.NaN;
    const handBack = (at: number, slotsFor: number): WriteDeferred => ({
      deferred: true,
      row,
      resumeAt: new Date(Math.max(time.now(), at - WRITE_DEFER_LEAD_MS)).toISOString(),
      writeSlotAt: new Date(at).toISOString(),
      writeSlots: slotsFor,
    });
    // Kept turns are used while they have not begun more than WRITE_RESERVATION_LATE_MS ago (and are enough: a row that now
    // needs one write more than when it reserved takes new ones; the kept ones go unused, as a reservation left does).
    if (Number.isFinite(kept) && time.now() <= kept + WRITE_RESERVATION_LATE_MS && (input.writeSlots ?? 1) >= n) {
      if (kept - time.now() > MAX_WRITE_WAIT_IN_ACTIVITY_MS) return handBack(kept, input.writeSlots ?? 1);
      return { at: kept, interval };
    }
    const booked = await budget.book(n, MAX_WRITE_WAIT_IN_ACTIVITY_MS, deferrals);
    if ('retryAt' in booked) return { deferred: true, row, resumeAt: new Date(booked.retryAt).toISOString() };
    // Whole milliseconds, rounded up: a turn of a rate that does not divide 1,000 starts at a fraction, never earlier.
    if ('deferredUntil' in booked) return handBack(Math.ceil(booked.deferredUntil), n);
    return { at: booked.at, interval };
  }

  /**
   * Gives a leaver's phone licences and number back (docs/leavers-and-movers.md). Idempotent like assign: it reads the
   * user first and removes only the planned licences the user still holds directly and through no group; the numbers
   * come from Teams' own record of the user, and each is unassigned only when Graph's record says it is this user's.
   */
  async function release(input: AssignInput, a: PlannedAssignment & { release: PlannedAssignment['release'] & {} }) {
    const releases = deps.releases;
    if (!releases) throw new Error('this deployment cannot give licences back (no Graph releases adapter)');
    const settle = (r: Omit<ChunkUserResult, 'row' | 'assignedAt' | 'provisionedAt'>): ChunkUserResult => ({
      row: a.row,
      assignedAt: null,
      provisionedAt: null,
      ...r,
    });
    const failed = (f: GraphFailure, what: string): ChunkUserResult => {
      if (f.transient) throw new TransientGraphError(f);
      return settle({ outcome: 'failed', reason: f.reason, message: errorText(`${what}: ${f.message}`) });
    };
    // What an earlier attempt of this row already sent (docs/leavers-and-movers.md): an unassignNumber order still
    // running, a number given back, a removal sent. A retry follows that order instead of sending a second one for the
    // same number (which Teams fails, "not assigned", once the first finishes), and its result still says what was
    // given back before it, once.
    const step = `release/${input.chunk}/${a.row}`;
    const earlier = await store.readDone(input.runKey, step);
    const state: ReleaseState = earlier ? (JSON.parse(earlier) as ReleaseState) : {};
    let current = state;
    const record = async (change: ReleaseState) => {
      current = { ...current, ...change };
      await store.markDone(input.runKey, step, JSON.stringify(current));
    };
    let releasedNumber = state.releasedNumber;
    const numberProblems: string[] = [];
    if (state.pending) {
      const order = await releases.readNumberOrder(state.pending.operationId);
      if (!order.ok) return failed(order, `reading the unassignNumber order of ${state.pending.telephoneNumber}`);
      if (order.value.status === 'succeeded') {
        releasedNumber = state.pending.telephoneNumber;
        await record({ pending: undefined, releasedNumber });
      } else if (order.value.status === 'failed' || order.value.status === 'skipped')
        numberProblems.push(
          `Teams refused to take ${state.pending.telephoneNumber} back: ${order.value.detail ?? 'no detail given'}`,
        );
      else throw new Error(`unassignNumber of the user's number is still ${order.value.status}; read again`);
    }
    const read = (await graph.readUsers([a.userId])).get(a.userId);
    if (!read) throw new Error('Graph returned no answer for the user');
    if (!read.ok) return failed(read, 'reading the user');
    // A removal an earlier attempt sent that landed (its answer lost, or a later step failed): given back by dialtone.
    const removedEarlier = (state.removing ?? []).filter(({ skuId }) => {
      const how = heldHow(read.value, skuId);
      return !how.direct && how.groups.length === 0;
    });
    const kept: KeptLicence[] = [...a.release.kept];
    const remove: string[] = [];
    const removeSkus: string[] = [];
    a.release.removeSkuIds.forEach((skuId, i) => {
      const how = heldHow(read.value, skuId);
      const partNumber = a.release.removeSkus[i] ?? skuId;
      // A group that gives the licence now keeps it (the seat would not come back), as planning decides.
      if (how.groups.length > 0) kept.push({ partNumber, groups: how.groups });
      else if (how.direct) {
        remove.push(skuId);
        removeSkus.push(partNumber);
      }
    });
    const heldNumbers = (await releases.readHeldNumbers([a.userId])).get(a.userId);
    if (!heldNumbers) throw new Error('Teams returned no answer for the user');
    // A user Teams does not know (never enabled for Teams) holds no number.
    const held = heldNumbers.ok ? heldNumbers.value : heldNumbers.reason === 'user_not_found' ? [] : undefined;
    if (!held && !heldNumbers.ok) return failed(heldNumbers, "reading the user's Teams numbers");
    // A number whose order this row already sent is not sent again, even while Teams still lists it.
    const sent = new Set([state.pending?.telephoneNumber, state.releasedNumber].filter(Boolean));
    const numbers = (held ?? []).filter((n) => !sent.has(n.telephoneNumber));
    // Removing the licence a number needs takes the number with it (Teams: a Calling Plan number is unassigned, a
    // Direct Routing number leaves the tenant; docs/phone-numbers.md): a number dialtone does not give back itself
    // keeps every licence of the row, and the row says what to do.
    const keptAll = (why: string, given: { releasedNumber?: string; releasedSkus?: string[] } = {}) =>
      settle({
        outcome: 'flagged',
        reason: 'number_release_failed',
        message: errorText(
          [
            why,
            removeSkus.length > 0
              ? `kept ${removeSkus.join(', ')}: removing them would take the number with it; send the leave row again once the number is back in the pool`
              : '',
            kept.length > 0 ? `kept ${keptText(kept)}` : '',
          ]
            .filter(Boolean)
            .join('; '),
        ),
        ...(given.releasedNumber ? { releasedNumber: given.releasedNumber } : {}),
        ...(given.releasedSkus && given.releasedSkus.length > 0 ? { releasedSkus: given.releasedSkus } : {}),
      });
    const earlierSkus = removedEarlier.map((r) => r.partNumber);
    if (numberProblems.length > 0) return keptAll(numberProblems.join('; '), { releasedSkus: earlierSkus });
    if (deps.releaseNumbers === false && numbers.length > 0)
      return keptAll(
        `kept ${numbers.map((n) => n.telephoneNumber).join(', ')} (numbering is off, DIALTONE_PHONE_NUMBERS=off: unassign it in the Teams admin center)`,
        { ...(releasedNumber ? { releasedNumber } : {}), releasedSkus: earlierSkus },
      );
    if (remove.length > 0 || numbers.length > 0) {
      const cancelled = await cancelledBeforeWrite(input.runKey, a);
      if (cancelled) return cancelled;
    }
    let reservation: { at: number; interval: number } | undefined;
    if (remove.length > 0 && deps.writeBudget) {
      const booked = await bookWrites(deps.writeBudget, input, a.row, 1);
      if ('deferred' in booked) return booked;
      reservation = booked;
    }
    // The number first: a user without a calling plan keeps a number Teams can no longer route, and the licences are
    // the cheaper half to redo by hand.
    for (const n of numbers) {
      const r = await releases.unassignNumber({
        telephoneNumber: n.telephoneNumber,
        userId: a.userId,
        // Kept once sent: a retry after a failure while following the order reads it on instead of sending another.
        onSent: (sent) => record({ pending: { telephoneNumber: sent.telephoneNumber, operationId: sent.operationId } }),
      });
      if (!r.ok) return failed(r, `unassigning ${n.telephoneNumber}`);
      if (r.value.outcome === 'released') {
        releasedNumber = r.value.telephoneNumber;
        await record({ pending: undefined, releasedNumber });
      } else if (r.value.outcome === 'unfinished') {
        // Kept before the retry: the retry reads this order on rather than sending another for the number.
        await record({
          pending: { telephoneNumber: r.value.telephoneNumber, operationId: r.value.operationId },
        });
        throw new Error(`unassignNumber of the user's number is still ${r.value.status}; read again`);
      } else if (r.value.outcome === 'failed')
        numberProblems.push(`Teams refused to take ${n.telephoneNumber} back: ${r.value.detail ?? 'no detail given'}`);
    }
    if (numberProblems.length > 0)
      return keptAll(numberProblems.join('; '), {
        ...(releasedNumber ? { releasedNumber } : {}),
        releasedSkus: earlierSkus,
      });
    if (remove.length > 0) {
      // Kept before the write: a removal that lands while its answer is lost still counts, once, on the retry.
      await record({
        removing: [...removedEarlier, ...remove.map((skuId, i) => ({ skuId, partNumber: removeSkus[i] ?? skuId }))],
      });
      const removed = await releases.removeLicenses(
        a.userId,
        remove,
        reservation ? { reservedAt: reservation.at } : {},
      );
      // Not held any more: an earlier attempt's removal landed, or an admin was quicker; nothing is lost.
      if (!removed.ok && removed.refusal !== 'licence_not_held')
        return failed(removed, `removing ${removeSkus.join(', ')}`);
    }
    const releasedSkus = [...new Set([...earlierSkus, ...removeSkus])];
    const gave = [
      releasedSkus.length > 0 ? `gave back ${releasedSkus.join(', ')}` : '',
      releasedNumber ? `unassigned ${releasedNumber}` : '',
    ].filter(Boolean);
    const keptNote = kept.length > 0 ? `kept ${keptText(kept)}` : '';
    const given = {
      ...(releasedSkus.length > 0 ? { releasedSkus } : {}),
      ...(releasedNumber ? { releasedNumber } : {}),
    };
    return settle({
      outcome: 'released',
      reason: kept.some((k) => k.groups.length > 0)
        ? 'group_licences_kept'
        : gave.length === 0 && !keptNote
          ? 'nothing_to_release'
          : '',
      message: errorText(
        [
          ...gave,
          keptNote,
          gave.length === 0 && !keptNote
            ? "the user held none of the row's phone licences directly and no Teams number"
            : '',
        ]
          .filter(Boolean)
          .join('; '),
      ),
      ...given,
    });
  }

  /** Assigns one user's missing licences. Idempotent: it reads the user first and sends only what is still missing. */
  async function assign(input: AssignInput): Promise<AssignAnswer> {
    const a = (await chunkWork(input))[input.index];
    if (!a) throw new Error(`chunk ${input.chunk} of run ${input.runKey} has no user at position ${input.index}`);
    if (a.release) return release(input, { ...a, release: a.release });
    const failed = (f: GraphFailure): ChunkUserResult => {
      if (f.transient) throw new TransientGraphError(f);
      return {
        row: a.row,
        outcome: 'failed',
        reason: f.reason,
        message: errorText(f.message),
        assignedAt: null,
        provisionedAt: null,
      };
    };
    // Every attempt starts from what Graph has now: after a 5xx or a timeout the previous assignLicense may have
    // landed, and the durable retry of this activity must not send it twice.
    const read = (await graph.readUsers([a.userId])).get(a.userId);
    if (!read) throw new Error('Graph returned no answer for the user');
    if (!read.ok) return failed(read);
    // Planned as a member; a guest now (the account was replaced or changed since): nothing is written.
    if (read.value.userType?.toLowerCase() === 'guest')
      return {
        row: a.row,
        outcome: 'failed',
        reason: 'guest_account',
        message: 'the account is a guest account (userType Guest) now; dialtone does not license guests',
        assignedAt: null,
        provisionedAt: null,
      };
    const held = new Set(read.value.skuIds.map((s) => s.toLowerCase()));
    const missing = a.addSkuIds.filter((s) => !held.has(s.toLowerCase()));
    const changes: (string | LicenceAddition)[] = [...missing];
    for (const e of a.enable ?? []) {
      const change = enablementFor(read.value, e);
      if (change) changes.push(change);
    }
    // A mover (docs/leavers-and-movers.md, "Movers"): the calling plans it gives up that the user still holds directly
    // and through no group go in the same assignLicense, and its usage location is set even though it has one. What an
    // earlier attempt of this row removed (its answer lost, or a later step failed) still counts, once.
    const move = a.move;
    const moveStep = `move/${input.chunk}/${a.row}`;
    const movedEarlier = (
      move ? JSON.parse((await store.readDone(input.runKey, moveStep)) ?? '{}') : {}
    ) as ReleaseState;
    const removedEarlier = (movedEarlier.removing ?? []).filter(({ skuId }) => {
      const how = heldHow(read.value, skuId);
      return !how.direct && how.groups.length === 0;
    });
    const removing = (move?.removeSkuIds ?? []).flatMap((skuId, i) => {
      const how = heldHow(read.value, skuId);
      return how.direct && how.groups.length === 0 ? [{ skuId, partNumber: move!.removeSkus[i] ?? skuId }] : [];
    });
    const relocating = move !== undefined && read.value.usageLocation !== move.to;
    const licenceWrite = changes.length > 0 || removing.length > 0;
    // Nothing missing means an earlier attempt's write landed (or there was nothing to do): the row is licensed, and a
    // cancel that came since does not undo it. Otherwise a recorded cancel stops the row before anything is sent.
    if (licenceWrite || relocating) {
      const cancelled = await cancelledBeforeWrite(input.runKey, a);
      if (cancelled) return cancelled;
    }
    const setsLocation = relocating || (changes.length > 0 && !read.value.usageLocation);
    if (setsLocation && (deps.setUsageLocation === false || (!relocating && !a.setUsageLocation))) {
      const message =
        deps.setUsageLocation === false
          ? USAGE_LOCATION_NOT_SET_HERE
          : 'the user has no usage location and none was given';
      return {
        row: a.row,
        outcome: 'failed',
        reason: 'usage_location_missing',
        message,
        assignedAt: null,
        provisionedAt: null,
      };
    }
    if (removing.length > 0 && !deps.releases)
      throw new Error('this deployment cannot swap licences (no Graph releases adapter)');
    // The row's writes take their turns in the app's write budget first: turns soon are waited for here, later ones
    // are handed back to the orchestration, which comes back on a durable timer (no long wait holds a worker).
    let turns: { at: number; interval: number } | undefined;
    const writes = (setsLocation ? 1 : 0) + (licenceWrite ? 1 : 0);
    if (writes > 0 && deps.writeBudget) {
      const booked = await bookWrites(deps.writeBudget, input, a.row, writes);
      if ('deferred' in booked) return booked;
      turns = booked;
    }
    let usageLocationJustSet = false;
    if (setsLocation) {
      const location = relocating ? move.to : a.setUsageLocation!;
      const set = await graph.setUsageLocation(a.userId, location, turns ? { reservedAt: turns.at } : {});
      if (!set.ok) return failed(set);
      usageLocationJustSet = true;
    }
    if (licenceWrite) {
      const reservedAt = turns ? turns.at + (setsLocation ? turns.interval : 0) : undefined;
      const options = { usageLocationJustSet, ...(reservedAt !== undefined ? { reservedAt } : {}) };
      if (removing.length > 0) {
        // Kept before the write: a swap that lands while its answer is lost still counts, once, on the retry.
        await store.markDone(input.runKey, moveStep, JSON.stringify({ removing: [...removedEarlier, ...removing] }));
        const swapped = await deps.releases!.changeLicenses(
          a.userId,
          { add: changes, remove: removing.map((r) => r.skuId) },
          options,
        );
        if (!swapped.ok) return failed(swapped);
      } else {
        const assigned = await graph.assignLicenses(a.userId, changes, options);
        if (!assigned.ok) return failed(assigned);
      }
    }
    const nothingToDo = a.addSkuIds.length === 0 && (a.enable ?? []).length === 0;
    const releasedSkus = [...new Set([...removedEarlier, ...removing].map((r) => r.partNumber))];
    // addedSkus is what the plan found missing and the user now holds: also when an earlier attempt's write landed
    // and this one found nothing left to send.
    const said = [
      move
        ? move.from === move.to
          ? `usage location ${move.to} already`
          : `usage location set to ${move.to} (was ${move.from ?? 'none'})`
        : '',
      releasedSkus.length > 0 ? `gave back ${releasedSkus.join(', ')}` : '',
      nothingToDo
        ? move
          ? 'nothing was bought'
          : "the user's licences already give everything the row needs; nothing was bought"
        : '',
      a.advice?.note ?? '',
    ]
      .filter(Boolean)
      .join('; ');
    return {
      row: a.row,
      outcome: 'assigned',
      reason: nothingToDo && !move ? 'already_licensed' : '',
      message: said,
      ...(a.addedSkus && a.addedSkus.length > 0 ? { addedSkus: [...a.addedSkus] } : {}),
      ...(releasedSkus.length > 0 ? { releasedSkus } : {}),
      ...(a.advice && a.advice.advisories.length > 0 ? { advisories: [...a.advice.advisories] } : {}),
      assignedAt: null,
      provisionedAt: null,
    };
  }

  /** Merges a group's results (or the number step's changes) into the stored chunk; answers how many still wait for Teams. */
  async function saveChunk(input: SaveChunkInput): Promise<ChunkProgress> {
    const work = await chunkWork(input);
    const merged = await mergeChunk(input, (byRow) => {
      // A row's assignment result is recorded once. A second save of it can only be its group's save delivered again
      // (activities run at least once: a worker lost after sending one, before recording that it had, has it sent
      // again when its episode replays), and must not undo what a Teams check, the number step or the settling
      // recorded since: seen on the real extension after a worker was killed, rows found ready ended `assigned`.
      for (const r of input.results ?? []) if (!byRow.has(r.row)) byRow.set(r.row, r);
      for (const g of input.gaveUp ?? []) {
        const w = work[g.index];
        if (w && !byRow.has(w.row))
          byRow.set(w.row, {
            row: w.row,
            outcome: 'failed',
            reason: g.reason,
            message: errorText(g.message),
            assignedAt: null,
            provisionedAt: null,
          });
      }
      const moving = new Set(work.filter((w) => w.move).map((w) => w.row));
      for (const n of input.numbers ?? []) {
        const r = byRow.get(n.row);
        // A slot-planned row's advisories are in its result: the number step's are added to them, not put in their place.
        // A mover's message says what its swap gave back; the number step's follows it.
        if (r)
          byRow.set(n.row, {
            ...r,
            ...n,
            ...(n.advisories && r.advisories ? { advisories: [...r.advisories, ...n.advisories] } : {}),
            ...(moving.has(n.row) ? { message: [r.message, n.message].filter(Boolean).join('; ') } : {}),
          });
      }
    });
    return { pending: pendingOf(work, merged).length };
  }

  /**
   * The users (by object id) whose Teams configuration now shows CallingPlan (PhoneSystem for the phoneSystemOnly
   * ones: a Direct Routing number needs only Phone System), and those Graph refuses to show.
   */
  async function checkTeams(input: TeamsCheck): Promise<TeamsSeen> {
    const userIds = input.userIds;
    if (userIds.length === 0) return { found: [], refused: [] };
    const perSecond = deps.teamsReads?.perSecond ?? Number.POSITIVE_INFINITY;
    const slice = teamsReadsPerSlice(perSecond, deps.numberReadsPerSecond ?? 0);
    const slices = Math.ceil(userIds.length / slice);
    // Each slice owns a turn of slice/perSecond seconds plus a guard, and is sent within TEAMS_SLICE_LATE_MS of the
    // turn's start or reserved again: sends are then at least (turn - lateness) apart, so no window of Graph's sees
    // more than the budget, also when a timer fires late (on Azure, by up to the queue polling interval) or a request
    // is slow.
    const turnMs = deps.teamsReads ? (slice * 1000) / perSecond + TEAMS_SLICE_GUARD_MS : 0;
    const reserve = (n: number) => deps.teamsReads!.reserve(n * (turnMs / 1000) * perSecond);
    let start = input.reservedAt ? Date.parse(input.reservedAt) : time.now();
    if (deps.teamsReads && (!input.reservedAt || !Number.isFinite(start) || time.now() > start + TEAMS_SLICE_LATE_MS)) {
      // No reservation yet, or a deferred check that came back after its turns began: those turns are given up and
      // the reads reserved again behind everyone else's.
      start = await reserve(slices);
      // Far out: the orchestration waits on a durable timer instead of this activity holding a worker.
      if (start - time.now() > MAX_BUDGET_WAIT_IN_ACTIVITY_MS)
        return {
          found: [],
          refused: [],
          deferredUntil: new Date(start).toISOString(),
          resumeAt: new Date(start - TEAMS_DEFER_LEAD_MS).toISOString(),
          reservedUntil: new Date(start + slices * turnMs).toISOString(),
        };
    }
    const features = new Map<string, GraphResult<string[]>>();
    for (let k = 0, i = 0; i < userIds.length; k++, i += slice) {
      if (deps.teamsReads && time.now() > start + k * turnMs + TEAMS_SLICE_LATE_MS)
        start = (await reserve(slices - k)) - k * turnMs;
      await sleepUntil(time, start + k * turnMs);
      for (const [id, r] of await graph.readTeamsFeatures(userIds.slice(i, i + slice))) features.set(id, r);
    }
    const phoneSystemOnly = new Set(input.phoneSystemOnly ?? []);
    const found: string[] = [];
    const refused: { userId: string; message: string }[] = [];
    let transient: GraphFailure | undefined;
    for (const [id, r] of features) {
      if (r.ok && ready(r.value, phoneSystemOnly.has(id))) found.push(id);
      else if (!r.ok && r.reason === 'forbidden') refused.push({ userId: id, message: errorText(r.message) });
      else if (!r.ok && r.transient) transient = r;
    }
    if (found.length === 0 && refused.length === 0 && transient && [...features.values()].every((r) => !r.ok))
      throw new TransientGraphError(transient);
    return { found, refused };
  }

  /** The check's users a sweep saw ready; those it did not list (not in Teams yet, or unchanged) stay pending. */
  function seenIn(features: ReadonlyMap<string, string[]>, input: TeamsCheck): TeamsSeen {
    const phoneSystemOnly = new Set(input.phoneSystemOnly ?? []);
    return { found: input.userIds.filter((id) => ready(features.get(id) ?? [], phoneSystemOnly.has(id))), refused: [] };
  }

  /**
   * One Teams check of a chunk: its pending users are the rows it polls whose stored outcome is still `assigned`; those
   * Teams shows ready are recorded as provisioned (at the orchestration's time of the check), those Graph refuses to
   * show (401/403: waiting will not change that) as failed `forbidden`, naming the permission. Idempotent: a retried
   * check reads again only who is still pending.
   */
  async function probeTeams(input: ProbeInput): Promise<ProbeResult> {
    const work = await chunkWork(input);
    const results = await store.readChunk(input.runKey, input.chunk);
    const pending = pendingOf(work, results);
    if (pending.length === 0) return { pending: 0, found: 0, refused: 0, numbered: [] };
    const phoneSystemOnly = pending.filter((p) => p.waitFor === 'PhoneSystem').map((p) => p.userId);
    const check: TeamsCheck = {
      userIds: pending.map((p) => p.userId),
      ...(phoneSystemOnly.length > 0 ? { phoneSystemOnly } : {}),
      ...(input.reservedAt ? { reservedAt: input.reservedAt } : {}),
    };
    // A check that holds turns of the read budget (deferred earlier) reads per user on them; otherwise a sweep of the
    // Teams list may answer it (teams-sweeps.ts), when the chunk's orchestration asked for one (freshMs).
    let learned: TeamsListMode | undefined;
    let seen: TeamsSeen;
    if (!input.reservedAt && input.freshMs !== undefined) {
      const assignedAt = new Map(results.map((r) => [r.row, r.assignedAt ? Date.parse(r.assignedAt) : Number.NaN]));
      const earliest = Math.min(
        ...pending.map((p) => assignedAt.get(p.row) ?? Number.NaN).filter(Number.isFinite),
        Date.parse(input.at),
      );
      const answer = await sweeper.answer({
        run: input.runKey,
        key: String(input.chunk),
        pending: pending.length,
        earliestAssignedAt: earliest,
        at: Date.parse(input.at),
        freshMs: input.freshMs,
        ...(input.recheck ? { recheck: true } : {}),
        ...(input.teamsList ? { mode: input.teamsList } : {}),
      });
      learned = answer.learned;
      seen = answer.how === 'swept' ? seenIn(answer.features, check) : await checkTeams(check);
    } else seen = await checkTeams(check);
    const list = learned ? { teamsList: learned } : {};
    if (seen.deferredUntil)
      return {
        pending: pending.length,
        found: 0,
        refused: 0,
        numbered: [],
        deferredUntil: seen.deferredUntil,
        ...(seen.resumeAt ? { resumeAt: seen.resumeAt } : {}),
        ...(seen.reservedUntil ? { reservedUntil: seen.reservedUntil } : {}),
        ...list,
      };
    const found = new Set(seen.found);
    const refused = new Map(seen.refused.map((r) => [r.userId, r.message]));
    const ready = pending.filter((p) => found.has(p.userId));
    const denied = pending.filter((p) => !found.has(p.userId) && refused.has(p.userId));
    if (ready.length > 0 || denied.length > 0) {
      await mergeChunk(input, (byRow) => {
        for (const p of ready) {
          const r = byRow.get(p.row);
          if (r) byRow.set(p.row, { ...r, outcome: 'provisioned', provisionedAt: input.at });
        }
        for (const p of denied) {
          const r = byRow.get(p.row);
          if (r)
            byRow.set(p.row, {
              ...r,
              outcome: 'failed',
              reason: 'forbidden',
              message: errorText(
                `licences assigned, but Teams cannot be read to confirm the calling plan: ${refused.get(p.userId)!}`,
              ),
            });
        }
      });
    }
    return {
      pending: pending.length - ready.length - denied.length,
      found: ready.length,
      refused: denied.length,
      numbered: ready.filter((p) => p.number).map((p) => p.row),
      ...list,
    };
  }

  /**
   * Gives a deferred check's turns back to the Teams read budget when its chunk will not use them (it ends at its
   * deadline before them, or was cancelled): other checks reserving after it take them instead of
   * waiting behind them. Keyed by chunk and turns, so a retry gives nothing twice. Best effort: if the ledger cannot
   * be written the turns stay unused, as they would have, and the chunk goes on.
   */
  async function releaseReads(input: ReleaseReadsInput): Promise<boolean> {
    // The times travelled as ISO strings, cut to whole milliseconds: the turns began up to 1 ms after `from` (a rate
    // that does not divide 1,000 gives fractions), so what is given back starts a millisecond later, never earlier.
    const from = Date.parse(input.from) + 1;
    const until = Date.parse(input.until);
    if (!deps.teamsReads || !Number.isFinite(from) || !Number.isFinite(until)) return false;
    try {
      await deps.teamsReads.release(`${input.runKey}/${input.chunk}/${input.from}`, from, until);
      return true;
    } catch {
      return false;
    }
  }

  /** A chunk's end: at the deadline its users still pending are flagged (a cancelled chunk's stay assigned). Its counts. */
  async function settleChunk(input: SettleChunkInput): Promise<OutcomeCounts> {
    const work = await chunkWork(input);
    const results = await store.readChunk(input.runKey, input.chunk);
    if (input.cancelled) {
      // A chunk cancelled while it waited for its turn to start assigning (workflows/chunk.ts, untilStart) wrote
      // nothing: its rows end cancelled now, not at the report.
      const have = new Set(results.map((r) => r.row));
      const unstarted = work.filter((w) => !have.has(w.row));
      if (unstarted.length === 0) return countOutcomes(results);
      const c = await store.readCancellations(input.runKey);
      return countOutcomes(
        await mergeChunk(input, (byRow) => {
          for (const w of unstarted)
            byRow.set(w.row, {
              row: w.row,
              outcome: 'cancelled',
              reason: '',
              message: cancelledMessage(c, w.row),
              assignedAt: null,
              provisionedAt: null,
            });
        }),
      );
    }
    const late = pendingOf(work, results);
    if (late.length === 0) return countOutcomes(results);
    const message = `Teams showed no calling plan by the deadline (${input.deadline}); if it still has none, contact Microsoft support`;
    const rows = new Set(late.map((p) => p.row));
    return countOutcomes(
      await mergeChunk(input, (byRow) => {
        for (const row of rows)
          byRow.set(row, { ...byRow.get(row)!, outcome: 'flagged', reason: 'no_calling_plan', message });
      }),
    );
  }

  /** What the store holds for a chunk's generation to honour: the latest recheck request and a batch cancel. */
  async function chunkSignals(input: { runKey: string }): Promise<ChunkSignals> {
    const [recheckRequestedAt, cancellations] = await Promise.all([
      store.recheckRequestedAt(input.runKey),
      store.readCancellations(input.runKey),
    ]);
    return { recheckRequestedAt, cancelled: cancellations.batch };
  }

  async function finish(input: FinishInput): Promise<OutcomeCounts> {
    const plan = await store.readPlan(input.runKey);
    if (!plan) throw new Error(`no stored plan for run ${input.runKey}`);
    const failedChunk = new Map((input.failedChunks ?? []).map((f) => [f.chunk, f.message]));
    const chunkOfRow = new Map<number, { chunk: number; pollTeams: boolean }>();
    chunkAssignments(plan.rows, plan.chunkSize).forEach((work, chunk) =>
      work.forEach((w) => chunkOfRow.set(w.row, { chunk, pollTeams: w.pollTeams })),
    );
    const chunkFailed = (row: number) => {
      const c = chunkOfRow.get(row);
      const message = c === undefined ? undefined : failedChunk.get(c.chunk);
      return message === undefined ? 'its chunk failed' : `its chunk failed: ${message}`;
    };
    const cancellations = await store.readCancellations(input.runKey);
    // Rows of a cancelled batch that were licensed and still wait for Teams (planned at preflight, or in a slot).
    const waitedFor = new Set([...chunkOfRow].filter(([, c]) => c.pollTeams).map(([row]) => row));
    if (cancellations.batch) {
      const { work } = await store.listChunkNumbers(input.runKey);
      for (const id of work.filter((w) => w >= SLOT_CHUNK_BASE))
        for (const w of (await store.readWork(input.runKey, id)) ?? []) if (w.pollTeams) waitedFor.add(w.row);
    }
    // A failed chunk can leave rows licensed but never confirmed in Teams: a person must look at them. A cancelled
    // batch stops waiting: its licensed rows stay assigned (the licences are not taken back), and say so.
    const results = (await store.readChunks(input.runKey)).map((r): ChunkUserResult => {
      const c = chunkOfRow.get(r.row);
      if (r.outcome !== 'assigned' || !waitedFor.has(r.row)) return r;
      if (c && failedChunk.has(c.chunk))
        return {
          ...r,
          outcome: 'flagged',
          reason: 'no_calling_plan',
          message: errorText(
            `licences assigned, but the wait for Teams stopped (${chunkFailed(r.row)}); check the user in the Teams admin center`,
          ),
        };
      if (!cancellations.batch) return r;
      return {
        ...r,
        message: errorText(
          [
            r.message,
            'licences assigned; the batch was cancelled before Teams confirmed the calling plan, so it was not waited for: check the user in the Teams admin center (the licences were kept)',
          ]
            .filter(Boolean)
            .join('; '),
        ),
      };
    });
    const have = new Set(results.map((r) => r.row));
    // A row whose chunk never recorded a result is reported, never dropped; a waiting row of a cancelled batch (or a
    // cancelled waiting row) was never licensed: it ends cancelled.
    const missing: ChunkUserResult[] = plan.rows
      .filter((r) => (r.kind === 'assign' || r.kind === 'scheduled') && !have.has(r.row))
      .map((r): ChunkUserResult =>
        r.kind === 'scheduled' && (cancellations.batch || cancellations.rows.includes(r.row))
          ? {
              row: r.row,
              outcome: 'cancelled',
              reason: '',
              message: cancelledOutcome(r, cancellations).message,
              assignedAt: null,
              provisionedAt: null,
            }
          : {
              row: r.row,
              outcome: 'failed',
              reason: 'graph_error',
              message: errorText(`no result was recorded for this row (${chunkFailed(r.row)}); run the batch again`),
              assignedAt: null,
              provisionedAt: null,
            },
      );
    const report = finalReport(plan, [...results, ...missing], input.finishedAt ?? now().toISOString());
    await store.saveReport(input.runKey, report);
    if (!(await store.isDone(input.runKey, 'flags'))) {
      const toFlag: FlagMessage[] = report.users
        .filter((u) => u.outcome === 'failed' || u.outcome === 'flagged')
        .map((u) => ({
          batchId: report.batchId,
          run: input.runKey,
          row: u.row,
          userPrincipalName: u.userPrincipalName,
          outcome: u.outcome as 'failed' | 'flagged',
          reason: u.reason,
          message: u.message,
          phoneNumber: u.phoneNumber,
        }));
      if (toFlag.length > 0) await flags.publish(toFlag);
      await store.markDone(input.runKey, 'flags');
    }
    return report.counts;
  }

  return {
    preflight,
    loadChunk,
    assign,
    saveChunk,
    checkTeams,
    probeTeams,
    releaseReads,
    settleChunk,
    chunkSignals,
    finish,
  };
}

/** What planBatch needs of the app's configuration: the activities' own dependencies, Graph read only. */
export type BatchPlanningDeps = Pick<
  ActivityDeps,
  | 'graph'
  | 'profiles'
  | 'defaultProfile'
  | 'defaultUsageLocation'
  | 'setUsageLocation'
  | 'phoneNumbers'
  | 'directForGroupPlans'
  | 'schedule'
  | 'extraRowSkus'
>;

export interface BatchPlanningInput {
  /** The input file's bytes, and the charset its upload declared (if any). */
  readonly bytes: Uint8Array;
  readonly charset?: string;
  /** How errors name the input: the blob's path, or "request body". */
  readonly sourceName: string;
  readonly json?: boolean;
  readonly profile?: string;
  readonly rights?: RowRights;
  readonly caller?: string;
  /** The batch's start (ISO): start dates and the schedule are read against it. */
  readonly startedAt: string;
}

export type BatchPlanning =
  | { readonly ok: false; readonly message: string }
  | {
      readonly ok: true;
      /** How the input was read (format, encoding…), as the stored plan records it. */
      readonly described: Pick<StoredPlan, 'input' | 'advisories' | 'inputNotes'>;
      readonly rows: StoredRow[];
      readonly slots: string[];
      /** The batch's error: Graph refused to read the tenant (naming the permission). */
      readonly error?: string;
      /** The tenant's SKUs as Graph listed them (empty when it could not). */
      readonly skus: readonly SubscribedSkuFacts[];
    };

/**
 * The preflight's reading and planning, without storing anything: parses and validates the input, reads the tenant
 * (its SKUs and the rows' users, reads only) and plans every row. The preflight stores what it returns; `dialtone
 * plan` shows it. A transient Graph failure throws TransientGraphError.
 */
export async function planBatch(deps: BatchPlanningDeps, input: BatchPlanningInput): Promise<BatchPlanning> {
  const { graph } = deps;
  const parsed = parseInput(input.bytes, input.sourceName, {
    ...(input.json ? { json: true } : {}),
    ...(input.charset ? { charset: input.charset } : {}),
  });
  if (!parsed.ok) return { ok: false, message: parsed.error.message };
  const { format, encoding, delimiter, usageLocationColumn, advisories } = parsed.input;
  const notes = parsed.input.notes ?? [];
  const described = {
    input: { format, encoding, ...(delimiter ? { delimiter } : {}) },
    advisories: [...advisories],
    ...(notes.length > 0 ? { inputNotes: [...notes] } : {}),
  };
  const batchProfile = parsed.input.profile ?? input.profile;
  const checked = validateRows(parsed.input.rows, {
    profiles: deps.profiles,
    defaultProfile: deps.defaultProfile,
    ...(batchProfile ? { batchProfile } : {}),
    schedule: { settings: deps.schedule ?? DEFAULT_SCHEDULE, now: new Date(input.startedAt) },
  });
  // Profiles and own skus the batch's integration may not use are rejected before Graph is read (entitlements.ts).
  const validated = input.rights
    ? enforceRights(checked, parsed.input.rows, input.rights, input.caller ?? 'this integration', deps.extraRowSkus)
    : checked;

  const skus = await graph.listSubscribedSkus();
  if (!skus.ok && skus.transient) throw new TransientGraphError(skus);
  const requests = validated.flatMap((v) => (v.kind === 'request' ? [v.request.userPrincipalName] : []));
  const reads = skus.ok ? await graph.readUsers(requests) : new Map<string, GraphResult<DirectoryUser>>();
  const { users, readFailures } = usersFromReads(reads);
  const tenant = {
    catalog: resolveTenantCatalog(skus.ok ? skus.value : []),
    users,
    planIds: planIdsOf(skus.ok ? skus.value : []),
  };
  const onboarding = planOnboarding(
    validated,
    tenant,
    {
      ...(deps.defaultUsageLocation ? { defaultUsageLocation: deps.defaultUsageLocation } : {}),
      setUsageLocation: deps.setUsageLocation !== false,
      ...(deps.phoneNumbers ? { phoneNumbers: deps.phoneNumbers } : {}),
      ...(deps.directForGroupPlans ? { directForGroupPlans: true } : {}),
      input: { format, ...(usageLocationColumn !== undefined ? { usageLocationColumn } : {}) },
    },
    new Date(input.startedAt),
  );
  const slots = skus.ok ? onboarding.slots : [];
  const rejectedByValidation = new Set(validated.filter((v) => v.kind === 'rejected').map((v) => v.row));
  const rows = onboarding.rows.map((r): StoredRow => {
    // Without the tenant's SKUs every SKU would look unknown: only what validation rejected stays rejected.
    if (r.kind === 'rejected' && (skus.ok || rejectedByValidation.has(r.row))) return r;
    if (r.kind === 'scheduled' && skus.ok) return r;
    const failure = !skus.ok ? skus : readFailures.get(upnKey(r.userPrincipalName));
    if (!failure) return r;
    const failed: FailedRow = {
      kind: 'failed',
      row: r.row,
      ...(r.line !== undefined ? { line: r.line } : {}),
      ...(r.displayName !== undefined ? { displayName: r.displayName } : {}),
      userPrincipalName: r.userPrincipalName,
      profile: r.profile,
      skus: r.skus,
      reason: failure.reason === 'unknown_sku' ? 'graph_error' : failure.reason,
      message: errorText(`row ${r.row}: Graph refused to read the tenant: ${failure.message}`),
    };
    return failed;
  });
  // Graph refusing the app at the start of a batch (a permission not granted or not consented) is the batch's error,
  // naming the permission, as well as each row's.
  const refused = !skus.ok ? skus : [...readFailures.values()].find((f) => f.reason === 'forbidden');
  const error = refused ? errorText(refused.message) : undefined;
  return { ok: true, described, rows, slots, skus: skus.ok ? skus.value : [], ...(error ? { error } : {}) };
}

/** Service plan name → id as the tenant lists them (assignedLicenses' disabledPlans are ids). */
/**
 * The users Graph read, keyed by UPN, and the reads it refused for a reason other than "not found"; a transient
 * failure throws so that the activity is retried. Preflight and a slot's planning read the tenant the same way.
 */
export function usersFromReads(reads: ReadonlyMap<string, GraphResult<DirectoryUser>>): {
  users: Map<string, TenantUserState>;
  readFailures: Map<string, GraphFailure>;
} {
  const users = new Map<string, TenantUserState>();
  const readFailures = new Map<string, GraphFailure>();
  for (const [upn, r] of reads) {
    if (r.ok) users.set(upnKey(upn), r.value);
    else if (r.transient) throw new TransientGraphError(r);
    else if (r.reason !== 'user_not_found') readFailures.set(upnKey(upn), r);
  }
  return { users, readFailures };
}

export function planIdsOf(skus: readonly SubscribedSkuFacts[]): Map<string, string> {
  const ids = new Map<string, string>();
  for (const s of skus)
    for (const p of s.servicePlans ?? [])
      if (p.servicePlanId) ids.set(p.servicePlanName.toUpperCase(), p.servicePlanId);
  return ids;
}
