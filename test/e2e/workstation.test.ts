// Your own tenant from your workstation (docs/workstation.md), with the simulator standing in for the tenant and its
// Entra ID: `dialtone run --tenant-id … --sign-in device-code` signs the admin in through the device-code flow (the
// test enters the code at the simulator's verification page, as the admin would at microsoft.com/devicelogin), is
// killed with everything it started in the middle of the Teams wait, as a laptop that stops, and `dialtone resume`
// finishes it with no Graph write repeated. `dialtone status` shows where it stands; `dialtone setup` prints the app
// registration. The other sign-ins: certificate against the simulator, azure-cli and browser as far as they can be.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { Agent, fetch } from 'undici';
import { defaultGrant } from '../../local/graph-sim/permissions';
import { SkipAheadClock } from '../../local/clock';
import { startGraphSimulator, type GraphSimulator } from '../../local/graph-sim/server';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { freshBuild } from '../../local/stack';

const root = join(__dirname, '..', '..');
const cli = freshBuild(root, join('local', 'cli.js'));
const ADMIN = 'admin@contoso.com';
const TENANT_ID = '2f6c3a1e-5d4b-4c7a-9e8f-0a1b2c3d4e5f';

const tenant: TenantFile = {
  tenantId: TENANT_ID,
  skus: [
    { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: 10 },
    { skuPartNumber: 'MCOEV', prepaidUnits: 10 },
    { skuPartNumber: 'MCOPSTN1', prepaidUnits: 10 },
  ],
  users: [
    // Teams shows the calling plan at once for one, a minute after assignment for the other two: the run is stopped
    // while it waits for them.
    { userPrincipalName: 'adele@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0 },
    { userPrincipalName: 'alex@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 1 },
    { userPrincipalName: 'grady@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 1 },
    // For the run stopped by Ctrl-C: Teams never shows the plan within the test.
    { userPrincipalName: 'megan@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 600 },
  ],
  identity: {
    admins: [
      { userPrincipalName: ADMIN, directoryRoles: ['License Administrator', 'Teams Communications Administrator'] },
      { userPrincipalName: 'reader@contoso.com', directoryRoles: ['Global Reader'] },
    ],
  },
};

const made: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dialtone-ws-'));
  made.push(dir);
  return dir;
}

let sim: GraphSimulator;
let agent: Agent;
let env: Record<string, string>;
let work: string;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  // The tenant's clock is the wall clock, as the run's is (a workstation run never skips ahead).
  sim = await startGraphSimulator({ tenant, clock: new SkipAheadClock(), throttling: false });
  agent = new Agent({ connect: { ca: sim.caPem } });
  work = folder();
  writeFileSync(join(work, 'ca.pem'), sim.caPem);
  writeFileSync(
    join(work, 'hires.csv'),
    'userPrincipalName,profile\nadele@contoso.com,phone-domestic\nalex@contoso.com,phone-domestic\ngrady@contoso.com,phone-domestic\n',
  );
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k, v]) => v !== undefined && !k.startsWith('DIALTONE_') && !k.startsWith('AZURE_'),
    ),
  ) as Record<string, string>;
  env = {
    ...inherited,
    // The simulator stands in for Graph and Entra ID: the app's own settings for another Graph and authority.
    DIALTONE_GRAPH_BASE_URL: sim.url,
    DIALTONE_GRAPH_ALLOW_LOOPBACK: 'true',
    DIALTONE_GRAPH_EXTRA_CA_FILE: join(work, 'ca.pem'),
    AZURE_AUTHORITY_HOST: sim.url,
    // A short wait for Teams (the poll schedule shrinks with it), so that the test takes minutes, not a day.
    DIALTONE_DEADLINE_HOURS: '0.25',
    HOME: work,
  };
});

afterAll(async () => {
  for (const c of running) if (c.pid && c.exitCode === null && c.signalCode === null) killGroup(c);
  await agent?.close();
  await sim?.close();
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    /* gone already */
  }
}

/** `dialtone …` in a process group of its own (so that the test can stop it with all it started, as a machine stops). */
function start(
  args: string[],
  signInAs?: string,
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null>; codes: string[] } {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: work,
    env: { ...env, ...extraEnv },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  const codes: string[] = [];
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    // The device code's message, as Entra words it: open the page and enter the code. The admin does so.
    for (const m of err.matchAll(/open the page (\S+) and enter the code (\S+) to authenticate/g)) {
      if (codes.includes(m[2]!) || !signInAs) continue;
      codes.push(m[2]!);
      void fetch(m[1]!, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_code: m[2], userPrincipalName: signInAs }),
      }).then((r) => r.text());
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit, codes };
}

/** `dialtone …` waited for synchronously: only for commands that send nothing to the simulator, which runs in this process. */
function dialtone(args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, ...args], {
    cwd: work,
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

/** Processes (Linux) whose command line or environment names the folder: the host and Azurite of a run. */
function processesUsing(dir: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const text = `${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}\0${readFileSync(`/proc/${pid}/environ`, 'utf8')}`;
      if (text.includes(dir)) found.push(Number(pid));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

async function until(what: string, ok: () => boolean, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const writesOf = (s: GraphSimulator) => ({
  assignLicense: s.record.byKind.assignLicense,
  patchUser: s.record.byKind.patchUser,
  assignNumber: s.record.byKind.assignNumber,
  perUser: Object.fromEntries(s.record.assignLicenseRequests),
  changed: s.record.stateChangingWrites.length,
});

describe('dialtone run --tenant-id … --sign-in device-code, stopped in the Teams wait, finished by dialtone resume', () => {
  it('signs the admin in with the device code, is killed while it waits for Teams, and resume finishes it with no write repeated; status shows where it stands', async () => {
    const state = join(work, 'state');
    const out = join(work, 'out');
    const clientId = sim.authority.defaultApp.clientId;
    const first = start(
      [
        'run',
        'hires.csv',
        '--tenant-id',
        TENANT_ID,
        '--sign-in',
        'device-code',
        '--client-id',
        clientId,
        '--state',
        state,
        '--out',
        out,
      ],
      ADMIN,
    );
    // Signed in through the device-code flow: the simulator issued a user token after the code was entered.
    await until('the device code', () => first.codes.length === 1, 60_000);
    await until(
      'the licences to be assigned and Teams to be checked',
      () =>
        sim.record.byKind.assignLicense >= 3 &&
        sim.record.byKind.teamsUserConfiguration >= 3 &&
        Object.keys(JSON.parse(readFileSync(join(state, 'run.json'), 'utf8')).lastSeen ?? {}).length > 0,
      120_000,
    );
    expect(sim.authority.issued.user).toBeGreaterThanOrEqual(1);
    expect(sim.authority.issued.app).toBe(0);
    // Every write was the admin's: Graph refused none (the admin's roles and the app's delegated scopes allow them).
    expect(sim.record.forbiddenByKind).toEqual({});
    // In the middle of the Teams wait: two users are still waiting for their calling plan. A few seconds more so that
    // what the host recorded is on disk, then the run and everything it started are killed at once.
    expect(sim.record.callingPlanSeenAt.size).toBeLessThan(3);
    await new Promise((r) => setTimeout(r, 7000));
    expect(first.child.exitCode).toBeNull();
    killGroup(first.child);
    await first.exit;
    const before = writesOf(sim);
    // Each user's licences were asked for once, and every write changed the tenant.
    expect(Object.values(before.perUser)).toEqual([1, 1, 1]);
    expect(first.err()).toMatch(
      /batch \S+ submitted from hires\.csv; Ctrl-C stops it here, and dialtone resume --state/,
    );

    // Where it stands, from the state folder alone: no sign-in, nothing started.
    const stopped = dialtone(['status', '--state', state]);
    expect(stopped.stderr).toBe('');
    expect(stopped.status).toBe(0);
    expect(stopped.stdout).toMatch(new RegExp(`tenant:\\s+${TENANT_ID} \\(sign-in: device-code, app ${clientId}\\)`));
    expect(stopped.stdout).toMatch(/file:\s+hires\.csv/);
    expect(stopped.stdout).toMatch(/status:\s+stopped: dialtone resume goes on/);
    expect(stopped.stdout).toMatch(/last seen: \d{4}-\d\d-\d\dT/);
    // What the host had recorded: a Teams check under way (done again when the run goes on) or the next timer.
    expect(stopped.stdout).toMatch(/(in flight: probe-teams|next timer: \d{4}-\d\d-\d\dT[\d:.]+Z)/);
    expect(stopped.stdout).toContain(`go on:     dialtone resume --state ${state}`);
    // A new run may not take the folder of one that has not finished.
    const again = dialtone([
      'run',
      'hires.csv',
      '--tenant-id',
      TENANT_ID,
      '--sign-in',
      'device-code',
      '--client-id',
      clientId,
      '--state',
      state,
    ]);
    expect([again.status, again.stderr]).toEqual([64, expect.stringContaining('holds a run that has not finished')]);

    // The machine is off until Teams has shown every calling plan: the run's next check is then past due.
    const lastWrite = Math.max(...sim.record.stateChangingWrites.map((w) => w.at));
    await until('Teams to show every calling plan', () => sim.clock.now() > lastWrite + 65_000, 120_000);
    const second = start(['resume', '--state', state], ADMIN);
    const code = await second.exit;
    expect([code, second.err()]).toEqual([
      0,
      expect.stringMatching(/resuming batch \S+ \(hires\.csv\); steps already recorded are not done again/),
    ]);
    // The admin signed in again (tokens are kept in memory only).
    expect(second.codes).toHaveLength(1);
    expect(second.out()).toMatch(/provisioned\s+3/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { counts: Record<string, number> };
    expect(report.counts).toMatchObject({ total: 3, provisioned: 3 });
    // No write repeated: the simulator saw the same licence and user writes as before the stop, and Teams was read again.
    expect(writesOf(sim)).toEqual(before);
    expect(sim.record.callingPlanSeenAt.size).toBe(3);

    const finished = dialtone(['status', '--state', state]);
    expect(finished.stdout).toMatch(/status:\s+finished \S+ \(exit code 0\)/);
    expect(finished.stdout).toContain(`report:    ${join(out, 'report.json')}`);
    const resumedAgain = dialtone(['resume', '--state', state]);
    expect([resumedAgain.status, resumedAgain.stderr]).toEqual([
      64,
      expect.stringContaining('has finished (exit code 0)'),
    ]);
    // What stays on the machine: the state folder (no token in it) and the report.
    const record = readFileSync(join(state, 'run.json'), 'utf8');
    expect(record).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(existsSync(join(state, 'azurite'))).toBe(true);

    // The folder of a finished run takes the next one: a user who already holds the licences gets nothing bought.
    writeFileSync(join(work, 'adele.csv'), 'userPrincipalName,profile\nadele@contoso.com,phone-domestic\n');
    const next = start(
      [
        'run',
        'adele.csv',
        '--tenant-id',
        TENANT_ID,
        '--sign-in',
        'device-code',
        '--client-id',
        clientId,
        '--state',
        state,
        '--out',
        join(work, 'out-next'),
      ],
      ADMIN,
    );
    expect([await next.exit, next.err()]).toEqual([
      0,
      expect.stringContaining(`the previous run in ${state} (hires.csv) had finished; its report is in ${out}`),
    ]);
    expect(writesOf(sim)).toEqual(before);
  }, 480_000);
});

describe('dialtone run --tenant-id … stopped by Ctrl-C', () => {
  it('stops the host and Azurite, keeps the state, says how to go on, and gives the folder back', async () => {
    const state = join(work, 'state-ctrl-c');
    writeFileSync(join(work, 'megan.csv'), 'userPrincipalName,profile\nmegan@contoso.com,phone-domestic\n');
    const run = start(
      [
        'run',
        'megan.csv',
        '--tenant-id',
        TENANT_ID,
        '--sign-in',
        'device-code',
        '--client-id',
        sim.authority.defaultApp.clientId,
        '--state',
        state,
        '--out',
        join(work, 'out-ctrl-c'),
      ],
      ADMIN,
    );
    await until('the batch to be submitted', () => /batch \S+ submitted from megan\.csv/.test(run.err()), 120_000);
    await until(
      'Teams to be checked',
      () =>
        (JSON.parse(readFileSync(join(state, 'run.json'), 'utf8')) as { lastSeen?: { counts?: { waiting?: number } } })
          .lastSeen?.counts?.waiting === 1,
      120_000,
    );
    // The host and Azurite run on the folder (the check below would find them).
    if (process.platform === 'linux') expect(processesUsing(state).length).toBeGreaterThanOrEqual(2);
    // Ctrl-C reaches the dialtone process alone here (a terminal would send it to the whole group).
    process.kill(run.child.pid!, 'SIGINT');
    expect(await run.exit).toBe(1);
    expect(run.err()).toContain(
      `dialtone: stopped; the run's state is kept in ${state}: dialtone resume --state ${state} goes on, dialtone status --state ${state} shows where it stands`,
    );
    expect(existsSync(join(state, 'host.pid'))).toBe(false);
    if (process.platform === 'linux') expect(processesUsing(state)).toEqual([]);
    const st = dialtone(['status', '--state', state]);
    expect(st.stdout).toMatch(/status:\s+stopped: dialtone resume goes on/);
    expect(st.stdout).toMatch(/waiting for Teams 1/);
  }, 300_000);
});

describe('dialtone setup', () => {
  it("prints the admin's own app registration: a public client with the delegated permissions the app needs, the directory roles that suffice, and the Azure CLI commands that create it", () => {
    const r = dialtone(['setup', '--tenant-id', TENANT_ID]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/allow public client flows:\s+yes/);
    expect(r.stdout).toMatch(/redirect URI:\s+http:\/\/localhost/);
    // Exactly the permissions a deployment's identity gets for the same settings, here as delegated ones.
    const listed = r.stdout
      .split('delegated permissions (admin consent granted):\n')[1]!
      .split('\n\n')[0]!
      .trim()
      .split(/\s+/);
    expect(listed).toEqual(defaultGrant({}));
    // The first set of roles is the one the run above signed in with, and Graph refused it nothing.
    expect(r.stdout).toMatch(
      /directory roles you need[^\n]*\n {2}License Administrator \+ Teams Communications Administrator\n {2}User Administrator \+ Teams Administrator\n {2}Global Administrator\n/,
    );
    expect(r.stdout).toContain(
      `az login --tenant ${TENANT_ID} && app=$(az ad app create --display-name "dialtone (workstation)" --sign-in-audience AzureADMyOrg --is-fallback-public-client true --public-client-redirect-uris http://localhost`,
    );
    for (const p of listed) expect(r.stdout).toContain(`oauth2PermissionScopes[?value=='${p}'].id`);
    expect(r.stdout).toContain('az ad app permission admin-consent --id $app');
    // Without phone numbers the number permission is neither asked for nor needed.
    const off = dialtone(['setup'], { DIALTONE_PHONE_NUMBERS: 'off' });
    expect(off.stdout).not.toContain('TeamsTelephoneNumber');
  });
});

describe('the other sign-ins, and the options', () => {
  it("plans with the app registration's certificate (ClientCertificateCredential) against the simulated tenant, reads only", async () => {
    const pems = await generate([{ name: 'commonName', value: 'dialtone-workstation' }], {
      keySize: 2048,
      algorithm: 'sha256',
    });
    const app = '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f';
    const certSim = await startGraphSimulator({
      tenant: { ...tenant, identity: { apps: [{ clientId: app, certificate: pems.cert, publicClient: false }] } },
      clock: new SkipAheadClock(),
      throttling: false,
    });
    try {
      const dir = folder();
      writeFileSync(join(dir, 'ca.pem'), certSim.caPem);
      writeFileSync(join(dir, 'app.pem'), `${pems.private}\n${pems.cert}`);
      const r = start(
        [
          'plan',
          'hires.csv',
          '--tenant-id',
          TENANT_ID,
          '--sign-in',
          'certificate',
          '--client-id',
          app,
          '--certificate',
          join(dir, 'app.pem'),
          '--out',
          join(dir, 'out'),
        ],
        undefined,
        {
          DIALTONE_GRAPH_BASE_URL: certSim.url,
          AZURE_AUTHORITY_HOST: certSim.url,
          DIALTONE_GRAPH_EXTRA_CA_FILE: join(dir, 'ca.pem'),
        },
      );
      expect([await r.exit, r.err()]).toEqual([0, expect.stringContaining('signing in to tenant')]);
      expect(r.out()).toMatch(/plan for hires\.csv: nothing was written/);
      const plan = JSON.parse(readFileSync(join(dir, 'out', 'plan.json'), 'utf8')) as {
        counts: Record<string, number>;
      };
      expect(plan.counts).toMatchObject({ total: 3, assign: 3 });
      expect([certSim.authority.issued.app, certSim.authority.issued.user]).toEqual([1, 0]);
      expect(certSim.record.stateChangingWrites).toEqual([]);
      expect(certSim.record.byKind.assignLicense + certSim.record.byKind.patchUser).toBe(0);
    } finally {
      await certSim.close();
    }
  }, 120_000);

  it('a device code the admin declines ends the sign-in with a clear error, and nothing is asked of Graph', async () => {
    const requests = sim.record.requests;
    const run = start([
      'plan',
      'hires.csv',
      '--tenant-id',
      TENANT_ID,
      '--sign-in',
      'device-code',
      '--client-id',
      sim.authority.defaultApp.clientId,
      '--out',
      folder(),
    ]);
    await until('the device code', () => /enter the code (\S+) to authenticate/.test(run.err()), 60_000);
    const [, uri, code] = /open the page (\S+) and enter the code (\S+) to authenticate/.exec(run.err())!;
    const declined = await fetch(uri!, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_code: code, decline: true }),
    });
    expect(declined.status).toBe(200);
    expect(await run.exit).toBe(1);
    expect(run.err()).toMatch(
      new RegExp(
        `dialtone: could not sign in to tenant ${TENANT_ID} with --sign-in device-code: .*authorization_declined`,
      ),
    );
    expect(sim.record.requests).toBe(requests);
  }, 120_000);

  it('plans as an admin who may only read (Global Reader): a delegated plan needs no write role, and writes nothing', async () => {
    const dir = folder();
    const changed = sim.record.stateChangingWrites.length;
    const run = start(
      [
        'plan',
        'hires.csv',
        '--tenant-id',
        TENANT_ID,
        '--sign-in',
        'device-code',
        '--client-id',
        sim.authority.defaultApp.clientId,
        '--out',
        dir,
      ],
      'reader@contoso.com',
    );
    expect([await run.exit, run.codes]).toEqual([0, [expect.any(String)]]);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as { counts: Record<string, number> };
    expect(plan.counts.total).toBe(3);
    expect(sim.record.forbiddenByKind).toEqual({});
    expect(sim.record.stateChangingWrites.length).toBe(changed);
  }, 120_000);

  it('azure-cli: signs in through the Azure CLI (its own app, so no --client-id), and says so clearly when the Azure CLI is not there', () => {
    // Microsoft's own Graph and authority (the defaults); the Azure CLI is asked for the token and nothing is sent.
    const real = {
      DIALTONE_GRAPH_BASE_URL: '',
      AZURE_AUTHORITY_HOST: '',
      DIALTONE_GRAPH_ALLOW_LOOPBACK: '',
      DIALTONE_GRAPH_EXTRA_CA_FILE: '',
      PATH: join(process.execPath, '..'),
    };
    const r = dialtone(['plan', 'hires.csv', '--tenant-id', TENANT_ID, '--sign-in', 'azure-cli'], real);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `dialtone: could not sign in to tenant ${TENANT_ID} with --sign-in azure-cli \\(is the Azure CLI installed, and signed in to this tenant with az login --tenant …\\?\\): .*Azure CLI`,
      ),
    );
    const withApp = dialtone(
      [
        'plan',
        'hires.csv',
        '--tenant-id',
        TENANT_ID,
        '--sign-in',
        'azure-cli',
        '--client-id',
        sim.authority.defaultApp.clientId,
      ],
      real,
    );
    expect([withApp.status, withApp.stderr]).toEqual([
      64,
      expect.stringContaining(
        "--sign-in azure-cli signs in as the Azure CLI's own app (az login); --client-id does not apply to it",
      ),
    ]);
  });

  it('browser: needs a desktop browser, and says to use the device code where there is no display', () => {
    if (process.platform !== 'linux') return;
    const r = dialtone(
      [
        'run',
        'hires.csv',
        '--tenant-id',
        TENANT_ID,
        '--sign-in',
        'browser',
        '--client-id',
        sim.authority.defaultApp.clientId,
        '--state',
        join(folder(), 's'),
      ],
      { DISPLAY: '', WAYLAND_DISPLAY: '' },
    );
    expect([r.status, r.stderr]).toEqual([
      64,
      expect.stringContaining(
        '--sign-in browser needs a desktop browser on this machine, and there is no display here (no DISPLAY or WAYLAND_DISPLAY); use --sign-in device-code',
      ),
    ]);
  });

  it.each([
    [
      ['run', 'hires.csv', '--tenant-id', TENANT_ID, '--sign-in', 'device-code'],
      '--sign-in device-code needs --client-id: the application (client) id of your own app registration (dialtone setup prints how to make it)',
    ],
    [
      ['plan', 'hires.csv', '--sign-in', 'device-code', '--client-id', '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f'],
      '--sign-in needs --tenant-id',
    ],
    [
      ['run', 'hires.csv', '--tenant-id', 'common', '--client-id', '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f'],
      '--tenant-id must be your tenant\'s id (a GUID) or one of its domains (contoso.onmicrosoft.com); got "common"',
    ],
    [
      [
        'run',
        'hires.csv',
        '--tenant-id',
        TENANT_ID,
        '--sign-in',
        'password',
        '--client-id',
        '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f',
      ],
      '--sign-in must be one of device-code, browser, azure-cli, certificate; got "password"',
    ],
    [
      ['run', 'hires.csv', '--tenant-id', TENANT_ID, '--client-id', 'dialtone'],
      '--client-id must be an application (client) id, a GUID; got "dialtone"',
    ],
    [
      [
        'plan',
        'hires.csv',
        '--tenant-id',
        TENANT_ID,
        '--sign-in',
        'certificate',
        '--client-id',
        '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f',
      ],
      '--sign-in certificate needs --certificate FILE',
    ],
    [
      [
        'run',
        'hires.csv',
        '--tenant-id',
        TENANT_ID,
        '--client-id',
        '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f',
        '--tenant',
        'local/samples/demo-tenant.json',
      ],
      '--tenant FILE and --demo are for the simulated tenant; with --tenant-id dialtone runs against your own tenant',
    ],
    [
      ['run', 'nothere.csv', '--tenant-id', TENANT_ID, '--client-id', '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f'],
      'file not found: nothere.csv',
    ],
    [['status', '--state', 'no-such-folder'], 'no run is kept in'],
    [['resume', '--state', 'no-such-folder'], 'no run is kept in'],
    [['resume', 'hires.csv', '--state', 'x'], 'resume takes no file (the state folder knows it); got: hires.csv'],
    [['resume', '--state', 'x', '--client-id', '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f'], 'unknown option --client-id'],
  ])('refuses %j before anything starts: one line saying what is wrong', (args, message) => {
    const r = dialtone(args);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain(`dialtone: ${message}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
