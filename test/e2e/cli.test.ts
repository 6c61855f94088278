// The `dialtone` command as a user runs it: the demo, exit codes a script can act on, usage errors that say what is
// wrong in one line before anything starts, the user's own paths from any folder, and `dialtone host`'s clock.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freshBuild } from '../../local/stack';
import { BUILT_IN_PROFILES } from '../../shared/domain/profiles';
import { tenantSkus } from '../support/tenant';

const root = join(__dirname, '..', '..');
// The CLI runs from the build; a missing or stale build fails here, saying so.
const cli = freshBuild(root, join('local', 'cli.js'));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const builtInProfileNames = () => {
  const profiles: unknown = BUILT_IN_PROFILES;
  return (
    profiles instanceof Map ? [...(profiles.keys() as Iterable<string>)] : Object.keys(profiles as object)
  ).sort();
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function dialtone(args: string[], cwd = root) {
  return spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}

const made: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dialtone-cli-'));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('dialtone run', () => {
  it('runs the demo explained: what it shows, every outcome, numbers assigned (pool and Direct Routing) and one no_free_number, what to do next; exits 0 when it completes', () => {
    const out = folder();
    const r = dialtone(['run', '--demo', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/This is the demo: [\s\S]*built so that every outcome shows up/);
    expect(r.stdout).toMatch(/provisioned\s+3/);
    expect(r.stdout).toMatch(
      /flagged\s+licences assigned, but Teams showed no calling plan by the deadline, or the phone number could not be assigned\n\s+→ see the row's reason and message/,
    );
    expect(r.stdout).toMatch(/no_free_number → the pool has no free number/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.counts).toEqual({
      total: 17,
      provisioned: 3,
      assigned: 2,
      released: 0,
      flagged: 2,
      failed: 3,
      rejected: 7,
      cancelled: 0,
    });
    const numbers = Object.fromEntries(
      report.users
        .filter((u: { phoneNumber: string | null }) => u.phoneNumber)
        .map((u: { userPrincipalName: string; phoneNumber: string }) => [u.userPrincipalName, u.phoneNumber]),
    );
    // The US and UK pools' numbers, and the hybrid row's own Direct Routing number.
    expect(numbers).toEqual({
      'AdeleV@contoso.com': expect.stringMatching(/^\+1425555010[01]$/),
      'AlexW@contoso.com': '+442079460100',
      'GradyA@contoso.com': '+14255550150',
    });
    expect(
      report.users.find((u: { userPrincipalName: string }) => u.userPrincipalName === 'HenriettaM@contoso.com'),
    ).toMatchObject({ outcome: 'flagged', reason: 'no_free_number' });
    expect(readFileSync(join(out, 'report.csv'), 'utf8').trim().split('\r\n')).toHaveLength(18);
  });

  it('exits 0 when every row is provisioned or assigned, and 3 when a row needs a person', () => {
    const dir = folder();
    writeFileSync(
      join(dir, 'tenant.json'),
      JSON.stringify({
        skus: tenantSkus({ ENTERPRISEPACK: 5, MCOEV: 5 }),
        users: [{ userPrincipalName: 'a@contoso.com', usageLocation: 'US' }],
      }),
    );
    writeFileSync(join(dir, 'good.csv'), 'UPN,profile\na@contoso.com,phone-system-only\n');
    writeFileSync(join(dir, 'mixed.txt'), 'a@contoso.com\nnot-a-upn\n');
    const good = dialtone(['run', 'good.csv', '--tenant', 'tenant.json'], dir);
    expect([good.status, good.stdout]).toEqual([0, expect.stringMatching(/assigned\s+1/)]);
    const mixed = dialtone(['run', 'mixed.txt', '--tenant', 'tenant.json', '--profile', 'phone-system-only'], dir);
    expect([mixed.status, mixed.stdout]).toEqual([3, expect.stringMatching(/rejected\s+1/)]);
    expect(JSON.parse(readFileSync(join(dir, 'dialtone-out', 'report.json'), 'utf8')).users[1]).toMatchObject({
      row: 2,
      line: 2,
      outcome: 'rejected',
      reason: 'invalid_upn',
    });
  });

  it('through `npm run dialtone` from another folder: reads the file there, names it as typed, exits 2 for a workbook', () => {
    const dir = folder();
    copyFileSync(join(root, 'test', 'fixtures', 'inputs', 'workbook.xlsx'), join(dir, 'new-hires.xlsx'));
    const r = spawnSync('npm', ['--prefix', root, 'run', '--silent', 'dialtone', '--', 'run', 'new-hires.xlsx'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^new-hires\.xlsx: is an Excel workbook \(\.xlsx\), not a CSV: open it in Excel and save it as "CSV UTF-8/m,
    );
    expect(r.stderr).not.toMatch(/license-requests\//);
    const report = JSON.parse(readFileSync(join(dir, 'dialtone-out', 'report.json'), 'utf8'));
    expect([report.counts.total, report.users.length, report.error]).toEqual([
      0,
      0,
      expect.stringMatching(/^new-hires\.xlsx: is an Excel workbook/),
    ]);
  });

  it('names line and column of a broken JSON file, and exits 2', () => {
    const dir = folder();
    writeFileSync(join(dir, 'batch.json'), '{\n  "users": [\n    { "userPrincipalName": "a@contoso.com" },\n  ]\n}\n');
    const r = dialtone(['run', 'batch.json'], dir);
    expect([r.status, r.stderr]).toEqual([
      2,
      expect.stringMatching(/^batch\.json: is not valid JSON: line 4, column 3: unexpected character '\]'$/m),
    ]);
  });
});

describe('usage', () => {
  it.each([
    [['--help'], /^dialtone: gets every new hire/],
    [['run', '--help'], /exit codes:\n\s+0 .*\n\s+3 .*\n\s+2 .*\n\s+64 .*\n\s+1 /],
    [['host', '--help'], /DIALTONE_DEFAULT_USAGE_LOCATION[\s\S]*DIALTONE_VERBOSE/],
    [
      ['plan', '--help'],
      /dialtone plan <file> \[--profile P\] \[--tenant tenant\.json\] \[--out DIR\]\n[\s\S]*plan\s+what run would do, before anything is written/,
    ],
    [['--version'], new RegExp(`^${version.replace(/\./g, '\\.')}\\n$`)],
  ])('%j prints to stdout and exits 0', (args, text) => {
    const r = dialtone(args);
    expect([r.status, r.stdout]).toEqual([0, expect.stringMatching(text)]);
  });

  it.each([
    [[], 'a command is needed: run, plan, resume, status, setup, host or doctor'],
    [['frobnicate'], "unknown command 'frobnicate' (known: run, plan, resume, status, setup, host, doctor)"],
    [['run'], 'run needs a file: dialtone run <file>'],
    [['run', 'a.csv', 'b.csv'], 'run takes one file; got a second: b.csv'],
    [['run', 'a.csv', '--profile'], '--profile needs a value'],
    [['run', 'a.csv', '--deadline-hours', '-5'], '--deadline-hours must be a positive number of hours; got "-5"'],
    [['run', 'a.csv', '--timeout', 'soon'], '--timeout must be a positive number of seconds; got "soon"'],
    [
      ['run', 'local/samples/new-hires.csv', '--profile', 'gold'],
      `unknown profile 'gold'; known profiles: ${builtInProfileNames().join(', ')}`,
    ],
    [['run', 'a.csv', '--frobnicate'], 'unknown option --frobnicate'],
    [['run', 'missing.csv'], 'file not found: missing.csv'],
    [['host', 'a.csv'], 'host takes no file; got: a.csv (to license a file: dialtone run <file>)'],
  ])('%j is a usage error: exit 64, one line, nothing started', (args, message) => {
    const r = dialtone(args);
    expect([r.status, r.stdout, r.stderr]).toEqual([64, '', `dialtone: ${message}; dialtone --help shows how\n`]);
  });
});

describe('dialtone host', () => {
  async function hostSays(
    args: string[],
    onReady: (stdout: string) => Promise<void> = async () => {},
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; stdout: string }> {
    const child = spawn(process.execPath, [cli, 'host', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    child.stderr.resume();
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('Ctrl-C stops everything.')) resolve();
      });
      child.once('exit', (c) => reject(new Error(`host exited ${c} before it was ready: ${stdout}`)));
    });
    await onReady(stdout);
    const code = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    return { code, stdout };
  }

  it('says that its clock skips ahead, and runs on the real clock with --real-time', async () => {
    const skip = await hostSays(['--throw-away']);
    expect([skip.code, skip.stdout]).toEqual([
      0,
      expect.stringMatching(
        /clock: +skips ahead whenever nothing is running, so a simulated day passes in seconds \(start with --real-time/,
      ),
    ]);
    // The admin console's one-time sign-in link (the local stand-in for Entra ID sign-in; see local/host/easy-auth.ts).
    expect(skip.stdout).toMatch(
      /admin console: +http:\/\/127\.0\.0\.1:\d+\/\.auth\/login\/local\?token=[A-Za-z0-9_-]{32} +\(a one-time sign-in link/,
    );
    const real = await hostSays(['--real-time', '--throw-away']);
    expect([real.code, real.stdout]).toEqual([
      0,
      expect.stringMatching(
        /clock: +real time: Teams provisioning delays, polls and the deadline take as long as they say/,
      ),
    ]);
    expect(real.stdout).toMatch(/host time: +\d{4}-\d\d-\d\d \d\d:\d\d UTC \(the wall clock\)/);
    expect(real.stdout).toMatch(/state: +thrown away when the host stops/);
  });

  it('keeps its batches, reports, key, port and simulated time in --state across a Ctrl-C and a new start', async () => {
    const state = join(folder(), 'state');
    const port = await freePort();
    const tenant = join(folder(), 'tenant.json');
    writeFileSync(
      tenant,
      JSON.stringify({
        skus: tenantSkus({ ENTERPRISEPACK: 5, MCOEV: 5, MCOPSTN1: 5 }),
        users: [{ userPrincipalName: 'a@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 90 }],
      }),
    );
    const key = (out: string) => /function key: +(\S+)/.exec(out)?.[1] ?? '';
    let report: { counts?: unknown; finishedAt?: string } = {};
    let hostTimeBefore = 0;
    const first = await hostSays(['--state', state, '--port', String(port), '--tenant', tenant], async (out) => {
      expect(out).toContain(`local host:       http://127.0.0.1:${port}/api/batches`);
      const post = await fetch(`http://127.0.0.1:${port}/api/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': key(out) },
        body: JSON.stringify({ batchId: 'kept-1', users: [{ userPrincipalName: 'a@contoso.com' }] }),
      });
      expect(post.status).toBe(202);
      for (;;) {
        const r = await fetch(`http://127.0.0.1:${port}/api/batches/kept-1`, {
          headers: { 'x-functions-key': key(out) },
        });
        report = (await r.json()) as typeof report;
        hostTimeBefore = Date.parse(r.headers.get('x-dialtone-time')!);
        if (report.finishedAt) break;
        await new Promise((res) => setTimeout(res, 200));
      }
    });
    expect(first.code).toBe(0);
    expect(report.counts).toMatchObject({ provisioned: 1 });
    const second = await hostSays(['--state', state, '--port', String(port), '--tenant', tenant], async (out) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/batches/kept-1`, {
        headers: { 'x-functions-key': key(out) },
      });
      expect([r.status, await r.json()]).toEqual([
        200,
        expect.objectContaining({ counts: report.counts, finishedAt: report.finishedAt }),
      ]);
      // The clock went on from where it stood (the user was provisioned 90 simulated minutes after the licence).
      expect(Date.parse(r.headers.get('x-dialtone-time')!)).toBeGreaterThanOrEqual(hostTimeBefore);
      // The simulated tenant remembers the licences: sending the user again buys nothing.
      const again = await fetch(`http://127.0.0.1:${port}/api/batches`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': key(out) },
        body: JSON.stringify({ batchId: 'kept-2', users: [{ userPrincipalName: 'a@contoso.com' }] }),
      });
      expect(again.status).toBe(202);
      for (;;) {
        const b = (await (
          await fetch(`http://127.0.0.1:${port}/api/batches/kept-2`, { headers: { 'x-functions-key': key(out) } })
        ).json()) as { finishedAt?: string; users?: { reason: string }[] };
        if (b.finishedAt) {
          expect(b.users?.[0]?.reason).toBe('already_licensed');
          break;
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    });
    expect(second.code).toBe(0);
    expect(key(second.stdout)).toBe(key(first.stdout));
    // Another tenant file does not match what the state says happened: refused, before anything starts.
    const other = join(folder(), 'other.json');
    writeFileSync(other, JSON.stringify({ skus: [], users: [] }));
    const refused = dialtone(['host', '--state', state, '--tenant', other]);
    expect([refused.status, refused.stderr]).toEqual([1, expect.stringMatching(/was made with another tenant file/)]);
  });

  it('takes a fixed function key from DIALTONE_LOCAL_FUNCTION_KEY', async () => {
    const fixed = 'a-fixed-key-for-my-hr-system-0123';
    const r = await hostSays(['--throw-away'], async () => {}, { DIALTONE_LOCAL_FUNCTION_KEY: fixed });
    expect(r.stdout).toContain(`function key:     ${fixed}`);
  });
});

describe('dialtone run stopped by a signal', () => {
  /** Every process below `pid`, from the process table (Linux and macOS `ps`). */
  function descendants(pid: number): number[] {
    const table = spawnSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
    const found: number[] = [];
    for (let frontier = [pid]; frontier.length > 0;) {
      const next = table.filter(([, ppid]) => frontier.includes(ppid)).map(([p]) => p);
      found.push(...next);
      frontier = next;
    }
    return found;
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it.each([
    ['while its batch runs', /batch \S+ submitted/],
    ['while its stack starts', /starting Azurite/],
  ])('SIGTERM %s: stops the host, the simulator and Azurite, removes its folder, exits 1', async (_when, cue) => {
    const dir = folder();
    const tmp = folder();
    // A user whose calling plan never shows keeps the batch polling Teams for the whole (simulated) week.
    writeFileSync(
      join(dir, 'tenant.json'),
      JSON.stringify({
        skus: tenantSkus({ ENTERPRISEPACK: 5, MCOEV: 5, MCOPSTN1: 5 }),
        users: [{ userPrincipalName: 'a@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: null }],
      }),
    );
    writeFileSync(join(dir, 'hires.txt'), 'a@contoso.com\n');
    const child = spawn(
      process.execPath,
      [cli, 'run', 'hires.txt', '--tenant', 'tenant.json', '--deadline-hours', '168'],
      { cwd: dir, env: { ...process.env, TMPDIR: tmp, TEMP: tmp, TMP: tmp }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (cue.test(stderr)) resolve();
      });
      void exited.then((code) => reject(new Error(`dialtone run exited ${code} before the cue: ${stderr}`)));
    });
    const started = descendants(child.pid!);
    if (cue.source.startsWith('batch')) expect(started.length).toBeGreaterThanOrEqual(2); // the host and Azurite at least
    child.kill('SIGTERM');
    const code = await exited;
    expect([code, stderr]).toEqual([
      1,
      expect.stringMatching(/dialtone: stopped by SIGTERM before the batch finished/),
    ]);
    expect(started.filter(alive)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
