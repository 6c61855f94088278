// What orchestrators and activities pass each other. Kept small and free of UPNs: rows travel as row numbers and
// object ids; everything else stays in the batch store.
import type { InputRef, RunKey } from '../shared/adapters/batch-store';
import type { ChunkUserResult } from '../shared/domain/batch';
import type { RowRights } from '../shared/domain/entitlements';
import type { LearnedDelays } from '../shared/domain/polling';
import type { TeamsListMode } from '../shared/domain/teams-reads';
import type { OutcomeCounts } from '../shared/domain/report';
import type { NumberResult } from './numbers';

export interface BatchInput {
  /** The id the caller sees (its own, or an upload's). */
  readonly batchId: string;
  /** Where this run's blobs live (absent only in runs started before run keys existed, which used the batch id). */
  readonly runKey?: RunKey;
  /** What the rows were (a hash), so that the same batchId sent again with other rows is refused, not dropped. */
  readonly fingerprint?: string;
  /** "http" or "blob:<container>/<name>": where the batch came from, for the report. */
  readonly source: string;
  readonly input: InputRef;
  /** The request's or the blob folder's profile. */
  readonly profile?: string;
  /** The input is JSON (the HTTP body's content type said so). */
  readonly json?: boolean;
  readonly deadlineHours: number;
  readonly chunkSize: number;
  readonly parallelism: number;
  /** The batch asked for a callback (its URL is in the batch store, not in durable payloads). */
  readonly callback?: boolean;
  /** What its rows may ask for, as its integration (or the uploads) could when it was accepted; absent: anything. */
  readonly rights?: RowRights;
  /** The integration, for messages of rows it may not ask for. */
  readonly caller?: string;
}

export interface PreflightInput {
  readonly batchId: string;
  readonly runKey: RunKey;
  readonly source: string;
  readonly input: InputRef;
  readonly profile?: string;
  readonly json?: boolean;
  readonly startedAt: string;
  readonly deadline: string;
  readonly chunkSize: number;
  readonly rights?: RowRights;
  readonly caller?: string;
}

export interface PreflightResult {
  readonly total: number;
  readonly chunks: number;
  /** Start-date slots that rows with a later start date (or a missing account) wait in. */
  readonly slots: number;
  readonly error?: string;
  /** Rows settled before any write (rejected, failed). */
  readonly settled: OutcomeCounts;
  /**
   * How long after the previous chunk each chunk starts assigning (ms; shared/domain/batch.ts, chunkStaggerMs). Absent
   * in answers recorded before chunks started in turn, and when there is no write budget: all start at once.
   */
  readonly chunkStaggerMs?: number;
}

/** A preflight's answer as any version recorded it (workflows/versions.ts reads it as a PreflightResult). */
export type PreflightAnswer = Omit<PreflightResult, 'slots'> & { readonly slots?: number };

/** What a chunk orchestration carries across continue-as-new: counts and times, never rows (those are in the store). */
export interface ChunkState {
  readonly assignedAt: string;
  /** How many of the chunk's users still wait for Teams to show a calling plan (or Phone System). */
  readonly pending: number;
  /** When Teams was last read for them (null before the first check). */
  readonly lastCheckAt: string | null;
  /** Checks so far, over every generation (the number step's instance ids count on it). */
  readonly polls: number;
  /** A recheck arrived and has not been honoured yet. */
  readonly recheckDue?: boolean;
  /** What Graph refused of the Teams list, as learned by this chunk's checks. */
  readonly teamsList?: TeamsListMode;
  /** The provisioning delays this chunk's checks have seen (a fixed histogram: its size never grows with the chunk). */
  readonly delays?: LearnedDelays;
}

export interface ChunkInput {
  readonly batchId: string;
  readonly runKey?: RunKey;
  readonly chunk: number;
  readonly deadline: string;
  readonly parallelism: number;
  readonly state?: ChunkState;
  /**
   * Set by batches and slots that start chunks from this version on: a check that comes due more than the floor after
   * the deadline is not started (tooLateToCheck). Chunks started before it keep checking late, as their histories
   * recorded, so that they replay unchanged.
   */
  readonly stopsLate?: true;
  /**
   * Set by batches and slots that start chunks from this version on: the chunk learns its users' provisioning delays
   * and checks on the schedule learned from them (learnedNextCheckAt). Chunks started before it keep the fixed
   * schedule, as their histories recorded.
   */
  readonly learnsSchedule?: true;
  /**
   * Set by batches and slots that start chunks from this version on: the chunk runs the number steps for the users a
   * check found ready beside its next checks, rather than check only once they are done. Chunks started before it wait
   * for each step, as their histories recorded.
   */
  readonly numbersAside?: true;
  /**
   * When the chunk starts assigning (ISO): its batch or slot round starts chunks in turn, each a share of the write
   * budget after the previous one (chunkStaggerMs). Absent: at once (the first chunk, and chunks started before it).
   */
  readonly startAt?: string;
  /**
   * The chunk that waits for this one's assignments (its instance id): handed its turn (TURN_EVENT) once this chunk has
   * recorded them, so that only a few chunks assign at once (CHUNKS_ASSIGNING). Absent: none waits for it.
   */
  readonly handsTurnTo?: string;
  /**
   * Set on a chunk that waits for its turn from the chunk CHUNKS_ASSIGNING before it (after startAt): the latest it
   * waits (ISO), should that chunk never hand it on (it failed). Absent: it does not wait (chunks started before).
   */
  readonly turnBy?: string;
}

/** A chunk in the batch store: activities read and merge its rows themselves, so no message grows with the chunk. */
export interface ChunkRef {
  /** The run's folder (the batch id only in runs started before run keys existed). */
  readonly runKey: RunKey;
  readonly chunk: number;
}

export interface ChunkSummary {
  readonly chunk: number;
  readonly counts: OutcomeCounts;
}

export interface BatchStatus {
  readonly phase: 'preflight' | 'licensing' | 'reporting' | 'notifying' | 'done';
  readonly chunks: number;
  readonly slots?: number;
  /** The batch was cancelled (POST …/cancel). */
  readonly cancelled?: boolean;
  readonly counts?: OutcomeCounts;
  readonly error?: string;
}

/**
 * One user's assignment, by position in the chunk's stored work. The activity reads the row there, and reads the run's
 * cancellations just before its first write, so a cancel that arrives after the row was handed to a chunk still stops
 * it.
 */
export interface AssignInput extends ChunkRef {
  readonly index: number;
  /**
   * Write turns this row reserved in the app's write budget on an earlier call that handed back WriteDeferred: where
   * they start (ISO) and how many. The activity writes on them when they are still ahead (or only just begun).
   */
  readonly writeSlotAt?: string;
  readonly writeSlots?: number;
  /** How many times the row's call was handed back for lack of a write turn (for the ledger's back-off). */
  readonly deferrals?: number;
}

/**
 * The assign activity's answer when the app's write budget has no turn for the row soon: nothing was written, and the
 * orchestration calls it again on a durable timer at `resumeAt`. With `writeSlotAt` the turns are reserved and kept
 * for the row (pass them back); without, the budget's ledger could not be used and nothing is reserved.
 */
export interface WriteDeferred {
  readonly deferred: true;
  readonly row: number;
  readonly resumeAt: string;
  readonly writeSlotAt?: string;
  readonly writeSlots?: number;
}

/** What one assign call answers: the row's result, or a hand-back until its reserved writes come. */
export type AssignAnswer = ChunkUserResult | WriteDeferred;

/** A user whose assignment failed after every retry, by position in the chunk's work. */
export interface GaveUp {
  readonly index: number;
  readonly reason: 'throttled' | 'graph_error';
  readonly message: string;
}

export interface SaveChunkInput extends ChunkRef {
  /** Only the results that changed (one group of assignments); the activity merges them into the stored chunk. */
  readonly results?: readonly ChunkUserResult[];
  readonly gaveUp?: readonly GaveUp[];
  /** What the number step changed in the rows it handled (merged onto the stored rows). */
  readonly numbers?: readonly NumberResult[];
}

export interface ChunkProgress {
  /** The chunk's users still waiting for Teams. */
  readonly pending: number;
}

/** Reads Teams for the chunk's pending users (found in the store) and records what it saw there. */
export interface ProbeInput extends ChunkRef {
  /** The orchestration's time of the check, recorded as provisionedAt. */
  readonly at: string;
  /** The start of the turns a deferred check reserved in the Teams read budget (its `deferredUntil`). */
  readonly reservedAt?: string;
  /** How old a sweep of the Teams list may be and still answer this check (ms; absent: sweeps are not used). */
  readonly freshMs?: number;
  /** The check was brought forward by a recheck: the chunk's users are read one by one. */
  readonly recheck?: true;
  /** What the chunk remembers Graph refused of the Teams list (shared/domain/teams-reads.ts). */
  readonly teamsList?: TeamsListMode;
}

export interface ProbeResult extends ChunkProgress {
  /** What this check found Graph refuses of the Teams list: the chunk remembers it for its later checks. */
  readonly teamsList?: TeamsListMode;
  /** Users Teams now shows ready (recorded as provisioned in the store). */
  readonly found: number;
  /** Users whose Teams reads Graph refused (401/403; recorded as failed `forbidden`): waiting will not change that. */
  readonly refused: number;
  /** Of the users found, the rows whose phone number step follows (row numbers only). */
  readonly numbered: readonly number[];
  /**
   * Set when nothing was read: the check's turns in the shared Teams read budget start then. The orchestration waits
   * on a durable timer until `resumeAt` and checks again with `reservedAt` set to it.
   */
  readonly deferredUntil?: string;
  /**
   * When the deferred check's timer should fire: a little before its turns, so that a timer or an activity that runs
   * late still finds them ahead (absent in results recorded before it existed: the timer then fires at
   * `deferredUntil`).
   */
  readonly resumeAt?: string;
  /**
   * Where the deferred check's reserved turns end: with `deferredUntil`, what a chunk that will not use them (it ends
   * at its deadline, or is cancelled) gives back to the budget (absent in results recorded before it existed).
   */
  readonly reservedUntil?: string;
}

/** Turns of the Teams read budget that a chunk's deferred check reserved and will not use (given back). */
export interface ReleaseReadsInput extends ChunkRef {
  readonly from: string;
  readonly until: string;
}

/** Who to read and how, for one Teams check (the activity's inner step; not a durable message). */
export interface TeamsCheck {
  readonly userIds: readonly string[];
  /** Of those, the users for whom Phone System is enough (Direct Routing numbers): CallingPlan is not awaited. */
  readonly phoneSystemOnly?: readonly string[];
  readonly reservedAt?: string;
}

export interface TeamsSeen {
  readonly found: string[];
  readonly refused: { readonly userId: string; readonly message: string }[];
  readonly deferredUntil?: string;
  readonly resumeAt?: string;
  readonly reservedUntil?: string;
}

/** The chunk's end: at the deadline its pending users are flagged; a cancelled chunk's stay assigned as recorded. */
export interface SettleChunkInput extends ChunkRef {
  readonly deadline: string;
  readonly cancelled?: true;
}

/** What a chunk reads at the start of each generation: requests recorded in the store, which no continue-as-new loses. */
export interface ChunkSignals {
  /** The latest recheck request for the run (POST …/recheck), if any. */
  readonly recheckRequestedAt: string | null;
  /** The whole batch was cancelled. */
  readonly cancelled: boolean;
}

/** A chunk whose orchestration failed outright, with its failure's first line. */
export interface FailedChunk {
  readonly chunk: number;
  readonly message: string;
}

export interface FinishInput {
  readonly batchId: string;
  readonly runKey: string;
  readonly finishedAt?: string;
  /** Chunks that failed outright: the rows they left without a result are reported with the chunk's failure. */
  readonly failedChunks?: readonly FailedChunk[];
}
