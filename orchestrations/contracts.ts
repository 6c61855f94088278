// What orchestrators and activities pass each other. Kept small and free of UPNs: rows travel as row numbers and
// object ids; everything else stays in the batch store.
import type { InputRef, RunKey } from '../shared/adapters/batch-store';
import type { ChunkUserResult, PlannedAssignment } from '../shared/domain/batch';
import type { OutcomeCounts } from '../shared/domain/report';

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
}

export interface PreflightResult {
  readonly total: number;
  readonly chunks: number;
  /** Slots that rows with a later start date (or a missing account) wait in. */
  readonly slots: number;
  readonly error?: string;
  /** Rows settled before any write (rejected, failed). */
  readonly settled: OutcomeCounts;
}

export interface ChunkState {
  readonly results: ChunkUserResult[];
  /** Users still waiting for Teams to show a calling plan (or Phone System), and whether a number follows. */
  readonly pending: { readonly row: number; readonly userId: string; readonly waitFor?: 'PhoneSystem'; readonly number?: true }[];
  readonly assignedAt: string;
  readonly polls: number;
}

export interface ChunkInput {
  readonly batchId: string;
  readonly runKey?: RunKey;
  readonly chunk: number;
  readonly deadline: string;
  readonly parallelism: number;
  readonly state?: ChunkState;
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
 * One user's assignment, and the run it belongs to: the activity reads the run's cancellations just before its first
 * write, so a cancel that arrives after the row was handed to a chunk still stops it (absent in chunks started before
 * run keys existed: no check).
 */
export type AssignInput = PlannedAssignment & { readonly runKey?: RunKey };

export interface ProbeInput {
  readonly userIds: readonly string[];
  /** Of those, the users for whom Phone System is enough (Direct Routing numbers): CallingPlan is not awaited. */
  readonly phoneSystemOnly?: readonly string[];
  /** The start of the slots a deferred check reserved in the Teams read budget (its `deferredUntil`). */
  readonly reservedAt?: string;
}

export interface ProbeResult {
  /** Users (object ids) whose Teams configuration shows CallingPlan (or PhoneSystem, for phoneSystemOnly users). */
  readonly found: string[];
  /** Users whose Teams reads Graph refused (401/403): waiting will not change that. */
  readonly refused: { readonly userId: string; readonly message: string }[];
  /**
   * Set when nothing was read: the check's slots in the shared Teams read budget start then. The orchestration waits
   * on a durable timer and checks again with `reservedAt` set to it.
   */
  readonly deferredUntil?: string;
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
