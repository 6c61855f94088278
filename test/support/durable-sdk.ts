// The one place tests reach into durable-functions beyond its public API (its Orchestrator class and GuidManager,
// which it ships without types: test/types/durable-internals.d.ts). The worker calls an orchestrator through the
// handler Orchestrator.listen() returns; the replay tests and the local durable engine's tests call it the same way,
// so an upgrade of the SDK that moves these has one file to mend.
import { InvocationContext } from '@azure/functions';
import { Orchestrator } from 'durable-functions/lib/src/orchestrations/Orchestrator';

export type OrchestratorHandler = (trigger: unknown, context: unknown) => Promise<unknown>;

/** An orchestrator function as the Functions worker calls it with its history. */
export function orchestratorHandler(fn: (...args: never[]) => unknown): OrchestratorHandler {
  return new Orchestrator(fn).listen();
}

/** An action an orchestrator asked for, as the SDK returns it (actionType 0/1 activities, 2/3 sub-orchestrations, 5 timers). */
export interface ReplayedAction {
  actionType: number;
  functionName?: string;
  input?: any;
  instanceId?: string;
  fireAt?: string;
  externalEventName?: string;
  isCanceled?: boolean;
  compoundActions?: ReplayedAction[];
}

export interface ReplayState {
  readonly isDone: boolean;
  readonly output: any;
  readonly actions: ReplayedAction[][];
  readonly customStatus?: any;
  readonly error?: string;
}

/** Replays `history` through the real SDK, as the extension does on each turn; returns the SDK's state. */
export async function replay(
  fn: (...args: never[]) => unknown,
  history: readonly unknown[],
  input: unknown,
  instanceId: string,
): Promise<ReplayState> {
  const trigger = {
    history,
    input,
    instanceId,
    isReplaying: false,
    parentInstanceId: '',
    upperSchemaVersion: 1,
    longRunningTimerIntervalDuration: '3.00:00:00',
    maximumShortTimerDuration: '6.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
  return (await orchestratorHandler(fn)(trigger, new InvocationContext({ logHandler: () => {} }))) as ReplayState;
}

/**
 * The actions of a turn in order, compound ones (Task.all, Task.any) opened. `eachOnce`: a task yielded again inside
 * a new Task.all/any appears again in the compound action; counted once, in the order first scheduled.
 */
export function flatActions(groups: readonly (readonly ReplayedAction[])[], eachOnce = false): ReplayedAction[] {
  const flat: ReplayedAction[] = [];
  const seen = new Set<ReplayedAction>();
  const walk = (a: ReplayedAction): void => {
    if (a.compoundActions) a.compoundActions.forEach(walk);
    else if (!eachOnce || !seen.has(a)) {
      seen.add(a);
      flat.push(a);
    }
  };
  for (const group of groups) for (const a of group) walk(a);
  return flat;
}

/** The deterministic GUID durable-functions makes for context.df.newGuid (replayed from history). */
export function deterministicGuid(name: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { GuidManager } = require('durable-functions/lib/src/util/GuidManager') as {
    GuidManager: { UrlNamespaceValue: string; createDeterministicGuid(ns: string, name: string): string };
  };
  return GuidManager.createDeterministicGuid(GuidManager.UrlNamespaceValue, name);
}
