import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_INPUT_BYTES, MAX_INPUT_ROWS, parseInput, type ParseOutcome } from '../../shared/domain/input';

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'inputs', name));
const bytes = (s: string) => Buffer.from(s, 'utf8');
function rowsOf(r: ParseOutcome) {
  if (!r.ok) throw new Error(`expected rows, got ${r.error.code}: ${r.error.message}`);
  return r.input.rows;
}
function errorOf(r: ParseOutcome) {
  if (r.ok) throw new Error('expected an input error');
  return r.error;
}

describe('input parsing', () => {
  it('reads the Microsoft 365 admin center user export, taking UPN and usage location from its columns', () => {
    const r = parseInput(fixture('admin-center-export.csv'), 'export.csv');
    expect(r.ok && r.input.format).toBe('csv');
    expect(rowsOf(r)).toEqual([
      { row: 1, userPrincipalName: 'AdeleV@contoso.com', usageLocation: 'US' },
      { row: 2, userPrincipalName: 'AlexW@contoso.com', usageLocation: 'FR' },
      { row: 3, userPrincipalName: 'DiegoS@contoso.com' },
    ]);
  });

  it('reads a semicolon CSV with a BOM, CRLF, quotes, header aliases and yes/no/0 hybrid values, skipping blank lines', () => {
    expect(rowsOf(parseInput(fixture('semicolon-bom-crlf.csv'), 'x.csv'))).toEqual([
      { row: 1, userPrincipalName: 'meganb@contoso.com', usageLocation: 'DE', profile: 'phone-international', onPremisesPstn: false },
      { row: 2, userPrincipalName: 'lynner@contoso.com', usageLocation: 'GB', profile: 'phone-system-only', onPremisesPstn: true },
      { row: 3, userPrincipalName: 'isaiahl@contoso.com', onPremisesPstn: false },
    ]);
  });

  it("reads the source document's plain UPN list, skipping # comments and blank lines", () => {
    const r = parseInput(fixture('upn-list.txt'), 'users.txt');
    expect(r.ok && r.input.format).toBe('upn-list');
    expect(rowsOf(r).map((x) => [x.row, x.userPrincipalName])).toEqual([
      [1, 'user1@contoso.com'],
      [2, 'user2@contoso.com'],
      [3, 'User3@Contoso.com'],
    ]);
  });

  it('reads the JSON body with batch id, batch profile and per-user fields', () => {
    const r = parseInput(fixture('batch.json'), 'body');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.input.batchId).toBe('hr-2026-11-25');
    expect(r.input.profile).toBe('phone-domestic');
    expect(r.input.rows[2]).toEqual({ row: 3, userPrincipalName: 'new.hire3@contoso.com', skus: ['ENTERPRISEPREMIUM', 'MCOPSTN2'], onPremisesPstn: false });
  });

  it('matches headers case-insensitively ignoring spaces and underscores, and splits skus on ; or +', () => {
    const rows = rowsOf(parseInput(bytes('USER_PRINCIPAL_NAME,SKUs,on premises pstn\na@b.com,"ENTERPRISEPACK;MCOEV+MCOPSTN1",TRUE\n'), 'x'));
    expect(rows).toEqual([{ row: 1, userPrincipalName: 'a@b.com', skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'], onPremisesPstn: true }]);
  });

  it('accepts a one-column CSV whose only header is UPN, and LF endings', () => {
    expect(rowsOf(parseInput(bytes('UPN\na@b.com\nc@d.com'), 'x')).map((r) => r.userPrincipalName)).toEqual(['a@b.com', 'c@d.com']);
  });

  it('keeps an unreadable hybrid value on its row, naming row and field', () => {
    const [row] = rowsOf(parseInput(bytes('upn,hybrid\na@b.com,maybe\n'), 'x'));
    expect(row?.problem).toEqual({ reason: 'invalid_field', field: 'hybrid', message: 'row 1, field hybrid: "maybe" is not true/false/yes/no/1/0' });
  });

  it('decodes UTF-16 with a BOM', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('UPN\r\na@b.com\r\n', 'utf16le')]);
    expect(rowsOf(parseInput(utf16, 'x')).map((r) => r.userPrincipalName)).toEqual(['a@b.com']);
  });

  it.each([
    ['empty', bytes(''), 'empty'],
    ['whitespace only', bytes('  \n\n'), 'empty'],
    ['only comments', bytes('# nothing\n#here\n'), 'empty'],
    ['binary', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x01, 0xff]), 'binary'],
    ['control characters', bytes('a@b.com\u0001\u0002\n'), 'binary'],
    ['invalid UTF-8', Buffer.from([0x61, 0x40, 0x62, 0xe9, 0x2e, 0x63]), 'encoding'],
    ['CSV without a UPN column', bytes('name,email\nA,a@b.com\n'), 'no_upn_column'],
    ['CSV header only', bytes('userPrincipalName,profile\n'), 'empty'],
    ['unterminated quote', bytes('upn,profile\n"a@b.com,x\n'), 'malformed'],
    ['malformed JSON', bytes('{"users": ['), 'malformed'],
    ['JSON without users', bytes('{"people": []}'), 'malformed'],
    ['JSON with empty users', bytes('{"users": []}'), 'empty'],
    ['JSON array at the top', bytes('[1,2]'), 'malformed'],
    ['JSON with a bad batch id', bytes('{"batchId": "../x", "users": [{"userPrincipalName":"a@b.com"}]}'), 'malformed'],
  ])('refuses %s with one clear error', (_name, input, code) => {
    const err = errorOf(parseInput(input, 'in.csv'));
    expect(err.code).toBe(code);
    expect(err.message.startsWith('in.csv: ')).toBe(true);
  });

  it('survives deeply nested JSON: the nested value becomes one unusable row', () => {
    const rows = rowsOf(parseInput(bytes('{"users":' + '['.repeat(100000) + ']'.repeat(100000) + '}'), 'body'));
    expect(rows.map((r) => r.problem?.reason)).toEqual(['invalid_upn']);
  });

  it('names the columns it found when no UPN column exists', () => {
    expect(errorOf(parseInput(bytes('name;mail\nA;a@b.com\n'), 'f.csv')).message).toContain('found columns: name, mail');
  });

  it('refuses more than 50,000 rows and more than 20 MiB', () => {
    const many = 'UPN\n' + Array.from({ length: MAX_INPUT_ROWS + 1 }, (_, i) => `u${i}@c.com`).join('\n');
    expect(errorOf(parseInput(bytes(many), 'x')).code).toBe('too_many_rows');
    const list = Array.from({ length: MAX_INPUT_ROWS + 1 }, (_, i) => `u${i}@c.com`).join('\n');
    expect(errorOf(parseInput(bytes(list), 'x')).code).toBe('too_many_rows');
    expect(errorOf(parseInput(Buffer.alloc(MAX_INPUT_BYTES + 1, 0x61), 'x')).code).toBe('too_large');
    expect(rowsOf(parseInput(bytes(list.slice(0, list.lastIndexOf('\n'))), 'x'))).toHaveLength(MAX_INPUT_ROWS);
  });

  it('turns JSON users of the wrong shape into rows with problems rather than failing the batch', () => {
    const rows = rowsOf(parseInput(bytes(JSON.stringify({ users: [42, { userPrincipalName: 7 }, { userPrincipalName: 'a@b.com', skus: 'MCOEV' }, { userPrincipalName: 'c@d.com', onPremisesPstn: 'perhaps' }] })), 'body'));
    expect(rows.map((r) => [r.row, r.problem?.reason, r.problem?.field])).toEqual([
      [1, 'invalid_upn', 'users'],
      [2, 'invalid_upn', 'userPrincipalName'],
      [3, 'invalid_field', 'skus'],
      [4, 'invalid_field', 'onPremisesPstn'],
    ]);
  });
});
