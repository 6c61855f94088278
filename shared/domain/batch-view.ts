// Read models of a batch that has not finished, built from what the store holds (the plan, the chunks' results, the
// recorded cancellations) and what its durable status says: the live report the status route answers, and the one
// rule for whether a batch is still open to a cancel or a recheck. The HTTP handlers only read and answer.
import {
  liveCounts,
  liveUsers,
  mergeOutcomes,
  waitingRows,
  type ChunkUserResult,
  type LiveCounts,
  type LiveUserOutcome,
  type StoredPlan,
} from './batch';
import { cancelledOutcome, isCancelled, type Cancellations } from './onboarding';
import { givenBack, seatsBought, type GivenBack, type SeatsBought, type UserOutcome } from './outcomes';
import { fileNotes } from './report';

/**
 * The durable runtime statuses of an orchestration that has not ended. A Suspended instance is open: it is resumed
 * where it stopped, and what is sent to it meanwhile waits for it (Microsoft Learn, "Manage instances in Durable
 * Functions", suspend and resume). Completed, Failed and Terminated are the ends.
 * https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-instance-management
 */
export const OPEN_RUNTIME_STATUSES: readonly string[] = ['Running', 'Pending', 'ContinuedAsNew', 'Suspended'];

/**
 * Whether a batch still takes a cancel or a recheck: its orchestration has not ended and it has not reached its last
 * phase ('done', where it writes the final report).
 */
export function isBatchOpen(state: { readonly runtimeStatus?: unknown; readonly customStatus?: unknown }): boolean {
  const phase = (state.customStatus as { phase?: unknown } | null | undefined)?.phase;
  return OPEN_RUNTIME_STATUSES.includes(String(state.runtimeStatus)) && phase !== 'done';
}

/** A row waiting in its slot for its start date (or its account), as the live report shows it. */
export type ScheduledUserOutcome = Omit<UserOutcome, 'outcome'> & { outcome: 'scheduled' };

/** Counts while a batch runs: `scheduled` rows wait in a slot, `pending` ones have no result yet. */
export type LiveReportCounts = LiveCounts & { scheduled: number };

/** The report of a batch that has not finished: what its status route answers besides the durable status. */
export interface LiveReport {
  readonly batchId: string;
  readonly source: string;
  readonly startedAt: string;
  readonly finishedAt: null;
  readonly deadline: string;
  readonly error?: string;
  readonly counts: LiveReportCounts;
  readonly bought: SeatsBought;
  /** Seats and numbers given back so far (docs/leavers-and-movers.md). */
  readonly released: GivenBack;
  readonly fileNotes: string[];
  readonly users: (LiveUserOutcome | ScheduledUserOutcome)[];
}

/**
 * The live report from the plan, the chunks' results so far and the recorded cancellations. Rows waiting for their
 * time (or their account) are shown with when they are due and count as scheduled; a waiting row whose cancellation
 * is recorded will end cancelled (its slot honours it), so it is shown so now.
 */
export function liveReport(
  plan: StoredPlan,
  results: readonly ChunkUserResult[],
  cancellations: Cancellations,
): LiveReport {
  const users = mergeOutcomes(plan, results);
  const cancelled: UserOutcome[] = [];
  const waiting: ScheduledUserOutcome[] = [];
  for (const w of waitingRows(plan, results)) {
    if (isCancelled(cancellations, w.row)) cancelled.push(cancelledOutcome(w, cancellations));
    else
      waiting.push({
        row: w.row,
        userPrincipalName: w.userPrincipalName,
        profile: w.profile,
        skus: [...w.skus],
        addedSkus: [],
        outcome: 'scheduled',
        reason: '',
        message: `waiting until ${w.scheduledFor} (or for the account to exist)`,
        advisories: [],
        scheduledFor: w.scheduledFor,
        assignedAt: null,
        provisionedAt: null,
        phoneNumber: null,
      });
  }
  const settledUsers = [...users, ...cancelled];
  const counts = {
    ...liveCounts(plan, settledUsers),
    pending: plan.rows.length - settledUsers.length - waiting.length,
    scheduled: waiting.length,
  };
  const all = [...liveUsers(plan, settledUsers), ...waiting].sort((a, b) => a.row - b.row);
  return {
    batchId: plan.batchId,
    source: plan.source,
    startedAt: plan.startedAt,
    finishedAt: null,
    deadline: plan.deadline,
    ...(plan.error ? { error: plan.error } : {}),
    counts,
    bought: seatsBought(settledUsers),
    released: givenBack(settledUsers),
    fileNotes: fileNotes({
      ...(plan.advisories ? { advisories: [...plan.advisories] } : {}),
      ...(plan.inputNotes ? { inputNotes: [...plan.inputNotes] } : {}),
    }),
    users: all,
  };
}
