import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  jsonSyntaxErrorAt,
  MAX_INPUT_BYTES,
  MAX_INPUT_ROWS,
  parseInput,
  type ParseOutcome,
} from '../../shared/domain/input';

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
  it('reads the Microsoft 365 admin center user export, taking UPN and usage location from its columns; its "Phone number" (business phones) is ignored, with an advisory', () => {
    const r = parseInput(fixture('admin-center-export.csv'), 'export.csv');
    expect(r.ok && r.input.format).toBe('csv');
    expect(r.ok && r.input.advisories).toEqual(['admin_export_phone_numbers_ignored']);
    expect(rowsOf(r)).toEqual([
      { row: 1, line: 2, displayName: 'Adele Vance', userPrincipalName: 'AdeleV@contoso.com', usageLocation: 'US' },
      { row: 2, line: 3, displayName: 'Vance, Alex', userPrincipalName: 'AlexW@contoso.com', usageLocation: 'FR' },
      { row: 3, line: 4, displayName: 'Diego Siciliani', userPrincipalName: 'DiegoS@contoso.com' },
    ]);
  });

  it('reads a semicolon CSV with a BOM, CRLF, quotes, header aliases and yes/no/0 hybrid values, skipping blank lines', () => {
    expect(rowsOf(parseInput(fixture('semicolon-bom-crlf.csv'), 'x.csv'))).toEqual([
      {
        row: 1,
        line: 2,
        userPrincipalName: 'meganb@contoso.com',
        usageLocation: 'DE',
        profile: 'phone-international',
        onPremisesPstn: false,
      },
      {
        row: 2,
        line: 3,
        userPrincipalName: 'lynner@contoso.com',
        usageLocation: 'GB',
        profile: 'phone-system-only',
        onPremisesPstn: true,
      },
      { row: 3, line: 5, userPrincipalName: 'isaiahl@contoso.com', onPremisesPstn: false },
    ]);
  });

  it("reads the source document's plain UPN list, skipping # comments and blank lines", () => {
    const r = parseInput(fixture('upn-list.txt'), 'users.txt');
    expect(r.ok && r.input.format).toBe('upn-list');
    expect(rowsOf(r).map((x) => [x.row, x.line, x.userPrincipalName])).toEqual([
      [1, 3, 'user1@contoso.com'],
      [2, 5, 'user2@contoso.com'],
      [3, 7, 'User3@Contoso.com'],
    ]);
  });

  it('reads the JSON body with batch id, batch profile and per-user fields', () => {
    const r = parseInput(fixture('batch.json'), 'body');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.input.batchId).toBe('hr-2026-11-25');
    expect(r.input.profile).toBe('phone-domestic');
    expect(r.input.rows[2]).toEqual({
      row: 3,
      userPrincipalName: 'new.hire3@contoso.com',
      skus: ['ENTERPRISEPREMIUM', 'MCOPSTN2'],
      onPremisesPstn: false,
    });
  });

  it('matches headers case-insensitively ignoring spaces and underscores, and splits skus on ; or +', () => {
    const rows = rowsOf(
      parseInput(
        bytes('USER_PRINCIPAL_NAME,SKUs,on premises pstn\na@b.com,"ENTERPRISEPACK;MCOEV+MCOPSTN1",TRUE\n'),
        'x',
      ),
    );
    expect(rows).toEqual([
      {
        row: 1,
        line: 2,
        userPrincipalName: 'a@b.com',
        skus: ['ENTERPRISEPACK', 'MCOEV', 'MCOPSTN1'],
        onPremisesPstn: true,
      },
    ]);
  });

  it('accepts a one-column CSV whose only header is UPN, and LF endings', () => {
    expect(rowsOf(parseInput(bytes('UPN\na@b.com\nc@d.com'), 'x')).map((r) => r.userPrincipalName)).toEqual([
      'a@b.com',
      'c@d.com',
    ]);
  });

  it('keeps an unreadable hybrid value on its row, naming row and field', () => {
    const [row] = rowsOf(parseInput(bytes('upn,hybrid\na@b.com,maybe\n'), 'x'));
    expect(row?.problem).toEqual({
      reason: 'invalid_field',
      field: 'hybrid',
      message: 'row 1 (line 2): field hybrid: "maybe" is not true/false/yes/no/1/0',
    });
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
    ['NUL bytes', Buffer.from([0x61, 0x00, 0x62]), 'binary'],
    ['control characters', bytes('a@b.com\u0001\u0002\n'), 'binary'],
    ['neither UTF-8 nor Windows-1252', Buffer.from([0x61, 0x40, 0x62, 0x81, 0x2e, 0x63]), 'encoding'],
    ['CSV without a UPN column', bytes('name,email\nA,a@b.com\n'), 'no_upn_column'],
    ['CSV header only', bytes('userPrincipalName,profile\n'), 'empty'],
    ['unterminated quote', bytes('upn,profile\n"a@b.com,x\n'), 'malformed'],
    ['malformed JSON', bytes('{"users": ['), 'malformed'],
    ['JSON without users', bytes('{"people": []}'), 'unknown_field'],
    ['JSON without a users field', bytes('{"batchId": "x"}'), 'malformed'],
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
    expect(errorOf(parseInput(bytes('name;mail\nA;a@b.com\n'), 'f.csv')).message).toContain(
      'found columns: name, mail',
    );
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
    const rows = rowsOf(
      parseInput(
        bytes(
          JSON.stringify({
            users: [
              42,
              { userPrincipalName: 7 },
              { userPrincipalName: 'a@b.com', skus: 'MCOEV' },
              { userPrincipalName: 'c@d.com', onPremisesPstn: 'perhaps' },
            ],
          }),
        ),
        'body',
      ),
    );
    expect(rows.map((r) => [r.row, r.problem?.reason, r.problem?.field])).toEqual([
      [1, 'invalid_upn', 'users'],
      [2, 'invalid_upn', 'userPrincipalName'],
      [3, 'invalid_field', 'skus'],
      [4, 'invalid_field', 'onPremisesPstn'],
    ]);
  });
});

// Fixtures made by test/fixtures/inputs/make-excel-fixtures.py, byte for byte as Excel saves these files.
describe('the files admins really have', () => {
  it('reads Excel\'s Windows "CSV" (Windows-1252, semicolons) with accented names, and says it was read as Windows-1252', () => {
    const r = parseInput(fixture('excel-windows-1252.csv'), 'people.csv');
    if (!r.ok) throw new Error(r.error.message);
    expect([r.input.format, r.input.encoding, r.input.delimiter, r.input.advisories]).toEqual([
      'csv',
      'windows-1252',
      ';',
      ['input_decoded_windows_1252'],
    ]);
    expect(r.input.rows.map((x) => [x.line, x.displayName, x.userPrincipalName, x.usageLocation])).toEqual([
      [2, 'Zoë Müller', 'zoe.mueller@contoso.com', 'DE'],
      [3, 'François Lefèvre', 'francois.lefevre@contoso.com', 'FR'],
      [4, 'José Peña', 'jose.pena@contoso.com', 'ES'],
    ]);
  });

  it('reads Excel\'s "Unicode Text" (UTF-16LE with a BOM, tab-delimited) as CSV', () => {
    const r = parseInput(fixture('excel-unicode-text.txt'), 'people.txt');
    if (!r.ok) throw new Error(r.error.message);
    expect([r.input.format, r.input.encoding, r.input.delimiter, r.input.advisories]).toEqual([
      'csv',
      'utf-16le',
      '\t',
      [],
    ]);
    expect(r.input.rows.map((x) => [x.row, x.line, x.displayName, x.userPrincipalName])).toEqual([
      [1, 2, 'Łukasz Żółć', 'lukasz.zolc@contoso.com'],
      [2, 3, '小林 さくら', 'sakura.kobayashi@contoso.com'],
      [3, 4, 'Zoë Müller', 'zoe.mueller@contoso.com'],
    ]);
  });

  it('takes the delimiter from a first line "sep=;" and counts lines from the top of the file', () => {
    const r = parseInput(fixture('excel-sep-line.csv'), 'people.csv');
    if (!r.ok) throw new Error(r.error.message);
    expect([r.input.format, r.input.delimiter, r.input.usageLocationColumn]).toEqual(['csv', ';', 'Usage location']);
    expect(r.input.rows.map((x) => [x.row, x.line, x.userPrincipalName])).toEqual([
      [1, 3, 'zoe.mueller@contoso.com'],
      [2, 4, 'francois.lefevre@contoso.com'],
      [3, 5, 'jose.pena@contoso.com'],
    ]);
  });

  it("honours a body's declared charset, and refuses one it cannot read", () => {
    const latin = Buffer.from('Display name,UPN\r\nZoë,zoe@contoso.com\r\n', 'latin1');
    const declared = parseInput(latin, 'request body', { charset: 'ISO-8859-1' });
    expect(
      declared.ok && [declared.input.encoding, declared.input.rows[0]?.displayName, declared.input.advisories],
    ).toEqual(['windows-1252', 'Zoë', []]);
    const utf16 = parseInput(Buffer.from('UPN\r\nzoe@contoso.com\r\n', 'utf16le'), 'request body', {
      charset: 'utf-16',
    });
    expect(utf16.ok && utf16.input.rows.map((x) => x.userPrincipalName)).toEqual(['zoe@contoso.com']);
    // UTF-8 declared, but not UTF-8: the declaration is believed, so the bytes are refused rather than guessed at.
    expect(errorOf(parseInput(latin, 'request body', { charset: 'utf-8' })).message).toBe(
      'request body: is not valid utf-8 text, the charset it declared; save it as UTF-8 (in Excel: "CSV UTF-8")',
    );
    expect(errorOf(parseInput(latin, 'request body', { charset: 'shift_jis' }))).toEqual({
      code: 'unsupported_charset',
      message: 'request body: charset "shift_jis" is not supported; send utf-8, utf-16 or windows-1252',
    });
  });

  it('names a workbook for what it is, and what to do instead', () => {
    expect(errorOf(parseInput(fixture('workbook.xlsx'), 'C:\\Users\\admin\\new-hires.xlsx'))).toEqual({
      code: 'binary',
      message:
        'C:\\Users\\admin\\new-hires.xlsx: is an Excel workbook (.xlsx), not a CSV: open it in Excel and save it as "CSV UTF-8 (Comma delimited)"',
    });
    const xls = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0]);
    expect(errorOf(parseInput(xls, 'old.xls')).message).toMatch(/^old\.xls: is an Excel 97-2003 workbook \(\.xls\)/);
    expect(errorOf(parseInput(Buffer.from('%PDF-1.7\n'), 'list.pdf')).message).toBe(
      'list.pdf: is a PDF document, not a CSV: export the users from the system that made it as CSV',
    );
  });

  it.each([
    ['a missing value', '{\n  "users": [\n    { "userPrincipalName": x }\n  ]\n}', 3, 28],
    ['a trailing comma', '{"users": [{"userPrincipalName": "a@b.com"},]}', 1, 45],
    ['a missing colon', '{\n "users" []}', 2, 10],
    ['a line break inside a string', '{"users": [{"userPrincipalName": "a@b\n.com"}]}', 1, 38],
    ['the end of the text', '{"users": [', 1, 12],
  ])('says line and column of broken JSON: %s', (_name, text, line, column) => {
    expect(errorOf(parseInput(bytes(text), 'batch.json')).message).toMatch(
      new RegExp(`^batch\\.json: is not valid JSON: line ${line}, column ${column}: `),
    );
  });

  it('finds no error in valid JSON', () => {
    for (const t of ['{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"],"b":{}}', '[]', ' "s" ']) {
      JSON.parse(t);
      expect(jsonSyntaxErrorAt(t)).toBe(-1);
    }
  });

  it('names every problem of a JSON row, counting rows from 1', () => {
    const [row] = rowsOf(
      parseInput(
        bytes(
          JSON.stringify({
            users: [{ userPrincipalName: 'a@b.com', skus: 'MCOEV', onPremisesPstn: 'perhaps', usageLocation: 7 }],
          }),
        ),
        'body',
      ),
    );
    expect(row?.problem).toEqual({
      reason: 'invalid_field',
      field: 'skus, usageLocation, onPremisesPstn',
      message:
        'row 1 (users[0]): skus: must be an array of part numbers; usageLocation: must be a two-letter country code; onPremisesPstn: must be true or false',
    });
  });
});
