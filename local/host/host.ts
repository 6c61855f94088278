// The local host: loads the compiled app through the worker contract, runs its orchestrations on the local durable
// engine, serves its HTTP routes and the durable client endpoints, turns uploads into Event Grid events, and, with
// the skip-ahead clock, jumps to the next durable timer whenever nothing else is running.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import { installAppTime } from '../../shared/adapters/app-time';
import { RealClock, SkipAheadClock, type Clock } from '../clock';
import { uploadEventsWatcher } from './blob-watcher';
import { DurableEngine } from './durable/engine';
import { InstanceStore } from './durable/store';
import { installFunctionsCore } from './functions-core';
import { HostServer } from './server';

export interface LocalHostOptions {
  readonly stateDir: string;
  readonly appPath: string;
  readonly port?: number;
  readonly functionKey?: string;
  /** More keys for the function routes (one per integration, as named host keys are in Azure). */
  readonly extraFunctionKeys?: readonly string[];
  /** Skip ahead to the next timer when idle (simulated time), sharing the offset with the Graph simulator. */
  readonly skipAhead?: boolean;
  /** The Graph simulator's URL, whose /_sim/clock holds the shared time offset. */
  readonly simulatorUrl?: string;
  readonly simulatorCaPem?: string;
  readonly log?: (message: string) => void;
  readonly maxRunningOrchestrations?: number;
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

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  mkdirSync(options.stateDir, { recursive: true });
  const registry = installFunctionsCore();
  // The local stand-in for App Service Authentication (easy-auth.ts) sits in front of the app, as the platform does
  // in Azure, where it also sets this variable.
  process.env['WEBSITE_AUTH_ENABLED'] = 'True';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(options.appPath);

  const agent = options.simulatorCaPem ? new Agent({ connect: { ca: options.simulatorCaPem } }) : undefined;
  let clock: Clock = new RealClock();
  let syncClock = async () => {};
  if (options.skipAhead) {
    let offset = 0;
    if (options.simulatorUrl) {
      const r = await fetch(`${options.simulatorUrl}/_sim/clock`, { ...(agent ? { dispatcher: agent } : {}) });
      offset = ((await r.json()) as { offsetMs: number }).offsetMs;
    }
    const skip = new SkipAheadClock(offset);
    clock = skip;
    syncClock = async () => {
      if (!options.simulatorUrl) return;
      await fetch(`${options.simulatorUrl}/_sim/clock`, { method: 'POST', body: JSON.stringify({ offsetMs: skip.offset }), ...(agent ? { dispatcher: agent } : {}) });
    };
  }

  // The app's Graph budgets count the host's time, not the wall clock (shared/adapters/app-time.ts). With the
  // skip-ahead clock, an activity that only waits for a budget's slot counts as idle: when every running activity
  // waits so, time skips to the earliest wake-up instead of spending it on the wall clock.
  const sleepers = new Set<{ until: number; wake: () => void }>();
  if (options.skipAhead) {
    installAppTime({
      now: () => clock.now(),
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          const sleeper = { until: clock.now() + Math.max(0, ms), wake: () => {} };
          const handle = setTimeout(() => sleeper.wake(), Math.max(0, ms));
          sleeper.wake = () => {
            clearTimeout(handle);
            sleepers.delete(sleeper);
            resolve();
          };
          sleepers.add(sleeper);
        }),
    });
  }

  const store = new InstanceStore(options.stateDir);
  const engine = new DurableEngine({ registry, store, clock, log });
  const functionKey = options.functionKey ?? randomBytes(24).toString('base64url');
  const server = new HostServer({ registry, engine, functionKey, ...(options.extraFunctionKeys ? { extraFunctionKeys: options.extraFunctionKeys } : {}), taskHub: process.env['DIALTONE_TASK_HUB'] ?? 'dialtone', log, ...(options.maxRunningOrchestrations ? { maxRunningOrchestrations: options.maxRunningOrchestrations } : {}), ...(options.port !== undefined ? { port: options.port } : {}), ...(process.env['DIALTONE_CONSOLE_ROLE'] ? { consoleRole: process.env['DIALTONE_CONSOLE_ROLE'] } : {}) });
  const url = await server.start();
  engine.clientData = () => server.clientData();
  process.env['WEBSITE_HOSTNAME'] = new URL(url).host;

  // The Event Grid subscription of the deployment sends the intake container's BlobCreated events to the function
  // named batches-intake; here the blob watcher stands in for it.
  const watcher = uploadEventsWatcher(registry, options.stateDir, (trigger, event) => server.invoke(trigger, event, { ...event }), log);

  await engine.recover();
  watcher?.start();

  let idleTicks = 0;
  let skipping = false;
  const idleLoop = options.skipAhead
    ? setInterval(() => {
        if (skipping) return;
        idleTicks = engine.isIdle(sleepers.size) && !server.busy && !(watcher?.busy ?? false) ? idleTicks + 1 : 0;
        if (idleTicks < 3) return;
        const timer = engine.nextTimerAt();
        let wake: number | undefined;
        for (const s of sleepers) if (wake === undefined || s.until < wake) wake = s.until;
        const next = timer === undefined ? wake : wake === undefined ? timer : Math.min(timer, wake);
        if (next === undefined || next <= clock.now()) return;
        skipping = true;
        (clock as SkipAheadClock).skipTo(next);
        syncClock()
          .catch((e: unknown) => log(`clock sync with the Graph simulator failed: ${e instanceof Error ? e.message : String(e)}`))
          .finally(() => {
            for (const s of [...sleepers]) if (s.until <= clock.now()) s.wake();
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

export function readCaFile(path: string | undefined): string | undefined {
  return path ? readFileSync(path, 'utf8') : undefined;
}
