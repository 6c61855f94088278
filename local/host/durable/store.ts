// Durable state of the local host: one JSON file per orchestration instance, replaced atomically (write to a
// temporary file, fsync, rename) so that a process killed at any moment leaves either the old or the new state.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';

export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [key: string]: unknown;
}

export interface RetryState {
  name: string;
  input: unknown;
  options: {
    firstRetryIntervalInMilliseconds: number;
    maxNumberOfAttempts: number;
    backoffCoefficient?: number;
    maxRetryIntervalInMilliseconds?: number;
  };
  /** Failed attempts so far. */
  failures: number;
  currentTaskId: number;
  timerId?: number | undefined;
}

export interface InstanceState {
  instanceId: string;
  name: string;
  input: unknown;
  parentInstanceId?: string;
  parentTaskId?: number;
  runtimeStatus: RuntimeStatus;
  createdTime: string;
  lastUpdatedTime: string;
  customStatus: unknown;
  output: unknown;
  /** Increases at each continueAsNew. */
  execution: number;
  history: HistoryEvent[];
  /** Events accepted but not yet given to an episode (external events, sub-orchestration results, the start). */
  inbox: HistoryEvent[];
  nextTaskId: number;
  /** What each id-taking action was, in order, to detect non-deterministic code. */
  scheduled: string[];
  actionIds: number[];
  pendingActivities: { taskId: number; name: string; input: unknown }[];
  pendingTimers: { taskId: number; fireAt: number; retryKey?: string; longKey?: string; delivered?: boolean }[];
  pendingChildren: { taskId: number; instanceId: string; name: string; input: unknown }[];
  retries: Record<string, RetryState>;
  /**
   * Timers further ahead than the Azure Storage provider's longest single timer, by the index of their action: waited
   * for in segments (engine.ts, LONG_TIMER_INTERVAL_MS), the current one `currentTaskId`. Absent in older state files.
   */
  longTimers?: Record<string, LongTimerState>;
}

export interface LongTimerState {
  /** When the orchestrator asked it to fire. */
  fireAt: number;
  /** The id of the segment now pending (or the last one). */
  currentTaskId: number;
  /** Its last segment fired (or it was cancelled). */
  done: boolean;
}

export class InstanceStore {
  private readonly cache = new Map<string, InstanceState>();
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'instances');
    mkdirSync(this.dir, { recursive: true });
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.json')) continue;
      const state = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as InstanceState;
      for (const t of state.pendingTimers) delete t.delivered;
      this.cache.set(state.instanceId, state);
    }
  }

  private file(instanceId: string): string {
    const safe = instanceId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
    return join(this.dir, `${safe}-${createHash('sha1').update(instanceId).digest('hex').slice(0, 10)}.json`);
  }

  get(instanceId: string): InstanceState | undefined {
    return this.cache.get(instanceId);
  }

  all(): InstanceState[] {
    return [...this.cache.values()];
  }

  put(state: InstanceState): void {
    this.cache.set(state.instanceId, state);
    const target = this.file(state.instanceId);
    const tmp = `${target}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(
        fd,
        JSON.stringify(state, (k, v: unknown) => (k === 'delivered' ? undefined : v)),
      );
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  }

  delete(instanceId: string): boolean {
    const existed = this.cache.delete(instanceId);
    const f = this.file(instanceId);
    if (existsSync(f)) rmSync(f);
    return existed;
  }
}
