// The batch as it moves through the orchestration. Durable inputs and outputs carry only what a step needs, and no
// UPNs or names: a chunk's work is a list of PlannedAssignment (row number, object id, SKU ids); the full rows live
// in the batch's stored plan, and the report joins them back together at the end.
import type { PlanEnablement } from './holdings';
import type { Advisory, Reason, UserOutcome } from './outcomes';
import type { ScheduledRow, StoredRow } from './onboarding';
import type { PlannedNumber } from './phone-numbers';
import type { AssignmentPlan } from './planning';
import type { PlannedMove, PlannedRelease } from './releases';
import { settledOutcome } from './planning';
import type { InputAdvisory } from './input';
import { buildReport, countOutcomes, type BatchReport, type InputDescription, type OutcomeCounts } from './report';

export interface PlannedAssignment {
  readonly row: number;
  readonly userId: string;
  readonly addSkuIds: readonly string[];
  /** addSkuIds by part number, for the report's addedSkus (absent in work stored before it existed). */
  readonly addedSkus?: readonly string[];
  /**
   * What the report says of a row planned when its slot's time came (a row planned in preflight has it in the stored
   * plan): its advisories and the message's note.
   */
  readonly advice?: { readonly advisories: readonly Advisory[]; readonly note?: string };
  /** Service plans to switch on in SKUs the user holds directly (absent in plans stored before it existed). */
  readonly enable?: readonly PlanEnablement[];
  readonly setUsageLocation: string | null;
  readonly pollTeams: boolean;
  /** Teams must show Phone System (not a Calling Plan) before the number: a hybrid Direct Routing row. */
  readonly waitFor?: 'PhoneSystem';
  readonly number?: PlannedNumber;
  /** A leaver's row: what to give back instead of anything to add (shared/domain/releases.ts). */
  readonly release?: PlannedRelease;
  /** A mover's row: the new usage location and the calling plans to remove beside addSkuIds (releases.ts). */
  readonly move?: PlannedMove;
}

/** Where a chunk has got to with one user. */
export interface ChunkUserResult {
  readonly row: number;
  readonly outcome: 'assigned' | 'failed' | 'provisioned' | 'flagged' | 'rejected' | 'cancelled' | 'released';
  /**
   * Advisories of a row planned in its slot (a row planned in preflight has them in the plan), and those the number
   * step adds (number_kept).
   */
  readonly advisories?: readonly Advisory[];
  readonly reason: Reason | '';
  readonly message: string;
  /** Part numbers this run assigned to the user (absent: none, or a result stored before it existed). */
  readonly addedSkus?: readonly string[];
  readonly assignedAt: string | null;
  readonly provisionedAt: string | null;
  /** The number the user holds after the number step (assigned, or kept), when there was one. */
  readonly phoneNumber?: string;
  /** When the number step confirmed the number in Teams. */
  readonly numberedAt?: string;
  /** Part numbers this run took back from the user (a leaver's, or a mover's calling plans; absent: none). */
  readonly releasedSkus?: readonly string[];
  /** The Teams number this run gave back (a leaver's, or the number a mover's new one replaced; absent: none). */
  readonly releasedNumber?: string;
}

export interface StoredPlan {
  readonly batchId: string;
  readonly source: string;
  readonly startedAt: string;
  readonly deadline: string;
  readonly error?: string;
  readonly input?: InputDescription;
  readonly advisories?: readonly InputAdvisory[];
  /** Notes about the input naming what they are about (ParsedInput.notes). */
  readonly inputNotes?: readonly string[];
  readonly rows: readonly StoredRow[];
  readonly chunkSize: number;
  /** Due hours (ISO) of the slots that rows with a later start date, or a missing account, wait in. */
  readonly slots?: readonly string[];
}

/** The chunk's work for a planned row; `inSlot` when planned as its slot's time came (its advice travels with it). */
export function assignmentOf(p: AssignmentPlan, inSlot = false): PlannedAssignment {
  const advice =
    inSlot && (p.advisories.length > 0 || p.note)
      ? { advice: { advisories: [...p.advisories], ...(p.note ? { note: p.note } : {}) } }
      : {};
  return {
    row: p.row,
    userId: p.userId,
    addSkuIds: [...p.addSkuIds],
    ...(p.addedSkus && p.addedSkus.length > 0 ? { addedSkus: [...p.addedSkus] } : {}),
    ...advice,
    ...(p.enable.length > 0 ? { enable: p.enable.map((e) => ({ skuId: e.skuId, planIds: [...e.planIds] })) } : {}),
    setUsageLocation: p.setUsageLocation,
    pollTeams: p.pollTeams,
    ...(p.waitFor ? { waitFor: p.waitFor } : {}),
    ...(p.number ? { number: p.number } : {}),
    ...(p.release
      ? {
          release: {
            removeSkuIds: [...p.release.removeSkuIds],
            removeSkus: [...p.release.removeSkus],
            kept: p.release.kept.map((k) => ({ ...k, groups: [...k.groups] })),
          },
        }
      : {}),
    ...(p.move
      ? {
          move: {
            from: p.move.from,
            to: p.move.to,
            removeSkuIds: [...p.move.removeSkuIds],
            removeSkus: [...p.move.removeSkus],
            kept: p.move.kept.map((k) => ({ ...k, groups: [...k.groups] })),
          },
        }
      : {}),
  };
}

/** The assignments of the plan, cut into chunks of at most `size`, in row order. */
export function chunkAssignments(rows: readonly StoredRow[], size: number): PlannedAssignment[][] {
  const assignments = rows.filter((r): r is AssignmentPlan => r.kind === 'assign').map((r) => assignmentOf(r));
  const chunks: PlannedAssignment[][] = [];
  for (let i = 0; i < assignments.length; i += size) chunks.push(assignments.slice(i, i + size));
  return chunks;
}

/** The report rows: settled rows from the plan, chunk results for the rest; rows with no result yet are left out. */
export function mergeOutcomes(plan: StoredPlan, results: readonly ChunkUserResult[]): UserOutcome[] {
  const byRow = new Map(results.map((r) => [r.row, r]));
  const out: UserOutcome[] = [];
  for (const p of plan.rows) {
    if (p.kind === 'rejected' || p.kind === 'failed') {
      out.push(settledOutcome(p));
      continue;
    }
    const r = byRow.get(p.row);
    if (!r) continue;
    if (p.kind === 'scheduled') {
      // Its outcome came from its slot: settled there (cancelled, rejected, failed), or from the chunk that licensed it.
      out.push({
        row: p.row,
        userPrincipalName: p.userPrincipalName,
        profile: p.profile,
        skus: [...p.skus],
        addedSkus: [...(r.addedSkus ?? [])],
        outcome: r.outcome,
        reason: r.reason,
        message: r.message,
        advisories: [...(r.advisories ?? [])],
        scheduledFor: p.scheduledFor,
        assignedAt: r.assignedAt,
        provisionedAt: r.provisionedAt,
        phoneNumber: r.phoneNumber ?? null,
        releasedSkus: [...(r.releasedSkus ?? [])],
        releasedNumber: r.releasedNumber ?? null,
      });
      continue;
    }
    out.push({
      row: p.row,
      ...(p.line !== undefined ? { line: p.line } : {}),
      ...(p.displayName !== undefined ? { displayName: p.displayName } : {}),
      userPrincipalName: p.userPrincipalName,
      profile: p.profile,
      skus: [...p.skus],
      addedSkus: [...(r.addedSkus ?? (licensed(r.outcome) ? (p.addedSkus ?? []) : []))],
      outcome: r.outcome,
      reason: r.reason,
      message: r.outcome === 'failed' ? r.message : [r.message, p.note].filter(Boolean).join('; '),
      advisories: r.outcome === 'failed' ? [] : [...p.advisories, ...(r.advisories ?? [])],
      assignedAt: r.assignedAt,
      provisionedAt: r.provisionedAt,
      phoneNumber: r.phoneNumber ?? null,
      releasedSkus: [...(r.releasedSkus ?? [])],
      releasedNumber: r.releasedNumber ?? null,
    });
  }
  return out;
}

/** Outcomes that mean the row's licences were assigned. */
function licensed(outcome: ChunkUserResult['outcome']): boolean {
  return outcome === 'assigned' || outcome === 'provisioned' || outcome === 'flagged';
}

/**
 * Counts while a batch runs. `waiting` are users whose licences are assigned and who wait for Teams to show the calling
 * plan: they are not counted as `assigned` (which, at the end, means "nothing to wait for"); `pending` have no result yet.
 */
export type LiveCounts = OutcomeCounts & { pending: number; waiting: number };

/** Rows licensed and watched in Teams: while the batch runs, `assigned` for them means waiting for Teams. */
function polledRows(plan: StoredPlan): Set<number> {
  return new Set(plan.rows.filter((r) => r.kind === 'assign' && r.pollTeams).map((r) => r.row));
}

export function liveCounts(plan: StoredPlan, users: readonly UserOutcome[]): LiveCounts {
  const polled = polledRows(plan);
  const waiting = users.filter((u) => u.outcome === 'assigned' && polled.has(u.row)).length;
  const counts = countOutcomes(users, plan.rows.length);
  return { ...counts, assigned: counts.assigned - waiting, pending: plan.rows.length - users.length, waiting };
}

/**
 * What a recheck can do for a running batch: `waiting`, users licensed and waiting for Teams to show their plan (the
 * ones a recheck checks now); `coming`, rows with no outcome yet (being licensed, or waiting for their start date or
 * account) that will be checked after their licences.
 */
export function recheckOutlook(plan: StoredPlan, users: readonly UserOutcome[]): { waiting: number; coming: number } {
  const settled = new Set(users.map((u) => u.row));
  // A scheduled row's plan is made when its time comes: it may come to wait for Teams.
  const coming = plan.rows.filter(
    (r) => !settled.has(r.row) && ((r.kind === 'assign' && r.pollTeams) || r.kind === 'scheduled'),
  ).length;
  return { waiting: liveCounts(plan, users).waiting, coming };
}

/** A row of the live status: `waiting` while its licences are assigned and Teams does not show them yet. */
export type LiveUserOutcome = Omit<UserOutcome, 'outcome' | 'reason'> & {
  outcome: UserOutcome['outcome'] | 'waiting';
  reason: UserOutcome['reason'];
};

/**
 * The rows as the live status shows them, matching liveCounts: a licensed row that waits for Teams is `waiting` (with
 * no reason yet; `assigned` means, at the end, that there was nothing to wait for), and every row has addedSkus.
 */
export function liveUsers(plan: StoredPlan, users: readonly UserOutcome[]): LiveUserOutcome[] {
  const polled = polledRows(plan);
  return users.map((u) => ({
    ...u,
    addedSkus: [...(u.addedSkus ?? [])],
    ...(u.outcome === 'assigned' && polled.has(u.row) ? { outcome: 'waiting' as const, reason: '' as const } : {}),
  }));
}

export function finalReport(plan: StoredPlan, results: readonly ChunkUserResult[], finishedAt: string): BatchReport {
  return buildReport({
    batchId: plan.batchId,
    source: plan.source,
    startedAt: plan.startedAt,
    finishedAt,
    deadline: plan.deadline,
    ...(plan.error ? { error: plan.error } : {}),
    ...(plan.input ? { input: plan.input } : {}),
    ...(plan.advisories && plan.advisories.length > 0 ? { advisories: [...plan.advisories] } : {}),
    ...(plan.inputNotes && plan.inputNotes.length > 0 ? { inputNotes: [...plan.inputNotes] } : {}),
    users: mergeOutcomes(plan, results),
    total: plan.rows.length,
  });
}

/** Rows still waiting in a slot (no result yet), for the live status: each with its scheduledFor. */
export function waitingRows(plan: StoredPlan, results: readonly ChunkUserResult[]): ScheduledRow[] {
  const have = new Set(results.map((r) => r.row));
  return plan.rows.filter((r): r is ScheduledRow => r.kind === 'scheduled' && !have.has(r.row));
}

/**
 * The share of a chunk's estimated write time after which the next chunk starts assigning (chunkStaggerMs): below 1,
 * so the write budget is not left idle when a chunk writes a little faster than estimated, or writes less (a user who
 * already holds a licence needs no write).
 */
export const STAGGER_SHARE = 0.8;

/**
 * How many chunks of a batch (or a slot round) assign at once: from the one after these on, each chunk starts once the
 * chunk this many before it has recorded its assignments (and not before its startAt). Timed by the budget alone, the
 * chunks still overlapped whenever the host or Graph wrote slower than the budget allows, and each chunk's assignments
 * then spanned the whole batch's; handed on, a chunk's assignments take about this many chunks' share of the host's
 * real pace, so its first users are checked soon after they are licensed (docs/architecture.md, "Chunks start in
 * turn"). Four, measured at 10,000 users on a 2-core machine (bench/README.md): two left the host idle between one
 * chunk's groups and assigned slower; four gave a shorter run and fewer users flagged, at the same detection lag. With
 * Graph's own latency, four chunks of ten assignments at once also reach the write budget's 18 a second.
 */
export const CHUNKS_ASSIGNING = 4;

/**
 * The latest chunk `i` waits for its turn, in ms after its batch or round started its chunks, should the chunk before it
 * never hand it on (that chunk failed outright): eight times its place in the budget's pace, plus ten minutes, and never
 * past half the time to the deadline, so that its users are still licensed and checked in time.
 */
export function turnByMs(i: number, staggerMs: number, untilDeadlineMs: number): number {
  return Math.max(0, Math.min(i * staggerMs * 8 + 600_000, untilDeadlineMs / 2));
}

/**
 * The Graph writes a row's assignment is planned to make, at most (the assign activity re-reads the user and writes
 * only what is still missing): one to set the usage location (a mover's new one, or a user who has none), one
 * assignLicense for what it adds, switches on or removes.
 */
export function plannedWrites(a: PlannedAssignment): number {
  const location = (a.move && a.move.from !== a.move.to) || a.setUsageLocation ? 1 : 0;
  const licences =
    a.addSkuIds.length > 0 ||
    (a.enable?.length ?? 0) > 0 ||
    (a.move?.removeSkuIds.length ?? 0) > 0 ||
    (a.release?.removeSkuIds.length ?? 0) > 0
      ? 1
      : 0;
  return location + licences;
}

/**
 * How long after the previous one each chunk starts assigning (ms; 0: all at once): a chunk's share of the planned
 * writes at the shared write budget's rate, times STAGGER_SHARE. All chunks share one write budget; started together,
 * their assignments interleave and each chunk's spans the whole batch's, so its first users wait that long for their
 * first Teams check. Staggered, each chunk assigns in about its own share of the time and starts its checks then
 * (docs/architecture.md, "Chunks start in turn"). When Graph or the host is slower than the budget, chunks overlap as
 * they did when started together.
 */
export function chunkStaggerMs(chunks: readonly (readonly PlannedAssignment[])[], writesPerSecond: number): number {
  if (chunks.length < 2 || !(writesPerSecond > 0)) return 0;
  const writes = chunks.reduce((n, c) => n + c.reduce((m, a) => m + plannedWrites(a), 0), 0);
  return Math.floor(((STAGGER_SHARE * writes) / chunks.length / writesPerSecond) * 1000);
}
