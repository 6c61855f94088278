// The whole pipeline on one machine: Azurite, the Graph tenant simulator and the local host (as a child process, so
// it can be killed and restarted like a real worker). Used by the CLI, the end-to-end tests and the benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  /** Kills the host with SIGKILL (no clean-up at all) and starts it again on the same state. */
  crashAndRestartHost(): Promise<void>;
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
    DIALTONE_LOCAL_RUNTIME: 'true',
    ...(options.skipAhead === false ? {} : { DIALTONE_LOCAL_CLOCK: 'skip-ahead' }),
    ...options.settings,
  };
  // Compiled, the host sits beside this file; from TypeScript sources (tests), it is the build's copy.
  const beside = join(__dirname, 'host', 'main.js');
  const script = options.hostScript ?? (existsSync(beside) ? beside : join(__dirname, '..', 'dist', 'local', 'host', 'main.js'));

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
    async crashAndRestartHost() {
      const old = stack.host.child;
      await new Promise<void>((resolve) => {
        if (old.exitCode !== null || old.signalCode !== null) return resolve();
        old.once('exit', () => resolve());
        old.kill('SIGKILL');
      });
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
