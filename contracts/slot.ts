// The slot orchestration's input and its planning activity's messages (workflows/slot.ts, activities/onboarding.ts).
import type { RunKey } from '../shared/adapters/batch-store';

export interface SlotInput {
  readonly batchId: string;
  /** Where the run's blobs live. */
  readonly runKey: RunKey;
  /** The batch orchestration's instance id, which its chunks' and slots' ids start with. */
  readonly batchInstanceId: string;
  readonly slot: number;
  readonly round: number;
  readonly deadlineHours: number;
  readonly parallelism: number;
  readonly chunkSize: number;
  /** Later rounds: when to look for the missing accounts, and the slot's time. */
  readonly checkAt?: string;
  readonly slotAt?: string;
}

export interface PlanSlotInput {
  readonly runKey: RunKey;
  readonly slot: number;
  readonly round: number;
  /** The orchestration's time (the local runtime's clock skips ahead; activities must not read their own). */
  readonly now: string;
  /** Rows per chunk handed out. */
  readonly chunkSize: number;
}

export interface PlanSlotResult {
  /** Chunks handed rows to license now. */
  readonly chunks: number[];
  /** Rows still waiting for their account. */
  readonly waiting: number;
  /** The last moment any of them may still appear (ISO), when some wait. */
  readonly waitUntil: string | null;
  /** How long after the previous chunk of the round each starts assigning (ms), as PreflightResult.chunkStaggerMs. */
  readonly chunkStaggerMs?: number;
}
