// `dialtone`: runs the whole pipeline on this machine. `dialtone run <file>` starts Azurite, the Graph tenant
// simulator and the local host, sends the file the way a user would (a .json file to the HTTP API, anything else
// uploaded to the intake container), shows progress, and writes the report. `dialtone host` starts the same stack
// and leaves it running for manual use.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import { blobBatchId } from '../functions/intake-blob';
import { mergeProfiles, normaliseProfileName, type Profiles } from '../shared/domain/profiles';
import { countOutcomes, reportToCsv, type BatchReport } from '../shared/domain/report';
import { readTenantFile, type TenantFile } from './graph-sim/tenant';
import { HOST_TIME_HEADER, isFinished, type LiveReport } from './batch-client';
import { DEMO_INTRO, exitCodeFor, hostTimeText, progressLine, simulatedElapsed, summary } from './run-summary';
import { startStack, type Stack } from './stack';
import { doctor, DoctorUsageError } from './doctor';
import { needsPerson, planFile, planSummary, planToCsv, type FilePlan } from './plan';
import type { GraphSimulator } from './graph-sim/server';
import { claimStateFolder, StateFolderBusy } from './state-folder';
import { SignInUsageError } from './sign-in';

/** Exit codes a script can act on. */
export const EXIT = {
  /** The run completed and every row was provisioned or assigned. */
  ok: 0,
  /** Anything else: the stack could not start, the batch did not finish, … */
  error: 1,
  /** The file is no input at all (the report holds the error and zero users). */
  notInput: 2,
  /** The run completed, but some rows need a person: failed, flagged, rejected (or cancelled). */
  needsPerson: 3,
  /** A wrong call (sysexits' EX_USAGE). */
  usage: 64,
} as const;

const HELP = `dialtone: gets every new hire a working Teams phone line. This command runs the whole pipeline on this machine:
Azurite, a simulated Microsoft Graph tenant and the local Functions host.

usage:
  dialtone run <file> [--profile P] [--tenant tenant.json] [--out DIR] [--deadline-hours N] [--timeout SECONDS]
  dialtone run --demo [--out DIR]
  dialtone plan <file> [--profile P] [--tenant tenant.json] [--out DIR]
  dialtone plan --demo [--out DIR]
  dialtone host [--tenant tenant.json] [--state DIR | --throw-away] [--port N] [--real-time] [--engine local|extension]
                [--deadline-hours N]
  dialtone doctor --url URL [--key KEY]
  dialtone run|plan <file> --tenant-id T --sign-in device-code|browser|azure-cli|certificate [--client-id C]
                [--certificate PEM] [--state DIR] [--profile P] [--out DIR] [--deadline-hours N]
  dialtone resume [--state DIR] | dialtone status [--state DIR] | dialtone setup [--tenant-id T]
  dialtone --help | --version

  run    licenses the users in <file> (a CSV, Excel's Unicode Text, a list of UPNs, or a JSON batch body) against
         the simulated tenant, shows progress, and writes report.json and report.csv
  plan   what run would do, before anything is written: reads the tenant only (no Azurite, no host) and writes
         plan.json and plan.csv: per row what would be bought (addedSkus), rejected or failed and why, the number it
         would take, or that it waits for its start date; per SKU the seats needed and free
  host   starts the same stack and leaves it running, for curl or Azure Storage Explorer; Ctrl-C stops it and keeps
         its state (batches, reports, the function key, the simulated tenant and clock) for the next start
  with --tenant-id, run and plan work on your own tenant, signed in as you through your own app registration
         (dialtone setup prints it); a run keeps its state in --state DIR (default ~/.dialtone/<tenant>), so that
         resume goes on after the process or the machine stopped, and status shows where it stands
         (docs/workstation.md)
  doctor asks a deployed app (or a local host) at URL for its health: one line per dependency, what is missing and
         the command that grants it; KEY is its function key (or DIALTONE_FUNCTION_KEY); exits 1 if a check failed

options:
  --profile P         licence profile for rows that name none (default: DIALTONE_DEFAULT_PROFILE, phone-domestic)
  --tenant FILE       the simulated tenant (default: the bundled demo tenant, built to show every outcome)
  --out DIR           where report.json and report.csv go (default: ./dialtone-out)
  --deadline-hours N  how long to wait for Teams to show a calling plan (default: 24; simulated time)
  --timeout SECONDS   give up on the batch after this much real time (default: 600)
  --out DIR           (plan) where plan.json and plan.csv go (default: ./dialtone-out)
  --demo              (run) the bundled sample file and demo tenant, explained; exits 0 once the run completes;
                      (plan) the same file and tenant, planned
  --real-time         (host) run on the real clock instead of skipping ahead, to rehearse real polling and recheck
  --state DIR         (host) where its state is kept across restarts (default: ./.dialtone/host)
  --throw-away        (host) keep nothing: a fresh stack, deleted when it stops (as dialtone run does)
  --port N            (host) the API's port (default: a free one)

exit codes:
  0   the run completed and every row was provisioned or assigned (plan: every row would be, now or at its start)
  3   the run completed but some rows need a person (failed, flagged, rejected; plan: would need one)
  2   the file is no input (the report, or the plan, holds the error and zero users)
  64  a usage error
  1   anything else (also when stopped by Ctrl-C or SIGTERM, after stopping what it started)

settings (environment variables, passed to the app as its configuration):
  DIALTONE_DEFAULT_USAGE_LOCATION  country code for users who have none when the row gives none (e.g. US)
  DIALTONE_DEFAULT_PROFILE         profile for rows that name none
  DIALTONE_PROFILES                JSON profile overrides, e.g. {"sales":["SPE_E3","MCOEV"]}
  DIALTONE_DEADLINE_HOURS          as --deadline-hours
  DIALTONE_PHONE_NUMBERS           row (assign the numbers rows give; default), pool (also free numbers of the tenant) or off
  DIALTONE_VERBOSE=1               show the local host's log
  DIALTONE_LOCAL_FUNCTION_KEY      (host) a fixed function key instead of a new random one (or the state folder's)
`;

/** The checkout's root: this file runs compiled, from dist-dev/local/. */
const ROOT = join(__dirname, '..', '..');
export const SAMPLES = join(ROOT, 'local', 'samples');
const DEMO_TENANT = join(SAMPLES, 'demo-tenant.json');

class UsageError extends Error {}

/**
 * The folder the user ran the command from. \`npm run dialtone -- …\` runs scripts in the package's folder and keeps
 * the caller's folder in INIT_CWD (npm's documented variable), so relative paths resolve where the user typed them.
 */
function userFolder(): string {
  const viaNpm = process.env['npm_lifecycle_event'] === 'dialtone' ? process.env['INIT_CWD'] : undefined;
  return viaNpm && existsSync(viaNpm) ? viaNpm : process.cwd();
}

export const fromUser = (path: string) => (isAbsolute(path) ? path : resolve(userFolder(), path));

function loadTenant(path: string | undefined): TenantFile {
  const file = path ? fromUser(path) : DEMO_TENANT;
  if (!existsSync(file)) throw new UsageError(`tenant file not found: ${path}`);
  const read = readTenantFile(readFileSync(file, 'utf8'), path ?? file);
  if (!read.ok) throw new UsageError(read.message);
  return read.tenant;
}

/** The profiles the app will know: the built-in ones with DIALTONE_PROFILES applied, as the app's configuration does. */
export function knownProfiles(): Profiles {
  const raw = process.env['DIALTONE_PROFILES'];
  let overrides: unknown = {};
  if (raw) {
    try {
      overrides = JSON.parse(raw);
    } catch {
      throw new UsageError('DIALTONE_PROFILES is not valid JSON');
    }
  }
  const merged = mergeProfiles(overrides);
  if (merged.problems.length > 0) throw new UsageError(`DIALTONE_PROFILES: ${merged.problems.join('; ')}`);
  return merged.profiles;
}

/** What waitForReport and submit need of a stack: the host, its clock, and Azurite for uploads (a workstation run's too). */
export type RunningStack = Pick<Stack, 'host'> & { readonly clock: { now(): number } } & {
  readonly azurite: Pick<Stack['azurite'], 'connectionString'>;
};

/** Waits for the batch's report, showing progress; `onLive` sees each live report (a workstation run records it). */
export async function waitForReport(
  stack: Pick<RunningStack, 'host' | 'clock'>,
  batchId: string,
  timeoutMs: number,
  onLive?: (live: LiveReport, hostNow: number) => void,
): Promise<BatchReport> {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let last = '';
  for (;;) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`batch ${batchId} did not finish within ${Math.round(timeoutMs / 1000)} s (--timeout)`);
    const r = await fetch(`${stack.host.url}/api/batches/${encodeURIComponent(batchId)}`, {
      headers: { 'x-functions-key': stack.host.functionKey },
    });
    if (r.status === 200) {
      const live = (await r.json()) as LiveReport;
      if (live.counts) {
        // The host's own time (its header), which start dates and the deadline are read against.
        const hostNow = Date.parse(r.headers.get(HOST_TIME_HEADER) ?? '') || stack.clock.now();
        onLive?.(live, hostNow);
        const when = [simulatedElapsed(live.startedAt, hostNow), `host time ${hostTimeText(hostNow, Date.now())}`]
          .filter(Boolean)
          .join(', ');
        const line = progressLine(
          live.counts,
          Boolean(live.finishedAt),
          when,
          tty ? (process.stderr.columns ?? 80) : 200,
        );
        if (line !== last) {
          process.stderr.write(tty ? `\r${line.padEnd(last.length)}` : `${line}\n`);
          last = line;
        }
      }
      if (isFinished(live)) {
        if (tty && last) process.stderr.write('\n');
        return live;
      }
      if (live.runtimeStatus === 'Failed' || live.runtimeStatus === 'Terminated')
        throw new Error(`batch ${batchId} ${live.runtimeStatus}`);
    } else if (r.status !== 404) {
      throw new Error(`status request failed: HTTP ${r.status} ${await r.text()}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

export class InputRefused extends Error {}

/** The run was stopped by a signal before it finished. */
class Interrupted extends Error {
  constructor(signal: NodeJS.Signals) {
    super(`stopped by ${signal} before the batch finished; the local host, the simulator and Azurite were stopped`);
  }
}

export async function submit(
  stack: RunningStack,
  file: string,
  shownAs: string,
  profile: string | undefined,
): Promise<string> {
  const bytes = readFileSync(file);
  if (file.toLowerCase().endsWith('.json')) {
    const url = new URL(`${stack.host.url}/api/batches`);
    if (profile) url.searchParams.set('profile', profile);
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': stack.host.functionKey },
      body: bytes,
    });
    const body = (await r.json()) as { batchId?: string; detail?: string };
    if (r.status >= 400 || !body.batchId)
      throw new InputRefused((body.detail ?? `HTTP ${r.status}`).replace(/^request body:/, `${shownAs}:`));
    return body.batchId;
  }
  const name = profile ? `${profile}/${basename(file)}` : basename(file);
  const container = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
    'license-requests',
  );
  await container.createIfNotExists();
  const uploaded = await container.getBlockBlobClient(name).uploadData(bytes);
  return blobBatchId(name, uploaded.etag ?? '');
}

/** `--deadline-hours -5` as `--deadline-hours=-5`, so that a negative number is refused as a number, not as a missing value. */
export function numbersJoined(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if ((a === '--deadline-hours' || a === '--timeout') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function positiveNumber(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new UsageError(
      `${option} must be a positive number of ${option === '--timeout' ? 'seconds' : 'hours'}; got "${value}"`,
    );
  return n;
}

/** The report as the user's own file would be named in it: the upload's blob path replaced by the path they typed. */
export function inUserTerms(report: BatchReport, uploadedAs: string, shownAs: string): BatchReport {
  if (!report.error) return report;
  return { ...report, error: report.error.split(uploadedAs).join(shownAs) };
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: numbersJoined(args),
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      tenant: { type: 'string' },
      out: { type: 'string' },
      'deadline-hours': { type: 'string' },
      timeout: { type: 'string' },
      demo: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const demo = values.demo === true;
  if (demo && (positionals.length > 0 || values.tenant !== undefined))
    throw new UsageError('run --demo uses the bundled sample file and tenant; give no file and no --tenant');
  const [shownAs = demo ? join('local', 'samples', 'new-hires.csv') : undefined, second] = positionals;
  if (!shownAs) throw new UsageError('run needs a file: dialtone run <file>');
  if (second !== undefined) throw new UsageError(`run takes one file; got a second: ${second}`);
  const deadline = positiveNumber('--deadline-hours', values['deadline-hours']);
  const timeout = positiveNumber('--timeout', values.timeout) ?? 600;
  if (values.profile !== undefined) {
    const profiles = knownProfiles();
    const name = normaliseProfileName(values.profile);
    if (!profiles.has(name))
      throw new UsageError(
        `unknown profile '${values.profile}'; known profiles: ${[...profiles.keys()].sort().join(', ')}`,
      );
  }
  const file = demo ? join(SAMPLES, 'new-hires.csv') : fromUser(shownAs);
  if (!existsSync(file)) throw new UsageError(`file not found: ${shownAs}`);
  if (statSync(file).isDirectory()) throw new UsageError(`${shownAs} is a folder; give a file`);
  const tenant = loadTenant(values.tenant);
  const out = fromUser(values.out ?? 'dialtone-out');
  if (demo) process.stderr.write(DEMO_INTRO);
  else if (!values.tenant)
    process.stderr.write(
      'against the bundled demo tenant (local/samples/demo-tenant.json); --tenant FILE for your own\n',
    );
  process.stderr.write(
    `starting Azurite, the Graph tenant simulator (${tenant.users.length} users) and the local host…\n`,
  );
  // SIGTERM (a CI job's or jest's timeout, `kill`) or Ctrl-C: stop the host, the simulator and Azurite, remove the
  // stack's folder, and exit 1. Without this the default action kills only this process and orphans the others.
  const interrupted = new Promise<never>((_resolve, reject) => {
    const onSignal = (signal: NodeJS.Signals) => reject(new Interrupted(signal));
    // Kept for the whole run: a second signal while the stack stops is ignored, not the end of this process.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  interrupted.catch(() => undefined);
  const starting = startStack({
    tenant,
    // The demo draws numbers from its tenant's small pool unless DIALTONE_PHONE_NUMBERS says otherwise.
    settings: {
      ...(deadline ? { DIALTONE_DEADLINE_HOURS: String(deadline) } : {}),
      ...(demo && !process.env['DIALTONE_PHONE_NUMBERS'] ? { DIALTONE_PHONE_NUMBERS: 'pool' } : {}),
    },
    onHostLog: (l) => process.env['DIALTONE_VERBOSE'] && process.stderr.write(`host: ${l}\n`),
  });
  let stack: Stack;
  try {
    stack = await Promise.race([starting, interrupted]);
  } catch (e) {
    // Stopped while starting: let the start finish (or fail), then stop what it started.
    if (e instanceof Interrupted)
      await starting.then(
        (s) => s.stop(),
        () => undefined,
      );
    throw e;
  }
  try {
    let batchId: string;
    try {
      batchId = await Promise.race([submit(stack, file, shownAs, values.profile), interrupted]);
    } catch (e) {
      if (!(e instanceof InputRefused)) throw e;
      const report = refusedInputReport(e.message);
      writeReport(out, report);
      process.stderr.write(`${e.message}\n`);
      return EXIT.notInput;
    }
    process.stderr.write(
      `batch ${batchId} submitted from ${shownAs}; simulated time skips ahead whenever nothing else is running\n`,
    );
    const uploadedAs = `license-requests/${values.profile ? `${values.profile}/` : ''}${basename(file)}`;
    const report = inUserTerms(
      await Promise.race([waitForReport(stack, batchId, timeout * 1000), interrupted]),
      uploadedAs,
      shownAs,
    );
    writeReport(out, report);
    if (report.error) {
      process.stderr.write(`${report.error}\nreport: ${join(out, 'report.json')}\n`);
      return EXIT.notInput;
    }
    process.stdout.write(`${summary(report)}\n\nreport: ${join(out, 'report.json')} and ${join(out, 'report.csv')}\n`);
    return demo ? EXIT.ok : exitCodeFor(report);
  } finally {
    await stack.stop();
  }
}

/**
 * `dialtone plan`: the preflight alone against a simulator of the tenant, reads only (local/plan.ts). `onSimulator`
 * sees the simulator while it runs (a test checks it recorded no write).
 */
export async function planCommand(args: string[], onSimulator?: (sim: GraphSimulator) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      tenant: { type: 'string' },
      out: { type: 'string' },
      demo: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const demo = values.demo === true;
  if (demo && (positionals.length > 0 || values.tenant !== undefined))
    throw new UsageError('plan --demo uses the bundled sample file and tenant; give no file and no --tenant');
  const [shownAs = demo ? join('local', 'samples', 'new-hires.csv') : undefined, second] = positionals;
  if (!shownAs) throw new UsageError('plan needs a file: dialtone plan <file>');
  if (second !== undefined) throw new UsageError(`plan takes one file; got a second: ${second}`);
  if (values.profile !== undefined) {
    const profiles = knownProfiles();
    if (!profiles.has(normaliseProfileName(values.profile)))
      throw new UsageError(
        `unknown profile '${values.profile}'; known profiles: ${[...profiles.keys()].sort().join(', ')}`,
      );
  }
  const file = demo ? join(SAMPLES, 'new-hires.csv') : fromUser(shownAs);
  if (!existsSync(file)) throw new UsageError(`file not found: ${shownAs}`);
  if (statSync(file).isDirectory()) throw new UsageError(`${shownAs} is a folder; give a file`);
  const tenant = loadTenant(values.tenant);
  const out = fromUser(values.out ?? 'dialtone-out');
  if (!values.tenant && !demo)
    process.stderr.write(
      'against the bundled demo tenant (local/samples/demo-tenant.json); --tenant FILE for your own\n',
    );
  // The app's own settings from this environment, as the local host gets them (its sign-in is the simulator's app).
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('DIALTONE_') && v !== undefined) settings[k] = v;
  // As run --demo: the demo draws numbers from its tenant's small pool unless DIALTONE_PHONE_NUMBERS says otherwise.
  if (demo && !settings['DIALTONE_PHONE_NUMBERS']) settings['DIALTONE_PHONE_NUMBERS'] = 'pool';
  const plan = await planFile({
    tenant,
    bytes: readFileSync(file),
    shownAs,
    json: file.toLowerCase().endsWith('.json'),
    ...(values.profile ? { profile: values.profile } : {}),
    settings,
    ...(onSimulator ? { onSimulator } : {}),
  });
  return sayPlan(out, plan);
}

/** Writes plan.json and plan.csv, says the plan (or why the file could not be read) and gives the exit code. */
export function sayPlan(out: string, plan: FilePlan): number {
  writePlan(out, plan);
  const written = `plan: ${join(out, 'plan.json')} and ${join(out, 'plan.csv')}`;
  if (plan.error && plan.rows.length === 0) {
    process.stderr.write(`${plan.error}\n${written}\n`);
    return EXIT.notInput;
  }
  process.stdout.write(`${planSummary(plan)}\n\n${written}\n`);
  return needsPerson(plan) ? EXIT.needsPerson : EXIT.ok;
}

/** The report of a run whose file was refused before any row was read: its error, and no row. */
export function refusedInputReport(message: string): BatchReport {
  const now = new Date().toISOString();
  return {
    batchId: '',
    source: 'http',
    startedAt: now,
    finishedAt: now,
    deadline: null,
    error: message,
    counts: countOutcomes([]),
    users: [],
  };
}

export function writePlan(out: string, plan: FilePlan): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'plan.json'), `${JSON.stringify(plan, null, 2)}\n`);
  writeFileSync(join(out, 'plan.csv'), planToCsv(plan));
}

export function writeReport(out: string, report: BatchReport): void {
  mkdirSync(out, { recursive: true });
  const { runtimeStatus: _r, phase: _p, ...clean } = report as BatchReport & { runtimeStatus?: string; phase?: string };
  writeFileSync(join(out, 'report.json'), `${JSON.stringify(clean, null, 2)}\n`);
  writeFileSync(join(out, 'report.csv'), reportToCsv(clean));
}

async function host(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      'real-time': { type: 'boolean' },
      engine: { type: 'string' },
      'deadline-hours': { type: 'string' },
      state: { type: 'string' },
      'throw-away': { type: 'boolean' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(`host takes no file; got: ${positionals[0]} (to license a file: dialtone run <file>)`);
  const realTime = values['real-time'] === true;
  const engine = values.engine ?? 'local';
  if (engine !== 'local' && engine !== 'extension')
    throw new UsageError(
      '--engine must be local (the local durable engine) or extension (the real Durable extension in a .NET host, on the wall clock; needs dotnet and `npm run extension-host:build`)',
    );
  const deadline = values['deadline-hours'];
  if (deadline !== undefined && !(Number(deadline) > 0))
    throw new UsageError('--deadline-hours must be a positive number');
  const throwAway = values['throw-away'] === true;
  if (throwAway && values.state !== undefined)
    throw new UsageError('--throw-away keeps nothing, --state keeps everything: give one of them');
  // Batches, reports, the function key and the simulated tenant are kept in the state folder across restarts, unless
  // the host is a throw-away one (then everything goes with it, as with `dialtone run`).
  const state = throwAway ? undefined : fromUser(values.state ?? join('.dialtone', 'host'));
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
    throw new UsageError(`--port must be a port number from 1 to 65535; got "${values.port}"`);
  const fixedKey = process.env['DIALTONE_LOCAL_FUNCTION_KEY'];
  if (fixedKey !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(fixedKey))
    throw new UsageError('DIALTONE_LOCAL_FUNCTION_KEY must be 16 to 128 letters, digits, _ or -');
  // Ctrl-C is handled from the start (before the ready message, which a script may answer at once, and during
  // start-up), and stays handled while the stack stops: a second Ctrl-C must not kill this process and orphan Azurite.
  let stopRequested: () => void = () => undefined;
  const stopAsked = new Promise<void>((resolveStop) => (stopRequested = resolveStop));
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping the local host, the simulator and Azurite…\n');
    stopRequested();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const releaseState = state ? claimStateFolder(state) : () => undefined;
  const stack = await startStack({
    tenant: loadTenant(values.tenant),
    skipAhead: !realTime,
    engine,
    settings: deadline ? { DIALTONE_DEADLINE_HOURS: deadline } : {},
    onHostLog: (l) => process.stderr.write(`host: ${l}\n`),
    ...(state ? { workDir: state, keepState: true } : {}),
    ...(port !== undefined ? { hostPort: port } : {}),
    ...(fixedKey ? { functionKey: fixedKey } : {}),
  });
  process.stdout.write(
    [
      `engine:           ${engine === 'extension' ? 'the real Durable extension (local/extension-host), wall-clock timers' : 'the local durable engine, simulated time'}`,
      `local host:       ${stack.host.url}/api/batches`,
      `function key:     ${stack.host.functionKey}   (send as x-functions-key)`,
      ...(stack.host.consoleUrl
        ? [
            `admin console:    ${stack.host.consoleUrl}   (a one-time sign-in link: open it in a browser on this machine)`,
          ]
        : []),
      `Graph simulator:  ${stack.sim.url}/v1.0`,
      `Azurite:          blob http://127.0.0.1:${stack.azurite.blobPort}, queue http://127.0.0.1:${stack.azurite.queuePort} (account devstoreaccount1)`,
      `drop files into:  license-requests (reports in license-reports, flags in the license-flags queue)`,
      realTime
        ? 'clock:            real time: Teams provisioning delays, polls and the deadline take as long as they say; POST …/recheck checks Teams now'
        : 'clock:            skips ahead whenever nothing is running, so a simulated day passes in seconds (start with --real-time to rehearse real polling and recheck)',
      `host time:        ${hostTimeText(stack.clock.now(), Date.now())}   (start dates and deadlines are read against it; every answer carries it as ${HOST_TIME_HEADER})`,
      state
        ? `state:            ${state}   (batches, reports, the key and the simulated tenant are kept there across restarts; delete the folder to start afresh)`
        : 'state:            thrown away when the host stops (--throw-away)',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await stopAsked;
  await stack.stop();
  releaseState();
  return EXIT.ok;
}

/** One clear line for a usage error, from node:util's parseArgs errors too. */
function usageLine(e: unknown): string | undefined {
  if (
    e instanceof UsageError ||
    e instanceof DoctorUsageError ||
    e instanceof StateFolderBusy ||
    e instanceof SignInUsageError ||
    (e instanceof Error && e.name === 'WorkstationUsageError')
  )
    return e.message;
  const code = (e as { code?: string }).code;
  const message = e instanceof Error ? e.message : '';
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const option = /'(--[a-z-]+)/.exec(message)?.[1] ?? 'an option';
    return /ambiguous/.test(message)
      ? `${option} needs a value (a value starting with '-' is not one: ${option}=VALUE if you mean it)`
      : `${option} needs a value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${/'([^']+)'/.exec(message)?.[1] ?? ''}`.trim();
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // Your own tenant from your workstation (local/workstation.ts), loaded only when asked for.
    // (It imports this module: required here, not above, so that neither module loads half of the other.)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const workstation = () => require('./workstation') as typeof import('./workstation');
    const help = rest.some((a) => a === '--help' || a === '-h');
    if (help && ['resume', 'status', 'setup'].includes(command ?? '')) {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    const onTenant = !help && rest.some((a) => /^--(tenant-id|sign-in|client-id)(=|$)/.test(a));
    if (command === 'run' && onTenant) return await workstation().workstationRun(rest);
    if (command === 'plan' && onTenant) return await workstation().workstationPlan(rest);
    if (command === 'resume') return await workstation().resume(rest);
    if (command === 'status') return workstation().status(rest);
    if (command === 'setup') return workstation().setup(rest);
    if (command === 'run') return await run(rest);
    if (command === 'plan') return await planCommand(rest);
    if (command === 'host') return await host(rest);
    if (command === 'doctor') return await doctor(rest);
    if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(HELP);
      return EXIT.ok;
    }
    if (command === '--version' || command === '-v' || command === 'version') {
      process.stdout.write(
        `${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`,
      );
      return EXIT.ok;
    }
    throw new UsageError(
      command === undefined
        ? 'a command is needed: run, plan, resume, status, setup, host or doctor'
        : `unknown command '${command}' (known: run, plan, resume, status, setup, host, doctor)`,
    );
  } catch (e) {
    const usage = usageLine(e);
    if (usage !== undefined) {
      process.stderr.write(`dialtone: ${usage}; dialtone --help shows how\n`);
      return EXIT.usage;
    }
    process.stderr.write(`dialtone: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(EXIT.error),
  );
}
