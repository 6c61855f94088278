// The local host: loads the compiled app through the worker contract, runs its orchestrations on the local durable
// engine, serves its HTTP routes and the durable client endpoints, turns uploads into Event Grid events, and, with
// the skip-ahead clock, jumps to the next durable timer whenever nothing else is running.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { BlobServiceClient } from '@azure/storage-blob';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { Agent, fetch } from 'undici';
import type { registerApp } from '../../app';
import { wallClock, type AppTime } from '../../shared/adapters/app-time';
import { loadConfig } from '../../shared/adapters/config';
import { governedRate, RealClock, SkipAheadClock, type Clock } from '../clock';
import { uploadEventsWatcher } from './blob-watcher';
import { DurableEngine, type LargeMessageStore } from './durable/engine';
import { InstanceStore } from './durable/store';
import { installFunctionsCore, loadExtraFunctions } from './functions-core';
import { HostServer } from './server';

export interface LocalHostOptions {
  readonly stateDir: string;
  /** The compiled composition root (app.js): the host registers the app itself, with its own clock. */
  readonly appPath: string;
  readonly port?: number;
  readonly functionKey?: string;
  /** More keys for the function routes (one per integration, as named host keys are in Azure). */
  readonly extraFunctionKeys?: readonly string[];
  /**
   * Skip ahead to the next timer when idle (simulated time), sharing the offset, and the rate at which simulated time
   * runs while work is in flight, with the Graph simulator (local/clock.ts).
   */
  readonly skipAhead?: boolean;
  /** The Graph simulator's URL, whose /_sim/clock holds the shared time offset. */
  readonly simulatorUrl?: string;
  readonly simulatorCaPem?: string;
  readonly log?: (message: string) => void;
  readonly maxRunningOrchestrations?: number;
  /** The time rate the stack asked for: the governor's ceiling (DIALTONE_LOCAL_TIME_RATE; the simulator's rate when absent). */
  readonly maxRate?: number;
  /** Graph tokens from elsewhere than the settings (a workstation run's `dialtone` process): registerApp's override. */
  readonly graphCredential?: TokenCredential;
}

export interface LocalHost {
  readonly url: string;
  readonly functionKey: string;
  readonly engine: DurableEngine;
  readonly clock: Clock;
  /** A one-time sign-in link for the admin console (the local stand-in for Entra ID sign-in). */
  consoleSignInUrl(): string;
  stop(): Promise<void>;
}

interface Sleeper {
  until: number;
  handle?: NodeJS.Timeout;
  wake(): void;
  arm(): void;
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  mkdirSync(options.stateDir, { recursive: true });
  const registry = installFunctionsCore();
  // The local stand-in for App Service Authentication (easy-auth.ts) sits in front of the app, as the platform does
  // in Azure, where it also sets this variable.
  process.env['WEBSITE_AUTH_ENABLED'] = 'True';

  const agent = options.simulatorCaPem ? new Agent({ connect: { ca: options.simulatorCaPem } }) : undefined;
  let clock: Clock = new RealClock();
  let syncClock = async () => {};
  if (options.skipAhead) {
    let shared = { offsetMs: 0, rate: 1, epoch: Date.now() };
    if (options.simulatorUrl) {
      const r = await fetch(`${options.simulatorUrl}/_sim/clock`, { ...(agent ? { dispatcher: agent } : {}) });
      shared = { ...shared, ...((await r.json()) as Partial<typeof shared>) };
    }
    const skip = new SkipAheadClock(shared.offsetMs, shared.rate, shared.epoch);
    clock = skip;
    // One POST at a time, each with the clock as it is when sent, so the simulator never takes an older state last.
    let syncing: Promise<void> = Promise.resolve();
    syncClock = () => {
      if (!options.simulatorUrl) return Promise.resolve();
      const post = async () => {
        await fetch(`${options.simulatorUrl}/_sim/clock`, {
          method: 'POST',
          body: JSON.stringify(skip.state()),
          ...(agent ? { dispatcher: agent } : {}),
        });
      };
      syncing = syncing.catch(() => {}).then(post);
      return syncing;
    };
  }

  // The app's Graph budgets, write pacing and retry waits count the host's time at its rate, not the wall clock
  // (shared/adapters/app-time.ts): the host registers the app with this time. With the skip-ahead clock, an activity
  // that only waits on the clock (a budget's slot, a retry's back-off) counts as idle: when every running activity
  // waits so, time skips to the earliest wake-up instead of spending it on the wall clock.
  // Each sleep counts as one activity asleep. Limit: sleeps are not attributed to activities (AsyncLocalStorage would,
  // but on Node 20 it turns on promise hooks for the whole process, several times slower on await-heavy code), so an
  // activity whose $batch workers sleep on a retry's back-off while another of its workers waits on Graph can let time
  // skip to that back-off's end early. The app's activities otherwise sleep one at a time (a write's slot, a read
  // slice's slot), and a sleep in an HTTP function skips nothing: the server is busy then.
  // A sleeper's wall-clock timer is armed at the rate of the moment and armed again when the rate changes (the
  // governor below); it wakes only once its simulated time has come.
  const sleepers = new Set<Sleeper>();
  let appTime: AppTime = wallClock;
  if (options.skipAhead) {
    appTime = {
      now: () => clock.now(),
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          const sleeper: Sleeper = {
            until: clock.now() + Math.max(0, ms),
            wake: () => {
              clearTimeout(sleeper.handle);
              sleepers.delete(sleeper);
              resolve();
            },
            arm: () => {
              clearTimeout(sleeper.handle);
              const left = sleeper.until - clock.now();
              if (left <= 0) return sleeper.wake();
              sleeper.handle = setTimeout(() => sleeper.arm(), Math.max(1, left / (clock.rate ?? 1)));
            },
          };
          sleepers.add(sleeper);
          sleeper.arm();
        }),
    };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(options.appPath) as { registerApp: typeof registerApp }).registerApp(
    loadConfig(),
    appTime,
    options.graphCredential ? { graphCredential: options.graphCredential } : {},
  );
  loadExtraFunctions();

  const store = new InstanceStore(options.stateDir);
  // The largest durable message so far, for benchmarks (payload-stats.json beside the instance files; sizes and
  // function names only).
  const onLargestPayload = (bytes: number, what: string) =>
    writeFileSync(
      join(options.stateDir, 'payload-stats.json'),
      JSON.stringify({ maxPayloadBytes: bytes, largest: what }),
    );
  const timeoutMs = functionTimeoutMs(join(dirname(options.appPath), '..', 'host.json'));
  const largeMessages = largeMessageContainer(process.env['AzureWebJobsStorage'], process.env['DIALTONE_TASK_HUB']);
  const engine = new DurableEngine({
    registry,
    store,
    clock,
    log,
    onLargestPayload,
    ...(largeMessages ? { largeMessages } : {}),
    ...(timeoutMs !== undefined ? { functionTimeoutMs: timeoutMs } : {}),
  });
  const functionKey = options.functionKey ?? randomBytes(24).toString('base64url');
  const server = new HostServer({
    registry,
    engine,
    functionKey,
    now: () => clock.now(),
    ...(options.extraFunctionKeys ? { extraFunctionKeys: options.extraFunctionKeys } : {}),
    taskHub: process.env['DIALTONE_TASK_HUB'] ?? 'dialtone',
    log,
    status: () => ({ engine: 'local', engineRuns: { ...engine.counts } }),
    ...(options.maxRunningOrchestrations ? { maxRunningOrchestrations: options.maxRunningOrchestrations } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(process.env['DIALTONE_CONSOLE_ROLE'] ? { consoleRole: process.env['DIALTONE_CONSOLE_ROLE'] } : {}),
  });
  const url = await server.start();
  engine.clientData = () => server.clientData();
  process.env['WEBSITE_HOSTNAME'] = new URL(url).host;

  // The Event Grid subscription of the deployment sends the intake container's BlobCreated events to the function
  // named batches-intake; here the blob watcher stands in for it.
  const watcher = uploadEventsWatcher(
    registry,
    options.stateDir,
    (trigger, event) => server.invoke(trigger, event, { ...event }),
    log,
  );

  await engine.recover();
  watcher?.start();

  let idleTicks = 0;
  let skipping = false;
  // The rate governor (local/clock.ts: governedRate): with a rate above 1, the host measures how late its own 10 ms
  // tick runs (its event loop's delay) and lowers or raises the shared rate each second, never above the rate the
  // stack asked for (options.maxRate; a restarted host starts from the simulator's current rate but keeps that
  // ceiling). DIALTONE_LOCAL_RATE_GOVERNOR=off keeps the rate fixed. The clock is sent to the simulator every
  // window, so a failed send is made good a second later.
  const skip = clock instanceof SkipAheadClock ? clock : undefined;
  const maxRate = Math.max(skip?.rate ?? 1, options.maxRate ?? 1);
  const governed = skip !== undefined && maxRate > 1 && process.env['DIALTONE_LOCAL_RATE_GOVERNOR'] !== 'off';
  const delays: number[] = [];
  let lastTick = performance.now();
  let windowStart = lastTick;
  const syncFailed = (e: unknown) =>
    log(`clock sync with the Graph simulator failed: ${e instanceof Error ? e.message : String(e)}`);
  const govern = (t: number) => {
    if (!skip || !governed || skipping || t - windowStart < 1000) return;
    const next = governedRate(skip.rate, maxRate, delays);
    delays.length = 0;
    windowStart = t;
    if (next !== skip.rate) {
      skip.setRate(next);
      for (const s of [...sleepers]) s.arm();
      engine.scheduleTimerCheck();
    }
    syncClock().catch(syncFailed);
  };
  const idleLoop = options.skipAhead
    ? setInterval(() => {
        const t = performance.now();
        if (governed) delays.push(Math.max(0, t - lastTick - 10));
        lastTick = t;
        govern(t);
        if (skipping) return;
        idleTicks = engine.isIdle(sleepers.size) && !server.busy && !(watcher?.busy ?? false) ? idleTicks + 1 : 0;
        if (idleTicks < 3) return;
        const timer = engine.nextTimerAt();
        let wake: number | undefined;
        for (const s of sleepers) if (wake === undefined || s.until < wake) wake = s.until;
        const next = timer === undefined ? wake : wake === undefined ? timer : Math.min(timer, wake);
        if (next === undefined) return;
        if (next <= clock.now()) {
          // Due already (a sleeper whose wall-clock timer has not fired yet): wake it rather than wait for the timer.
          for (const s of [...sleepers]) s.arm();
          return;
        }
        skipping = true;
        skip!.skipTo(next);
        syncClock()
          .catch(syncFailed)
          .finally(() => {
            // Every sleeper is armed again for the time now left to it: the due ones wake, the others' wall-clock
            // timers no longer count the time that was skipped.
            for (const s of [...sleepers]) s.arm();
            engine.fireDueTimers();
            skipping = false;
            idleTicks = 0;
          });
      }, 10)
    : undefined;

  return {
    url,
    functionKey,
    engine,
    clock,
    consoleSignInUrl: () => `${url}${server.signIn.mintLink()}`,
    async stop() {
      if (idleLoop) clearInterval(idleLoop);
      watcher?.stop();
      engine.stop();
      await server.close();
      await agent?.close();
    },
  };
}

/**
 * host.json's functionTimeout in ms, or the app setting AzureFunctionsJobHost__functionTimeout that overrides it (as
 * app settings override host.json in Azure: learn.microsoft.com/azure/azure-functions/functions-host-json#override-hostjson-values);
 * undefined when neither is set, it is -1 (no limit) or there is no host.json. The real-extension host reads the same
 * (local/extension-host/HostJson.cs).
 */
export function functionTimeoutMs(hostJsonPath: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  let text = env['AzureFunctionsJobHost__functionTimeout'];
  if (!text) {
    try {
      text = (JSON.parse(readFileSync(hostJsonPath, 'utf8')) as { functionTimeout?: string }).functionTimeout;
    } catch {
      return undefined;
    }
  }
  if (!text || text.trim() === '-1') return undefined;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) throw new Error(`${hostJsonPath}: functionTimeout '${text}' is not a time span (hh:mm:ss)`);
  return (((Number(m[1] ?? 0) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000;
}

export function readCaFile(path: string | undefined): string | undefined {
  return path ? readFileSync(path, 'utf8') : undefined;
}

/**
 * The task hub's large-message container (`<taskhub>-largemessages`, the Azure Storage provider's name for it) in the
 * host's storage account, where the local engine writes payloads over that provider's thresholds gzip-compressed, as
 * it does (engine.ts, OFFLOAD_BYTES). None without a storage connection string.
 */
function largeMessageContainer(connection: string | undefined, taskHub = 'dialtone'): LargeMessageStore | undefined {
  if (!connection) return undefined;
  const container = BlobServiceClient.fromConnectionString(connection).getContainerClient(
    `${taskHub.toLowerCase()}-largemessages`,
  );
  let created: Promise<unknown> | undefined;
  return {
    async upload(name, json) {
      created ??= container.createIfNotExists().catch((e: unknown) => {
        created = undefined;
        throw e;
      });
      await created;
      const body = gzipSync(Buffer.from(json, 'utf8'));
      await container.getBlockBlobClient(name).uploadData(body);
    },
  };
}
