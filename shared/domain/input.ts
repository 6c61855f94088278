// Turns what an HR system or an admin sends (a CSV or tab-delimited file as Excel saves it, a plain list of UPNs, or the
// JSON batch body) into numbered rows, each with the physical line it came from. Whole-input problems (too big, binary, no UPN column) become one InputError; problems in a single
// field stay on the row so that the row, and only the row, is rejected later.
import { parse as parseCsv } from 'csv-parse/sync';
import { isEmergencyLocationId, normalisePhoneNumber, parseNumberType, type NumberType } from './phone-numbers';
import { isProfileName } from './profiles';
import { errorText, shown } from './text';

export const MAX_INPUT_BYTES = 20 * 1024 * 1024;
export const MAX_INPUT_ROWS = 50_000;

/**
 * A batch id a caller may choose. Its blobs live in folders named after it, and Azure Storage drops a trailing dot
 * of a path segment (Azurite keeps it): `hr-2026.` and `hr-2026` would be one folder in Azure. So the last character
 * is never a dot, and `..` is refused too.
 */
export const BATCH_ID = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9_-])?$/;

export function isBatchId(id: string): boolean {
  return BATCH_ID.test(id) && !id.includes('..');
}

export const BATCH_ID_RULE = "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit, not ending with '.' and without '..'";

export type InputFormat = 'csv' | 'upn-list' | 'json';

/** The text encodings an input may come in (the WHATWG Encoding Standard's names, which Node's TextDecoder uses). */
export type InputEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export type CsvDelimiter = ',' | ';' | '\t';

/** Notes about the input as a whole, recorded in the report; they never block. */
export const INPUT_ADVISORIES = {
  input_decoded_windows_1252:
    'The file was not UTF-8, so it was read as Windows-1252 (what Excel saves as "CSV" on Windows). Check accented names in the report; save as "CSV UTF-8" to be sure.',
  powershell_type_line_skipped:
    'The file\'s first line is the "#TYPE …" line Windows PowerShell 5.1\'s Export-Csv writes; it was read past (Export-Csv -NoTypeInformation leaves it out).',
  admin_export_phone_numbers_ignored:
    'The file is the Microsoft 365 admin center\'s user export, whose "Phone number" column holds business phone numbers from Entra ID, not Teams numbers: it was ignored. To assign Teams numbers, add a "telephoneNumber" column.',
} as const;
export type InputAdvisory = keyof typeof INPUT_ADVISORIES;

export interface RowProblem {
  readonly reason: 'invalid_field' | 'invalid_upn' | 'invalid_phone_number' | 'invalid_start_date';
  /** The field (or fields, comma-separated) that cannot be read. */
  readonly field: string;
  readonly message: string;
}

export interface InputRow {
  /** 1-based position of the record in the input, header and comments excluded. */
  readonly row: number;
  /** The physical line of the file where the record starts (1-based); absent for JSON. */
  readonly line?: number;
  readonly userPrincipalName: string;
  readonly displayName?: string;
  readonly profile?: string;
  readonly skus?: readonly string[];
  readonly usageLocation?: string;
  readonly onPremisesPstn?: boolean;
  /** E.164, '+' included. */
  readonly phoneNumber?: string;
  readonly numberType?: NumberType;
  readonly emergencyLocationId?: string;
  /** The start date as sent; read (and refused if unreadable) when the batch is planned, which knows the time. */
  readonly startDate?: string;
  readonly problem?: RowProblem;
}

export type InputErrorCode = 'too_large' | 'too_many_rows' | 'empty' | 'binary' | 'encoding' | 'unsupported_charset' | 'no_upn_column' | 'malformed' | 'unknown_field';

/** A field a JSON batch has that dialtone does not know: where (`users[0].startdate`), and the known name it is closest to. */
export interface UnknownField {
  readonly path: string;
  readonly closest?: string;
}

export interface InputError {
  readonly code: InputErrorCode;
  readonly message: string;
  /** For unknown_field: each unknown field (the first MAX_UNKNOWN_FIELDS of them). */
  readonly fields?: readonly UnknownField[];
}

export interface ParsedInput {
  readonly format: InputFormat;
  readonly encoding: InputEncoding;
  /** The CSV's delimiter, for a CSV. */
  readonly delimiter?: CsvDelimiter;
  /** The CSV header of the usage location column as the file spells it, when the file has one. */
  readonly usageLocationColumn?: string;
  readonly advisories: readonly InputAdvisory[];
  /** Notes about the input naming what they are about (a column not read whose name is near one that is). */
  readonly notes?: readonly string[];
  readonly rows: InputRow[];
  readonly batchId?: string;
  readonly profile?: string;
  /** JSON only: where to call back when the batch is done (checked against the allow-list by the intake). */
  readonly callbackUrl?: string;
}

export type ParseOutcome = { ok: true; input: ParsedInput } | { ok: false; error: InputError };

export interface ParseHints {
  /** The input is JSON (a `.json` name, or an `application/json` body). */
  readonly json?: boolean;
  /** The charset an HTTP body declared (`Content-Type: text/csv; charset=windows-1252`). */
  readonly charset?: string;
}

const fail = (code: InputErrorCode, message: string): ParseOutcome => ({ ok: false, error: { code, message } });

export interface DecodedInput {
  readonly text: string;
  readonly encoding: InputEncoding;
  readonly advisories: readonly InputAdvisory[];
}

/**
 * Declared charsets as the WHATWG Encoding Standard maps their labels (https://encoding.spec.whatwg.org/#names-and-labels):
 * iso-8859-1, latin1 and us-ascii are decoded as windows-1252, and "utf-16" means UTF-16LE.
 */
const CHARSET_LABELS: ReadonlyMap<string, InputEncoding> = new Map([
  ['utf-8', 'utf-8'],
  ['utf8', 'utf-8'],
  ['unicode-1-1-utf-8', 'utf-8'],
  ['windows-1252', 'windows-1252'],
  ['cp1252', 'windows-1252'],
  ['x-cp1252', 'windows-1252'],
  ['iso-8859-1', 'windows-1252'],
  ['iso8859-1', 'windows-1252'],
  ['iso_8859-1', 'windows-1252'],
  ['latin1', 'windows-1252'],
  ['l1', 'windows-1252'],
  ['us-ascii', 'windows-1252'],
  ['ascii', 'windows-1252'],
  ['utf-16', 'utf-16le'],
  ['utf-16le', 'utf-16le'],
  ['unicode', 'utf-16le'],
  ['utf-16be', 'utf-16be'],
]);

/** Bytes that begin files people mistake for inputs, and what to tell them. */
function describeBinary(bytes: Uint8Array): string | undefined {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x50, 0x4b, 0x03, 0x04)) {
    const head = new TextDecoder('windows-1252').decode(bytes.subarray(0, 65536));
    if (head.includes('xl/')) return 'is an Excel workbook (.xlsx), not a CSV: open it in Excel and save it as "CSV UTF-8 (Comma delimited)"';
    if (head.includes('word/')) return 'is a Word document, not a CSV: put the users in a spreadsheet and save it as "CSV UTF-8"';
    return 'is a ZIP archive, not a CSV: unpack it and upload the CSV inside';
  }
  if (starts(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)) return 'is an Excel 97-2003 workbook (.xls) or another Office document, not a CSV: open it in Excel and save it as "CSV UTF-8 (Comma delimited)"';
  if (starts(0x25, 0x50, 0x44, 0x46)) return 'is a PDF document, not a CSV: export the users from the system that made it as CSV';
  if (starts(0x89, 0x50, 0x4e, 0x47) || starts(0xff, 0xd8, 0xff) || starts(0x47, 0x49, 0x46, 0x38)) return 'is a picture, not a CSV';
  if (starts(0x1f, 0x8b)) return 'is a gzip archive, not a CSV: unpack it and upload the CSV inside';
  return undefined;
}

/** Windows-1252 leaves five bytes undefined; the WHATWG decoder turns them into C1 controls, which no CSV holds. */
const UNDEFINED_IN_1252 = /[\u0081\u008d\u008f\u0090\u009d]/;

/**
 * Decodes an input. A BOM decides first (as the WHATWG decode algorithm does, over any declared charset); then a
 * declared charset; then UTF-8, and when the bytes are not valid UTF-8, Windows-1252 (what Excel's "CSV" is on Windows
 * in most of Europe and the Americas) if that gives text. Known binary files are named for what they are.
 */
export function decodeInput(bytes: Uint8Array, source: string, charset?: string): { ok: true; decoded: DecodedInput } | { ok: false; error: InputError } {
  const refuse = (code: InputErrorCode, message: string) => ({ ok: false as const, error: { code, message: `${source}: ${message}` } });
  if (bytes.length > MAX_INPUT_BYTES) return refuse('too_large', `${bytes.length} bytes is over the limit of ${MAX_INPUT_BYTES} bytes (20 MiB); split the file`);
  const binary = describeBinary(bytes);
  if (binary) return refuse('binary', binary);
  let declared: InputEncoding | undefined;
  if (charset !== undefined && charset.trim() !== '') {
    declared = CHARSET_LABELS.get(charset.trim().replace(/^"|"$/g, '').toLowerCase());
    if (!declared) return refuse('unsupported_charset', `charset "${truncate(charset, 40)}" is not supported; send utf-8, utf-16 or windows-1252`);
  }
  const strict = (encoding: InputEncoding, from: Uint8Array): string | undefined => {
    try {
      return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(from);
    } catch {
      return undefined;
    }
  };
  let encoding: InputEncoding;
  let text: string | undefined;
  const advisories: InputAdvisory[] = [];
  if (bytes[0] === 0xff && bytes[1] === 0xfe) [encoding, text] = ['utf-16le', strict('utf-16le', bytes.subarray(2))];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [encoding, text] = ['utf-16be', strict('utf-16be', bytes.subarray(2))];
  else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) [encoding, text] = ['utf-8', strict('utf-8', bytes.subarray(3))];
  else if (declared === 'utf-16le' || declared === 'utf-16be') [encoding, text] = [declared, strict(declared, bytes)];
  else if (bytes.includes(0)) return refuse('binary', 'contains NUL bytes, so it is not a text file (expected a CSV, a list of UPNs or JSON)');
  else if (declared === 'windows-1252') [encoding, text] = ['windows-1252', new TextDecoder('windows-1252').decode(bytes)];
  else {
    encoding = 'utf-8';
    text = strict('utf-8', bytes);
    if (text === undefined && declared === undefined) {
      const latin = new TextDecoder('windows-1252').decode(bytes);
      if (!UNDEFINED_IN_1252.test(latin)) {
        [encoding, text] = ['windows-1252', latin];
        advisories.push('input_decoded_windows_1252');
      }
    }
  }
  if (text === undefined || (encoding === 'windows-1252' && UNDEFINED_IN_1252.test(text))) {
    const what = declared ? `is not valid ${declared} text, the charset it declared` : encoding === 'utf-8' ? 'is neither UTF-8 nor Windows-1252 text' : `is not valid ${encoding.toUpperCase()} text`;
    return refuse('encoding', `${what}; save it as UTF-8 (in Excel: "CSV UTF-8")`);
  }
  let control = 0;
  // The whole text, not its first part: a control character deep in a file is as hidden as one at the start.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) control++;
  }
  if (control > 0) return refuse('binary', 'contains control characters, so it is not a text file (expected a CSV, a list of UPNs or JSON)');
  return { ok: true, decoded: { text, encoding, advisories } };
}

type Column = 'upn' | 'displayName' | 'profile' | 'skus' | 'usageLocation' | 'onPremisesPstn' | 'phoneNumber' | 'numberType' | 'emergencyLocationId' | 'startDate';

// A Map, not an object: a header cell named `constructor` or `__proto__` must not find Object.prototype's members.
const HEADER_ALIASES: ReadonlyMap<string, Column> = new Map([
  ['userprincipalname', 'upn'],
  ['upn', 'upn'],
  ['displayname', 'displayName'],
  ['profile', 'profile'],
  ['skus', 'skus'],
  ['sku', 'skus'],
  ['usagelocation', 'usageLocation'],
  ['onpremisespstn', 'onPremisesPstn'],
  ['hybrid', 'onPremisesPstn'],
  ['phonenumber', 'phoneNumber'],
  ['telephonenumber', 'phoneNumber'],
  ['numbertype', 'numberType'],
  ['emergencylocationid', 'emergencyLocationId'],
  ['locationid', 'emergencyLocationId'],
  ['startdate', 'startDate'],
  ['hiredate', 'startDate'],
  ['employeehiredate', 'startDate'],
]);

/**
 * The Microsoft 365 admin center's user export (Users > Active users > Export users): its "Phone number" is the
 * user's business phone (Entra ID's businessPhones), beside "Mobile Phone", "Licenses" and "Object Id". Those three
 * together say the file came from there.
 */
export function isAdminCenterExport(header: readonly string[]): boolean {
  const names = new Set(header.map((h) => h.trim().toLowerCase().replace(/[\s_]+/g, '')));
  return names.has('phonenumber') && names.has('mobilephone') && names.has('licenses') && names.has('objectid');
}

/** The columns a CSV may have, as the docs spell them: what a near miss is compared with. */
const CSV_COLUMN_NAMES = ['userPrincipalName', 'UPN', 'displayName', 'profile', 'skus', 'usageLocation', 'onPremisesPstn', 'hybrid', 'phoneNumber', 'telephoneNumber', 'numberType', 'emergencyLocationId', 'locationId', 'startDate', 'hireDate', 'employeeHireDate'];

export function headerColumn(header: string): Column | undefined {
  // No alias is longer than 20 characters once spaces and underscores go; a longer cell is never one.
  if (header.length > 256) return undefined;
  return HEADER_ALIASES.get(header.trim().toLowerCase().replace(/[\s_]+/g, ''));
}

const TRUE_WORDS = new Set(['true', 'yes', '1', 'y']);
const FALSE_WORDS = new Set(['false', 'no', '0', 'n', '']);

function parseBoolean(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  return undefined;
}

export function splitSkuList(value: string): string[] {
  return value
    .split(/[;+,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Parses an input, choosing the format from its content (and a `.json` name or JSON content type). */
export function parseInput(bytes: Uint8Array, source: string, hints?: ParseHints): ParseOutcome {
  const decoded = decodeInput(bytes, source, hints?.charset);
  if (!decoded.ok) return { ok: false, error: decoded.error };
  const { encoding, advisories } = decoded.decoded;
  const text = decoded.decoded.text.replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.length === 0) return fail('empty', `${source}: is empty; expected a CSV with a userPrincipalName column, a list of UPNs, or JSON`);
  if (hints?.json || trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJsonText(text, source, { encoding, advisories });
  // Windows PowerShell 5.1's Export-Csv writes "#TYPE System.Management.Automation.PSCustomObject" (or the object's
  // type) above the header unless told -NoTypeInformation (Export-Csv's documentation); it is read past.
  const typeLine = /^#TYPE [^\r\n]*(\r\n|\n|\r|$)/i.exec(text);
  const csvText = typeLine ? text.slice(typeLine[0].length) : text;
  const skipped = typeLine ? 1 : 0;
  const csvMeta = { encoding, advisories: typeLine ? [...advisories, 'powershell_type_line_skipped' as const] : advisories };
  // Excel's convention: a first line "sep=;" names the delimiter (and is not the header).
  const sep = /^sep=(.)[ \t]*(\r\n|\n|\r|$)/i.exec(csvText);
  if (sep) {
    const d = sep[1]!;
    if (d !== ',' && d !== ';' && d !== '\t') return fail('malformed', `${source}: line ${skipped + 1}: "sep=${d}" names a delimiter dialtone does not read; use sep=; or sep=,`);
    return parseCsvText(csvText.slice(sep[0].length), source, d, skipped + 1, csvMeta);
  }
  const firstLine = firstMeaningfulLine(csvText);
  const delimiter = chooseDelimiter(firstLine);
  if (delimiter !== undefined || headerColumn(firstLine) === 'upn') return parseCsvText(csvText, source, delimiter ?? ',', skipped, csvMeta);
  return parseUpnList(text, source, { encoding, advisories });
}

interface InputMeta {
  readonly encoding: InputEncoding;
  readonly advisories: readonly InputAdvisory[];
}

function firstMeaningfulLine(text: string): string {
  for (const line of text.split(/\r\n|\n|\r/, 1000)) {
    const t = line.trim();
    if (t.length > 0 && !t.startsWith('#')) return t;
  }
  return '';
}

/** The delimiter whose split of the header line yields a UPN column; a line with a delimiter but no UPN column still counts as CSV (so the error names the missing column). */
function chooseDelimiter(headerLine: string): CsvDelimiter | undefined {
  const candidates: CsvDelimiter[] = [',', ';', '\t'];
  for (const d of candidates) {
    if (headerLine.includes(d) && headerLine.split(d).some((h) => headerColumn(h.replace(/^"|"$/g, '')) === 'upn')) return d;
  }
  const counts = candidates.map((d) => [d, headerLine.split(d).length - 1] as const).filter(([, n]) => n > 0);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]?.[0];
}

const NEWLINES = /\r\n|\n|\r/g;

function countNewlines(s: string): number {
  return s.match(NEWLINES)?.length ?? 0;
}

function parseCsvText(text: string, source: string, delimiter: CsvDelimiter, lineOffset: number, meta: InputMeta): ParseOutcome {
  let records: { record: string[]; info: { lines: number }; raw: string }[];
  try {
    records = parseCsv(text, {
      delimiter,
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      trim: true,
      to: MAX_INPUT_ROWS + 2,
      max_record_size: 4 * 1024 * 1024,
    }) as unknown as typeof records;
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return fail('malformed', errorText(`${source}: is not valid CSV: ${detail}`));
  }
  // csv-parse reports the line a record ends on; a quoted cell may span lines, and skipped blank lines come first in raw.
  const lineOf = (r: { info: { lines: number }; raw: string }) => lineOffset + r.info.lines - countNewlines(r.raw.replace(/^[\r\n]+|[\r\n]+$/g, ''));
  const headerRecord = records[0];
  if (!headerRecord) return fail('empty', `${source}: has no header row`);
  const header = headerRecord.record;
  const columns = header.map((h) => headerColumn(h));
  const upnIndex = columns.indexOf('upn');
  if (upnIndex < 0) {
    return fail('no_upn_column', `${source}: line ${lineOf(headerRecord)}: has no userPrincipalName column (also accepted: UPN, "User principal name"); found columns: ${header.slice(0, 20).map((h) => shown(h, 40)).join(', ')}`);
  }
  const body = records.slice(1);
  if (body.length > MAX_INPUT_ROWS) return fail('too_many_rows', `${source}: has more than ${MAX_INPUT_ROWS} rows; split the file`);
  if (body.length === 0) return fail('empty', `${source}: has a header but no rows`);
  const index = (c: Column) => columns.indexOf(c);
  const [nIdx, pIdx, sIdx, uIdx, hIdx, dIdx] = [index('displayName'), index('profile'), index('skus'), index('usageLocation'), index('onPremisesPstn'), index('startDate')];
  // The admin center's export has business numbers under "Phone number": neither rejected row by row nor assigned.
  const adminExport = isAdminCenterExport(header) && header.some((h) => h.trim().toLowerCase() === 'phone number');
  const telIdx = adminExport ? header.findIndex((h, k) => columns[k] === 'phoneNumber' && h.trim().toLowerCase() !== 'phone number') : index('phoneNumber');
  const [typeIdx, locIdx] = [index('numberType'), index('emergencyLocationId')];
  if (adminExport) meta = { ...meta, advisories: [...meta.advisories, 'admin_export_phone_numbers_ignored'] };
  // Extra columns are fine (exports carry dozens), but one whose name is nearly a column dialtone reads is named.
  const nearMisses = header.flatMap((h, k) => {
    if (columns[k] !== undefined || h.trim() === '') return [];
    const closest = closestName(h.trim(), CSV_COLUMN_NAMES);
    return closest ? [`column "${shown(h.trim(), 40)}" (line ${lineOf(headerRecord)}) was not read; did you mean ${closest}?`] : [];
  });
  const rows = body.map((r, i): InputRow => {
    const rec = r.record;
    const line = lineOf(r);
    const cell = (idx: number): string | undefined => (idx >= 0 ? rec[idx] : undefined);
    const displayName = cell(nIdx);
    const profile = cell(pIdx);
    const skus = cell(sIdx);
    const usage = cell(uIdx);
    const hybridRaw = cell(hIdx);
    const startDate = cell(dIdx);
    const hybrid = hybridRaw === undefined ? undefined : parseBoolean(hybridRaw);
    const problems: { field: string; message: string }[] = [];
    if (hybridRaw !== undefined && hybrid === undefined) problems.push({ field: shown(header[hIdx] ?? 'onPremisesPstn', 40), message: `"${truncate(hybridRaw)}" is not true/false/yes/no/1/0` });
    const phone = phoneFields({ phoneNumber: cell(telIdx), numberType: cell(typeIdx), emergencyLocationId: cell(locIdx) }, (f) => shown(header[f === 'phoneNumber' ? telIdx : f === 'numberType' ? typeIdx : locIdx] ?? f, 40));
    problems.push(...phone.problems);
    return {
      row: i + 1,
      line,
      userPrincipalName: cell(upnIndex) ?? '',
      ...(displayName ? { displayName: truncate(displayName, 256) } : {}),
      ...(profile ? { profile } : {}),
      ...(skus ? { skus: splitSkuList(skus) } : {}),
      ...(usage ? { usageLocation: usage } : {}),
      ...(hybrid !== undefined ? { onPremisesPstn: hybrid } : {}),
      ...phone.fields,
      ...(startDate ? { startDate } : {}),
      ...(problems.length > 0 ? { problem: rowProblem(phone.badNumber ? 'invalid_phone_number' : 'invalid_field', `row ${i + 1} (line ${line})`, problems, 'field') } : {}),
    };
  });
  return { ok: true, input: { format: 'csv', ...meta, delimiter, ...(uIdx >= 0 ? { usageLocationColumn: header[uIdx]! } : {}), ...(nearMisses.length > 0 ? { notes: nearMisses.slice(0, 10) } : {}), rows } };
}

/** One problem for a row naming every field that cannot be read: `row 3 (line 4): field hybrid: "maybe" is …`. */
function rowProblem(reason: RowProblem['reason'], where: string, problems: readonly { field: string; message: string }[], noun: 'field' | ''): RowProblem {
  return {
    reason,
    field: problems.map((p) => p.field).join(', '),
    message: `${where}: ${problems.map((p) => `${noun ? `${noun} ` : ''}${p.field}: ${p.message}`).join('; ')}`,
  };
}

function parseUpnList(text: string, source: string, meta: InputMeta): ParseOutcome {
  const rows: InputRow[] = [];
  let line = 0;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    line++;
    const t = raw.trim();
    if (t.length === 0 || t.startsWith('#')) continue;
    if (rows.length >= MAX_INPUT_ROWS) return fail('too_many_rows', `${source}: has more than ${MAX_INPUT_ROWS} UPNs; split the file`);
    rows.push({ row: rows.length + 1, line, userPrincipalName: t });
  }
  if (rows.length === 0) return fail('empty', `${source}: has only comments and blank lines`);
  return { ok: true, input: { format: 'upn-list', ...meta, rows } };
}

function truncate(s: string, n = 80): string {
  return shown(s, n);
}

/** The fields of a JSON batch (docs/strict-json.md). Strict: any other field refuses the whole batch. */
export const JSON_BATCH_FIELDS: readonly string[] = ['batchId', 'profile', 'callbackUrl', 'users'];

/**
 * The fields of a JSON batch's user, exactly as spelled here: each CSV column's name and its aliases, in camelCase
 * (hireDate and employeeHireDate for startDate, upn for userPrincipalName, …), each mapped to its canonical name.
 */
export const JSON_USER_FIELDS: ReadonlyMap<string, string> = new Map([
  ['userPrincipalName', 'userPrincipalName'],
  ['upn', 'userPrincipalName'],
  ['displayName', 'displayName'],
  ['profile', 'profile'],
  ['skus', 'skus'],
  ['sku', 'skus'],
  ['usageLocation', 'usageLocation'],
  ['onPremisesPstn', 'onPremisesPstn'],
  ['hybrid', 'onPremisesPstn'],
  ['phoneNumber', 'phoneNumber'],
  ['telephoneNumber', 'phoneNumber'],
  ['numberType', 'numberType'],
  ['emergencyLocationId', 'emergencyLocationId'],
  ['locationId', 'emergencyLocationId'],
  ['startDate', 'startDate'],
  ['hireDate', 'startDate'],
  ['employeeHireDate', 'startDate'],
]);

/** How many unknown fields an error lists: a 50,000-row batch with one wrong key per user is told about the first few. */
export const MAX_UNKNOWN_FIELDS = 20;

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known name `name` is most likely a misspelling of: the same letters in another case or with spaces and
 * underscores, else the nearest within a few edits (a third of its length, at least 1); undefined when none is near.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, '');
  const n = norm(name);
  if (n.length === 0 || name.length > 100) return undefined;
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = norm(k) === n ? 0 : editDistance(n, norm(k));
    if (!best || d < best.d) best = { name: k, d };
  }
  return best && best.d <= Math.max(1, Math.floor(n.length / 3)) ? best.name : undefined;
}

/** How many unknown fields a message spells out (the problem's unknownFields lists up to MAX_UNKNOWN_FIELDS). */
const SHOWN_UNKNOWN_FIELDS = 5;

/** `users[0].startdate: unknown field; did you mean startDate?` for the first few, then how many more. */
export function unknownFieldsText(fields: readonly UnknownField[], more: number): string {
  const lines = fields.slice(0, SHOWN_UNKNOWN_FIELDS).map((f) => `${f.path}: unknown field${f.closest ? `; did you mean ${f.closest}?` : ''}`);
  const rest = more + Math.max(0, fields.length - SHOWN_UNKNOWN_FIELDS);
  return `${lines.join('; ')}${rest > 0 ? `; and ${rest} more unknown field(s)` : ''}`;
}

/** A JSON path segment for a key: `.name`, or `["odd key"]` when it is not a plain name. */
function keyPath(parent: string, key: string): string {
  const k = shown(key, 60);
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${parent}${parent ? '.' : ''}${k}` : `${parent}[${JSON.stringify(k)}]`;
}

/** The unknown fields of a batch's envelope and users, the first MAX_UNKNOWN_FIELDS of them, and how many more. */
function unknownFieldsOf(envelope: Record<string, unknown>): { fields: UnknownField[]; more: number } {
  const fields: UnknownField[] = [];
  let more = 0;
  const note = (path: string, key: string, known: Iterable<string>) => {
    if (fields.length >= MAX_UNKNOWN_FIELDS) {
      more++;
      return;
    }
    const closest = closestName(key, known);
    fields.push({ path: keyPath(path, key), ...(closest ? { closest } : {}) });
  };
  for (const key of Object.keys(envelope)) if (!JSON_BATCH_FIELDS.includes(key)) note('', key, JSON_BATCH_FIELDS);
  const users = envelope['users'];
  if (Array.isArray(users)) {
    (users as unknown[]).forEach((u, i) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return;
      for (const key of Object.keys(u)) if (!JSON_USER_FIELDS.has(key)) note(`users[${i}]`, key, JSON_USER_FIELDS.keys());
    });
  }
  return { fields, more };
}

function parseJsonText(text: string, source: string, meta: InputMeta): ParseOutcome {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) return fail('malformed', `${source}: is not valid JSON: nested too deeply`);
    const at = jsonSyntaxErrorAt(text);
    const { line, column } = lineAndColumn(text, at);
    const what = at >= text.length ? 'the text ends too early (a missing } or ] or ")' : `unexpected ${describeChar(text[at]!)}`;
    return fail('malformed', errorText(`${source}: is not valid JSON: line ${line}, column ${column}: ${what}`));
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('malformed', `${source}: expected a JSON object { "users": [ … ] }`);
  }
  const envelope = body as Record<string, unknown>;
  // Strict (docs/strict-json.md): a misspelt field is refused with its path, never ignored (a "startdate" ignored
  // would license the hire days early).
  const unknown = unknownFieldsOf(envelope);
  if (unknown.fields.length > 0) {
    const batchHint = JSON_BATCH_FIELDS.join(', ');
    const userHint = [...new Set(JSON_USER_FIELDS.keys())].join(', ');
    return {
      ok: false,
      error: {
        code: 'unknown_field',
        message: errorText(`${source}: ${unknownFieldsText(unknown.fields, unknown.more)}. Nothing was licensed: fix the field names and send the batch again (a batch has ${batchHint}; a user has ${userHint})`),
        fields: unknown.fields,
      },
    };
  }
  const users = envelope['users'];
  if (!Array.isArray(users)) return fail('malformed', `${source}: "users" must be an array of { "userPrincipalName": … } objects`);
  if (users.length === 0) return fail('empty', `${source}: "users" is empty`);
  if (users.length > MAX_INPUT_ROWS) return fail('too_many_rows', `${source}: has more than ${MAX_INPUT_ROWS} users; split the batch`);
  const batchId = envelope['batchId'];
  if (batchId !== undefined && (typeof batchId !== 'string' || !isBatchId(batchId))) {
    return fail('malformed', `${source}: "batchId" must be ${BATCH_ID_RULE}`);
  }
  const profile = envelope['profile'];
  if (profile !== undefined && typeof profile !== 'string') return fail('malformed', `${source}: "profile" must be a string`);
  // Every row without its own profile copies the batch's: a name that is not a profile name stops here, once.
  if (typeof profile === 'string' && profile.trim() !== '' && !isProfileName(profile.trim().toLowerCase())) {
    return fail('malformed', `${source}: "profile" "${shown(profile, 64)}" is not a profile name (lower-case letters, digits, '.', '_' or '-', at most 64)`);
  }
  const callbackUrl = envelope['callbackUrl'];
  if (callbackUrl !== undefined && callbackUrl !== null && typeof callbackUrl !== 'string') return fail('malformed', `${source}: "callbackUrl" must be an https URL string`);
  const rows = users.map((u, i) => jsonRow(u, i + 1));
  return { ok: true, input: { format: 'json', ...meta, rows, ...(batchId ? { batchId } : {}), ...(profile ? { profile } : {}), ...(typeof callbackUrl === 'string' ? { callbackUrl } : {}) } };
}

function describeChar(c: string): string {
  if (c === '\n' || c === '\r') return 'end of line';
  if (c === '"') return 'quote';
  return `character '${c}'`;
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/**
 * The offset of the first JSON syntax error in `text` (text.length when it ends too early). Only run after JSON.parse
 * failed: V8's messages give a position for some errors and none for others ("Unexpected token … is not valid JSON").
 */
export function jsonSyntaxErrorAt(text: string): number {
  const stack: string[] = [];
  let i = 0;
  type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';
  let expect = 'value' as Expect;
  const afterValue = () => {
    expect = stack.length === 0 ? 'end' : 'comma-or-close';
  };
  const sticky = (re: RegExp): number => {
    re.lastIndex = i;
    return re.test(text) ? re.lastIndex : -1;
  };
  for (;;) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (i >= text.length) return expect === 'end' ? -1 : text.length;
    const c = text[i]!;
    if (expect === 'end') return i;
    if (expect === 'colon') {
      if (c !== ':') return i;
      i++;
      expect = 'value';
      continue;
    }
    if (expect === 'comma-or-close') {
      const top = stack[stack.length - 1];
      if (c === ',') {
        i++;
        expect = top === '{' ? 'key' : 'value';
      } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
        i++;
        stack.pop();
        afterValue();
      } else return i;
      continue;
    }
    if (expect === 'key' || expect === 'key-or-close') {
      if (c === '}' && expect === 'key-or-close') {
        i++;
        stack.pop();
        afterValue();
        continue;
      }
      if (c !== '"') return i;
      const end = sticky(JSON_STRING);
      if (end < 0) return stringErrorAt(text, i);
      i = end;
      expect = 'colon';
      continue;
    }
    // a value (or, after '[', the close)
    if (c === ']' && expect === 'value-or-close') {
      i++;
      stack.pop();
      afterValue();
    } else if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      expect = c === '{' ? 'key-or-close' : 'value-or-close';
    } else if (c === '"') {
      const end = sticky(JSON_STRING);
      if (end < 0) return stringErrorAt(text, i);
      i = end;
      afterValue();
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      i += 4;
      afterValue();
    } else if (text.startsWith('false', i)) {
      i += 5;
      afterValue();
    } else {
      const end = sticky(JSON_NUMBER);
      if (end < 0) return i;
      i = end;
      afterValue();
    }
  }
}

/** Where a string starting at `start` goes wrong: a control character (a line break), a bad escape, or no closing quote. */
function stringErrorAt(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c < 0x20) return i;
    if (c === 0x5c) {
      const n = text[i + 1];
      if (n === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return i;
        i += 5;
      } else if (n !== undefined && '"\\/bfnrt'.includes(n)) i++;
      else return i;
    }
  }
  return text.length;
}

function jsonRow(u: unknown, row: number): InputRow {
  const where = `row ${row} (users[${row - 1}])`;
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return { row, userPrincipalName: '', problem: { reason: 'invalid_upn', field: 'users', message: `${where}: must be an object with a userPrincipalName` } };
  }
  // Aliases read as their field; one field given twice under two names is the row's problem.
  const o: Record<string, unknown> = {};
  const twice: string[] = [];
  for (const [key, value] of Object.entries(u as Record<string, unknown>)) {
    const field = JSON_USER_FIELDS.get(key);
    if (!field) continue;
    if (field in o) twice.push(field);
    o[field] = value;
  }
  const upn = o['userPrincipalName'];
  const { displayName, profile, skus, usageLocation, onPremisesPstn, phoneNumber, numberType, emergencyLocationId, startDate } = o;
  const problems: { field: string; message: string }[] = [];
  for (const field of new Set(twice)) problems.push({ field, message: `is given twice, under two of its names (${[...JSON_USER_FIELDS].filter(([, f]) => f === field).map(([k]) => k).join(', ')}); give it once` });
  if (typeof upn !== 'string') problems.push({ field: 'userPrincipalName', message: upn === undefined ? 'is missing' : 'must be a string' });
  if (displayName !== undefined && displayName !== null && typeof displayName !== 'string') problems.push({ field: 'displayName', message: 'must be a string' });
  if (profile !== undefined && profile !== null && typeof profile !== 'string') problems.push({ field: 'profile', message: 'must be a string' });
  if (skus !== undefined && skus !== null && (!Array.isArray(skus) || skus.some((s) => typeof s !== 'string'))) problems.push({ field: 'skus', message: 'must be an array of part numbers' });
  if (usageLocation !== undefined && usageLocation !== null && typeof usageLocation !== 'string') problems.push({ field: 'usageLocation', message: 'must be a two-letter country code' });
  if (startDate !== undefined && startDate !== null && typeof startDate !== 'string') problems.push({ field: 'startDate', message: 'must be a date (2026-12-07) or a date-time with an offset, as a string' });
  let hybrid: boolean | undefined;
  if (typeof onPremisesPstn === 'boolean') hybrid = onPremisesPstn;
  else if (typeof onPremisesPstn === 'string') {
    hybrid = parseBoolean(onPremisesPstn);
    if (hybrid === undefined) problems.push({ field: 'onPremisesPstn', message: 'must be true or false' });
  } else if (onPremisesPstn !== undefined && onPremisesPstn !== null) problems.push({ field: 'onPremisesPstn', message: 'must be true or false' });
  const phone = phoneFields({ phoneNumber, numberType, emergencyLocationId }, (f) => f);
  problems.push(...phone.problems);
  const base = { row, userPrincipalName: typeof upn === 'string' ? upn.trim() : '', ...(typeof displayName === 'string' && displayName.trim() ? { displayName: truncate(displayName.trim(), 256) } : {}) };
  if (problems.length > 0) {
    const reason = typeof upn !== 'string' ? 'invalid_upn' : phone.badNumber ? 'invalid_phone_number' : twice.length === 0 && problems.every((p) => p.field === 'startDate') ? 'invalid_start_date' : 'invalid_field';
    return { ...base, problem: rowProblem(reason, where, problems, '') };
  }
  return {
    ...base,
    ...(typeof profile === 'string' && profile.trim() ? { profile: profile.trim() } : {}),
    ...(Array.isArray(skus) && skus.length > 0 ? { skus: (skus as string[]).map((s) => s.trim()).filter(Boolean) } : {}),
    ...(typeof usageLocation === 'string' && usageLocation.trim() ? { usageLocation: usageLocation.trim() } : {}),
    ...(hybrid !== undefined ? { onPremisesPstn: hybrid } : {}),
    ...phone.fields,
    ...(typeof startDate === 'string' && startDate.trim() ? { startDate: startDate.trim() } : {}),
  };
}

interface PhoneFields {
  phoneNumber?: string;
  numberType?: NumberType;
  emergencyLocationId?: string;
}

/**
 * Reads a row's phone fields (blank means absent), naming each field with `name`. A number that is not E.164 sets
 * `badNumber` (the row is then `invalid_phone_number`); an unknown number type or a location that is not an
 * emergency location id is an ordinary field problem.
 */
function phoneFields(raw: { phoneNumber: unknown; numberType: unknown; emergencyLocationId: unknown }, name: (field: keyof PhoneFields) => string): { fields: PhoneFields; problems: { field: string; message: string }[]; badNumber: boolean } {
  const fields: PhoneFields = {};
  const problems: { field: string; message: string }[] = [];
  let badNumber = false;
  const present = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
  if (present(raw.phoneNumber)) {
    const e164 = typeof raw.phoneNumber === 'string' ? normalisePhoneNumber(raw.phoneNumber) : undefined;
    if (e164) fields.phoneNumber = e164;
    else {
      badNumber = true;
      const shown = typeof raw.phoneNumber === 'string' ? `"${truncate(raw.phoneNumber.trim())}" is not` : 'must be';
      problems.push({ field: name('phoneNumber'), message: `${shown} an E.164 number ('+', country code and number, up to 15 digits, e.g. "+14255550100")` });
    }
  }
  if (present(raw.numberType)) {
    const parsed = typeof raw.numberType === 'string' ? parseNumberType(raw.numberType) : undefined;
    if (parsed) fields.numberType = parsed;
    else problems.push({ field: name('numberType'), message: `${typeof raw.numberType === 'string' ? `"${truncate(raw.numberType.trim())}"` : 'it'} is not a number type; expected callingPlan, directRouting or operatorConnect` });
  }
  if (present(raw.emergencyLocationId)) {
    const id = typeof raw.emergencyLocationId === 'string' ? raw.emergencyLocationId.trim() : undefined;
    if (id && isEmergencyLocationId(id)) fields.emergencyLocationId = id.toLowerCase();
    else problems.push({ field: name('emergencyLocationId'), message: `${id ? `"${truncate(id)}"` : 'it'} is not an emergency location id (a GUID, as Get-CsOnlineLisLocation shows it)` });
  }
  return { fields, problems, badNumber };
}
