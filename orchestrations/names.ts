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
