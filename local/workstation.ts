// Runs against an admin's own tenant from a workstation: `dialtone run|plan FILE --tenant-id T --sign-in …`,
// `dialtone resume`, `dialtone status` and `dialtone setup` (docs/workstation.md). A run is the same app on the same
// local durable host as `dialtone host --state` (local/host), on the wall clock, with its Graph calls made as the
// signed-in admin (local/sign-in.ts). Everything the run needs to go on lives in its state folder: Azurite's data
// (the batch's rows, reports, budgets), the host's durable instances (fsync'd at each step, so a process killed at any
// moment loses no step that was recorded) and run.json (what was run, how the admin signs in, where it stood). So
// `dialtone resume` continues after the process or the machine stopped: timers whose time has passed fire at once,
// and steps that were recorded are not done again, so no Graph write is repeated.
// Limit: Azurite keeps its blob index in memory and saves it every few seconds; a power cut can lose the last few
// seconds of blob writes (not the host's durable steps), which the app's activities redo on resume by reading Graph
// first (they never assign what a user already has).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TokenCredential } from '@azure/identity';
import { normaliseProfileName } from '../shared/domain/profiles';
import type { BatchReport } from '../shared/domain/report';
import { defaultGrant, ENDPOINT_PERMISSIONS } from './graph-sim/permissions';
import type { DirectoryRole } from './graph-sim/authority';
import { startAzurite } from './azurite';
import type { LiveReport } from './batch-client';
import {
  EXIT,
  fromUser,
  InputRefused,
  inUserTerms,
  knownProfiles,
  numbersJoined,
  positiveNumber,
  refusedInputReport,
  sayPlan,
  submit,
  waitForReport,
  writeReport,
  type RunningStack,
} from './cli';
import { RealClock } from './clock';
import { planOnTenant } from './plan';
import { exitCodeFor, progressLine, summary, type LiveCounts } from './run-summary';
import {
  serveTokens,
  signInFrom,
  signInNow,
  SIGN_IN_METHODS,
  workstationCredential,
  workstationTarget,
  type WorkstationSignIn,
  type WorkstationTarget,
} from './sign-in';
import { freshBuild, launchHostProcess } from './stack';
import { claimStateFolder } from './state-folder';

export class WorkstationUsageError extends Error {
  override name = 'WorkstationUsageError';
}

/** What a state folder remembers of its run (run.json): no token and no secret. */
export interface RunRecord {
  readonly version: 1;
  readonly signIn: WorkstationSignIn;
  /** The file as the admin named it, the file itself, and where the report goes. */
  readonly file: string;
  readonly path: string;
  readonly out: string;
  readonly profile?: string;
  /** The app's DIALTONE_* settings and AZURE_AUTHORITY_HOST the run started with (secrets left out), for resume. */
  readonly settings: Record<string, string>;
  /** The local host's function key (a loopback secret of this folder's host, like `dialtone host --state`'s). */
  readonly functionKey: string;
  batchId: string | null;
  status: 'signing-in' | 'running' | 'stopped' | 'finished';
  startedAt: string;
  lastSeen?: { at: string; counts: LiveCounts | null; phase?: string; runtimeStatus?: string };
  finishedAt?: string;
  exitCode?: number;
}

const RECORD = 'run.json';

/** ~/.dialtone/<tenant>: one folder per tenant, in the admin's own home. */
export function defaultStateFolder(tenantId: string): string {
  return join(homedir(), '.dialtone', tenantId.toLowerCase());
}

function readRecord(state: string): RunRecord | undefined {
  const file = join(state, RECORD);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
}

function writeRecord(state: string, record: RunRecord): void {
  const file = join(state, RECORD);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** The settings a run keeps for resume: the app's own, without anything that looks like a secret. */
function keptSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && (k.startsWith('DIALTONE_') || k === 'AZURE_AUTHORITY_HOST') && !/SECRET|_KEY$|KEYS$/.test(k))
      out[k] = v;
  return out;
}

const signInOptions = {
  'tenant-id': { type: 'string' },
  'sign-in': { type: 'string' },
  'client-id': { type: 'string' },
  certificate: { type: 'string' },
} as const;

function signInOf(values: {
  'tenant-id'?: string | undefined;
  'sign-in'?: string | undefined;
  'client-id'?: string | undefined;
  certificate?: string | undefined;
}): WorkstationSignIn {
  return signInFrom({
    tenantId: values['tenant-id'],
    signIn: values['sign-in'],
    clientId: values['client-id'],
    certificate: values.certificate === undefined ? undefined : fromUser(values.certificate),
  });
}

function checkProfile(profile: string | undefined): void {
  if (profile === undefined) return;
  const profiles = knownProfiles();
  if (!profiles.has(normaliseProfileName(profile)))
    throw new WorkstationUsageError(
      `unknown profile '${profile}'; known profiles: ${[...profiles.keys()].sort().join(', ')}`,
    );
}

function inputFile(shownAs: string | undefined, second: string | undefined, command: string): string {
  if (!shownAs)
    throw new WorkstationUsageError(`${command} needs a file: dialtone ${command} <file> --tenant-id T --sign-in …`);
  if (second !== undefined) throw new WorkstationUsageError(`${command} takes one file; got a second: ${second}`);
  const file = fromUser(shownAs);
  if (!existsSync(file)) throw new WorkstationUsageError(`file not found: ${shownAs}`);
  if (statSync(file).isDirectory()) throw new WorkstationUsageError(`${shownAs} is a folder; give a file`);
  return file;
}

const prompt = (message: string) => process.stderr.write(`${message}\n`);

/** `dialtone plan FILE --tenant-id T --sign-in …`: the plan against the admin's own tenant, reads only. */
export async function workstationPlan(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...signInOptions,
      profile: { type: 'string' },
      out: { type: 'string' },
      tenant: { type: 'string' },
      demo: { type: 'boolean' },
    },
  });
  if (values.tenant !== undefined || values.demo)
    throw new WorkstationUsageError(
      '--tenant FILE and --demo are for the simulated tenant; with --tenant-id dialtone plans against your own tenant',
    );
  const signIn = signInOf(values);
  const [shownAs, second] = positionals;
  const file = inputFile(shownAs, second, 'plan');
  checkProfile(values.profile);
  const target = workstationTarget();
  const credential = workstationCredential(signIn, target, prompt);
  process.stderr.write(`signing in to tenant ${signIn.tenantId} (${signIn.method})…\n`);
  await signInNow(credential, signIn, target);
  const out = fromUser(values.out ?? 'dialtone-out');
  const plan = await planOnTenant({
    config: target.config,
    credential,
    bytes: readFileSync(file),
    shownAs: shownAs!,
    json: file.toLowerCase().endsWith('.json'),
    ...(values.profile ? { profile: values.profile } : {}),
  });
  return sayPlan(out, plan);
}

/** A workstation run's stack: Azurite and the local host from the state folder, the host's tokens from `credential`. */
interface WorkstationStack extends RunningStack {
  stop(): Promise<void>;
}

async function startWorkstationStack(
  state: string,
  record: RunRecord,
  credential: TokenCredential,
  target: WorkstationTarget,
): Promise<WorkstationStack> {
  const beside = join(__dirname, 'host', 'main.js');
  const script = existsSync(beside) ? beside : freshBuild(join(__dirname, '..'), join('local', 'host', 'main.js'));
  const azurite = await startAzurite(undefined, { folder: join(state, 'azurite') });
  const inherited = { ...(process.env as Record<string, string>) };
  // The host signs in only through the admin's sign-in below, never with a credential of this machine's environment.
  for (const k of [
    'AZURE_CLIENT_SECRET',
    'AZURE_CLIENT_CERTIFICATE_PATH',
    'AZURE_CLIENT_CERTIFICATE_PASSWORD',
    'AZURE_FEDERATED_TOKEN_FILE',
    'AZURE_USERNAME',
    'AZURE_PASSWORD',
    'AZURE_TENANT_ID',
    'AZURE_CLIENT_ID',
    'AZURE_AUTHORITY_HOST',
  ])
    delete inherited[k];
  const env: Record<string, string> = {
    ...inherited,
    ...target.settings,
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: azurite.connectionString,
    DIALTONE_HOST_STATE_DIR: join(state, 'host'),
    DIALTONE_LOCAL_FUNCTION_KEY: record.functionKey,
    DIALTONE_LOCAL_RUNTIME: 'true',
    DIALTONE_LOCAL_GRAPH_TOKENS: 'parent',
  };
  let host;
  try {
    host = await launchHostProcess(
      script,
      env,
      (l) => process.env['DIALTONE_VERBOSE'] && process.stderr.write(`host: ${l}\n`),
      true,
    );
  } catch (e) {
    await azurite.stop();
    throw e;
  }
  serveTokens(host.child, credential);
  const child = host.child;
  return {
    host,
    azurite,
    clock: new RealClock(),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        });
      }
      await azurite.stop();
    },
  };
}

/** Stopped by Ctrl-C or SIGTERM: the state is kept for `dialtone resume`. */
class Stopped extends Error {}

/**
 * Starts the stack for `record`, submits the file when the run has no batch yet, waits for the report and writes it.
 * Stopped by a signal, it stops the stack, keeps the state and says how to go on.
 */
async function drive(
  state: string,
  record: RunRecord,
  credential: TokenCredential,
  target: WorkstationTarget,
  timeoutS: number,
): Promise<number> {
  const stopAsked = new Promise<never>((_resolve, reject) => {
    const onSignal = () => reject(new Stopped());
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  stopAsked.catch(() => undefined);
  process.stderr.write(`starting Azurite and the local host from ${state}…\n`);
  const starting = startWorkstationStack(state, record, credential, target);
  let stack: WorkstationStack;
  try {
    stack = await Promise.race([starting, stopAsked]);
  } catch (e) {
    if (e instanceof Stopped)
      await starting.then(
        (s) => s.stop(),
        () => undefined,
      );
    throw e instanceof Stopped
      ? new Error(`stopped before the run went on; the state is kept: dialtone resume --state ${state}`)
      : e;
  }
  const keep = () => writeRecord(state, record);
  try {
    if (record.batchId === null) {
      try {
        record.batchId = await Promise.race([submit(stack, record.path, record.file, record.profile), stopAsked]);
      } catch (e) {
        if (!(e instanceof InputRefused)) throw e;
        const report = refusedInputReport(e.message);
        writeReport(record.out, report);
        Object.assign(record, { status: 'finished', finishedAt: report.finishedAt, exitCode: EXIT.notInput });
        keep();
        process.stderr.write(`${e.message}\n`);
        return EXIT.notInput;
      }
      record.status = 'running';
      keep();
      process.stderr.write(
        `batch ${record.batchId} submitted from ${record.file}; Ctrl-C stops it here, and dialtone resume --state ${state} goes on\n`,
      );
    } else {
      record.status = 'running';
      keep();
      process.stderr.write(
        `resuming batch ${record.batchId} (${record.file}); steps already recorded are not done again\n`,
      );
    }
    let lastKept = '';
    const onLive = (live: LiveReport) => {
      const seen = JSON.stringify([live.counts, live.phase, live.runtimeStatus]);
      if (seen === lastKept) return;
      lastKept = seen;
      record.lastSeen = {
        at: new Date().toISOString(),
        counts: live.counts ?? null,
        ...(live.phase ? { phase: live.phase } : {}),
        ...(live.runtimeStatus ? { runtimeStatus: live.runtimeStatus } : {}),
      };
      keep();
    };
    const uploadedAs = `license-requests/${record.profile ? `${record.profile}/` : ''}${basename(record.path)}`;
    const report: BatchReport = inUserTerms(
      await Promise.race([waitForReport(stack, record.batchId, timeoutS * 1000, onLive), stopAsked]),
      uploadedAs,
      record.file,
    );
    writeReport(record.out, report);
    const code = report.error ? EXIT.notInput : exitCodeFor(report);
    Object.assign(record, { status: 'finished', finishedAt: new Date().toISOString(), exitCode: code });
    keep();
    if (report.error) process.stderr.write(`${report.error}\nreport: ${join(record.out, 'report.json')}\n`);
    else
      process.stdout.write(
        `${summary(report)}\n\nreport: ${join(record.out, 'report.json')} and ${join(record.out, 'report.csv')}\n`,
      );
    return code;
  } catch (e) {
    record.status = 'stopped';
    keep();
    if (e instanceof Stopped)
      throw new Error(
        `stopped; the run's state is kept in ${state}: dialtone resume --state ${state} goes on, dialtone status --state ${state} shows where it stands`,
      );
    throw e;
  } finally {
    await stack.stop();
  }
}

/** `dialtone run FILE --tenant-id T --sign-in …`: a run against the admin's own tenant, its state in a folder. */
export async function workstationRun(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: numbersJoined(args),
    allowPositionals: true,
    options: {
      ...signInOptions,
      profile: { type: 'string' },
      out: { type: 'string' },
      state: { type: 'string' },
      'deadline-hours': { type: 'string' },
      timeout: { type: 'string' },
      tenant: { type: 'string' },
      demo: { type: 'boolean' },
    },
  });
  if (values.tenant !== undefined || values.demo)
    throw new WorkstationUsageError(
      '--tenant FILE and --demo are for the simulated tenant; with --tenant-id dialtone runs against your own tenant',
    );
  const signIn = signInOf(values);
  const [shownAs, second] = positionals;
  const file = inputFile(shownAs, second, 'run');
  checkProfile(values.profile);
  const deadline = positiveNumber('--deadline-hours', values['deadline-hours']);
  const timeout = positiveNumber('--timeout', values.timeout) ?? Number.POSITIVE_INFINITY;
  const state = fromUser(values.state ?? defaultStateFolder(signIn.tenantId));
  const existing = existsSync(state) ? readRecord(state) : undefined;
  if (existing && existing.status !== 'finished')
    throw new WorkstationUsageError(
      `the state folder ${state} holds a run that has not finished (batch ${existing.batchId ?? 'not yet submitted'} of ${existing.file}): dialtone resume --state ${state} goes on with it, dialtone status --state ${state} shows it; or give another --state`,
    );
  // A finished run's folder takes the next run (its batch stays in the folder's storage; its report is in its --out).
  if (existing)
    process.stderr.write(
      `the previous run in ${state} (${existing.file}) had finished; its report is in ${existing.out}\n`,
    );
  const env = { ...process.env, ...(deadline ? { DIALTONE_DEADLINE_HOURS: String(deadline) } : {}) };
  const target = workstationTarget(env);
  const release = claimStateFolder(state);
  try {
    const credential = workstationCredential(signIn, target, prompt);
    process.stderr.write(`signing in to tenant ${signIn.tenantId} (${signIn.method})…\n`);
    await signInNow(credential, signIn, target);
    const record: RunRecord = {
      version: 1,
      signIn,
      file: shownAs!,
      path: file,
      out: fromUser(values.out ?? 'dialtone-out'),
      ...(values.profile ? { profile: values.profile } : {}),
      settings: keptSettings(env),
      functionKey: randomBytes(24).toString('base64url'),
      batchId: null,
      status: 'signing-in',
      startedAt: new Date().toISOString(),
    };
    writeRecord(state, record);
    return await drive(state, record, credential, target, timeout);
  } finally {
    release();
  }
}

function stateFrom(values: { state?: string | undefined; 'tenant-id'?: string | undefined }, command: string): string {
  if (values.state !== undefined) return fromUser(values.state);
  if (values['tenant-id'] !== undefined) return defaultStateFolder(values['tenant-id']);
  const root = join(homedir(), '.dialtone');
  const folders = existsSync(root) ? readdirSync(root).filter((f) => existsSync(join(root, f, RECORD))) : [];
  if (folders.length === 1) return join(root, folders[0]!);
  throw new WorkstationUsageError(
    `${command} needs --state DIR (or --tenant-id T for ~/.dialtone/<tenant>)${folders.length > 1 ? `; runs kept here: ${folders.join(', ')}` : ''}`,
  );
}

/** `dialtone resume [--state DIR]`: goes on with the run kept in the state folder, after signing the admin in again. */
export async function resume(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      'tenant-id': { type: 'string' },
      certificate: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  if (positionals.length > 0)
    throw new WorkstationUsageError(`resume takes no file (the state folder knows it); got: ${positionals[0]}`);
  const state = stateFrom(values, 'resume');
  const record = existsSync(state) ? readRecord(state) : undefined;
  if (!record)
    throw new WorkstationUsageError(
      `no run is kept in ${state} (no ${RECORD}); start one with dialtone run FILE --tenant-id T --sign-in …`,
    );
  if (record.status === 'finished')
    throw new WorkstationUsageError(
      `the run in ${state} has finished (exit code ${record.exitCode}); its report is in ${record.out}`,
    );
  if (record.batchId === null)
    throw new WorkstationUsageError(
      `the run in ${state} stopped before its batch was submitted, so nothing was written to the tenant: delete the folder and run it again with dialtone run`,
    );
  const timeout = positiveNumber('--timeout', values.timeout) ?? Number.POSITIVE_INFINITY;
  // The certificate's file may have moved; everything else is as the run started.
  const signIn: WorkstationSignIn =
    values.certificate !== undefined
      ? signInFrom({ ...record.signIn, signIn: record.signIn.method, certificate: fromUser(values.certificate) })
      : record.signIn;
  // The run's own settings (the environment's secrets, which were not kept, come from the environment again).
  const secrets = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k, v]) => v !== undefined && k.startsWith('DIALTONE_') && /SECRET|_KEY$|KEYS$/.test(k),
    ),
  );
  const target = workstationTarget({ ...secrets, ...record.settings });
  const release = claimStateFolder(state);
  try {
    const credential = workstationCredential(signIn, target, prompt);
    process.stderr.write(
      `signing in to tenant ${signIn.tenantId} again (${signIn.method}; tokens are kept in memory only)…\n`,
    );
    await signInNow(credential, signIn, target);
    return await drive(state, { ...record, signIn }, credential, target, timeout);
  } finally {
    release();
  }
}

/** `dialtone status [--state DIR]`: where the kept run stands, from its state folder alone (no sign-in, nothing started). */
export function status(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { state: { type: 'string' }, 'tenant-id': { type: 'string' } },
  });
  if (positionals.length > 0) throw new WorkstationUsageError(`status takes no file; got: ${positionals[0]}`);
  const state = stateFrom(values, 'status');
  const record = existsSync(state) ? readRecord(state) : undefined;
  if (!record) throw new WorkstationUsageError(`no run is kept in ${state} (no ${RECORD})`);
  const running = runningPid(state);
  const c = record.lastSeen?.counts;
  const lines = [
    `state:     ${state}`,
    `tenant:    ${record.signIn.tenantId} (sign-in: ${record.signIn.method}${record.signIn.clientId ? `, app ${record.signIn.clientId}` : ''})`,
    `file:      ${record.file}`,
    `batch:     ${record.batchId ?? 'not submitted'}`,
    `started:   ${record.startedAt}`,
    `status:    ${record.status === 'finished' ? `finished ${record.finishedAt} (exit code ${record.exitCode})` : running ? `running (process ${running})` : record.batchId ? 'stopped: dialtone resume goes on' : 'stopped before the batch was submitted: nothing was written'}`,
  ];
  if (record.lastSeen) {
    lines.push(`last seen: ${record.lastSeen.at}${record.lastSeen.phase ? `, phase ${record.lastSeen.phase}` : ''}`);
    if (c) lines.push(`           ${progressLine(c, record.status === 'finished', '', 200)}`);
  }
  if (record.status !== 'finished') {
    const { timer, inFlight } = pendingWork(state);
    if (inFlight.length > 0)
      lines.push(
        `in flight: ${[...new Set(inFlight)].join(', ')} (recorded as started, not as done: done again when the run goes on)`,
      );
    if (timer !== undefined)
      lines.push(
        `next timer: ${new Date(timer).toISOString()}${timer <= Date.now() ? ' (past due: it fires as soon as the run goes on)' : ''}`,
      );
  }
  if (record.status === 'finished') lines.push(`report:    ${join(record.out, 'report.json')} and report.csv`);
  else if (!running && record.batchId) lines.push(`go on:     dialtone resume --state ${state}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/** The process that holds the state folder, if it is alive (state-folder.ts's lock). */
function runningPid(state: string): number | undefined {
  const lock = join(state, 'host.pid');
  if (!existsSync(lock)) return undefined;
  const pid = Number(readFileSync(lock, 'utf8').trim());
  try {
    return Number.isInteger(pid) && pid > 0 && process.kill(pid, 0) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The earliest durable timer of the run's unfinished instances, and the activities they had started and not yet
 * finished (the local host's store: local/host/durable/store.ts).
 */
function pendingWork(state: string): { timer: number | undefined; inFlight: string[] } {
  const dir = join(state, 'host', 'instances');
  const inFlight: string[] = [];
  if (!existsSync(dir)) return { timer: undefined, inFlight };
  let next: number | undefined;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      const s = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        runtimeStatus: string;
        pendingTimers?: { fireAt: number }[];
        pendingActivities?: { name: string }[];
      };
      if (s.runtimeStatus !== 'Running' && s.runtimeStatus !== 'Pending') continue;
      for (const t of s.pendingTimers ?? []) if (next === undefined || t.fireAt < next) next = t.fireAt;
      for (const a of s.pendingActivities ?? []) inFlight.push(a.name.replace(/^dialtone-/, ''));
    } catch {
      /* a file being replaced: the next status reads it */
    }
  }
  return { timer: next, inFlight };
}

/**
 * The least privileged built-in roles that cover every call the app makes as the admin: for each endpoint, the
 * simulator's reading of who may call it (graph-sim/permissions.ts, after Entra's roles reference).
 */
export function rolesNeeded(kinds: readonly (keyof typeof ENDPOINT_PERMISSIONS)[]): DirectoryRole[][] {
  const choices: DirectoryRole[][] = [
    ['License Administrator', 'Teams Communications Administrator'],
    ['User Administrator', 'Teams Administrator'],
    ['Global Administrator'],
  ];
  return choices.filter((set) => kinds.every((k) => ENDPOINT_PERMISSIONS[k].roles.some((r) => set.includes(r))));
}

/** `dialtone setup`: the admin's own app registration, printed with the commands that create it (Azure CLI). */
export function setup(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { name: { type: 'string' }, 'tenant-id': { type: 'string' } },
  });
  if (positionals.length > 0) throw new WorkstationUsageError(`setup takes no file; got: ${positionals[0]}`);
  const name = values.name ?? 'dialtone (workstation)';
  if (!/^[\w .()-]{1,80}$/.test(name))
    throw new WorkstationUsageError('--name must be 1 to 80 letters, digits, spaces, dots, dashes or brackets');
  const settings = keptSettings(process.env);
  const scopes = defaultGrant(settings);
  const numbering = scopes.includes('TeamsTelephoneNumber.ReadWrite.All');
  const kinds: (keyof typeof ENDPOINT_PERMISSIONS)[] = [
    'subscribedSkus',
    'getUser',
    'assignLicense',
    'teamsUserConfiguration',
    ...(scopes.includes('User.ReadWrite.All') ? (['patchUser'] as const) : []),
    ...(numbering ? (['listNumbers', 'assignNumber', 'numberOperation'] as const) : []),
  ];
  const roles = rolesNeeded(kinds);
  const tenant = values['tenant-id'] ? ` --tenant ${values['tenant-id']}` : '';
  const lines = [
    `dialtone signs you in through your own app registration (as the Microsoft 365 command-line tools do): a public`,
    `client in your tenant, with delegated Microsoft Graph permissions. Every call is yours: it needs the app's`,
    `delegated permission and one of your directory roles.`,
    '',
    'app registration',
    `  name:                       ${name}`,
    '  supported account types:    this organisation only (single tenant)',
    '  allow public client flows:  yes (device code sign-in)',
    '  redirect URI:               http://localhost (mobile and desktop applications; for --sign-in browser)',
    '  Microsoft Graph, delegated permissions (admin consent granted):',
    ...scopes.map((s) => `    ${s}`),
    '',
    'directory roles you need (one line of these; Privileged Identity Management may activate them for the run)',
    ...roles.map((set) => `  ${set.join(' + ')}`),
    '',
    `create it with the Azure CLI (signed in as a Global Administrator or Privileged Role Administrator${tenant ? '' : ': az login --tenant <tenant>'}):`,
    `  ${tenant ? `az login${tenant} && ` : ''}app=$(az ad app create --display-name "${name}" --sign-in-audience AzureADMyOrg --is-fallback-public-client true --public-client-redirect-uris http://localhost --query appId -o tsv)`,
    '  az ad sp create --id $app',
    '  graph=00000003-0000-0000-c000-000000000000',
    ...scopes.map(
      (s) =>
        `  az ad app permission add --id $app --api $graph --api-permissions $(az ad sp show --id $graph --query "oauth2PermissionScopes[?value=='${s}'].id" -o tsv)=Scope`,
    ),
    '  az ad app permission admin-consent --id $app',
    '  echo $app   # your --client-id',
    '',
    'then:',
    `  dialtone plan FILE --tenant-id <tenant> --sign-in device-code --client-id <app id>`,
    `  dialtone run  FILE --tenant-id <tenant> --sign-in device-code --client-id <app id>`,
    '',
    `sign-in ways: ${SIGN_IN_METHODS.join(', ')} (docs/workstation.md)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
