// Hostile and broken input through both intakes of the local host: generated CSVs, UPN lists and JSON bodies, huge,
// binary and UTF-16 files, deep nesting, megabyte fields, formula payloads. Each gets a clear 4xx, rejected rows or
// a report error; no function or orchestration crashes; every accepted row ends in the report exactly once.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { startStack, type Stack } from '../../local/stack';
import { parse as parseCsv } from 'csv-parse/sync';
import { getBatch, peakMemoryKiB, postBatch, readRunFile, uploadBlob, waitForReport } from '../support/e2e';
import { JSON_USER_FIELDS } from '../../shared/domain/input';
import { tenantSkus } from '../support/tenant';

const tenant = {
  skus: tenantSkus({ ENTERPRISEPACK: 50, MCOEV: 50, MCOPSTN1: 50 }),
  users: [{ userPrincipalName: 'real@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 10 }],
};

let stack: Stack;
const hostLog: string[] = [];
beforeAll(async () => {
  stack = await startStack({
    tenant,
    onHostLog: (l) => {
      hostLog.push(l);
      if (process.env['DIALTONE_TEST_VERBOSE']) console.log(l);
    },
  });
});
afterAll(() => stack?.stop());

const formula = fc.constantFrom('=1+1', '+cmd|/c calc', '-2+3', '@SUM(A1:A2)', '\t=x', '=HYPERLINK("http://x","y")');
const field = fc.oneof(
  fc.string({ maxLength: 30 }),
  formula,
  fc.constantFrom('real@contoso.com', 'phone-domestic', 'US', 'yes', 'MCOEV;MCOPSTN1'),
);

async function expectSettles(batchId: string, rows: number) {
  const report = await waitForReport(stack, batchId);
  expect(report.counts.total).toBe(rows);
  expect(report.users.map((u) => u.row)).toEqual(Array.from({ length: rows }, (_, i) => i + 1));
  return report;
}

describe('hostile input', () => {
  it('answers generated JSON bodies with 202 (every row then in the report once) or a 4xx problem', async () => {
    const body = fc.oneof(
      fc.record({
        users: fc.array(
          fc.oneof(
            fc.record(
              {
                userPrincipalName: field,
                profile: field,
                usageLocation: field,
                onPremisesPstn: fc.oneof(fc.boolean(), field),
              },
              { requiredKeys: [] },
            ),
            fc.anything(),
          ),
          { maxLength: 12 },
        ),
      }),
      fc.anything(),
    );
    const samples = fc.sample(body, { numRuns: 30, seed: 7 });
    const accepted: { id: string; rows: number }[] = [];
    for (const [i, b] of samples.entries()) {
      const payload =
        b !== null && typeof b === 'object' && !Array.isArray(b) && 'users' in b
          ? { ...(b as object), batchId: `fuzz-json-${i}` }
          : b;
      // The expected row count comes from the generated body, not from the server's answer.
      const users = (payload as { users?: unknown } | null)?.users;
      // A user with a field dialtone does not know refuses the whole batch (strict JSON, docs/strict-json.md).
      const unknownField =
        Array.isArray(users) &&
        users.some(
          (u) =>
            u !== null &&
            typeof u === 'object' &&
            !Array.isArray(u) &&
            Object.keys(u as object).some((k) => !JSON_USER_FIELDS.has(k)),
        );
      const expectedRows = Array.isArray(users) && users.length > 0 && !unknownField ? users.length : undefined;
      const r = await postBatch(stack, JSON.stringify(payload) ?? 'undefined');
      if (expectedRows !== undefined) {
        expect([i, r.status, r.body.rows]).toEqual([i, 202, expectedRows]);
        accepted.push({ id: `fuzz-json-${i}`, rows: expectedRows });
      } else {
        expect([i, r.status, r.headers.get('content-type')]).toEqual([i, 400, 'application/problem+json']);
      }
    }
    expect(accepted.length).toBeGreaterThan(3);
    for (const a of accepted) await expectSettles(a.id, a.rows);
  });

  it('answers generated CSVs and UPN lists, by HTTP and by upload, without losing a row', async () => {
    // Each generated file carries the number of rows it holds; the report must have exactly that many.
    const csv = fc.array(fc.tuple(field, field, field), { minLength: 1, maxLength: 10 }).map((rows) => ({
      text:
        'userPrincipalName,profile,usageLocation\n' +
        rows.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(',')).join('\n'),
      rows: rows.length,
    }));
    const list = fc
      .array(
        field.filter((s) => !/[,;\r\n]/.test(s) && s.trim() !== '' && !s.trim().startsWith('#')),
        { minLength: 1, maxLength: 10 },
      )
      .map((l) => ({ text: l.join('\n'), rows: /^\s*[[{]/.test(l.join('\n')) ? undefined : l.length }));
    let n = 0;
    for (const { text, rows } of [
      ...fc.sample(csv, { numRuns: 8, seed: 3 }),
      ...fc.sample(list, { numRuns: 6, seed: 4 }),
    ]) {
      const id = `fuzz-text-${n++}`;
      const r = await postBatch(stack, text, { contentType: 'text/csv', query: `?batchId=${id}` });
      const blobId = await uploadBlob(stack, `fuzz/upload-${n}.csv`, text);
      if (rows === undefined) {
        // Text that opens with [ or { is read as JSON; this generated text is not valid JSON.
        expect([id, r.status, r.body.detail]).toEqual([id, 400, expect.stringMatching(/not valid JSON/)]);
        expect((await waitForReport(stack, blobId)).error).toMatch(/not valid JSON/);
        continue;
      }
      expect([id, r.status, r.body.rows]).toEqual([id, 202, rows]);
      await expectSettles(id, rows);
      await expectSettles(blobId, rows);
    }
  });

  // That the upload's bytes are never downloaded (a HEAD only) is proved in integration/batch-store.test.ts.
  it('refuses a 30 MiB body (413) and reports a 30 MiB upload as an error over the limit', async () => {
    const big = Buffer.alloc(30 * 1024 * 1024, 'a@b.com\n');
    expect((await postBatch(stack, big, { contentType: 'text/plain' })).status).toBe(413);
    const id = await uploadBlob(stack, 'big.txt', big);
    const report = await waitForReport(stack, id);
    expect(report.error).toMatch(/over the limit of 20971520 bytes/);
  });

  it('refuses 100,000 rows (413 / report error) and binary data (400 / report error)', async () => {
    const many = 'upn\n' + Array.from({ length: 100_000 }, (_, i) => `u${i}@contoso.com`).join('\n');
    const r = await postBatch(stack, many, { contentType: 'text/csv' });
    expect([r.status, r.body.detail]).toEqual([413, expect.stringMatching(/more than 50000 rows/)]);
    expect((await waitForReport(stack, await uploadBlob(stack, 'many.csv', many))).error).toMatch(
      /more than 50000 rows/,
    );
    const binary = readFileSync(process.execPath).subarray(0, 4096);
    expect((await postBatch(stack, binary, { contentType: 'text/csv' })).status).toBe(400);
    expect((await waitForReport(stack, await uploadBlob(stack, 'tool.exe', binary))).error).toMatch(/not a text file/);
  });

  it('reads a UTF-16 file with a BOM, and survives deep nesting and a 1 MiB field', async () => {
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('UserPrincipalName,UsageLocation\r\nreal@contoso.com,US\r\n', 'utf16le'),
    ]);
    const report = await waitForReport(stack, await uploadBlob(stack, 'excel-unicode.csv', utf16));
    expect(report.users.map((u) => [u.userPrincipalName, u.outcome])).toEqual([['real@contoso.com', 'provisioned']]);

    const deep = `{"batchId":"deep-1","users":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const r = await postBatch(stack, deep);
    expect(r.status).toBe(202);
    expect((await expectSettles('deep-1', 1)).users[0]!.reason).toBe('invalid_upn');

    const wide = `upn,profile\n${'x'.repeat(1024 * 1024)}@contoso.com,phone-domestic\n`;
    const w = await postBatch(stack, wide, { contentType: 'text/csv', query: '?batchId=wide-1' });
    expect(w.status).toBe(202);
    const wideReport = await expectSettles('wide-1', 1);
    expect(wideReport.users[0]!.reason).toBe('invalid_upn');
    expect(wideReport.users[0]!.message.length).toBeLessThan(300);
  });

  it('neutralises formula payloads in every field of report.csv', async () => {
    const users = ['=1+1@contoso.com', '+cmd@contoso.com', '-x@contoso.com', '@x@contoso.com'].map((u) => ({
      userPrincipalName: u,
      profile: '=HYPERLINK("x")',
      usageLocation: '+1',
    }));
    expect((await postBatch(stack, { batchId: 'formula-1', users })).status).toBe(202);
    await expectSettles('formula-1', 4);
    const csv = await readRunFile(stack, 'default', 'formula-1', 'report.csv');
    // Read as a spreadsheet reads it (quotes undone), then look at every cell, not at lines.
    const [header, ...rows]: string[][] = parseCsv(csv.replace(/^\uFEFF/, ''), { relaxColumnCount: false });
    expect(rows).toHaveLength(4);
    for (const cells of rows) {
      expect(cells).toHaveLength(header!.length);
      for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/);
    }
    // The payloads are there, each behind the quote that makes a spreadsheet show it as text.
    const column = (name: string) => rows.map((cells) => cells[header!.indexOf(name)]);
    expect(column('userPrincipalName')).toEqual(users.map((u) => `'${u.userPrincipalName}`));
    expect(column('profile').every((p) => /^'=HYPERLINK\("x"\)$/i.test(p ?? ''))).toBe(true);
  });

  it('is still up, has kept its memory bounded, and never wrote a UPN, the function key or a token to its log', async () => {
    expect((await fetch(`${stack.host.url}/admin/host/status`)).status).toBe(200);
    // The API still answers (a batch never sent is a 404, not a dead host).
    expect((await getBatch(stack, 'never-sent')).status).toBe(404);
    const peakKiB = peakMemoryKiB(stack.host.child.pid);
    expect(peakKiB).toBeGreaterThan(0);
    expect(peakKiB).toBeLessThan(1024 * 1024);
    const log = hostLog.join('\n');
    expect(log).not.toContain('@contoso.com');
    expect(log).not.toContain(stack.host.functionKey);
    expect(log).not.toContain('local-simulator-token');
  });
});
