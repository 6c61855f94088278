// The whole pipeline on one machine: Azurite, the Graph tenant simulator and the local host (as a child process, so
// it can be killed and restarted like a real worker). Used by the CLI, the end-to-end tests and the benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SkipAheadClock } from './clock';
import { startAzurite, type Azurite } from './azurite';
import { startGraphSimulator, type FaultOptions, type GraphSimulator } from './graph-sim/server';
import type { TenantFile } from './graph-sim/tenant';

export interface StackOptions {
  readonly tenant: TenantFile;
  /** Where host state and the simulator's CA file go; a fresh temporary folder by default. */
  readonly workDir?: string;
  readonly settings?: Record<string, string>;
  readonly throttling?: boolean;
  readonly faults?: FaultOptions;
  readonly skipAhead?: boolean;
  readonly hostScript?: string;
  readonly onHostLog?: (line: string) => void;
}

export interface HostProcess {
  readonly url: string;
  readonly functionKey: string;
  readonly child: ChildProcess;
}

export interface Stack {
  readonly azurite: Azurite;
  readonly sim: GraphSimulator;
  readonly clock: SkipAheadClock;
  readonly workDir: string;
  host: HostProcess;
  /**
   * Kills the host with SIGKILL (no clean-up at all) and starts it again on the same state; `beforeRestart` runs
   * while no host is running (a test can change the host's state folder there).
   */
  crashAndRestartHost(beforeRestart?: () => void): Promise<void>;
  stop(): Promise<void>;
}

const FUNCTION_KEY_BYTES = 24;

export async function startStack(options: StackOptions): Promise<Stack> {
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'dialtone-'));
  mkdirSync(workDir, { recursive: true });
  // A folder this stack made for itself goes with it, also when the stack fails to start; one the caller named is the caller's.
  const removeOwnFolder = () => {
    if (!options.workDir) rmSync(workDir, { recursive: true, force: true });
  };
  const clock = new SkipAheadClock();
  let azurite: Azurite;
  try {
    azurite = await startAzurite();
  } catch (e) {
    removeOwnFolder();
    throw e;
  }
  let sim: GraphSimulator | undefined;
  try {
    sim = await startGraphSimulator({ tenant: options.tenant, clock, throttling: options.throttling ?? true, ...(options.faults ? { faults: options.faults } : {}) });
  } catch (e) {
    await azurite.stop();
    removeOwnFolder();
    throw e;
  }
  const caFile = join(workDir, 'graph-sim-ca.pem');
  writeFileSync(caFile, sim.caPem);
  const functionKey = randomBytes(FUNCTION_KEY_BYTES).toString('base64url');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: azurite.connectionString,
    DIALTONE_GRAPH_BASE_URL: sim.url,
    DIALTONE_GRAPH_EXTRA_CA_FILE: caFile,
    DIALTONE_HOST_STATE_DIR: join(workDir, 'host'),
    DIALTONE_LOCAL_FUNCTION_KEY: functionKey,
    DIALTONE_SIM_URL: sim.url,
    ...(options.skipAhead === false ? {} : { DIALTONE_LOCAL_CLOCK: 'skip-ahead' }),
    ...options.settings,
  };
  // Compiled, the host sits beside this file; from TypeScript sources (tests), it is the build's copy.
  const beside = join(__dirname, 'host', 'main.js');
  const script = options.hostScript ?? (existsSync(beside) ? beside : builtHostFor(join(__dirname, '..')));

  const launch = () =>
    new Promise<HostProcess>((resolve, reject) => {
      const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const onLine = (d: Buffer) => {
        const text = d.toString();
        out += text;
        const m = /DIALTONE_HOST_READY (\{.*\})/.exec(out);
        if (m) {
          child.stdout?.removeListener('data', onLine);
          const ready = JSON.parse(m[1]!) as { url: string; functionKey: string };
          resolve({ url: ready.url, functionKey: ready.functionKey, child });
        }
      };
      child.stdout?.on('data', onLine);
      child.stderr?.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) if (line.trim()) options.onHostLog?.(line);
        out += d.toString();
      });
      child.once('exit', (code, signal) => reject(new Error(`the local host exited (${code ?? signal}) before it was ready:\n${out.slice(-4000)}`)));
    });

  let host: HostProcess;
  try {
    host = await launch();
  } catch (e) {
    await sim.close();
    await azurite.stop();
    removeOwnFolder();
    throw e;
  }
  const started = sim;
  const stack: Stack = {
    azurite,
    sim: started,
    clock,
    workDir,
    host,
    async crashAndRestartHost(beforeRestart) {
      const old = stack.host.child;
      await new Promise<void>((resolve) => {
        if (old.exitCode !== null || old.signalCode !== null) return resolve();
        old.once('exit', () => resolve());
        old.kill('SIGKILL');
      });
      beforeRestart?.();
      stack.host = await launch();
    },
    async stop() {
      const child = stack.host.child;
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        });
      }
      await started.close();
      await azurite.stop();
      removeOwnFolder();
    },
  };
  return stack;
}

/**
 * The compiled host for a caller running from TypeScript sources (the tests). It refuses a missing or stale build, so
 * an end-to-end test never runs yesterday's code: the build must be newer than every source file it compiles.
 */
function builtHostFor(root: string): string {
  return freshBuild(root, join('local', 'host', 'main.js'));
}

/** `dist/<file>` under `root`, or an error saying to build when it is missing or older than a source file. */
export function freshBuild(root: string, file: string): string {
  const script = join(root, 'dist', file);
  if (!existsSync(script)) throw new Error(`no build at ${script}: run \`npm run build\` before the end-to-end tests`);
  const built = statSync(script).mtimeMs;
  const newest = (dir: string): { file: string; at: number } => {
    let best = { file: '', at: 0 };
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      const found = e.isDirectory() ? newest(path) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? { file: path, at: statSync(path).mtimeMs } : best;
      if (found.at > best.at) best = found;
    }
    return best;
  };
  const sources = ['functions', 'orchestrations', 'shared', 'local'].map((d) => newest(join(root, d))).concat([{ file: join(root, 'main.ts'), at: statSync(join(root, 'main.ts')).mtimeMs }]);
  const latest = sources.reduce((a, b) => (b.at > a.at ? b : a));
  if (latest.at > built) throw new Error(`the build in dist/ is older than ${latest.file}: run \`npm run build\` before the end-to-end tests`);
  return script;
}
