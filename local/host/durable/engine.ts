// A small Durable Task engine for the local host. It drives the real durable-functions SDK the way the Durable
// extension does: it keeps each instance's history, sends it to the registered orchestrator with the new events,
// turns the actions it gets back into scheduled activities, timers and sub-orchestrations, and records their
// results as history events with the ids the SDK expects (docs/conformance.md compares it, scenario by scenario,
// with the real Durable extension).
// Every instance is persisted after each episode; activities run at least once, so a crash
// re-runs the activities whose results were not yet recorded. It also does what the SDK leaves to the host:
// detecting an orchestrator whose code no longer matches its history.
import { randomBytes, randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import type { Clock } from '../../clock';
import type { FunctionRegistry } from '../functions-core';
import { InstanceStore, type HistoryEvent, type InstanceState, type LongTimerState, type RuntimeStatus } from './store';

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventRaised: 15,
  ContinueAsNew: 16,
} as const;

const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  WhenAny: 11,
  WhenAll: 12,
} as const;

/**
 * The replay schemas the extension offers a Node worker (OrchestrationTriggerAttributeBindingProvider in
 * Azure/azure-functions-durable-extension): "upperSchemaVersion" V2 for older SDKs and "upperSchemaVersionNew" V3,
 * which durable-functions 3.x takes. With V3 the SDK waits for a timer further ahead than maximumShortTimerDuration as
 * a LongTimerTask and sends it as one CreateTimer action; the extension then waits for it in segments (below).
 */
const SCHEMA_VERSION = 1;
const SCHEMA_VERSION_NEW = 2;

/**
 * The Azure Storage provider's timer limits (AzureStorageDurabilityProvider: MaximumDelayTime 6 days,
 * LongRunningTimerIntervalLength 3 days). A timer more than 6 days ahead is waited for in segments of 3 days, the last
 * one shorter (DurableOrchestrationContext.CreateTimer): each segment is a timer of its own in the history, with an id
 * of its own, and the SDK's LongTimerTask takes an id for each next segment as the previous one fires.
 */
export const MAX_SHORT_TIMER_MS = 6 * 86_400_000;
export const LONG_TIMER_INTERVAL_MS = 3 * 86_400_000;

interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: string | Date;
  isCanceled?: boolean;
  retryOptions?: {
    firstRetryIntervalInMilliseconds: number;
    maxNumberOfAttempts: number;
    backoffCoefficient?: number;
    maxRetryIntervalInMilliseconds?: number;
  };
  compoundActions?: SdkAction[];
  externalEventName?: string;
}

interface SdkOrchestratorState {
  isDone: boolean;
  actions: SdkAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

/** Where payloads over the large-message thresholds go: the task hub's `<taskhub>-largemessages` blob container. */
export interface LargeMessageStore {
  /** Stores `json` gzip-compressed as the blob `name`. */
  upload(name: string, json: string): Promise<void>;
}

export interface EngineOptions {
  readonly registry: FunctionRegistry;
  readonly store: InstanceStore;
  readonly clock: Clock;
  readonly maxConcurrentActivities?: number;
  readonly log?: (message: string) => void;
  /** Told each time a durable message larger than any before is exchanged (its size in bytes and what it was). */
  readonly onLargestPayload?: (bytes: number, what: string) => void;
  /** Payloads over the Azure Storage provider's thresholds are written there as that provider writes them. */
  readonly largeMessages?: LargeMessageStore;
  /** host.json's functionTimeout in ms (functionTimeoutMs in local/host/host.ts): an activity that runs longer fails. */
  readonly functionTimeoutMs?: number;
}

/** A time span as .NET writes one (TimeSpan's "c" format, whole seconds): 00:00:15, 1.02:00:00. */
export function timeSpanText(ms: number): string {
  const total = Math.floor(ms / 1000);
  const days = Math.floor(total / 86_400);
  const two = (n: number) => String(n).padStart(2, '0');
  const hms = `${two(Math.floor((total % 86_400) / 3600))}:${two(Math.floor((total % 3600) / 60))}:${two(total % 60)}`;
  return days > 0 ? `${days}.${hms}` : hms;
}

/**
 * The failure of a function that ran past functionTimeout, in the words of the WebJobs host the Functions host is
 * built on (FunctionTimeoutException: "Timeout value of {timeout} was exceeded by function: {short name}"; the
 * Functions host names functions "Functions.<name>"), which the real extension records as the activity's failure.
 */
export function functionTimeoutMessage(timeoutMs: number, name: string): string {
  return `Timeout value of ${timeSpanText(timeoutMs)} was exceeded by function: Functions.${name}`;
}

/** The activity's input as the worker hands it over: string inputs were JSON-stringified by the SDK. */
function activityInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

function flattenActions(actions: SdkAction[][]): SdkAction[] {
  const seen = new Set<SdkAction>();
  const out: SdkAction[] = [];
  const walk = (a: SdkAction) => {
    if (seen.has(a)) return;
    seen.add(a);
    if (a.actionType === ActionType.WhenAll || a.actionType === ActionType.WhenAny)
      (a.compoundActions ?? []).forEach(walk);
    else out.push(a);
  };
  for (const group of actions) for (const a of group) walk(a);
  return out;
}

/** Actions that take a task id from the SDK's sequence counter. */
function takesId(a: SdkAction): boolean {
  return a.actionType !== ActionType.WaitForExternalEvent && a.actionType !== ActionType.ContinueAsNew;
}

function signature(a: SdkAction): string {
  switch (a.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return `activity:${a.functionName ?? ''}`;
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return `orchestration:${a.functionName ?? ''}`;
    case ActionType.CreateTimer:
      return 'timer';
    default:
      return `action:${a.actionType}`;
  }
}

function retryDelayMs(options: NonNullable<SdkAction['retryOptions']>, failures: number): number {
  const base = options.firstRetryIntervalInMilliseconds * (options.backoffCoefficient ?? 1) ** (failures - 1);
  return Math.min(
    base,
    options.maxRetryIntervalInMilliseconds && options.maxRetryIntervalInMilliseconds > 0
      ? options.maxRetryIntervalInMilliseconds
      : Number.POSITIVE_INFINITY,
  );
}

/**
 * The Azure Storage provider (DurableTask.AzureStorage) moves a queue message over 45 KB of UTF-8 (MessageManager:
 * MaxStorageQueuePayloadSizeInBytes) into a gzip-compressed blob `<instance>/message-<id>-<event type>.json.gz`, and
 * a history property (an input, a result, an output, a failure's reason or details) over 60 KB of UTF-16
 * (AzureTableTrackingStore: MaxTablePropertySizeInBytes) into `<instance>/history-<sequence, X16>-<event type>-<random,
 * X8>-<property>.json.gz`, both in the container `<taskhub>-largemessages`. The local engine writes the same blobs
 * with the same contents for history properties; a message blob holds the event's JSON, where the provider's holds
 * its whole queue message, and the size counted is the event's payload, not the provider's envelope (within a few
 * hundred bytes of 45 KB the two may decide differently). Its own store keeps the payload as well (it has no property
 * limit) and reads it from there.
 */
export const OFFLOAD_BYTES = 45 * 1024;
export const HISTORY_PROPERTY_UTF16_BYTES = 60 * 1024;
const HISTORY_BLOB_PROPERTIES = ['Input', 'Result', 'Reason', 'Details'] as const;
const EVENT_TYPE_NAMES = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;
/** The extension refuses a custom status whose UTF-16 JSON is over 16 KB (DurableOrchestrationContext.SetCustomStatus). */
const MAX_CUSTOM_STATUS_KB = 16;

/** Raised for a startNew on an instance that is still running (the extension's HTTP API answers 409). */
export class InstanceExistsError extends Error {}

export class DurableEngine {
  /**
   * The durableClient binding data, for activities that declare a durableClient input. The Functions host resolves
   * a function's input bindings whatever its trigger, and the durable client ("orchestration client") binding is an
   * ordinary input binding (learn.microsoft.com, azure-functions/durable/durable-functions-bindings, "Orchestration
   * client"), so an activity may declare one too. Set by the host once its HTTP endpoint exists.
   */
  clientData: (() => Record<string, unknown>) | undefined;
  private readonly registry: FunctionRegistry;
  private readonly store: InstanceStore;
  private readonly clock: Clock;
  private readonly log: (message: string) => void;
  private readonly maxActivities: number;
  /** Instances with events waiting for an episode, in arrival order. */
  private readonly dirty = new Set<string>();
  private readonly inboxes = new Map<string, HistoryEvent[]>();
  private readonly activityQueue: {
    instanceId: string;
    execution: number;
    taskId: number;
    name: string;
    input: unknown;
  }[] = [];
  private runningActivities = 0;
  private episodeLoop: Promise<void> | undefined;
  private timerHandle: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly waiters = new Map<string, (() => void)[]>();
  /**
   * Orchestrator episodes and activities this engine ran, by kind: the local host reports them as its own in
   * `/admin/host/status`, so a conformance test can tell which engine ran a scenario.
   */
  readonly counts = { orchestration: 0, activity: 0 };
  /** Payloads moved to blobs as the Azure Storage provider moves them (see OFFLOAD_BYTES): queue messages, history properties. */
  readonly offloaded = { messages: 0, history: 0 };
  /**
   * The largest input, output, activity input or result, or raised event any instance exchanged, in bytes of JSON
   * (benchmarks report it: the Azure Storage provider moves any message over about 45 KB to a blob).
   */
  maxPayloadBytes = 0;
  private readonly onLargestPayload: ((bytes: number, what: string) => void) | undefined;
  private readonly functionTimeoutMs: number | undefined;
  private readonly largeMessages: LargeMessageStore | undefined;

  constructor(options: EngineOptions) {
    this.largeMessages = options.largeMessages;
    this.functionTimeoutMs = options.functionTimeoutMs;
    this.registry = options.registry;
    this.store = options.store;
    this.clock = options.clock;
    this.log = options.log ?? (() => {});
    this.maxActivities = options.maxConcurrentActivities ?? 16;
    this.onLargestPayload = options.onLargestPayload;
  }

  /** Resumes every unfinished instance from disk: re-runs unrecorded activities, re-arms timers, delivers finished children. */
  async recover(): Promise<void> {
    for (const state of this.store.all()) {
      if (!isRunning(state.runtimeStatus)) continue;
      for (const a of state.pendingActivities)
        this.enqueueActivity(state.instanceId, state.execution, a.taskId, a.name, a.input);
      for (const c of state.pendingChildren) {
        const child = this.store.get(c.instanceId);
        // A crash between recording the parent's episode and creating the child leaves no child: create it now.
        if (!child) this.startNew(c.name, c.instanceId, c.input, { instanceId: state.instanceId, taskId: c.taskId });
        else if (!isRunning(child.runtimeStatus)) this.deliverChildResult(state.instanceId, c.taskId, child);
      }
      if (state.inbox.length > 0) this.markDirty(state.instanceId);
    }
    this.scheduleTimerCheck();
    this.pumpActivities();
  }

  stop(): void {
    this.stopped = true;
    if (this.timerHandle) clearTimeout(this.timerHandle);
  }

  /** Nothing to do but wait for a timer (or for nothing at all); `asleep` running activities only wait on the clock. */
  isIdle(asleep = 0): boolean {
    // Queued activities wait for a free slot; when every slot is held by an activity that only sleeps on the clock,
    // nothing can start before one of them wakes, so the queue does not keep time from skipping to that wake.
    const queueBlocked = this.activityQueue.length === 0 || this.runningActivities >= this.maxActivities;
    return this.dirty.size === 0 && this.runningActivities <= asleep && queueBlocked && this.episodeLoop === undefined;
  }

  /** When the earliest timer not yet handed to its instance is due. (A handed-over one means work is pending.) */
  nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const s of this.store.all()) {
      if (!isRunning(s.runtimeStatus)) continue;
      for (const t of s.pendingTimers) if (!t.delivered && (next === undefined || t.fireAt < next)) next = t.fireAt;
    }
    return next;
  }

  startNew(
    name: string,
    instanceId: string,
    input: unknown,
    parent?: { instanceId: string; taskId: number },
  ): InstanceState {
    // The extension's default OverridableExistingInstanceStates (NonRunningStates): a completed, failed or
    // terminated instance is replaced by the new one; a pending or running one is refused.
    const existing = this.store.get(instanceId);
    if (existing && isRunning(existing.runtimeStatus))
      throw new InstanceExistsError(
        `An Orchestration instance with the status ${existing.runtimeStatus} already exists.`,
      );
    if (!this.registry.get(name) || this.registry.get(name)!.trigger.type !== 'orchestrationTrigger')
      throw new Error(`no orchestrator named ${name}`);
    const now = new Date(this.clock.now()).toISOString();
    const state: InstanceState = {
      instanceId,
      name,
      input: input === undefined ? null : input,
      runtimeStatus: 'Pending',
      createdTime: now,
      lastUpdatedTime: now,
      customStatus: null,
      output: null,
      execution: 0,
      history: [],
      inbox: [
        {
          EventType: EventType.ExecutionStarted,
          EventId: -1,
          IsPlayed: false,
          Timestamp: now,
          Name: name,
          Input: JSON.stringify(input ?? null),
        },
      ],
      nextTaskId: 0,
      scheduled: [],
      actionIds: [],
      pendingActivities: [],
      pendingTimers: [],
      pendingChildren: [],
      retries: {},
      ...(parent ? { parentInstanceId: parent.instanceId, parentTaskId: parent.taskId } : {}),
    };
    this.store.put(state);
    this.notePayload('input', name, JSON.stringify(state.input), instanceId, EventType.ExecutionStarted);
    this.markDirty(instanceId);
    return state;
  }

  /**
   * A durable message sent to `instanceId` (`eventType` names it in the blob, as the Azure Storage provider names
   * it): its size is noted for benchmarks, and over 45 KB it is written to a blob as that provider does (OFFLOAD_BYTES;
   * a storage round trip and memory for each), and logged (sizes and function names only).
   */
  private notePayload(kind: string, name: string, json: string, instanceId?: string, eventType?: number): void {
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > this.maxPayloadBytes) {
      this.maxPayloadBytes = bytes;
      this.onLargestPayload?.(bytes, `${kind} of ${name}`);
    }
    if (instanceId === undefined || eventType === undefined || bytes <= OFFLOAD_BYTES) return;
    const blob = `${instanceId}/message-${randomUUID().replace(/-/g, '')}-${EVENT_TYPE_NAMES[eventType]}.json.gz`;
    this.offloaded.messages++;
    this.log(`${kind} of ${name} is ${Math.round(bytes / 1024)} KB: moved to the large-message blob ${blob}`);
    this.uploadLarge(blob, json);
  }

  /** History properties of events from `from` on that are over 60 KB of UTF-16, to blobs (see OFFLOAD_BYTES). */
  private offloadHistory(state: InstanceState, from: number): void {
    for (let seq = from; seq < state.history.length; seq++) {
      const e = state.history[seq]!;
      for (const property of HISTORY_BLOB_PROPERTIES)
        this.offloadProperty(state.instanceId, seq, e.EventType, property, e[property]);
    }
  }

  private offloadProperty(instanceId: string, seq: number, eventType: number, property: string, value: unknown): void {
    // A JS string's length is its count of UTF-16 code units: two bytes each.
    if (typeof value !== 'string' || value.length * 2 <= HISTORY_PROPERTY_UTF16_BYTES) return;
    const row = seq.toString(16).toUpperCase().padStart(16, '0');
    const random = randomBytes(4).toString('hex').toUpperCase();
    const blob = `${instanceId}/history-${row}-${EVENT_TYPE_NAMES[eventType]}-${random}-${property}.json.gz`;
    this.offloaded.history++;
    this.uploadLarge(blob, value);
  }

  private uploadLarge(blob: string, json: string): void {
    this.largeMessages
      ?.upload(blob, json)
      .catch((e: unknown) =>
        this.log(`large-message blob ${blob} not written: ${e instanceof Error ? e.message : String(e)}`),
      );
  }

  /** Orchestration instances not yet finished. */
  runningCount(): number {
    let n = 0;
    for (const s of this.store.all()) if (isRunning(s.runtimeStatus)) n++;
    return n;
  }

  list(): InstanceState[] {
    return this.store.all();
  }

  getStatus(instanceId: string): InstanceState | undefined {
    return this.store.get(instanceId);
  }

  /** Queues an external event; it is persisted before this returns, so an accepted event is never lost. */
  raiseEvent(instanceId: string, name: string, data: unknown): 'accepted' | 'not_found' | 'gone' {
    const state = this.store.get(instanceId);
    if (!state) return 'not_found';
    if (!isRunning(state.runtimeStatus)) return 'gone';
    const event = JSON.stringify(data ?? null);
    this.notePayload('event', name, event, instanceId, EventType.EventRaised);
    state.inbox.push({
      EventType: EventType.EventRaised,
      EventId: -1,
      IsPlayed: false,
      Timestamp: new Date(this.clock.now()).toISOString(),
      Name: name,
      Input: event,
    });
    this.store.put(state);
    this.markDirty(instanceId);
    return 'accepted';
  }

  terminate(instanceId: string, reason: string): boolean {
    const state = this.store.get(instanceId);
    if (!state || !isRunning(state.runtimeStatus)) return false;
    this.finish(state, 'Terminated', reason);
    return true;
  }

  purge(instanceId: string): boolean {
    return this.store.delete(instanceId);
  }

  /** Resolves when the instance reaches a terminal state. */
  waitFor(instanceId: string): Promise<void> {
    const s = this.store.get(instanceId);
    if (s && !isRunning(s.runtimeStatus)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(instanceId) ?? [];
      list.push(resolve);
      this.waiters.set(instanceId, list);
    });
  }

  /** Fires every timer that is due at the current time. Called by the clock loop and after a skip ahead. */
  fireDueTimers(): void {
    const now = this.clock.now();
    for (const s of this.store.all()) {
      if (!isRunning(s.runtimeStatus)) continue;
      const due = s.pendingTimers.filter((t) => t.fireAt <= now && !t.delivered);
      if (due.length === 0) continue;
      for (const t of due) {
        t.delivered = true;
        this.pushEvent(
          s.instanceId,
          {
            EventType: EventType.TimerFired,
            EventId: -1,
            IsPlayed: false,
            Timestamp: new Date(now).toISOString(),
            TimerId: t.taskId,
            FireAt: new Date(t.fireAt).toISOString(),
          },
          s.execution,
        );
      }
    }
    this.scheduleTimerCheck();
  }

  scheduleTimerCheck(): void {
    if (this.stopped) return;
    if (this.timerHandle) clearTimeout(this.timerHandle);
    const next = this.nextTimerAt();
    if (next === undefined) return;
    // Simulated milliseconds to wall-clock ones at the clock's rate (local/clock.ts).
    const wait = Math.max(0, Math.min((next - this.clock.now()) / (this.clock.rate ?? 1), 1000));
    this.timerHandle = setTimeout(() => this.fireDueTimers(), wait);
  }

  /** In-memory events (activity results, timers) for the instance's current execution. */
  private pushEvent(instanceId: string, event: HistoryEvent, execution: number): void {
    const tagged = { ...event, _execution: execution };
    const inbox = this.inboxes.get(instanceId) ?? [];
    inbox.push(tagged);
    this.inboxes.set(instanceId, inbox);
    this.markDirty(instanceId);
  }

  private markDirty(instanceId: string): void {
    this.dirty.add(instanceId);
    if (!this.episodeLoop) {
      this.episodeLoop = this.runEpisodes().finally(() => {
        this.episodeLoop = undefined;
        if (this.dirty.size > 0 && !this.stopped) this.markDirty(this.dirty.values().next().value!);
      });
    }
  }

  private async runEpisodes(): Promise<void> {
    await Promise.resolve();
    while (this.dirty.size > 0 && !this.stopped) {
      const instanceId = this.dirty.values().next().value!;
      this.dirty.delete(instanceId);
      try {
        const more = await this.runEpisode(instanceId);
        if (more) this.dirty.add(instanceId);
      } catch (e) {
        this.log(`episode for ${instanceId} failed in the host: ${e instanceof Error ? e.stack : String(e)}`);
      }
      // Timers and I/O get their turn between episodes (an episode's replay is synchronous in the SDK), as the
      // Functions host runs orchestrations and activities side by side: a burst of 200 chunk episodes no longer
      // holds an activity's budget slot or the clock's governor for its whole length.
      if (this.dirty.size > 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Runs one episode. Returns true when events are left for another episode. */
  private async runEpisode(instanceId: string): Promise<boolean> {
    const state = this.store.get(instanceId);
    if (!state || !isRunning(state.runtimeStatus)) {
      this.inboxes.delete(instanceId);
      return false;
    }
    // Events raised while this episode runs land in state.inbox after these: they are kept for the next episode.
    const inboxTaken = state.inbox.length;
    const memory = (this.inboxes.get(instanceId) ?? []).filter((e) => e['_execution'] === state.execution);
    this.inboxes.delete(instanceId);
    const candidates = [...state.inbox, ...memory.map(({ _execution: _x, ...e }) => e)];
    if (candidates.length === 0) return false;
    // An event that makes the SDK take a task id while it is processed (a failed retryable activity, a retry timer)
    // goes into an episode of its own, first, so that the ids handed out here match the ones the SDK assigns.
    const now = this.clock.now();
    const allocating = (e: HistoryEvent) => this.allocationFor(state, e, now) !== undefined;
    let take = 1;
    if (!allocating(candidates[0]!)) while (take < candidates.length && !allocating(candidates[take]!)) take++;
    const events = candidates.slice(0, take);
    const leftover = candidates.slice(take);
    const persistedLeft = leftover.filter(
      (e) =>
        e.EventType === EventType.EventRaised ||
        e.EventType === EventType.SubOrchestrationInstanceCompleted ||
        e.EventType === EventType.SubOrchestrationInstanceFailed ||
        e.EventType === EventType.ExecutionStarted,
    );
    const memoryLeft = leftover.filter((e) => !persistedLeft.includes(e));

    const nowIso = new Date(now).toISOString();
    const newEvents: HistoryEvent[] = [
      { EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: nowIso },
    ];
    for (const e of events) newEvents.push({ ...e, IsPlayed: false });
    const history = [...state.history.map((e) => ({ ...e, IsPlayed: true })), ...newEvents];

    const appended: HistoryEvent[] = [];
    const newActivities: InstanceState['pendingActivities'] = [];
    const newChildren: { taskId: number; name: string; instanceId: string; input: unknown }[] = [];
    // Ids the SDK takes while processing this episode's one allocating event.
    for (const e of events) {
      const alloc = this.allocationFor(state, e, now);
      if (!alloc) continue;
      const id = state.nextTaskId++;
      if (alloc.kind === 'long-timer') {
        // The next segment: 3 days, or what is left when that is less (DurableOrchestrationContext.CreateTimer).
        const left = alloc.timer.fireAt - now;
        const fireAt = left < LONG_TIMER_INTERVAL_MS ? alloc.timer.fireAt : now + LONG_TIMER_INTERVAL_MS;
        alloc.timer.currentTaskId = id;
        state.pendingTimers.push({ taskId: id, fireAt, longKey: alloc.key });
        appended.push({
          EventType: EventType.TimerCreated,
          EventId: id,
          IsPlayed: false,
          Timestamp: nowIso,
          FireAt: new Date(fireAt).toISOString(),
        });
      } else if (alloc.kind === 'retry-timer') {
        const fireAt = now + alloc.delayMs;
        alloc.retry.timerId = id;
        alloc.retry.failures++;
        state.pendingTimers.push({ taskId: id, fireAt, retryKey: alloc.key });
        appended.push({
          EventType: EventType.TimerCreated,
          EventId: id,
          IsPlayed: false,
          Timestamp: nowIso,
          FireAt: new Date(fireAt).toISOString(),
        });
      } else {
        alloc.retry.currentTaskId = id;
        alloc.retry.timerId = undefined;
        newActivities.push({ taskId: id, name: alloc.retry.name, input: alloc.retry.input });
        appended.push({
          EventType: EventType.TaskScheduled,
          EventId: id,
          IsPlayed: false,
          Timestamp: nowIso,
          Name: alloc.retry.name,
          Input: serialiseInput(alloc.retry.input),
        });
      }
    }
    for (const e of events) this.consume(state, e, now);

    const registration = this.registry.get(state.name);
    if (!registration) throw new Error(`no orchestrator named ${state.name}`);
    // What an orchestrator logs (the batch's phases; it logs only when not replaying) reaches the host's log, as the
    // Functions host sends it to its logger; trace and debug stay out, as at the host's default level.
    const context = new InvocationContext({
      invocationId: `${instanceId}:${state.history.length}`,
      functionName: state.name,
      logHandler: (level, ...args) => {
        if (level !== 'trace' && level !== 'debug') this.log(`${state.name}: ${args.map(String).join(' ')}`);
      },
    });
    const payload = {
      history,
      input: state.input,
      instanceId,
      isReplaying: state.history.length > 0,
      parentInstanceId: state.parentInstanceId ?? '',
      upperSchemaVersion: SCHEMA_VERSION,
      upperSchemaVersionNew: SCHEMA_VERSION_NEW,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '6.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    let result: SdkOrchestratorState;
    let failure: string | undefined;
    this.counts.orchestration++;
    try {
      result = (await registration.handler(payload, context)) as SdkOrchestratorState;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const marker = message.indexOf('$OutOfProcData$:');
      if (marker >= 0) {
        try {
          result = JSON.parse(message.slice(marker + '$OutOfProcData$:'.length)) as SdkOrchestratorState;
        } catch {
          result = { isDone: false, actions: [] };
        }
        failure = result.error ?? message.slice(0, marker);
      } else {
        result = { isDone: false, actions: [] };
        failure = message;
      }
    }

    const historyBefore = state.history.length;
    state.history = [...state.history, ...newEvents, ...appended];
    state.inbox = [...persistedLeft, ...state.inbox.slice(inboxTaken)];
    if (memoryLeft.length > 0) {
      const inbox = this.inboxes.get(instanceId) ?? [];
      this.inboxes.set(instanceId, [...memoryLeft.map((e) => ({ ...e, _execution: state.execution })), ...inbox]);
    }
    if (result.customStatus !== undefined && failure === undefined) {
      // MessagePayloadDataConverter.Serialize(value, 16): the UTF-16 size, in whole KB, must not exceed 16.
      const kb = Math.trunc(Buffer.byteLength(JSON.stringify(result.customStatus), 'utf16le') / 1024);
      if (kb > MAX_CUSTOM_STATUS_KB)
        failure = `The UTF-16 size of the JSON-serialized payload must not exceed ${MAX_CUSTOM_STATUS_KB} KB. The current payload size is ${kb} KB.`;
      else state.customStatus = result.customStatus;
    }
    state.runtimeStatus = 'Running';
    state.lastUpdatedTime = nowIso;

    const actions = flattenActions(result.actions ?? []);
    const idActions = actions.filter(takesId);
    // The SDK does not check that history matches the code; the host does.
    const mismatch = this.findMismatch(state, idActions, result.isDone || failure !== undefined);
    if (mismatch) {
      this.finish(
        state,
        'Failed',
        `Non-deterministic orchestrator ${state.name} (instance ${instanceId}): ${mismatch}. The orchestrator code changed while this instance was running, or it used a non-deterministic API (Date.now, Math.random, I/O) to decide what to schedule.`,
      );
      return false;
    }
    // What the extension does with the SDK's actions (OutOfProcOrchestrationShim.ProcessAsyncActionsV2): it starts
    // them one after the other, each only once the one before it has ended, and it completes (or fails, or continues
    // as new) only once the last has ended, whatever the SDK says. An action the SDK no longer waits for (Task.all
    // fails on its first failed task, Task.any settles on its first) is still waited for there.
    const shim = shimProgress(state, result.actions ?? [], idActions);
    const ended = shim.allEnded;
    if (failure !== undefined && ended) {
      // The extension's wording (OutOfProcOrchestrationShim): "Orchestrator function '<name>' failed: <error>".
      this.finish(state, 'Failed', `Orchestrator function '${state.name}' failed: ${failure}`);
      return false;
    }

    const continueAsNew = ended ? actions.find((a) => a.actionType === ActionType.ContinueAsNew) : undefined;
    for (let i = state.scheduled.length; i < idActions.length && i < shim.startedIdActions; i++) {
      const a = idActions[i]!;
      const id = state.nextTaskId++;
      state.scheduled.push(signature(a));
      state.actionIds.push(id);
      switch (a.actionType) {
        case ActionType.CallActivity:
        case ActionType.CallActivityWithRetry: {
          const input = activityInput(a.input);
          if (a.actionType === ActionType.CallActivityWithRetry && a.retryOptions) {
            state.retries[String(i)] = {
              name: a.functionName ?? '',
              input,
              options: a.retryOptions,
              failures: 0,
              currentTaskId: id,
            };
          }
          newActivities.push({ taskId: id, name: a.functionName ?? '', input });
          this.notePayload(
            'activityInput',
            a.functionName ?? '',
            serialiseInput(a.input),
            instanceId,
            EventType.TaskScheduled,
          );
          state.history.push({
            EventType: EventType.TaskScheduled,
            EventId: id,
            IsPlayed: false,
            Timestamp: nowIso,
            Name: a.functionName,
            Input: serialiseInput(a.input),
          });
          break;
        }
        case ActionType.CreateTimer: {
          let fireAt = new Date(a.fireAt as string).getTime();
          if (fireAt - now > MAX_SHORT_TIMER_MS) {
            // Waited for in segments, as the extension does with the Azure Storage provider.
            (state.longTimers ??= {})[String(i)] = { fireAt, currentTaskId: id, done: false };
            fireAt = now + LONG_TIMER_INTERVAL_MS;
            state.pendingTimers.push({ taskId: id, fireAt, longKey: String(i) });
          } else state.pendingTimers.push({ taskId: id, fireAt });
          state.history.push({
            EventType: EventType.TimerCreated,
            EventId: id,
            IsPlayed: false,
            Timestamp: nowIso,
            FireAt: new Date(fireAt).toISOString(),
          });
          break;
        }
        case ActionType.CallSubOrchestrator: {
          const childId = a.instanceId || `${instanceId}:${id}`;
          newChildren.push({
            taskId: id,
            name: a.functionName ?? '',
            instanceId: childId,
            input: activityInput(a.input),
          });
          state.pendingChildren.push({
            taskId: id,
            instanceId: childId,
            name: a.functionName ?? '',
            input: activityInput(a.input),
          });
          state.history.push({
            EventType: EventType.SubOrchestrationInstanceCreated,
            EventId: id,
            IsPlayed: false,
            Timestamp: nowIso,
            Name: a.functionName,
            InstanceId: childId,
            Input: serialiseInput(a.input),
          });
          break;
        }
        default:
          this.finish(state, 'Failed', `the local host does not support action type ${a.actionType} (${signature(a)})`);
          return false;
      }
    }
    // A timer the orchestrator cancelled (it lost a Task.any) never fires.
    idActions.forEach((a, i) => {
      if (a.actionType !== ActionType.CreateTimer || !a.isCanceled || i >= state.actionIds.length) return;
      state.pendingTimers = state.pendingTimers.filter(
        (t) => t.taskId !== state.actionIds[i] && t.longKey !== String(i),
      );
      const long = state.longTimers?.[String(i)];
      if (long) long.done = true;
    });
    state.pendingActivities.push(...newActivities);
    state.history.push({ EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: false, Timestamp: nowIso });
    this.offloadHistory(state, historyBefore);

    if (continueAsNew) {
      // As on the extension: events this generation received and did not wait for are gone with its history
      // (preserveUnprocessedEvents = false for out-of-proc workers); events not yet delivered to it (raised while
      // this episode ran) go to the new generation, as a queue message without an execution id would.
      const carried = state.inbox.filter((e) => e.EventType === EventType.EventRaised);
      state.execution++;
      state.input = activityInput(continueAsNew.input) ?? null;
      this.notePayload('input', state.name, JSON.stringify(state.input), instanceId, EventType.ExecutionStarted);
      state.history = [];
      state.inbox = [
        {
          EventType: EventType.ExecutionStarted,
          EventId: -1,
          IsPlayed: false,
          Timestamp: nowIso,
          Name: state.name,
          Input: JSON.stringify(state.input),
        },
        ...carried,
      ];
      state.nextTaskId = 0;
      state.scheduled = [];
      state.actionIds = [];
      state.pendingActivities = [];
      state.pendingTimers = [];
      state.pendingChildren = [];
      state.retries = {};
      delete state.longTimers;
      this.store.put(state);
      this.inboxes.delete(instanceId);
      return true;
    }
    if (result.isDone && ended) {
      state.output = result.output === undefined ? null : result.output;
      const output = JSON.stringify(state.output);
      this.notePayload('output', state.name, output);
      // DTFx writes ExecutionCompleted just before the episode's OrchestratorCompleted.
      this.offloadProperty(instanceId, state.history.length - 1, EventType.ExecutionCompleted, 'Result', output);
      if (state.parentInstanceId !== undefined)
        this.notePayload(
          'output',
          state.name,
          output,
          state.parentInstanceId,
          EventType.SubOrchestrationInstanceCompleted,
        );
      this.finish(state, 'Completed');
      return false;
    }
    this.store.put(state);
    for (const c of newChildren) {
      const existing = this.store.get(c.instanceId);
      if (existing && !isRunning(existing.runtimeStatus)) this.deliverChildResult(instanceId, c.taskId, existing);
      else if (!existing) this.startNew(c.name, c.instanceId, c.input, { instanceId, taskId: c.taskId });
    }
    for (const a of newActivities) this.enqueueActivity(instanceId, state.execution, a.taskId, a.name, a.input);
    this.pumpActivities();
    this.scheduleTimerCheck();
    return state.inbox.length > 0 || (this.inboxes.get(instanceId)?.length ?? 0) > 0;
  }

  /** Whether processing this event makes the SDK take a task id (retry back-off timer, retried attempt). */
  private allocationFor(
    state: InstanceState,
    e: HistoryEvent,
    now: number,
  ):
    | { kind: 'retry-timer'; key: string; retry: InstanceState['retries'][string]; delayMs: number }
    | { kind: 'retry-attempt'; key: string; retry: InstanceState['retries'][string] }
    | { kind: 'long-timer'; key: string; timer: LongTimerState }
    | undefined {
    if (e.EventType === EventType.TaskFailed) {
      for (const [key, r] of Object.entries(state.retries)) {
        if (r.currentTaskId === e['TaskScheduledId'] && r.timerId === undefined)
          return { kind: 'retry-timer', key, retry: r, delayMs: retryDelayMs(r.options, r.failures + 1) };
      }
    }
    if (e.EventType === EventType.TimerFired) {
      // A segment of a long timer that fired before the timer's time: the extension and the SDK each take an id for
      // the next segment.
      for (const [key, t] of Object.entries(state.longTimers ?? {}))
        if (!t.done && t.currentTaskId === e['TimerId'] && now < t.fireAt) return { kind: 'long-timer', key, timer: t };
      for (const [key, r] of Object.entries(state.retries)) {
        // After the last allowed attempt the SDK fails the task instead of taking an id for another attempt.
        if (r.timerId === e['TimerId'] && r.failures < r.options.maxNumberOfAttempts)
          return { kind: 'retry-attempt', key, retry: r };
      }
    }
    return undefined;
  }

  /** Removes what an event settles from the pending lists. */
  private consume(state: InstanceState, e: HistoryEvent, now: number): void {
    if (e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed) {
      state.pendingActivities = state.pendingActivities.filter((a) => a.taskId !== e['TaskScheduledId']);
      if (e.EventType === EventType.TaskCompleted) {
        for (const [key, r] of Object.entries(state.retries))
          if (r.currentTaskId === e['TaskScheduledId']) delete state.retries[key];
      }
    } else if (e.EventType === EventType.TimerFired) {
      state.pendingTimers = state.pendingTimers.filter((t) => t.taskId !== e['TimerId']);
      for (const t of Object.values(state.longTimers ?? {}))
        if (t.currentTaskId === e['TimerId'] && now >= t.fireAt) t.done = true;
      for (const [key, r] of Object.entries(state.retries))
        if (r.timerId === e['TimerId'] && r.failures >= r.options.maxNumberOfAttempts) delete state.retries[key];
    } else if (
      e.EventType === EventType.SubOrchestrationInstanceCompleted ||
      e.EventType === EventType.SubOrchestrationInstanceFailed
    ) {
      state.pendingChildren = state.pendingChildren.filter((c) => c.taskId !== e['TaskScheduledId']);
    } else if (e.EventType === EventType.ExecutionStarted) {
      state.runtimeStatus = 'Running';
    }
  }

  private findMismatch(state: InstanceState, idActions: SdkAction[], ended: boolean): string | undefined {
    const n = Math.min(state.scheduled.length, idActions.length);
    for (let i = 0; i < n; i++) {
      const now = signature(idActions[i]!);
      if (now !== state.scheduled[i])
        return `history has ${state.scheduled[i]} as task ${i + 1}, but the code now schedules ${now}`;
    }
    if (idActions.length < state.scheduled.length && !ended)
      return `history has ${state.scheduled.length} scheduled tasks, but the code now schedules only ${idActions.length}`;
    return undefined;
  }

  private finish(state: InstanceState, status: RuntimeStatus, error?: string): void {
    state.runtimeStatus = status;
    state.lastUpdatedTime = new Date(this.clock.now()).toISOString();
    if (error !== undefined) state.output = error;
    state.pendingActivities = [];
    state.pendingTimers = [];
    state.inbox = [];
    this.store.put(state);
    this.inboxes.delete(state.instanceId);
    if (status !== 'Completed') this.log(`orchestration ${state.name} ${state.instanceId} ${status}: ${error ?? ''}`);
    if (state.parentInstanceId !== undefined && state.parentTaskId !== undefined)
      this.deliverChildResult(state.parentInstanceId, state.parentTaskId, state);
    for (const resolve of this.waiters.get(state.instanceId) ?? []) resolve();
    this.waiters.delete(state.instanceId);
  }

  private deliverChildResult(parentId: string, taskId: number, child: InstanceState): void {
    const parent = this.store.get(parentId);
    if (!parent || !isRunning(parent.runtimeStatus)) return;
    if (!parent.pendingChildren.some((c) => c.taskId === taskId)) return;
    if (
      parent.inbox.some(
        (e) =>
          e['TaskScheduledId'] === taskId &&
          (e.EventType === EventType.SubOrchestrationInstanceCompleted ||
            e.EventType === EventType.SubOrchestrationInstanceFailed),
      )
    )
      return;
    const ts = new Date(this.clock.now()).toISOString();
    parent.inbox.push(
      child.runtimeStatus === 'Completed'
        ? {
            EventType: EventType.SubOrchestrationInstanceCompleted,
            EventId: -1,
            IsPlayed: false,
            Timestamp: ts,
            TaskScheduledId: taskId,
            Result: JSON.stringify(child.output ?? null),
          }
        : // A failed child's reason reaches the parent as DTFx passes it: the child's own failure message.
          {
            EventType: EventType.SubOrchestrationInstanceFailed,
            EventId: -1,
            IsPlayed: false,
            Timestamp: ts,
            TaskScheduledId: taskId,
            Reason:
              child.runtimeStatus === 'Failed'
                ? String(child.output)
                : `sub-orchestration ${child.instanceId} ${child.runtimeStatus}: ${String(child.output)}`,
            Details: '',
          },
    );
    this.store.put(parent);
    this.markDirty(parentId);
  }

  private enqueueActivity(instanceId: string, execution: number, taskId: number, name: string, input: unknown): void {
    this.activityQueue.push({ instanceId, execution, taskId, name, input });
  }

  private pumpActivities(): void {
    while (!this.stopped && this.runningActivities < this.maxActivities && this.activityQueue.length > 0) {
      const job = this.activityQueue.shift()!;
      this.runningActivities++;
      void this.runActivity(job).finally(() => {
        this.runningActivities--;
        this.pumpActivities();
      });
    }
  }

  private async runActivity(job: {
    instanceId: string;
    execution: number;
    taskId: number;
    name: string;
    input: unknown;
  }): Promise<void> {
    const registration = this.registry.get(job.name);
    const ts = () => new Date(this.clock.now()).toISOString();
    let event: HistoryEvent;
    if (!registration || registration.trigger.type !== 'activityTrigger') {
      event = {
        EventType: EventType.TaskFailed,
        EventId: -1,
        IsPlayed: false,
        Timestamp: ts(),
        TaskScheduledId: job.taskId,
        Reason: `no activity named ${job.name}`,
        Details: '',
      };
    } else {
      const extraInputs = Object.values(registration.bindings)
        .filter((b) => b.direction === 'in' && b !== registration.trigger)
        .map((b) => ({ ...b }));
      const context = new InvocationContext({
        invocationId: `${job.instanceId}:${job.taskId}`,
        functionName: job.name,
        options: { trigger: { ...registration.trigger }, extraInputs, extraOutputs: [] },
        logHandler: (level, ...args) => {
          if (level === 'error' || level === 'warning') this.log(`${job.name}: ${args.map(String).join(' ')}`);
        },
      });
      for (const b of extraInputs)
        if ((b.type === 'durableClient' || b.type === 'orchestrationClient') && this.clientData)
          context.extraInputs.set(b.name, this.clientData());
      this.counts.activity++;
      try {
        const output = await this.withinFunctionTimeout(
          job.name,
          Promise.resolve(registration.handler(job.input, context)),
        );
        event = {
          EventType: EventType.TaskCompleted,
          EventId: -1,
          IsPlayed: false,
          Timestamp: ts(),
          TaskScheduledId: job.taskId,
          Result: JSON.stringify(output ?? null),
        };
        this.notePayload(
          'activityResult',
          job.name,
          event['Result'] as string,
          job.instanceId,
          EventType.TaskCompleted,
        );
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        // The extension's wording (TaskActivityShim): the orchestrator sees "Activity function '<name>' failed: <message>".
        // The message of an error the Node function threw is what the extension's OutOfProcExceptionHelpers takes from
        // the host's RpcException text ("Result: Failure\nException: <message>\nStack: …"): everything between
        // "\nException:" and "\nStack:", the space after the colon included, so the reason reads "failed:  <message>"
        // (two spaces; seen on the real extension in test/conformance/function-timeout.test.ts). A timeout is the
        // host's own exception and keeps its message as it is.
        const message = err instanceof FunctionTimeoutError ? err.message : ` ${err.message}`;
        event = {
          EventType: EventType.TaskFailed,
          EventId: -1,
          IsPlayed: false,
          Timestamp: ts(),
          TaskScheduledId: job.taskId,
          Reason: `Activity function '${job.name}' failed: ${message}`,
          Details: err.stack ?? '',
        };
      }
    }
    if (!this.stopped) this.pushEvent(job.instanceId, event, job.execution);
  }

  /**
   * The activity's result, or its failure once functionTimeout has passed. Counted on the wall clock, not the host's
   * (which may skip ahead or run faster than real time: an activity's own waits follow that clock, and a limit on it
   * would end activities that took seconds of real time). In Azure the Functions host then restarts the worker that
   * ran it, which ends the invocation; here it cannot be stopped, so it runs on and its result is dropped.
   */
  private withinFunctionTimeout<T>(name: string, work: Promise<T>): Promise<T> {
    const limit = this.functionTimeoutMs;
    if (limit === undefined) return work;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.log(
          `Timeout value of ${timeSpanText(limit)} exceeded by function 'Functions.${name}'. The worker is not restarted here: the invocation runs on, its result dropped.`,
        );
        reject(new FunctionTimeoutError(functionTimeoutMessage(limit, name)));
      }, limit);
      work.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}

/** WebJobs' FunctionTimeoutException, as the local engine raises it (its message is the host's, not the worker's). */
class FunctionTimeoutError extends Error {}

/**
 * How far the extension's out-of-process shim gets with an episode's actions (OutOfProcOrchestrationShim.
 * ProcessAsyncActionsV2 in Azure/azure-functions-durable-extension): it replays the history and starts the SDK's
 * top-level actions in order, each only once the one before has ended; an activity, timer or sub-orchestration ends
 * with its answer (a failure too), a cancelled timer at once, a retried call when its retries are over, a long timer
 * when its last segment fires, an event wait when an event of its name reaches it (the latest open wait of a name
 * takes the next event, DurableOrchestrationContext's stack; an event nobody waits for yet is kept for the next
 * wait), Task.all when all its tasks have, Task.any when one has. Returns how many id-taking actions it has started
 * (the engine schedules no more) and whether every action has ended (only then does the instance complete, fail or
 * continue as new there). Where it is coarser than the shim (docs/conformance.md, "The local engine as strict as the
 * extension"): a retried call counts as ended from the instance's state after the episode, not at its place in the
 * replay; a task yielded twice is one action here, where the shim starts its action again.
 */
export function shimProgress(
  state: InstanceState,
  groups: SdkAction[][],
  idActions: SdkAction[],
): { startedIdActions: number; allEnded: boolean } {
  const top = groups.flat();
  const indexOf = new Map(idActions.map((a, i) => [a, i]));
  const answered = new Set<number>();
  const waits = new Map<SdkAction, { done: boolean }>();
  const open = new Map<string, { done: boolean }[]>();
  const kept = new Map<string, number>();
  let started = 0;
  let startedIds = 0;
  let cursor = 0;
  const start = (a: SdkAction): void => {
    if (a.actionType === ActionType.WhenAll || a.actionType === ActionType.WhenAny) {
      (a.compoundActions ?? []).forEach(start);
      return;
    }
    const i = indexOf.get(a);
    if (i !== undefined) startedIds = Math.max(startedIds, i + 1);
    if (a.actionType !== ActionType.WaitForExternalEvent || waits.has(a)) return;
    const wait = { done: false };
    waits.set(a, wait);
    const name = a.externalEventName ?? '';
    const early = kept.get(name) ?? 0;
    if (early > 0) {
      kept.set(name, early - 1);
      wait.done = true;
    } else open.set(name, [...(open.get(name) ?? []), wait]);
  };
  const done = (a: SdkAction): boolean => {
    switch (a.actionType) {
      case ActionType.WhenAll:
        return (a.compoundActions ?? []).every(done);
      case ActionType.WhenAny:
        return (a.compoundActions ?? []).some(done);
      case ActionType.WaitForExternalEvent:
        return waits.get(a)?.done ?? false;
      case ActionType.ContinueAsNew:
        return true;
      default: {
        if (a.actionType === ActionType.CreateTimer && a.isCanceled) return true;
        const i = indexOf.get(a);
        if (i === undefined || i >= state.actionIds.length) return false;
        const long = state.longTimers?.[String(i)];
        if (long) return long.done;
        if (a.actionType === ActionType.CallActivityWithRetry && a.retryOptions) return !(String(i) in state.retries);
        return answered.has(state.actionIds[i]!);
      }
    }
  };
  const advance = (): void => {
    while (cursor < top.length) {
      if (started === cursor) {
        start(top[cursor]!);
        started++;
      }
      if (!done(top[cursor]!)) return;
      cursor++;
    }
  };
  for (const e of state.history) {
    switch (e.EventType) {
      case EventType.ExecutionStarted:
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed:
        answered.add(e['TaskScheduledId'] as number);
        break;
      case EventType.TimerFired:
        answered.add(e['TimerId'] as number);
        break;
      case EventType.EventRaised: {
        const name = String(e['Name']);
        const waiting = open.get(name);
        const wait = waiting?.pop();
        if (wait) wait.done = true;
        else kept.set(name, (kept.get(name) ?? 0) + 1);
        break;
      }
      default:
        continue;
    }
    advance();
  }
  advance();
  return { startedIdActions: startedIds, allEnded: cursor >= top.length };
}

function serialiseInput(input: unknown): string {
  return typeof input === 'string' ? input : JSON.stringify(input ?? null);
}

export function isRunning(status: RuntimeStatus): boolean {
  return status === 'Pending' || status === 'Running';
}
