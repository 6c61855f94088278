// What every conformance scenario checks besides its reports, so that a comparison of the two engines cannot pass
// while proving nothing: which engine ran (the real extension's .NET process and the bridge's invocations, or the
// local engine's own runs and no bridge), how every instance of the task hub ended, and that the extension's log
// holds no error and none of the lines that mark an episode gone wrong (split brain, aborted functions, messages
// out of order). See local/extension-host/README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostProcess, Stack } from '../../local/stack';

export type Engine = 'local' | 'extension';

interface HostStatus {
  readonly engine?: string;
  readonly extensionPid?: number;
  /** The bridge's invocations (real-extension host only). */
  readonly invocations?: { orchestration: number; activity: number };
  /** The local engine's own runs (local host only). */
  readonly engineRuns?: { orchestration: number; activity: number };
}

export async function hostStatus(h: HostProcess): Promise<HostStatus> {
  const r = await fetch(`${h.url}/admin/host/status`);
  if (r.status !== 200) throw new Error(`/admin/host/status answered ${r.status}`);
  return (await r.json()) as HostStatus;
}

/** The command line of a live process, or undefined when there is none with that id. */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/**
 * Which engine ran the stack's work, from each host process of the stack (the first one and any added workers):
 * - extension: the host says so, its .NET process is alive and runs DialtoneExtensionHost.dll, and the bridge ran
 *   orchestrator episodes and activities (over all the stack's processes, each of them having run some activity when
 *   `everyWorkerActive`);
 * - local: the host says so, there is no .NET process and no bridge, and the local engine ran episodes and activities.
 * Returns the totals, for the log.
 */
export async function expectEngineRan(
  stack: Stack,
  engine: Engine,
  options: { everyWorkerActive?: boolean } = {},
): Promise<{ orchestration: number; activity: number }> {
  const total = { orchestration: 0, activity: 0 };
  for (const h of [stack.host, ...stack.workers]) {
    const s = await hostStatus(h);
    expect(s.engine).toBe(engine);
    if (engine === 'extension') {
      expect(s.engineRuns).toBeUndefined();
      expect(typeof s.extensionPid).toBe('number');
      expect(s.extensionPid).toBe(h.extensionPid);
      expect(commandLine(s.extensionPid!)).toMatch(/dotnet .*DialtoneExtensionHost\.dll/);
      expect(s.invocations).toBeDefined();
      if (options.everyWorkerActive) expect(s.invocations!.activity).toBeGreaterThan(0);
      total.orchestration += s.invocations!.orchestration;
      total.activity += s.invocations!.activity;
    } else {
      expect(h.extensionPid).toBeUndefined();
      expect(s.extensionPid).toBeUndefined();
      expect(s.invocations).toBeUndefined();
      expect(s.engineRuns).toBeDefined();
      total.orchestration += s.engineRuns!.orchestration;
      total.activity += s.engineRuns!.activity;
    }
  }
  expect(total.orchestration).toBeGreaterThan(0);
  expect(total.activity).toBeGreaterThan(0);
  return total;
}

export interface InstanceSummary {
  readonly instanceId: string;
  readonly name: string;
  readonly runtimeStatus: string;
  readonly output?: unknown;
}

/** Every instance of the stack's task hub, through the durable HTTP API (following its continuation token). */
export async function listInstances(stack: Stack): Promise<InstanceSummary[]> {
  const out: InstanceSummary[] = [];
  let token: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const r = await fetch(
      `${stack.host.url}/runtime/webhooks/durabletask/instances?code=${encodeURIComponent(stack.host.functionKey)}`,
      token ? { headers: { 'x-ms-continuation-token': token } } : {},
    );
    if (r.status !== 200) throw new Error(`listing the task hub's instances answered ${r.status}: ${await r.text()}`);
    out.push(...((await r.json()) as InstanceSummary[]));
    token = r.headers.get('x-ms-continuation-token');
    if (!token || token === 'null') return out;
  }
  throw new Error('listing the task hub did not end after 1,000 pages');
}

const running = (s: string) => s === 'Running' || s === 'Pending';

/**
 * Waits (up to `timeoutMs`) until no instance runs but those `stillRunning` names, then expects every instance to be
 * Completed, except those `failedOnPurpose` picks (the probes a scenario fails on purpose: they must be Failed, and
 * there must be `failedCount` of them) and those still running, which must be exactly `stillRunning`. Returns the
 * instances, for the log.
 */
export async function expectTaskHubEnded(
  stack: Stack,
  timeoutMs: number,
  opts: {
    failedOnPurpose?: (instanceId: string) => boolean;
    failedCount?: number;
    stillRunning?: readonly string[];
  } = {},
): Promise<InstanceSummary[]> {
  const allowed = new Set(opts.stillRunning ?? []);
  const end = Date.now() + timeoutMs;
  let all = await listInstances(stack);
  while (all.some((i) => running(i.runtimeStatus) && !allowed.has(i.instanceId)) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    all = await listInstances(stack);
  }
  const want = (id: string) => (allowed.has(id) ? 'Running' : opts.failedOnPurpose?.(id) ? 'Failed' : 'Completed');
  const wrong = all.filter((i) => i.runtimeStatus !== want(i.instanceId));
  const missing = [...allowed].filter((id) => !all.some((i) => i.instanceId === id));
  if (wrong.length > 0 || missing.length > 0) {
    const detail = wrong
      .map(
        (i) =>
          `${JSON.stringify(i.instanceId)} ${i.name} ${i.runtimeStatus}, expected ${want(i.instanceId)}: ${String(typeof i.output === 'string' ? i.output : JSON.stringify(i.output)).split('\n')[0]}`,
      )
      .slice(0, 20)
      .join('\n  ');
    throw new Error(
      `instances of the task hub that did not end as expected (of ${all.length}):\n  ${detail}${missing.length ? `\nmissing: ${missing.join(', ')}` : ''}`,
    );
  }
  if (opts.failedCount !== undefined)
    expect(all.filter((i) => opts.failedOnPurpose?.(i.instanceId)).length).toBe(opts.failedCount);
  expect(all.filter((i) => i.runtimeStatus === 'Completed').length).toBeGreaterThan(0);
  return all;
}

/**
 * Lines of a host's log that say the extension went wrong: anything it logged at Error or Critical level, and, at any
 * level, a split brain, an aborted function or a message out of order. The Node side's "bridge:" lines (an invocation
 * the bridge could not answer) and the local engine's "episode ... failed in the host" count too. Nothing is filtered
 * away: a scenario that fails an orchestration on purpose names it (HostLog.expectClean), and only the lines of that
 * failure are accepted.
 */
export const EXTENSION_TROUBLE =
  /^\[extension-host\] (?:Error|Critical) |split.?brain|FunctionAborted|out of order|^bridge: |^episode for .* failed in the host/i;

/** WebJobs' "Executed '…' (Failed" line for a function (named by its name, or its short name Functions.<name>). */
function executedFailed(l: string, name: string): boolean {
  return (
    l.startsWith(`[extension-host] Error Function.${name}: Executed '${name}' (Failed`) ||
    l.startsWith(`[extension-host] Error Function.${name}: Executed 'Functions.${name}' (Failed`)
  );
}

/** Which of the lines the extension logs for an activity's failure in an instance this is, if it is one. */
function failedActivityLine(
  l: string,
  activity: string,
  instanceId: string,
): 'executed' | 'user' | 'results' | undefined {
  if (executedFailed(l, activity)) return 'executed';
  if (
    l.startsWith(
      `[extension-host] Error Function.${activity}.User: ${instanceId}: Function '${activity} (Activity)' failed with an error.`,
    )
  )
    return 'user';
  if (
    /^\[extension-host\] Error Host\.Results: +\(FunctionInvocationException: Exception while executing function: (?:Functions\.)?/.test(
      l,
    ) &&
    l.endsWith(`${activity})`)
  )
    return 'results';
  return undefined;
}

/** The lines the extension logs for an activity that exceeded functionTimeout (and nothing else of it). */
function timeoutLine(l: string, activity: string): boolean {
  const shortName = `(?:Functions\\.)?${activity.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  return (
    new RegExp(
      `^\\[extension-host\\] Error Function\\.${shortName}: Timeout value of \\S+ exceeded by function '${shortName}'`,
    ).test(l) ||
    executedFailed(l, activity) ||
    new RegExp(
      `^\\[extension-host\\] Error Function\\.${shortName}\\.User: .*Function '${shortName} \\(Activity\\)' failed with an error\\. Reason: Microsoft\\.Azure\\.WebJobs\\.Host\\.FunctionTimeoutException$`,
    ).test(l) ||
    new RegExp(
      `^\\[extension-host\\] Error Host\\.Results: +\\(FunctionTimeoutException: Timeout value of \\S+ was exceeded by function: ${shortName}\\)$`,
    ).test(l)
  );
}

/** An activity a scenario makes fail on purpose `times` times in one instance. */
export interface FailedActivity {
  readonly name: string;
  readonly instanceId: string;
  readonly times: number;
}

/**
 * Where partition leases move between workers on purpose in a scenario (a worker killed and restarted, a second worker
 * taking partitions as it starts): from which line of the log on (`from`, the log's length at that moment), and the
 * most tasks one orchestrator episode of the scenario schedules at once (`episodeWidth`: a chunk's group of
 * assignments is the app's assign parallelism; a batch starts all its chunks in one episode).
 */
export interface LeaseMove {
  readonly from: number;
  readonly episodeWidth: number;
}

/**
 * The Azure Storage provider's warning of a message that answers a task the instance's history does not record yet
 * (ReceivedOutOfOrderMessage): a worker sent an episode's messages and was gone before it wrote that episode's history
 * (the provider sends first, then writes: AzureStorageOrchestrationService.CompleteTaskOrchestrationWorkItemAsync in
 * Azure/durabletask), and the answers reached the worker that took the partition over. Its source
 * (OrchestrationSession.IsOutOfOrderMessage, and the comment where it logs this) handles it: the message goes back to
 * the control queue with a visibility delay that doubles from 2 s (TaskHubQueue.AbandonMessageAsync) until the episode
 * has been replayed from its own message and its history written; that message is visible again after the control
 * queue's visibility timeout at the latest (5 minutes by default: ControlQueueVisibilityTimeout). So after a lease move
 * one killed worker can leave this warning for at most the episodes it ran at once (host.json
 * maxConcurrentOrchestratorFunctions), each for at most the tasks it scheduled, each returned at most
 * OUT_OF_ORDER_RETURNS times (2 + 4 + … + 256 s = 510 s is past those 5 minutes). Groups 1-3: instance, message.
 */
const OUT_OF_ORDER =
  /^\[extension-host\] Warning DurableTask\.AzureStorage: (\S+): Message \[(\w+#\d+)\] was received out of order and will be temporarily returned back to \S+$/;
const OUT_OF_ORDER_RETURNS = 8;

/**
 * The provider's warning that an episode's results were discarded because another worker wrote the instance's history
 * first (the history's ETag check in its table tracking store): one per episode that was in flight as its partition
 * moved, which the new owner replays. At most that many (maxConcurrentOrchestratorFunctions) after a lease move; the
 * same split brain repeated, as when two workers shared a name and owned the same partitions the whole run, fails.
 */
const SPLIT_BRAIN =
  /^\[extension-host\] Warning DurableTask\.AzureStorage: \S+: Split brain detected: Another worker already updated the history for this instance - the \d+ history event result\(s\) will be discarded$/;

/** The orchestrator episodes one worker runs at once: host.json's extensions.durableTask.maxConcurrentOrchestratorFunctions. */
export function episodesAtOnce(): number {
  const hostJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'host.json'), 'utf8')) as {
    extensions?: { durableTask?: { maxConcurrentOrchestratorFunctions?: number } };
  };
  const n = hostJson.extensions?.durableTask?.maxConcurrentOrchestratorFunctions;
  if (typeof n !== 'number' || !(n > 0)) throw new Error('host.json sets no maxConcurrentOrchestratorFunctions');
  return n;
}

/**
 * Of a log's lines, those the provider's lease-move warnings explain (see OUT_OF_ORDER and SPLIT_BRAIN): only lines at
 * or after `move.from`; out-of-order lines of at most episodesAtOnce() instances, at most `move.episodeWidth` messages
 * each, each message at most OUT_OF_ORDER_RETURNS times; at most episodesAtOnce() split brains. The first lines within
 * those bounds are accepted, in order; the rest are not.
 */
function leaseMoveLines(lines: readonly string[], move: LeaseMove): Set<number> {
  const episodes = episodesAtOnce();
  const returns = new Map<string, number>();
  const messages = new Map<string, Set<string>>();
  let splitBrains = 0;
  const ok = new Set<number>();
  for (let i = move.from; i < lines.length; i++) {
    const l = lines[i]!;
    const o = OUT_OF_ORDER.exec(l);
    if (o) {
      const [, instance, message] = o as unknown as [string, string, string];
      const mine = messages.get(instance) ?? new Set<string>();
      if (!messages.has(instance) && messages.size >= episodes) continue;
      if (!mine.has(message) && mine.size >= move.episodeWidth) continue;
      const key = `${instance}\u0000${message}`;
      if ((returns.get(key) ?? 0) >= OUT_OF_ORDER_RETURNS) continue;
      mine.add(message);
      messages.set(instance, mine);
      returns.set(key, (returns.get(key) ?? 0) + 1);
      ok.add(i);
    } else if (SPLIT_BRAIN.test(l) && splitBrains < episodes) {
      splitBrains++;
      ok.add(i);
    }
  }
  return ok;
}

/**
 * A listener that failed to start and was started again (WebJobs' FunctionListener in partial host startup, as the
 * Functions host runs it: local/extension-host/Program.cs): its Error line is accepted when the log later says that the
 * same function's listener started. A listener that never starts is not, and leaves its instances unprocessed.
 */
const LISTENER_FAILED =
  /^\[extension-host\] Error Host\.Startup: The listener for function '([^']+)' was unable to start\./;
const LISTENER_STARTED =
  /^\[extension-host\] Information Host\.Startup: Listener successfully started for function '([^']+)' after \d+ retries\.$/;

function recoveredListenerLines(lines: readonly string[]): Set<number> {
  const ok = new Set<number>();
  lines.forEach((l, i) => {
    const failed = LISTENER_FAILED.exec(l)?.[1];
    if (failed !== undefined && lines.slice(i + 1).some((later) => LISTENER_STARTED.exec(later)?.[1] === failed))
      ok.add(i);
  });
  return ok;
}

/** Collects a stack's host log (StackOptions.onHostLog) and names the lines that fail a scenario. */
export class HostLog {
  readonly lines: string[] = [];
  readonly onHostLog = (line: string): void => {
    this.lines.push(line);
  };

  trouble(): string[] {
    return this.lines.filter((l) => EXTENSION_TROUBLE.test(l));
  }

  /**
   * Fails with the troubling lines (at most 30) when there are any, but for an orchestrator the scenario fails on
   * purpose (`failedOrchestrator`: its name): the extension's FunctionFailed line for it, when the instance is not one
   * of the app's own (theirs start with `appInstancePrefix`), and the host's "Executed … (Failed" and Host.Results
   * lines that name the function; and for an activity a scenario makes exceed functionTimeout on purpose
   * (`timedOutActivity`), the lines of its timeout; and for an activity a scenario makes fail on purpose `times` times
   * in one instance (`failedActivity`), the lines of those failures; and, in a scenario where partition leases move
   * between workers on purpose (`leasesMoved`), the provider's warnings of that within their bounds (leaseMoveLines);
   * and, in any scenario, a listener's failed start that a later line shows started (recoveredListenerLines).
   * Returns how many lines were accepted so.
   */
  expectClean(
    failedOrchestrator?: { name: string; appInstancePrefix: string },
    timedOutActivity?: string,
    failedActivity?: FailedActivity | readonly FailedActivity[],
    leasesMoved?: LeaseMove,
  ): number {
    const f = failedOrchestrator;
    const accepted = (l: string) =>
      (f !== undefined &&
        ((l.includes(`Function '${f.name} (Orchestrator)' failed with an error`) && !l.includes(f.appInstancePrefix)) ||
          executedFailed(l, f.name) ||
          (l.startsWith('[extension-host] Error Host.Results: ') && l.endsWith(`executing function: ${f.name})`)))) ||
      (timedOutActivity !== undefined && timeoutLine(l, timedOutActivity));
    const moved = leasesMoved ? leaseMoveLines(this.lines, leasesMoved) : new Set<number>();
    const restarted = recoveredListenerLines(this.lines);
    const troubling = this.lines.map((l, i) => ({ l, i })).filter(({ l }) => EXTENSION_TROUBLE.test(l));
    // An activity failed on purpose (a fault injected) `times` times: for each, WebJobs' "Executed … (Failed" line, the
    // extension's line naming the instance, and Host.Results' line naming the function; no more of them.
    const allowance = new Map<string, number>();
    const failures =
      failedActivity === undefined ? [] : Array.isArray(failedActivity) ? failedActivity : [failedActivity];
    const allowed = (l: string) =>
      failures.some((f: FailedActivity) => {
        const kind = failedActivityLine(l, f.name, f.instanceId);
        if (kind === undefined) return false;
        const key = `${f.name}\u0000${f.instanceId}\u0000${kind}`;
        allowance.set(key, (allowance.get(key) ?? 0) + 1);
        return allowance.get(key)! <= f.times;
      });
    const bad = troubling
      .filter(({ l, i }) => !accepted(l) && !allowed(l) && !moved.has(i) && !restarted.has(i))
      .map(({ l }) => l);
    if (bad.length > 0)
      throw new Error(`the extension host logged ${bad.length} troubling line(s):\n${bad.slice(0, 30).join('\n')}`);
    return troubling.length;
  }
}

const ISO_TIME = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?/g;
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** Keys whose values are times or ids, which differ between engines by nature. */
const TIME_OR_ID_KEY = /(?:At|Time|deadline|^id|Id|runKey|run|etag)$/;

/**
 * A report (or any JSON) with its times and ids taken out: every key that names a time or an id, and every ISO time
 * or GUID inside a string, replaced by a marker, so that two engines' reports can be compared whole.
 */
export function withoutTimesAndIds(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return value;
  if (TIME_OR_ID_KEY.test(key) && (typeof value === 'string' || typeof value === 'number')) return '<time-or-id>';
  if (typeof value === 'string') return value.replace(ISO_TIME, '<time>').replace(GUID, '<guid>');
  if (Array.isArray(value)) return value.map((v) => withoutTimesAndIds(v));
  if (typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, withoutTimesAndIds(v, k)]),
    );
  return value;
}

/** What Graph saw of a stack's run, as the simulator recorded it, by user principal name. */
export interface GraphView {
  /** Requests per user, by kind (kinds with none left out), but for `excludeKinds`. */
  readonly perUser: Record<string, Record<string, number>>;
  /** Writes that changed the tenant, per user and kind. */
  readonly changesPerUser: Record<string, Record<string, number>>;
  readonly writes: number;
  readonly reads: number;
  /** Every request, by kind. */
  readonly byKind: Record<string, number>;
  /** Licences in use at the end, by SKU part number. */
  readonly consumedUnits: Record<string, number>;
}

const WRITE_KINDS = new Set(['patchUser', 'assignLicense', 'assignNumber', 'updateNumber']);

/** The simulator's record of a stack as a GraphView; `excludeKinds` leaves kinds out of perUser (the kinds that follow time). */
export function graphView(stack: Stack, upns: readonly string[], excludeKinds: readonly string[] = []): GraphView {
  const record = stack.sim.record;
  const perUser: Record<string, Record<string, number>> = {};
  const changesPerUser: Record<string, Record<string, number>> = {};
  const byId = new Map<string, string>();
  for (const upn of upns) {
    const user = stack.sim.tenant.findUser(upn);
    if (!user) continue;
    byId.set(user.id, upn);
    const kinds = Object.entries(record.byUser.get(user.id) ?? {}).filter(
      ([k, n]) => (n ?? 0) > 0 && !excludeKinds.includes(k),
    );
    if (kinds.length > 0) perUser[upn] = Object.fromEntries(kinds.sort(([a], [b]) => a.localeCompare(b)));
  }
  for (const w of record.stateChangingWrites) {
    const upn = byId.get(w.userId) ?? `id:${w.userId}`;
    const c = (changesPerUser[upn] ??= {});
    c[w.kind] = (c[w.kind] ?? 0) + 1;
  }
  const byKind = Object.fromEntries(Object.entries(record.byKind).filter(([, n]) => n > 0)) as Record<string, number>;
  const writes = Object.entries(record.byKind).reduce((s, [k, n]) => s + (WRITE_KINDS.has(k) ? n : 0), 0);
  const reads = Object.entries(record.byKind).reduce(
    (s, [k, n]) => s + (!WRITE_KINDS.has(k) && k !== 'batch' ? n : 0),
    0,
  );
  const consumedUnits = Object.fromEntries(
    [...stack.sim.tenant.skus.values()]
      .map((s) => [s.skuPartNumber, s.consumedUnits])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
  return { perUser, changesPerUser, writes, reads, byKind, consumedUnits };
}
