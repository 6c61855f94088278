// The `dialtone` command as a user runs it: the bundled demo, and a file that is no input at all.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'local', 'cli.js');

function dialtone(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

describe('dialtone run', () => {
  it('runs the bundled demo to a report with every outcome, and exits 0', () => {
    const out = mkdtempSync(join(tmpdir(), 'dialtone-cli-'));
    const r = dialtone(['run', 'local/samples/new-hires.csv', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/provisioned\s+3/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.counts).toEqual({ total: 17, provisioned: 3, assigned: 3, flagged: 1, failed: 3, rejected: 7 });
    expect(readFileSync(join(out, 'report.csv'), 'utf8').trim().split('\r\n')).toHaveLength(18);
  });

  it('exits 2 with the message, and writes a report with the error and zero users, for a file that is no input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialtone-cli-'));
    const file = join(dir, 'people.csv');
    writeFileSync(file, 'name,email\nAdele,adele@contoso.com\n');
    const r = dialtone(['run', file, '--out', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no userPrincipalName column/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect([report.counts.total, report.users.length, report.error]).toEqual([0, 0, expect.stringMatching(/no userPrincipalName column/)]);
  });

  it('explains its usage for a wrong call', () => {
    const r = dialtone(['run']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/usage:/);
  });
});
