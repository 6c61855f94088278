// Names of the orchestrators, activities and events, shared by registration, callers and tests.
export const BATCH_ORCHESTRATOR = 'dialtone-batch';
export const CHUNK_ORCHESTRATOR = 'dialtone-chunk';
export const PREFLIGHT_ACTIVITY = 'dialtone-preflight';
export const LOAD_CHUNK_ACTIVITY = 'dialtone-load-chunk';
export const ASSIGN_ACTIVITY = 'dialtone-assign';
export const SAVE_CHUNK_ACTIVITY = 'dialtone-save-chunk';
export const PROBE_TEAMS_ACTIVITY = 'dialtone-probe-teams';
export const SETTLE_CHUNK_ACTIVITY = 'dialtone-settle-chunk';
export const RELEASE_READS_ACTIVITY = 'dialtone-release-teams-reads';
export const CHUNK_SIGNALS_ACTIVITY = 'dialtone-chunk-signals';
export const FINISH_ACTIVITY = 'dialtone-finish';
export const CALLBACK_ORCHESTRATOR = 'dialtone-callback';
export const DELIVER_CALLBACK_ACTIVITY = 'dialtone-deliver-callback';
export const SLOT_ORCHESTRATOR = 'dialtone-slot';
export const LOAD_SLOT_ACTIVITY = 'dialtone-load-slot';
export const LIVE_IN_SLOT_ACTIVITY = 'dialtone-live-in-slot';
export const PLAN_SLOT_ACTIVITY = 'dialtone-plan-slot';
export const WRITES_SETTLED_ACTIVITY = 'dialtone-writes-settled';
export const STOP_BATCH_ACTIVITY = 'dialtone-stop-batch';
export const PASS_TURN_ACTIVITY = 'dialtone-pass-turn';
/** Raised on a batch when it is cancelled, and by the batch on its chunks. */
export const CANCEL_EVENT = 'cancel';
export const RECHECK_EVENT = 'recheck';
/** A chunk's turn to start assigning, handed to it by the chunk before it (ChunkInput.handsTurnTo). */
export const TURN_EVENT = 'turn';

// The phone number step (docs/phone-numbers.md): its own sub-orchestration and activities, after Teams shows
// the calling plan.
export const NUMBERS_ORCHESTRATOR = 'dialtone-numbers';
export const NUMBER_WORK_ACTIVITY = 'dialtone-number-work';
export const START_NUMBER_ACTIVITY = 'dialtone-number-start';
export const READ_NUMBER_ORDERS_ACTIVITY = 'dialtone-number-orders';
export const CONFIRM_NUMBERS_ACTIVITY = 'dialtone-number-confirm';

/**
 * Chunk numbers in the run's folder (the batch store's blob names) for rows licensed when their slot's time came,
 * apart from the preflight's chunks 0, 1, 2 … Runs in flight have blobs under these numbers, so they keep this form;
 * instance ids name slot, round and part apart (contracts/instance-ids.ts).
 */
export const SLOT_CHUNK_BASE = 1_000_000_000;

export function slotChunkId(slot: number, round: number, part: number): number {
  return SLOT_CHUNK_BASE + slot * 10_000_000 + round * 100_000 + part;
}

/** Where a slot's round records the rows it settled itself (cancelled, rejected, failed). */
export function slotSettledChunkId(slot: number, round: number): number {
  return slotChunkId(slot, round, 99_999);
}
