// The probe scenarios of test/support/durable-probes.ts, driven through the durable HTTP API of a stack (the same
// endpoints the JS durable client calls), the same way on both engines, so that a conformance test can compare what
// each engine did.
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BlobServiceClient } from '@azure/storage-blob';
import { buildSync } from 'esbuild';
import type { Stack } from '../../local/stack';
import { bulky, PROBE, RACE_EVENT, RELEASE_EVENT, WAKE_EVENT } from './durable-probes';

/**
 * Compiles durable-probes.ts for a host (esbuild, its packages left to the repository's node_modules) and returns the
 * path to give the host in DIALTONE_EXTRA_FUNCTIONS. It goes to node_modules/.cache, where the app's packages resolve
 * and which no deployment package holds (the package takes dist/).
 */
export function probeModule(): string {
  const outfile = join(__dirname, '..', '..', 'node_modules', '.cache', 'dialtone-probes', 'durable-probes.js');
  buildSync({
    stdin: { contents: "require('./durable-probes').registerProbes();", resolveDir: __dirname, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

export interface ProbeStatus {
  readonly runtimeStatus: string;
  readonly output?: unknown;
  readonly historyEvents?: { EventType: string | number; Name?: string; FunctionName?: string; FireAt?: string }[];
}

async function api(stack: Stack, method: string, path: string, body?: unknown): Promise<Response> {
  const base = `${stack.host.url}/runtime/webhooks/durabletask`;
  return fetch(`${base}/${path}${path.includes('?') ? '&' : '?'}code=${encodeURIComponent(stack.host.functionKey)}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
}

export async function startProbe(stack: Stack, name: string, id: string, input: unknown): Promise<void> {
  const r = await api(stack, 'POST', `orchestrators/${name}/${encodeURIComponent(id)}`, input);
  if (r.status !== 202) throw new Error(`startNew ${name} ${id} answered ${r.status}: ${await r.text()}`);
}

export async function raise(stack: Stack, id: string, event: string, data: unknown): Promise<number> {
  return (await api(stack, 'POST', `instances/${encodeURIComponent(id)}/raiseEvent/${event}`, data)).status;
}

export async function probeStatus(stack: Stack, id: string): Promise<ProbeStatus> {
  const r = await api(stack, 'GET', `instances/${encodeURIComponent(id)}?showHistory=true&showHistoryOutput=true`);
  if (r.status !== 200 && r.status !== 202) throw new Error(`status of ${id} answered ${r.status}`);
  return (await r.json()) as ProbeStatus;
}

const ended = (s: ProbeStatus) => s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending';

export async function waitUntil(
  stack: Stack,
  id: string,
  what: string,
  ok: (s: ProbeStatus) => boolean,
  timeoutMs = 60_000,
): Promise<ProbeStatus> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await probeStatus(stack, id).catch(() => undefined);
    if (s && ok(s)) return s;
    if (Date.now() > end) throw new Error(`${id}: ${what} did not happen in ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const isEvent = (e: { EventType: string | number }, name: string, code: number) =>
  e.EventType === name || e.EventType === code;

export interface UnfinishedOutcome {
  /** The status a few seconds after the failure was recorded, with the event not yet raised. */
  readonly statusBeforeEvent: string;
  /** What raiseEvent answered then. */
  readonly raised: number;
  readonly final: string;
  readonly output: unknown;
}

/** Settle time after the failing activity's answer: several queue polls (MaxQueuePollingInterval 1 s) and episodes. */
const SETTLE_MS = 4_000;

export async function runUnfinished(stack: Stack, id = 'probe-unfinished-1'): Promise<UnfinishedOutcome> {
  await startProbe(stack, PROBE.unfinished, id, null);
  await waitUntil(stack, id, 'the failing activity to be recorded', (s) =>
    (s.historyEvents ?? []).some((e) => isEvent(e, 'TaskFailed', 6)),
  );
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const before = await probeStatus(stack, id);
  const raised = await raise(stack, id, RELEASE_EVENT, 'go');
  const after = await settled(stack, id);
  return { statusBeforeEvent: before.runtimeStatus, raised, final: after.runtimeStatus, output: after.output };
}

export interface LongTimerOutcome {
  /** What raiseEvent answered each time. */
  readonly raised: number[];
  readonly final: string;
  readonly output: unknown;
  /** The first timer's fire time, as days after the instance started (rounded to a tenth). */
  readonly firstTimerDays: number | undefined;
}

export async function runLongTimer(stack: Stack, days: number, id: string): Promise<LongTimerOutcome> {
  const started = Date.now();
  await startProbe(stack, PROBE.longTimer, id, days);
  const timers = (s: ProbeStatus) =>
    (s.historyEvents ?? []).filter((e) => isEvent(e, 'TimerCreated', 10) || isEvent(e, 'TimerFired', 11));
  const echoes = (s: ProbeStatus) =>
    (s.historyEvents ?? []).filter(
      (e) =>
        (isEvent(e, 'TaskCompleted', 5) || isEvent(e, 'TaskScheduled', 4)) && (e.FunctionName ?? e.Name) === PROBE.echo,
    ).length;
  const first = await waitUntil(stack, id, 'the first timer', (s) => timers(s).length > 0);
  const fireAt = timers(first)[0]!.FireAt;
  const raised: number[] = [];
  for (let round = 0; round < 2; round++) {
    // the episode that created the timer and the event wait is recorded: an event now finds it waiting
    await new Promise((r) => setTimeout(r, 1_500));
    raised.push(await raise(stack, id, WAKE_EVENT, `wake-${round}`));
    if (round === 0) await waitUntil(stack, id, 'the first echo', (s) => echoes(s) > 0 || ended(s)).catch(() => {});
  }
  const after = await settled(stack, id);
  return {
    raised,
    final: after.runtimeStatus,
    output: after.output,
    firstTimerDays: fireAt ? Math.round((Date.parse(fireAt) - started) / 8_640_000) / 10 : undefined,
  };
}

export interface EventsOutcome {
  readonly statuses: number[];
  readonly final: string;
  readonly output: unknown;
}

/** `n` events raised at once (Promise.all), right after the start, then `n` more at once while it waits. */
export async function runRacingEvents(stack: Stack, n: number, id = 'probe-events-1'): Promise<EventsOutcome> {
  await startProbe(stack, PROBE.events, id, 2 * n);
  const first = await Promise.all(Array.from({ length: n }, (_, i) => raise(stack, id, RACE_EVENT, `a${i}`)));
  await waitUntil(stack, id, 'the instance to run', (s) => s.runtimeStatus === 'Running');
  const second = await Promise.all(Array.from({ length: n }, (_, i) => raise(stack, id, RACE_EVENT, `b${i}`)));
  const after = await settled(stack, id);
  return { statuses: [...first, ...second], final: after.runtimeStatus, output: after.output };
}

export interface LargeOutcome {
  readonly final: string;
  readonly output: { input: number; result: number; echo: string } | undefined;
  /** Blobs of `<taskhub>-largemessages`, their random parts replaced by <id> and <r>. */
  readonly blobs: string[];
  /** The contents of the history blobs (gunzipped), by their names as in `blobs`. */
  readonly history: Record<string, string>;
}

/** A large-message blob's name without its random parts (a message's id, a history blob's 8 hex digits). */
export const blobShape = (name: string) => name.replace(/-[0-9a-f]{32}-/, '-<id>-').replace(/-[0-9A-F]{8}-/, '-<r>-');

export async function runLarge(
  stack: Stack,
  taskHub: string,
  size: number,
  id = 'probe-large-1',
): Promise<LargeOutcome> {
  await startProbe(stack, PROBE.large, id, bulky(size, 3));
  const after = await waitUntil(stack, id, 'the instance to end', ended);
  const container = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
    `${taskHub}-largemessages`,
  );
  // The local engine writes its blobs beside its episodes, not before the instance's status changes: wait until the
  // listing stands still for a second.
  const names = async () => {
    const out: string[] = [];
    if (await container.exists()) for await (const b of container.listBlobsFlat({ prefix: `${id}/` })) out.push(b.name);
    return out.sort().join('\n');
  };
  for (let i = 0, last = await names(); i < 10; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await names();
    if (now === last) break;
    last = now;
  }
  const blobs: string[] = [];
  const history: Record<string, string> = {};
  if (await container.exists())
    for await (const b of container.listBlobsFlat({ prefix: `${id}/` })) {
      blobs.push(blobShape(b.name));
      if (b.name.includes('/history-'))
        history[blobShape(b.name)] = gunzipSync(await container.getBlobClient(b.name).downloadToBuffer()).toString();
    }
  return { final: after.runtimeStatus, output: after.output as LargeOutcome['output'], blobs: blobs.sort(), history };
}

/**
 * The instance's status once it has ended, or as it is after 30 s (a probe that goes wrong is reported by its own
 * check, not by a time-out that would fail the whole file).
 */
function settled(stack: Stack, id: string): Promise<ProbeStatus> {
  return waitUntil(stack, id, 'the instance to end', ended, 30_000).catch(() => probeStatus(stack, id));
}
