// Durable histories built by hand for the orchestrator replay tests: the events the Durable extension records and
// hands back to the orchestrator, in the shape durable-functions 3.x replays (the EventType numbers are the SDK's
// HistoryEventType, those of the Durable Task Framework). One builder, so that every test writes an event the same way.

export const EVENT = {
  ExecutionStarted: 0,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  EventRaised: 15,
} as const;

export interface HistoryEvent {
  readonly EventType: number;
  readonly EventId: unknown;
  readonly IsPlayed: boolean;
  readonly Timestamp: string;
  readonly [field: string]: unknown;
}

/** One event of `type` at `ts`, with its own fields (an EventId among them when it has one; else -1). */
export function ev(type: number, fields: Record<string, unknown>, ts: string): HistoryEvent {
  return { EventType: type, EventId: fields['EventId'] ?? -1, IsPlayed: false, Timestamp: ts, ...fields };
}

/** The start of a generation: the orchestrator's turn begins, and its input. */
export const started = (input: unknown, ts: string): HistoryEvent[] => [
  ev(EVENT.OrchestratorStarted, {}, ts),
  ev(EVENT.ExecutionStarted, { Name: 'x', Input: JSON.stringify(input) }, ts),
];

/** An activity the orchestrator scheduled, as event `id`. */
export const scheduled = (id: number, name: string, ts: string): HistoryEvent =>
  ev(EVENT.TaskScheduled, { EventId: id, Name: name }, ts);

/** A new turn in which activity `id` answered with `result`. */
export const completed = (id: number, result: unknown, ts: string): HistoryEvent[] => [
  ev(EVENT.OrchestratorStarted, {}, ts),
  ev(EVENT.TaskCompleted, { TaskScheduledId: id, Result: JSON.stringify(result) }, ts),
];

/** Timer `id` created, and fired at `fireAt` in a turn of its own. */
export const timer = (id: number, fireAt: string, ts: string): HistoryEvent[] => [
  ev(EVENT.TimerCreated, { EventId: id, FireAt: fireAt }, ts),
  ev(EVENT.OrchestratorStarted, {}, fireAt),
  ev(EVENT.TimerFired, { TimerId: id, FireAt: fireAt }, fireAt),
];
