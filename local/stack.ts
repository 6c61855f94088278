// The whole pipeline on one machine: Azurite, the Graph tenant simulator and the local host (as a child process, so
// it can be killed and restarted like a real worker). Used by the CLI, the end-to-end tests and the benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkRate, SkipAheadClock } from './clock';
import { startAzurite, type Azurite } from './azurite';
import { startStorageMeter, type StorageMeter, type StorageOperation, type StorageService } from './storage-meter';
import { startGraphSimulator, type FaultOptions, type GraphSimulator } from './graph-sim/server';
import type { TenantFile, TenantSnapshot } from './graph-sim/tenant';

export interface StackOptions {
  readonly tenant: TenantFile;
  /** Where host state and the simulator's CA file go; a fresh temporary folder by default. */
  readonly workDir?: string;
  readonly settings?: Record<string, string>;
  /** The application permissions the simulated Entra ID grants the app; by default those of `settings` (defaultGrant). */
  readonly graphPermissions?: readonly string[];
  readonly throttling?: boolean;
  readonly faults?: FaultOptions;
  readonly skipAhead?: boolean;
  /**
   * Simulated milliseconds per wall-clock millisecond while work is in flight, for the whole stack (the host's timers,
   * the simulator's latency and throttling windows, the app's pacing and retry waits: local/clock.ts). 1 by default;
   * only with the skip-ahead clock on the local engine (the real extension's timers follow the wall clock).
   */
  readonly timeRate?: number;
  readonly hostScript?: string;
  /** `local`: the local durable engine (default). `extension`: the real Durable extension in the .NET host, on wall-clock time. */
  readonly engine?: 'local' | 'extension';
  readonly onHostLog?: (line: string) => void;
  /**
   * Keep everything in `workDir` across stops and starts: Azurite's data, the host's durable state, the function key,
   * the clock's lead over the wall clock and what the app did to the simulated tenant. Nothing is deleted at start
   * or stop (`dialtone host --state DIR`); without it the stack's data goes with the stack.
   */
  readonly keepState?: boolean;
  /** The host's port (a free one by default). */
  readonly hostPort?: number;
  /** The host's function key (a new random one by default, or the one a kept state folder holds). */
  readonly functionKey?: string;
  /**
   * Put a counting proxy between the hosts and Azurite (local/storage-meter.ts), leaving out of its tally the requests
   * this picks (a local stand-in's); the tally is `stack.storageMeter`.
   */
  readonly storageMeter?: { exclude?: (service: StorageService, o: StorageOperation) => boolean };
}

/** What a kept state folder remembers beside Azurite's data and the host's instances (stack-state.json). */
interface KeptState {
  /** The tenant file the state was made with: another one would not match what the state says happened. */
  readonly tenantSha256: string;
  readonly functionKey: string;
  /** How far the stack's clock ran ahead of the wall clock when it stopped, ms. */
  readonly aheadMs: number;
}

const KEPT_STATE = 'stack-state.json';
const KEPT_TENANT = 'graph-sim-state.json';

function readKeptState(workDir: string, tenant: TenantFile): KeptState | undefined {
  const file = join(workDir, KEPT_STATE);
  if (!existsSync(file)) return undefined;
  const kept = JSON.parse(readFileSync(file, 'utf8')) as KeptState;
  if (kept.tenantSha256 !== tenantHash(tenant))
    throw new Error(
      `the state folder ${workDir} was made with another tenant file: start with that tenant file, or give another --state folder (or delete this one)`,
    );
  return kept;
}

const tenantHash = (tenant: TenantFile) => createHash('sha256').update(JSON.stringify(tenant)).digest('hex');

export interface HostProcess {
  readonly url: string;
  readonly functionKey: string;
  /** A one-time sign-in link for the admin console, made when the host started. */
  readonly consoleUrl?: string;
  readonly child: ChildProcess;
  /** The real-extension host's .NET process, killed with the Node process in a crash. */
  readonly extensionPid?: number;
}

export interface Stack {
  readonly azurite: Azurite;
  /** The counting proxy in front of Azurite, when StackOptions.storageMeter asked for one. */
  readonly storageMeter?: StorageMeter;
  readonly sim: GraphSimulator;
  readonly clock: SkipAheadClock;
  readonly workDir: string;
  host: HostProcess;
  /**
   * Kills the host with SIGKILL (no clean-up at all) and starts it again on the same state; `beforeRestart` runs
   * while no host is running (a test can change the host's state folder there).
   */
  crashAndRestartHost(beforeRestart?: () => void): Promise<void>;
  /**
   * Another worker process of the same app on the same storage and task hub (as a scaled-out function app), with
   * `settings` over the stack's own (a test can give it, say, a budget container of its own).
   */
  addWorker(settings?: Record<string, string>): Promise<HostProcess>;
  readonly workers: HostProcess[];
  stop(): Promise<void>;
}

/**
 * The settings that point the app at the simulator and sign it in as the tenant file's first app, at the simulator's
 * authority: the local host gets them, and `dialtone plan` loads the app's configuration from them.
 */
export function graphSignInSettings(sim: GraphSimulator, caFile: string): Record<string, string> {
  const app = sim.authority.defaultApp;
  if (app.secret === undefined)
    throw new Error(
      "the tenant file's first app (identity.apps) needs a secret: the local stack signs the app in with it",
    );
  return {
    DIALTONE_GRAPH_BASE_URL: sim.url,
    // The app accepts a loopback Graph only when the local runtime says so (shared/adapters/config.ts).
    DIALTONE_GRAPH_ALLOW_LOOPBACK: 'true',
    DIALTONE_GRAPH_EXTRA_CA_FILE: caFile,
    // The app registration the app signs in as, at the simulator's authority (shared/adapters/graph-credential.ts):
    // @azure/identity's own variable names, the same a deployment outside Azure would set.
    AZURE_TENANT_ID: sim.authority.tenantId,
    AZURE_CLIENT_ID: app.clientId,
    AZURE_CLIENT_SECRET: app.secret,
    AZURE_AUTHORITY_HOST: sim.url,
  };
}

const FUNCTION_KEY_BYTES = 24;

export async function startStack(options: StackOptions): Promise<Stack> {
  const wallClockOnly = options.skipAhead === false || options.engine === 'extension';
  if (options.timeRate !== undefined && options.timeRate !== 1) {
    checkRate(options.timeRate, 'startStack');
    if (wallClockOnly)
      throw new Error(
        'startStack: a time rate other than 1 needs the skip-ahead clock on the local engine (the real extension and the real clock follow the wall clock)',
      );
  }
  // First, before anything is started or made: a missing or stale build fails here with nothing to clean up.
  // Compiled, the host sits beside this file; from TypeScript sources (tests), it is the build's copy.
  const folder = options.engine === 'extension' ? 'extension-host' : 'host';
  const beside = join(__dirname, folder, 'main.js');
  const script =
    options.hostScript ??
    (existsSync(beside) ? beside : freshBuild(join(__dirname, '..'), join('local', folder, 'main.js')));
  if (options.keepState && !options.workDir) throw new Error('startStack: keepState needs a workDir');
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'dialtone-'));
  mkdirSync(workDir, { recursive: true });
  const kept = options.keepState ? readKeptState(workDir, options.tenant) : undefined;
  if (kept && wallClockOnly && kept.aheadMs > 60_000) {
    throw new Error(
      `the state folder ${workDir} keeps simulated time ${Math.round(kept.aheadMs / 3_600_000)} h ahead of the wall clock, and the wall clock cannot go back to it: start without --real-time, or give another --state folder`,
    );
  }
  // A folder this stack made for itself goes with it, also when the stack fails to start; one the caller named is the caller's.
  // Azurite keeps its data on disk here (local/azurite.ts says why), and it goes with the stack in every case.
  const azuriteDir = join(workDir, 'azurite');
  const removeOwnFolder = () => {
    if (!options.keepState) rmSync(options.workDir ? azuriteDir : workDir, { recursive: true, force: true });
  };
  // A kept state's clock stands as far ahead of the wall clock as when it stopped: its durable timers keep their time.
  const clock = new SkipAheadClock(kept?.aheadMs ?? 0, options.timeRate ?? 1);
  let azurite: Azurite;
  try {
    // a stack that died without stop() in a named folder left it
    if (!options.keepState) rmSync(azuriteDir, { recursive: true, force: true });
    azurite = await startAzurite(undefined, { folder: azuriteDir });
  } catch (e) {
    removeOwnFolder();
    throw e;
  }
  let sim: GraphSimulator | undefined;
  try {
    // Its Entra ID grants the app exactly infra/graph-permissions.json's list for these settings (permissions.ts).
    sim = await startGraphSimulator({
      tenant: options.tenant,
      clock,
      throttling: options.throttling ?? true,
      appSettings: options.settings ?? {},
      ...(options.graphPermissions ? { permissions: options.graphPermissions } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
    });
  } catch (e) {
    await azurite.stop();
    removeOwnFolder();
    throw e;
  }
  let meter: StorageMeter | undefined;
  if (options.storageMeter) {
    try {
      meter = await startStorageMeter(azurite, options.storageMeter.exclude);
    } catch (e) {
      await sim.close();
      await azurite.stop();
      removeOwnFolder();
      throw e;
    }
  }
  const keptTenant = join(workDir, KEPT_TENANT);
  if (options.keepState && existsSync(keptTenant))
    sim.tenant.restore(JSON.parse(readFileSync(keptTenant, 'utf8')) as TenantSnapshot);
  const caFile = join(workDir, 'graph-sim-ca.pem');
  writeFileSync(caFile, sim.caPem);
  const functionKey = options.functionKey ?? kept?.functionKey ?? randomBytes(FUNCTION_KEY_BYTES).toString('base64url');
  const keepState = () => {
    if (!options.keepState) return;
    writeFileSync(keptTenant, JSON.stringify(started.tenant.snapshot()));
    const state: KeptState = {
      tenantSha256: tenantHash(options.tenant),
      functionKey,
      aheadMs: Math.max(0, clock.now() - Date.now()),
    };
    writeFileSync(join(workDir, KEPT_STATE), JSON.stringify(state, null, 2), { mode: 0o600 });
  };
  const inherited = { ...(process.env as Record<string, string>) };
  // The app signs in only as the tenant's app below, never with a credential of this machine's environment.
  for (const k of [
    'AZURE_CLIENT_CERTIFICATE_PATH',
    'AZURE_CLIENT_CERTIFICATE_PASSWORD',
    'AZURE_FEDERATED_TOKEN_FILE',
    'AZURE_USERNAME',
    'AZURE_PASSWORD',
  ])
    delete inherited[k];
  const app = sim.authority.defaultApp;
  if (app.secret === undefined) {
    await meter?.close();
    await sim.close();
    await azurite.stop();
    removeOwnFolder();
    throw new Error(
      "startStack: the tenant file's first app (identity.apps) needs a secret: the local stack signs the app in with it",
    );
  }
  const env: Record<string, string> = {
    ...inherited,
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: meter?.connectionString ?? azurite.connectionString,
    ...graphSignInSettings(sim, caFile),
    DIALTONE_HOST_STATE_DIR: join(workDir, 'host'),
    DIALTONE_LOCAL_FUNCTION_KEY: functionKey,
    ...(options.hostPort !== undefined ? { DIALTONE_HOST_PORT: String(options.hostPort) } : {}),
    DIALTONE_SIM_URL: sim.url,
    DIALTONE_LOCAL_RUNTIME: 'true',
    // Durable timers on the real extension follow the wall clock: no skipping ahead there.
    ...(options.skipAhead === false || options.engine === 'extension'
      ? {}
      : { DIALTONE_LOCAL_CLOCK: 'skip-ahead', DIALTONE_LOCAL_TIME_RATE: String(options.timeRate ?? 1) }),
    ...options.settings,
  };
  const launch = (extraEnv: Record<string, string> = {}) =>
    launchHostProcess(script, { ...env, ...extraEnv }, options.onHostLog);

  let host: HostProcess;
  try {
    host = await launch();
  } catch (e) {
    await meter?.close();
    await sim.close();
    await azurite.stop();
    removeOwnFolder();
    throw e;
  }
  const started = sim;
  const stopHost = async (h: HostProcess) => {
    const child = h.child;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), options.engine === 'extension' ? 20_000 : 5000).unref();
      });
    }
    if (h.extensionPid) await killAndWait(h.extensionPid);
  };
  const stack: Stack = {
    workers: [],
    async addWorker(settings = {}) {
      // The local engine keeps its durable state in one process's folder; only the real extension shares a task hub.
      if (options.engine !== 'extension')
        throw new Error('a second worker needs the real extension (engine: extension)');
      // Its own state folder (the intake's bookkeeping), its own ports; the durable state is the shared task hub.
      const worker = await launch({
        ...settings,
        DIALTONE_HOST_STATE_DIR: join(workDir, `host-${stack.workers.length + 2}`),
        DIALTONE_LOCAL_FUNCTION_KEY: functionKey,
        DIALTONE_HOST_PORT: '',
      });
      stack.workers.push(worker);
      return worker;
    },
    azurite,
    ...(meter ? { storageMeter: meter } : {}),
    sim: started,
    clock,
    workDir,
    host,
    async crashAndRestartHost(beforeRestart) {
      const old = stack.host.child;
      const dotnet = stack.host.extensionPid;
      if (dotnet) await killAndWait(dotnet);
      await new Promise<void>((resolve) => {
        if (old.exitCode !== null || old.signalCode !== null) return resolve();
        old.once('exit', () => resolve());
        old.kill('SIGKILL');
      });
      beforeRestart?.();
      stack.host = await launch();
    },
    async stop() {
      await Promise.all([stack.host, ...stack.workers].map(stopHost));
      keepState();
      await meter?.close();
      await started.close();
      await azurite.stop();
      removeOwnFolder();
    },
  };
  return stack;
}

/**
 * Starts the local host (or the real extension's host) as a child process and resolves once it prints its READY line.
 * `ipc`: with a Node IPC channel (a workstation run serves the host its Graph tokens over it: local/sign-in.ts).
 */
export function launchHostProcess(
  script: string,
  env: Record<string, string>,
  onHostLog?: (line: string) => void,
  ipc = false,
): Promise<HostProcess> {
  return new Promise<HostProcess>((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env,
      stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    // What the host printed: its standard output until the READY line, and the last of its log for an error
    // message (kept short: a long run's log went on growing in this process otherwise).
    let out = '';
    let tail = '';
    const onLine = (d: Buffer) => {
      const text = d.toString();
      out += text;
      tail = (tail + text).slice(-4000);
      const m = /DIALTONE_HOST_READY (\{.*\})/.exec(out);
      if (m) {
        child.stdout?.removeListener('data', onLine);
        const ready = JSON.parse(m[1]!) as {
          url: string;
          functionKey: string;
          extensionPid?: number;
          consoleUrl?: string;
        };
        resolve({
          url: ready.url,
          functionKey: ready.functionKey,
          child,
          ...(ready.extensionPid ? { extensionPid: ready.extensionPid } : {}),
          ...(ready.consoleUrl ? { consoleUrl: ready.consoleUrl } : {}),
        });
      }
    };
    child.stdout?.on('data', onLine);
    // Whole lines, however the pipe cut them: .NET's console writes a long line in 256-byte pieces, and a piece
    // boundary inside a line made two half-lines of it (a check of the log then misread the first half).
    if (child.stderr) {
      child.stderr.on('data', (d: Buffer) => {
        tail = (tail + d.toString()).slice(-4000);
      });
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        if (line.trim()) onHostLog?.(line);
      });
    }
    child.once('exit', (code, signal) =>
      reject(new Error(`the local host exited (${code ?? signal}) before it was ready:\n${tail}`)),
    );
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL to a process that is not our child (the .NET host is the Node host's child), then wait until it is gone. */
async function killAndWait(pid: number): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}

/** `dist-dev/<file>` under `root` (the local runtime's build, scripts/build.js), or an error saying to build when it is missing or older than a source file. */
export function freshBuild(root: string, file: string): string {
  const script = join(root, 'dist-dev', file);
  if (!existsSync(script)) throw new Error(`no build at ${script}: run \`npm run build\` before the end-to-end tests`);
  const built = statSync(script).mtimeMs;
  const newest = (dir: string): { file: string; at: number } => {
    let best = { file: '', at: 0 };
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      const found = e.isDirectory()
        ? newest(path)
        : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')
          ? { file: path, at: statSync(path).mtimeMs }
          : best;
      if (found.at > best.at) best = found;
    }
    return best;
  };
  const sources = ['functions', 'workflows', 'activities', 'contracts', 'shared', 'local']
    .map((d) => newest(join(root, d)))
    .concat(['main.ts', 'app.ts'].map((f) => ({ file: join(root, f), at: statSync(join(root, f)).mtimeMs })));
  const latest = sources.reduce((a, b) => (b.at > a.at ? b : a));
  if (latest.at > built)
    throw new Error(
      `the build in dist-dev/ is older than ${latest.file}: run \`npm run build\` before the end-to-end tests`,
    );
  return script;
}
