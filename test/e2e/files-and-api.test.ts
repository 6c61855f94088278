// The files admins really have, through the whole local stack: Excel's Windows "CSV" (Windows-1252, ';'), its
// "Unicode Text" (UTF-16LE, tabs), a "sep=;" file and a workbook uploaded by mistake; and the HTTP API's answers to
// the calls integrators get wrong. Fixtures: test/fixtures/inputs/make-excel-fixtures.py.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { postBatch, uploadBlob, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'inputs', name));

const tenant: TenantFile = {
  skus: tenantSkus({ ENTERPRISEPACK: 100, MCOEV: 100 }),
  users: ['zoe.mueller', 'francois.lefevre', 'jose.pena', 'lukasz.zolc', 'sakura.kobayashi', 'noloc'].map((u) => ({
    userPrincipalName: `${u}@contoso.com`,
    usageLocation: null,
  })),
};

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ tenant, settings: { DIALTONE_DEFAULT_PROFILE: 'phone-system-only' } });
});
afterAll(async () => {
  await stack?.stop();
});

/** An upload's report.csv: uploads keep their runs under license-reports/uploads/<batchId>/<run>/. */
async function reportCsv(batchId: string): Promise<string> {
  const container = BlobServiceClient.fromConnectionString(stack.azurite.connectionString).getContainerClient(
    'license-reports',
  );
  const names: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix: `uploads/${batchId}/` }))
    if (b.name.endsWith('/report.csv')) names.push(b.name);
  expect(names).toHaveLength(1);
  return (await container.getBlobClient(names[0]!).downloadToBuffer()).toString('utf8');
}

describe('the files admins really have, end to end', () => {
  it("licenses Excel's Windows-1252 ';' CSV, keeping accented names, lines and the advisory, and answers with a ';' report", async () => {
    const batchId = await uploadBlob(stack, 'excel-windows-1252.csv', fixture('excel-windows-1252.csv'));
    const report = await waitForReport(stack, batchId);
    expect(report.error).toBeUndefined();
    expect([report.input, report.advisories]).toEqual([
      { format: 'csv', encoding: 'windows-1252', delimiter: ';' },
      ['input_decoded_windows_1252'],
    ]);
    expect(report.users.map((u) => [u.row, u.line, u.displayName, u.outcome])).toEqual([
      [1, 2, 'Zoë Müller', 'assigned'],
      [2, 3, 'François Lefèvre', 'assigned'],
      [3, 4, 'José Peña', 'assigned'],
    ]);
    const csv = await reportCsv(batchId);
    expect(csv.startsWith('\uFEFFrow;line;displayName;userPrincipalName;')).toBe(true);
    expect(csv).toContain('1;2;Zoë Müller;zoe.mueller@contoso.com;phone-system-only;');
  });

  it("licenses Excel's Unicode Text (UTF-16LE, tabs) with names outside Windows-1252", async () => {
    const report = await waitForReport(
      stack,
      await uploadBlob(stack, 'excel-unicode-text.txt', fixture('excel-unicode-text.txt')),
    );
    expect(report.input).toEqual({ format: 'csv', encoding: 'utf-16le', delimiter: '\t' });
    expect(report.users.map((u) => [u.line, u.displayName, u.outcome])).toEqual([
      [2, 'Łukasz Żółć', 'assigned'],
      [3, '小林 さくら', 'assigned'],
      [4, 'Zoë Müller', 'assigned'],
    ]);
  });

  it('reads a "sep=;" file as the CSV it is', async () => {
    const report = await waitForReport(
      stack,
      await uploadBlob(stack, 'excel-sep-line.csv', fixture('excel-sep-line.csv')),
    );
    expect(report.users.map((u) => [u.line, u.userPrincipalName, u.outcome])).toEqual([
      [3, 'zoe.mueller@contoso.com', 'assigned'],
      [4, 'francois.lefevre@contoso.com', 'assigned'],
      [5, 'jose.pena@contoso.com', 'assigned'],
    ]);
  });

  it('honours the charset an HTTP body declares', async () => {
    const body = Buffer.from('Display name;UPN;Usage location\r\nZoë Müller;zoe.mueller@contoso.com;DE\r\n', 'latin1');
    const r = await postBatch(stack, body, {
      contentType: 'text/csv; charset=ISO-8859-1',
      query: '?batchId=charset-declared',
    });
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'charset-declared');
    expect([report.input?.encoding, report.advisories, report.users[0]?.displayName, report.users[0]?.outcome]).toEqual(
      ['windows-1252', undefined, 'Zoë Müller', 'assigned'],
    );
    const refused = await postBatch(stack, body, { contentType: 'text/csv; charset=shift_jis' });
    expect([refused.status, refused.body.detail]).toEqual([
      415,
      'request body: charset "shift_jis" is not supported; send utf-8, utf-16 or windows-1252',
    ]);
  });

  it('names a workbook uploaded instead of a CSV, with zero users', async () => {
    const report = await waitForReport(stack, await uploadBlob(stack, 'new-hires.xlsx', fixture('workbook.xlsx')));
    expect([report.counts.total, report.error]).toEqual([
      0,
      'license-requests/new-hires.xlsx: is an Excel workbook (.xlsx), not a CSV: open it in Excel and save it as "CSV UTF-8 (Comma delimited)"',
    ]);
  });

  it('says what to fix for a missing usage location in the words of each input', async () => {
    const csv = await waitForReport(
      stack,
      await uploadBlob(stack, 'noloc.csv', 'UPN;Usage location\r\nnoloc@contoso.com;\r\n'),
    );
    expect(csv.users[0]?.message).toMatch(
      /^row 1 \(line 2\): the user has no usage location and the "Usage location" cell is blank/,
    );
    const list = await waitForReport(stack, await uploadBlob(stack, 'noloc.txt', '# new hires\nnoloc@contoso.com\n'));
    expect(list.users[0]?.message).toMatch(
      /^row 1 \(line 2\): the user has no usage location, and a list of UPNs cannot give one/,
    );
    expect(
      (await postBatch(stack, { batchId: 'noloc-json', users: [{ userPrincipalName: 'noloc@contoso.com' }] })).status,
    ).toBe(202);
    expect((await waitForReport(stack, 'noloc-json')).users[0]?.message).toMatch(/^row 1: .*add "usageLocation"/);
  });
});

describe('the HTTP API leaves no caller guessing', () => {
  const call = async (method: string, path: string) => {
    const r = await fetch(`${stack.host.url}${path}`, {
      method,
      headers: { 'x-functions-key': stack.host.functionKey },
    });
    return {
      status: r.status,
      type: r.headers.get('content-type'),
      allow: r.headers.get('allow'),
      body: (await r.json()) as { title: string; detail: string; status: number },
    };
  };

  it('answers 409 when a batchId is sent again with other rows, and 200 for the same rows again', async () => {
    const users = [{ userPrincipalName: 'zoe.mueller@contoso.com', usageLocation: 'DE' }];
    expect((await postBatch(stack, { batchId: 'hr-resend', users })).status).toBe(202);
    const same = await postBatch(stack, JSON.stringify({ users, batchId: 'hr-resend' }, null, 2));
    expect([same.status, same.body.existing]).toEqual([200, true]);
    const other = await postBatch(stack, {
      batchId: 'hr-resend',
      users: [...users, { userPrincipalName: 'jose.pena@contoso.com', usageLocation: 'ES' }],
    });
    expect([other.status, other.headers.get('content-type'), other.body.status]).toEqual([
      409,
      'application/problem+json',
      409,
    ]);
    expect(other.body.detail).toMatch(/^batch hr-resend already exists with different rows; nothing was started/);
    expect((await waitForReport(stack, 'hr-resend')).counts.total).toBe(1);
  });

  it('answers 409 to a recheck of a finished batch', async () => {
    expect(
      (
        await postBatch(stack, {
          batchId: 'done-then-recheck',
          users: [{ userPrincipalName: 'jose.pena@contoso.com', usageLocation: 'ES' }],
        })
      ).status,
    ).toBe(202);
    await waitForReport(stack, 'done-then-recheck');
    const r = await call('POST', '/api/batches/done-then-recheck/recheck');
    expect([r.status, r.type, r.body.title]).toEqual([409, 'application/problem+json', 'Batch finished']);
    expect(r.body.detail).toMatch(/^batch done-then-recheck has finished \(Completed\)/);
  });

  it('answers every error as problem+json, 404 and 405 included', async () => {
    const unknownBatch = await call('GET', '/api/batches/no-such-batch');
    expect([unknownBatch.status, unknownBatch.type]).toEqual([404, 'application/problem+json']);
    const nowhere = await call('GET', '/api/frobnicate/x');
    expect([nowhere.status, nowhere.type, nowhere.body.detail]).toEqual([
      404,
      'application/problem+json',
      expect.stringMatching(
        /^there is nothing at \/api\/frobnicate\/x; the API is POST \/api\/batches, GET \/api\/batches \(the list\), GET \/api\/batches\/\{batchId\}, .*\/cancel$/,
      ),
    ]);
    const wrongMethod = await call('GET', '/api/batches/some-batch/recheck');
    expect([wrongMethod.status, wrongMethod.type, wrongMethod.allow, wrongMethod.body.detail]).toEqual([
      405,
      'application/problem+json',
      'POST',
      'GET is not allowed on /api/batches/some-batch/recheck; use POST',
    ]);
    expect((await call('DELETE', '/api/batches')).status).toBe(405);
  });

  it("counts JSON rows from 1 and names all of a row's problems, in words a user knows", async () => {
    const r = await postBatch(stack, {
      batchId: 'bad-json-rows',
      users: [
        { userPrincipalName: 'zoe.mueller@contoso.com' },
        { userPrincipalName: 'jose.pena@contoso.com', skus: 'MCOEV', onPremisesPstn: 'perhaps' },
      ],
    });
    expect(r.status).toBe(202);
    const report = await waitForReport(stack, 'bad-json-rows');
    expect(report.users[1]).toMatchObject({
      row: 2,
      outcome: 'rejected',
      reason: 'invalid_field',
      message: 'row 2 (users[1]): skus: must be an array of part numbers; onPremisesPstn: must be true or false',
    });
    const type = await postBatch(stack, 'x', { contentType: 'application/xml' });
    expect(type.body.detail).not.toMatch(/DESIGN|seed|source document/);
  });
});
