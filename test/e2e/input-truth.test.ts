// Input read as it was meant, end to end: a misspelt JSON field refuses the batch over HTTP (400, each path named
// with the field meant) and from a .json upload (the report's error, report.csv's first row), with nothing written to
// Graph; PowerShell's Export-Csv file with its #TYPE line is licensed; a row with a start date keeps its advisories;
// `dialtone run` exits 2 for a misspelt JSON file and lists the rows that need a person with what to do.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { freshBuild, startStack, type Stack } from '../../local/stack';
import { getBatch, outcomesByUpn, postBatch, uploadBlob, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const DAY = 86_400_000;
const tenant = {
  skus: tenantSkus({ ENTERPRISEPACK: 20, MCOEV: 20, MCOPSTN1: 20 }),
  users: ['hire', 'ps1', 'ps2', 'later'].map((u) => ({
    userPrincipalName: `${u}@contoso.com`,
    usageLocation: 'US',
    teamsProvisioningMinutes: 30,
  })),
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant });
});
afterAll(() => stack?.stop());

const root = join(__dirname, '..', '..');
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

async function uploadCsv(batchId: string): Promise<string> {
  const container = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
    'license-reports',
  );
  for await (const b of container.listBlobsFlat({ prefix: `uploads/${batchId}/` }))
    if (b.name.endsWith('/report.csv'))
      return (await container.getBlobClient(b.name).downloadToBuffer()).toString('utf8');
  throw new Error(`no report.csv for ${batchId}`);
}

describe('input read as it was meant', () => {
  it('refuses a JSON batch with a misspelt field over HTTP: 400 problem+json naming the path and the field meant; nothing starts', async () => {
    const writes = stack.sim.record.stateChangingWrites.length;
    const r = await postBatch(stack, {
      batchId: 'typo-1',
      users: [{ userPrincipalName: 'hire@contoso.com', startdate: '2026-12-24' }],
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({
      title: 'Unknown fields',
      status: 400,
      detail: expect.stringContaining('users[0].startdate: unknown field; did you mean startDate?'),
      unknownFields: [{ path: 'users[0].startdate', closest: 'startDate' }],
    });
    expect((await getBatch(stack, 'typo-1')).status).toBe(404);
    expect(stack.sim.record.stateChangingWrites.length).toBe(writes);
  });

  it('refuses a .json upload with a misspelt field: the report holds the error, report.csv states it in its first row', async () => {
    const writes = stack.sim.record.stateChangingWrites.length;
    const batchId = await uploadBlob(
      stack,
      'hires.json',
      JSON.stringify({ users: [{ userPrincipalName: 'hire@contoso.com', usagelocation: 'US' }] }),
    );
    const report = await waitForReport(stack, batchId);
    expect(report.error).toBe(
      'license-requests/hires.json: users[0].usagelocation: unknown field; did you mean usageLocation?. Nothing was licensed: fix the field names and send the batch again (a batch has batchId, profile, callbackUrl, users; a user has userPrincipalName, upn, displayName, profile, skus, sku, usageLocation, onPremisesPstn, hybrid, phoneNumber, telephoneNumber, numberType, emergencyLocationId, locationId, startDate, hireDate, employeeHireDate, action, endDate, leaveDate, employeeLeaveDateTime)',
    );
    expect(report.counts.total).toBe(0);
    const csv = (await uploadCsv(batchId)).replace(/^\uFEFF/, '').split('\r\n');
    expect(csv[1]).toMatch(
      /^,,,,,,,file,input_refused,"license-requests\/hires\.json: users\[0\]\.usagelocation: unknown field; did you mean usageLocation\?/,
    );
    expect(stack.sim.record.stateChangingWrites.length).toBe(writes);
  });

  it("licenses Windows PowerShell's Export-Csv file, #TYPE line and all, and says it read past it", async () => {
    const file =
      '#TYPE Selected.Microsoft.Graph.PowerShell.Models.MicrosoftGraphUser\r\n"UserPrincipalName","UsageLocation","Department"\r\n"ps1@contoso.com","US","Sales"\r\n"ps2@contoso.com","US","Sales"\r\n';
    const batchId = await uploadBlob(stack, 'phone-system-only/export.csv', file);
    const report = await waitForReport(stack, batchId);
    expect(report.error).toBeUndefined();
    expect(report.advisories).toEqual(['powershell_type_line_skipped']);
    expect(report.users.map((u) => [u.userPrincipalName, u.line, u.outcome])).toEqual([
      ['ps1@contoso.com', 3, 'assigned'],
      ['ps2@contoso.com', 4, 'assigned'],
    ]);
    const csv = (await uploadCsv(batchId)).replace(/^\uFEFF/, '').split('\r\n');
    expect(csv[1]).toMatch(/^,,,,,,,file,powershell_type_line_skipped,"The file's first line is the ""#TYPE …"" line/);
  });

  it('keeps the advisories of a row licensed when its start date came, as for any other row', async () => {
    const start = new Date(stack.clock.now() + 3 * DAY).toISOString().slice(0, 10);
    expect(
      (
        await postBatch(stack, {
          batchId: 'later-1',
          users: [
            { userPrincipalName: 'later@contoso.com', startDate: start },
            { userPrincipalName: 'hire@contoso.com' },
          ],
        })
      ).status,
    ).toBe(202);
    const report = await waitForReport(stack, 'later-1', 180_000);
    expect(outcomesByUpn(report)).toEqual({ 'later@contoso.com': 'provisioned', 'hire@contoso.com': 'provisioned' });
    const [later, now] = report.users;
    expect(later!.scheduledFor).not.toBeNull();
    expect(later!.advisories).toEqual(now!.advisories);
    expect(later!.advisories).toContain('next_step_phone_number');
    expect(later!.addedSkus).toEqual(['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1']);
  });
});

describe('dialtone run', () => {
  const cli = freshBuild(root, join('local', 'cli.js'));
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dialtone-input-'));
    made.push(dir);
    return dir;
  };

  it('exits 2 for a JSON file with a misspelt field, the error in report.json and in the first row of report.csv', () => {
    const dir = folder();
    writeFileSync(
      join(dir, 'hires.json'),
      JSON.stringify({ users: [{ userPrincipalName: 'a@contoso.com', startdate: '2026-12-24' }] }),
    );
    const r = spawnSync(process.execPath, [cli, 'run', 'hires.json', '--out', 'out'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('hires.json: users[0].startdate: unknown field; did you mean startDate?');
    expect(JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')).error).toContain(
      'users[0].startdate: unknown field; did you mean startDate?',
    );
    expect(readFileSync(join(dir, 'out', 'report.csv'), 'utf8').split('\r\n')[1]).toMatch(
      /^,,,,,,,file,input_refused,"hires\.json: users\[0\]\.startdate: unknown field/,
    );
  });

  it('lists the rows that need a person with what to do, and what was bought', () => {
    const dir = folder();
    writeFileSync(
      join(dir, 'tenant.json'),
      JSON.stringify({
        skus: tenant.skus,
        users: [
          { userPrincipalName: 'ok@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 10 },
          { userPrincipalName: 'guest_x.com#EXT#@contoso.com', userType: 'Guest', usageLocation: 'US' },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'hires.csv'),
      'upn\nok@contoso.com\nghost@contoso.com\nguest_x.com#EXT#@contoso.com\nok@contoso.com\n',
    );
    const r = spawnSync(process.execPath, [cli, 'run', 'hires.csv', '--tenant', 'tenant.json', '--out', 'out'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('licences: bought 1 × ENTERPRISEPACK, 1 × MCOEV, 1 × MCOPSTN1');
    expect(r.stdout).toContain(
      [
        'rows that need a person',
        '  row 2 (line 3) ghost@contoso.com: failed/user_not_found → create the account, or correct the UPN, then send the row again',
        "  row 3 (line 4) guest_x.com#EXT#@contoso.com: failed/guest_account → guests are never licensed: licence the person in their own organisation, or send their member account's UPN",
        '  row 4 (line 5) ok@contoso.com: rejected/duplicate → the UPN appears earlier in the file; remove the later row',
      ].join('\n'),
    );
  });
});
