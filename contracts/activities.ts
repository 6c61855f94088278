// Every activity an orchestrator calls, by name: what it takes and what it answers. workflows/durable.ts calls them
// through this map, so an input of the wrong shape does not compile, and every answer is checked at run time before
// an orchestrator decides on it. The check matters on replay: the answer then comes from the instance's history,
// written by whatever version of the app ran the activity, and a field an older version never sent (see
// workflows/versions.ts) must be seen as absent, not read as the type says. Each schema checks the fields an
// orchestrator reads and lets the rest through untouched (they are stored or passed on as they came).
import { z } from 'zod';
import type { RunKey } from '../shared/adapters/batch-store';
import type { NumberOrder } from '../shared/domain/phone-numbers';
import type { OutcomeCounts } from '../shared/domain/report';
import type {
  AssignAnswer,
  AssignInput,
  ChunkProgress,
  ChunkRef,
  ChunkSignals,
  FinishInput,
  PreflightAnswer,
  PreflightInput,
  ProbeInput,
  ProbeResult,
  ReleaseReadsInput,
  SaveChunkInput,
  SettleChunkInput,
} from './batch';
import type { DeliverCallbackInput, DeliverCallbackResult } from './callback';
import {
  ASSIGN_ACTIVITY,
  CHUNK_SIGNALS_ACTIVITY,
  CONFIRM_NUMBERS_ACTIVITY,
  DELIVER_CALLBACK_ACTIVITY,
  FINISH_ACTIVITY,
  LIVE_IN_SLOT_ACTIVITY,
  LOAD_CHUNK_ACTIVITY,
  LOAD_SLOT_ACTIVITY,
  NUMBERS_ORCHESTRATOR,
  NUMBER_WORK_ACTIVITY,
  PLAN_SLOT_ACTIVITY,
  PREFLIGHT_ACTIVITY,
  PROBE_TEAMS_ACTIVITY,
  READ_NUMBER_ORDERS_ACTIVITY,
  RELEASE_READS_ACTIVITY,
  SAVE_CHUNK_ACTIVITY,
  SETTLE_CHUNK_ACTIVITY,
  START_NUMBER_ACTIVITY,
  STOP_BATCH_ACTIVITY,
  PASS_TURN_ACTIVITY,
  WRITES_SETTLED_ACTIVITY,
} from './names';
import type { ConfirmInput, NumberResult, NumberStart, NumberWork } from './numbers';
import type { PlanSlotInput, PlanSlotResult } from './slot';

/** An order's state as the read-orders activity answers it. */
export type OrderRead = Pick<NumberOrder, 'operationId' | 'status' | 'detail'>;

/** Each activity's input and answer. */
export interface ActivityContracts {
  [PREFLIGHT_ACTIVITY]: { input: PreflightInput; output: PreflightAnswer };
  [LOAD_CHUNK_ACTIVITY]: { input: ChunkRef; output: number };
  [ASSIGN_ACTIVITY]: { input: AssignInput; output: AssignAnswer };
  [SAVE_CHUNK_ACTIVITY]: { input: SaveChunkInput; output: ChunkProgress };
  [PROBE_TEAMS_ACTIVITY]: { input: ProbeInput; output: ProbeResult };
  [RELEASE_READS_ACTIVITY]: { input: ReleaseReadsInput; output: boolean };
  [SETTLE_CHUNK_ACTIVITY]: { input: SettleChunkInput; output: OutcomeCounts };
  [CHUNK_SIGNALS_ACTIVITY]: { input: { runKey: RunKey }; output: ChunkSignals };
  [FINISH_ACTIVITY]: { input: FinishInput; output: OutcomeCounts };
  [NUMBER_WORK_ACTIVITY]: { input: { runKey: RunKey; chunk: number; rows: readonly number[] }; output: NumberWork[] };
  [START_NUMBER_ACTIVITY]: { input: NumberWork; output: NumberStart };
  [READ_NUMBER_ORDERS_ACTIVITY]: { input: { operationIds: readonly string[] }; output: OrderRead[] };
  [CONFIRM_NUMBERS_ACTIVITY]: { input: ConfirmInput; output: NumberResult[] };
  [LOAD_SLOT_ACTIVITY]: { input: { runKey: RunKey; slot: number }; output: string };
  [LIVE_IN_SLOT_ACTIVITY]: { input: { runKey: RunKey; slot: number }; output: number };
  [PLAN_SLOT_ACTIVITY]: { input: PlanSlotInput; output: PlanSlotResult };
  [WRITES_SETTLED_ACTIVITY]: { input: { runKey: RunKey }; output: boolean };
  [STOP_BATCH_ACTIVITY]: { input: { batchInstanceId: string }; output: number };
  [PASS_TURN_ACTIVITY]: { input: { instanceId: string }; output: boolean };
  [DELIVER_CALLBACK_ACTIVITY]: { input: DeliverCallbackInput; output: DeliverCallbackResult };
}

export type ActivityName = keyof ActivityContracts;
export type ActivityInput<N extends ActivityName> = ActivityContracts[N]['input'];
export type ActivityOutput<N extends ActivityName> = ActivityContracts[N]['output'];

const iso = z.string();
const counts = z.record(z.string(), z.number());
const teamsList = z.enum(['filtered', 'unfiltered', 'perUser']);
const numberResult = z.looseObject({
  row: z.number(),
  outcome: z.enum(['provisioned', 'flagged']),
  /** Absent in answers recorded before read-backs were retried (workflows/versions.ts). */
  readBackPending: z.boolean().optional(),
});
const rowResult = z.looseObject({ row: z.number(), outcome: z.string() });

/** What each answer must hold for the orchestrators to decide on it (fields they only pass on are not checked). */
export const ACTIVITY_ANSWERS: { readonly [N in ActivityName]: z.ZodType } = {
  [PREFLIGHT_ACTIVITY]: z.looseObject({
    total: z.number(),
    chunks: z.number(),
    /** Absent in answers recorded before start-date slots existed (workflows/versions.ts). */
    slots: z.number().optional(),
    error: z.string().optional(),
    settled: counts,
  }),
  [LOAD_CHUNK_ACTIVITY]: z.number(),
  [ASSIGN_ACTIVITY]: z.union([
    z.looseObject({ deferred: z.literal(true), row: z.number(), resumeAt: iso, writeSlotAt: iso.optional() }),
    rowResult,
  ]),
  [SAVE_CHUNK_ACTIVITY]: z.looseObject({ pending: z.number() }),
  [PROBE_TEAMS_ACTIVITY]: z.looseObject({
    pending: z.number(),
    numbered: z.array(z.number()),
    teamsList: teamsList.optional(),
    deferredUntil: iso.optional(),
    /** Both absent in answers recorded before they existed (workflows/versions.ts). */
    resumeAt: iso.optional(),
    reservedUntil: iso.optional(),
  }),
  [RELEASE_READS_ACTIVITY]: z.unknown(),
  [SETTLE_CHUNK_ACTIVITY]: counts,
  [CHUNK_SIGNALS_ACTIVITY]: z.looseObject({ recheckRequestedAt: iso.nullable(), cancelled: z.boolean() }),
  [FINISH_ACTIVITY]: counts,
  [NUMBER_WORK_ACTIVITY]: z.array(z.looseObject({ row: z.number() })),
  [START_NUMBER_ACTIVITY]: z.union([
    z.looseObject({ kind: z.literal('done'), result: numberResult }),
    z.looseObject({ kind: z.literal('ordered'), order: z.looseObject({ row: z.number(), operationId: z.string() }) }),
  ]),
  [READ_NUMBER_ORDERS_ACTIVITY]: z.array(z.looseObject({ operationId: z.string(), status: z.string() })),
  [CONFIRM_NUMBERS_ACTIVITY]: z.array(numberResult),
  [LOAD_SLOT_ACTIVITY]: iso,
  [LIVE_IN_SLOT_ACTIVITY]: z.number(),
  [PLAN_SLOT_ACTIVITY]: z.looseObject({ chunks: z.array(z.number()), waiting: z.number(), waitUntil: iso.nullable() }),
  [WRITES_SETTLED_ACTIVITY]: z.boolean(),
  [STOP_BATCH_ACTIVITY]: z.unknown(),
  [PASS_TURN_ACTIVITY]: z.unknown(),
  [DELIVER_CALLBACK_ACTIVITY]: z.looseObject({ delivered: z.boolean(), stop: z.boolean() }),
};

/** The number step's answer (workflows/numbers.ts), which its chunk merges into the store: checked the same way. */
export function numberStepAnswer(answer: unknown): NumberResult[] {
  return checked(z.array(numberResult), NUMBERS_ORCHESTRATOR, answer) as NumberResult[];
}

/**
 * An activity's answer, checked: the answer itself when it holds what the orchestrators read, else an error that
 * names the activity and the fields (the instance fails rather than decide on a payload it cannot read).
 */
export function activityAnswer<N extends ActivityName>(name: N, answer: unknown): ActivityOutput<N> {
  return checked(ACTIVITY_ANSWERS[name], name, answer) as ActivityOutput<N>;
}

function checked(schema: z.ZodType, name: string, answer: unknown): unknown {
  const result = schema.safeParse(answer);
  if (!result.success) {
    const where = result.error.issues.map((i) => `${i.path.join('.') || '(the answer)'}: ${i.message}`).join('; ');
    throw new Error(`${name} answered with a payload this version cannot read: ${where}`);
  }
  // The answer as it came, not zod's copy: the fields no schema names are passed on exactly as they were.
  return answer;
}
