// `dialtone plan`: the preflight alone against the simulated tenant. It shows what a run would buy, reject, fail and
// number, and writes nothing: the simulator records no state-changing request and its tenant is unchanged.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCommand } from '../../local/cli';
import type { GraphSimulator } from '../../local/graph-sim/server';
import { planFile, type FilePlan } from '../../local/plan';
import { readTenantFile } from '../../local/graph-sim/tenant';
import { freshBuild } from '../../local/stack';
import { tenantSkus } from '../support/tenant';

const root = join(__dirname, '..', '..');

const made: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dialtone-plan-'));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** Runs `dialtone plan` in this process, keeping the simulator it used and what it printed. */
async function planInProcess(
  args: string[],
): Promise<{ code: number; sim: GraphSimulator; before: string; stdout: string }> {
  let sim: GraphSimulator | undefined;
  let before = '';
  let stdout = '';
  const write = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const warn = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await planCommand(args, (s) => {
      sim = s;
      before = JSON.stringify(s.tenant.snapshot());
    });
    return { code, sim: sim!, before, stdout };
  } finally {
    write.mockRestore();
    warn.mockRestore();
  }
}

describe('dialtone plan', () => {
  it('plans the demo files (local/samples) with reads only: no state-changing request, the tenant unchanged; what each row would get, seats per SKU, the pool numbers', async () => {
    const out = folder();
    const { code, sim, before, stdout } = await planInProcess([
      join(root, 'local', 'samples', 'new-hires.csv'),
      '--tenant',
      join(root, 'local', 'samples', 'demo-tenant.json'),
      '--out',
      out,
    ]);
    // It read the tenant (the SKUs, the users, Teams' numbers), so the counts below are not zero for want of asking.
    expect(sim.record.byKind.subscribedSkus).toBeGreaterThan(0);
    expect(sim.record.byKind.getUser).toBeGreaterThan(0);
    // …and wrote nothing.
    expect(sim.record.stateChangingWrites).toEqual([]);
    expect([
      sim.record.byKind.patchUser,
      sim.record.byKind.assignLicense,
      sim.record.byKind.assignNumber,
      sim.record.byKind.updateNumber,
    ]).toEqual([0, 0, 0, 0]);
    expect(JSON.stringify(sim.tenant.snapshot())).toBe(before);

    expect(code).toBe(3);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as FilePlan;
    const row = (n: number) => plan.rows.find((r) => r.row === n)!;
    expect(plan.counts).toEqual({
      total: 17,
      release: 0,
      move: 0,
      assign: 7,
      wait: 0,
      rejected: 7,
      failed: 3,
      flagged: 0,
    });
    expect(row(1)).toMatchObject({
      userPrincipalName: 'AdeleV@contoso.com',
      outcome: 'assign',
      addedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
    });
    // A user who already holds the SKU is bought nothing.
    expect(row(6)).toMatchObject({ outcome: 'assign', addedSkus: [] });
    expect(row(9)).toMatchObject({
      outcome: 'failed',
      reason: 'user_not_found',
      message: expect.stringMatching(/create the account first or fix the UPN/),
    });
    expect(row(17)).toMatchObject({
      outcome: 'failed',
      reason: 'insufficient_licenses',
      message: expect.stringMatching(/buy more licences/),
    });
    // The hybrid row's own Direct Routing number; with numbering `row` (the default), no pool numbers.
    expect(row(4)).toMatchObject({ phoneNumber: '+14255550150', numberFrom: 'row' });
    expect(plan.numberPools).toEqual([]);
    expect(plan.skus.find((s) => s.partNumber === 'MCOPSTN1')).toEqual({
      partNumber: 'MCOPSTN1',
      skuId: expect.any(String),
      needed: 3,
      free: 3,
    });
    expect(stdout).toMatch(/^plan for .*new-hires\.csv: nothing was written/);
    expect(stdout).toMatch(/MCOPSTN1\s+3 \/ 3/);
    const csv = readFileSync(join(out, 'plan.csv'), 'utf8');
    expect(csv.startsWith('\uFEFFrow,line,')).toBe(true);
    expect(csv.trim().split('\r\n')).toHaveLength(18);
    // A number starts with '+', a formula character: the spreadsheet shows it as text.
    expect(csv).toMatch(/,'\+14255550150,row,,\r\n/);
  });

  it('with DIALTONE_PHONE_NUMBERS=pool (as run --demo): the numbers each row would take, and the row the pool runs out for; still no write', async () => {
    const out = folder();
    process.env['DIALTONE_PHONE_NUMBERS'] = 'pool';
    const planned = await planInProcess([
      join(root, 'local', 'samples', 'new-hires.csv'),
      '--tenant',
      join(root, 'local', 'samples', 'demo-tenant.json'),
      '--out',
      out,
    ]).finally(() => delete process.env['DIALTONE_PHONE_NUMBERS']);
    const { code, sim } = planned;
    expect(sim.record.byKind.listNumbers).toBeGreaterThan(0);
    expect(sim.record.stateChangingWrites).toEqual([]);
    expect(sim.record.byKind.assignNumber).toBe(0);
    expect(code).toBe(3);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as FilePlan;
    const byUpn = new Map(plan.rows.map((r) => [r.userPrincipalName, r]));
    // The same numbers run --demo assigns (test/e2e/cli.test.ts), and the same row without one.
    expect(byUpn.get('AdeleV@contoso.com')).toMatchObject({
      phoneNumber: expect.stringMatching(/^\+1425555010[01]$/),
      numberFrom: 'pool',
    });
    expect(byUpn.get('AlexW@contoso.com')).toMatchObject({
      phoneNumber: '+442079460100',
      numberFrom: 'pool',
      setUsageLocation: 'GB',
    });
    expect(byUpn.get('HenriettaM@contoso.com')).toMatchObject({ outcome: 'flagged', reason: 'no_free_number' });
    expect(plan.numberPools).toContainEqual({ numberType: 'callingPlan', isoCountryCode: 'DE', needed: 1, free: 0 });
  });

  it("needs only read permissions: granted nothing else, the plan is the same; without the numbers' read permission, pool rows are flagged naming it", async () => {
    const tenant = readTenantFile(
      readFileSync(join(root, 'local', 'samples', 'demo-tenant.json'), 'utf8'),
      'demo-tenant.json',
    );
    if (!tenant.ok) throw new Error(tenant.message);
    const bytes = readFileSync(join(root, 'local', 'samples', 'new-hires.csv'));
    const settings = { DIALTONE_PHONE_NUMBERS: 'pool' };
    const plan = (graphPermissions?: readonly string[]) =>
      planFile({
        tenant: tenant.tenant,
        bytes,
        shownAs: 'new-hires.csv',
        json: false,
        settings,
        ...(graphPermissions ? { graphPermissions } : {}),
      });
    const rowsOf = (p: FilePlan) =>
      p.rows.map(({ outcome, reason, addedSkus, phoneNumber }) => ({ outcome, reason, addedSkus, phoneNumber }));
    const reads = [
      'LicenseAssignment.Read.All',
      'User.Read.All',
      'TeamsUserConfiguration.Read.All',
      'TeamsTelephoneNumber.Read.All',
    ];
    const full = await plan();
    const readOnly = await plan(reads);
    expect(rowsOf(readOnly)).toEqual(rowsOf(full));
    expect(readOnly.error).toBeUndefined();
    const noNumbers = await plan(reads.filter((p) => p !== 'TeamsTelephoneNumber.Read.All'));
    const adele = noNumbers.rows.find((r) => r.userPrincipalName === 'AdeleV@contoso.com')!;
    expect(adele).toMatchObject({
      outcome: 'flagged',
      reason: 'number_assignment_failed',
      addedSkus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
      message: expect.stringMatching(/TeamsTelephoneNumber\.Read\.All/),
    });
  });

  describe('as a script runs it (the build)', () => {
    const cli = freshBuild(root, join('local', 'cli.js'));
    const dialtone = (args: string[], cwd: string) =>
      spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });

    it("exits 0 when every row would be assigned (a row with a later start date waits; the build's --demo), 3 when one would need a person, 2 for a file that is no input, 64 for a usage error", () => {
      const dir = folder();
      writeFileSync(
        join(dir, 'tenant.json'),
        JSON.stringify({
          skus: tenantSkus({ ENTERPRISEPACK: 5, MCOEV: 5 }),
          users: [
            { userPrincipalName: 'a@contoso.com', usageLocation: 'US' },
            { userPrincipalName: 'b@contoso.com', usageLocation: 'US' },
          ],
        }),
      );
      const later = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
      writeFileSync(
        join(dir, 'good.csv'),
        `UPN,profile,startDate\na@contoso.com,phone-system-only,\nb@contoso.com,phone-system-only,${later}\n`,
      );
      writeFileSync(join(dir, 'mixed.txt'), 'a@contoso.com\n=cmd()@x\n');
      const good = dialtone(['plan', 'good.csv', '--tenant', 'tenant.json'], dir);
      expect([good.status, good.stderr]).toEqual([0, expect.any(String)]);
      const plan = JSON.parse(readFileSync(join(dir, 'dialtone-out', 'plan.json'), 'utf8')) as FilePlan;
      expect(plan.rows.map((r) => [r.outcome, r.addedSkus, r.scheduledFor?.slice(0, 4) ?? null])).toEqual([
        ['assign', ['ENTERPRISEPACK', 'MCOEV'], null],
        ['wait', [], later.slice(0, 4)],
      ]);
      expect(plan.skus).toEqual([
        expect.objectContaining({ partNumber: 'ENTERPRISEPACK', needed: 1, free: 5 }),
        expect.objectContaining({ partNumber: 'MCOEV', needed: 1, free: 5 }),
      ]);

      const mixed = dialtone(
        ['plan', 'mixed.txt', '--tenant', 'tenant.json', '--profile', 'phone-system-only', '--out', 'o2'],
        dir,
      );
      expect([mixed.status, mixed.stdout]).toEqual([3, expect.stringMatching(/be rejected\s+1/)]);
      expect(readFileSync(join(dir, 'o2', 'plan.csv'), 'utf8')).toMatch(/\r\n2,2,,'=cmd\(\)@x,/);

      copyFileSync(join(root, 'test', 'fixtures', 'inputs', 'workbook.xlsx'), join(dir, 'hires.xlsx'));
      const workbook = dialtone(['plan', 'hires.xlsx', '--tenant', 'tenant.json', '--out', 'o3'], dir);
      expect([workbook.status, workbook.stderr]).toEqual([
        2,
        expect.stringMatching(/^hires\.xlsx: is an Excel workbook/),
      ]);
      expect(JSON.parse(readFileSync(join(dir, 'o3', 'plan.json'), 'utf8'))).toMatchObject({
        error: expect.stringMatching(/^hires\.xlsx/),
        rows: [],
      });

      const demo = dialtone(['plan', '--demo', '--out', 'o4'], dir);
      expect([demo.status, demo.stdout]).toEqual([3, expect.stringMatching(/pool callingPlan DE: 1 needed, 0 free/)]);

      expect(dialtone(['plan'], dir)).toMatchObject({ status: 64, stderr: expect.stringMatching(/plan needs a file/) });
      expect(dialtone(['plan', 'nope.csv'], dir)).toMatchObject({
        status: 64,
        stderr: expect.stringMatching(/file not found: nope\.csv/),
      });
      expect(dialtone(['plan', 'good.csv', '--profile', 'gold'], dir)).toMatchObject({
        status: 64,
        stderr: expect.stringMatching(/unknown profile 'gold'/),
      });
    });
  });
});
