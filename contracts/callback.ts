// The callback orchestration's input and its delivery activity's messages (workflows/callback.ts,
// activities/callback.ts).
import type { RunKey } from '../shared/adapters/batch-store';

export interface CallbackInput {
  readonly batchId: string;
  /** Where the run's report and callback registration live. */
  readonly runKey: RunKey;
}

export interface DeliverCallbackInput {
  readonly runKey: RunKey;
  readonly attempt: number;
  /** The orchestration's time of the attempt, for the report. */
  readonly at: string;
  /** No attempt follows this one: a failure ends the callback as given up. */
  readonly last: boolean;
}

export interface DeliverCallbackResult {
  readonly delivered: boolean;
  /** Nothing more can be done (no callback registered, or no secret to sign with). */
  readonly stop: boolean;
}
