// Names of the orchestrators, activities and events, shared by registration, callers and tests.
export const BATCH_ORCHESTRATOR = 'dialtone-batch';
export const CHUNK_ORCHESTRATOR = 'dialtone-chunk';
export const PREFLIGHT_ACTIVITY = 'dialtone-preflight';
export const LOAD_CHUNK_ACTIVITY = 'dialtone-load-chunk';
export const ASSIGN_ACTIVITY = 'dialtone-assign';
export const SAVE_CHUNK_ACTIVITY = 'dialtone-save-chunk';
export const PROBE_TEAMS_ACTIVITY = 'dialtone-probe-teams';
export const FINISH_ACTIVITY = 'dialtone-finish';
export const RECHECK_EVENT = 'recheck';

export function chunkInstanceId(batchInstanceId: string, chunk: number): string {
  return `${batchInstanceId}:chunk-${chunk}`;
}

// The phone number step (issue 13): its own sub-orchestration and activities, after Teams shows the calling plan.
export const NUMBERS_ORCHESTRATOR = 'dialtone-numbers';
export const NUMBER_WORK_ACTIVITY = 'dialtone-number-work';
export const START_NUMBER_ACTIVITY = 'dialtone-number-start';
export const READ_NUMBER_ORDERS_ACTIVITY = 'dialtone-number-orders';
export const CONFIRM_NUMBERS_ACTIVITY = 'dialtone-number-confirm';

/** One number step of a chunk: `polls` (the chunk's count of Teams checks) makes each one's id unique, across continue-as-new too. */
export function numbersInstanceId(chunkInstanceId: string, polls: number): string {
  return `${chunkInstanceId}:numbers-${polls}`;
}
