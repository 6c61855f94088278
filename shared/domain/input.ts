// Turns what an HR system or an admin sends (CSV, the source document's plain UPN list, or DESIGN's JSON body) into
// numbered rows. Whole-input problems (too big, binary, no UPN column) become one InputError; problems in a single
// field stay on the row so that the row, and only the row, is rejected later.
import { parse as parseCsv } from 'csv-parse/sync';
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

export interface RowProblem {
  readonly reason: 'invalid_field' | 'invalid_upn';
  readonly field: string;
  readonly message: string;
}

export interface InputRow {
  /** 1-based position of the record in the input, header and comments excluded. */
  readonly row: number;
  readonly userPrincipalName: string;
  readonly profile?: string;
  readonly skus?: readonly string[];
  readonly usageLocation?: string;
  readonly onPremisesPstn?: boolean;
  readonly problem?: RowProblem;
}

export type InputErrorCode = 'too_large' | 'too_many_rows' | 'empty' | 'binary' | 'encoding' | 'no_upn_column' | 'malformed';

export interface InputError {
  readonly code: InputErrorCode;
  readonly message: string;
}

export interface ParsedInput {
  readonly format: InputFormat;
  readonly rows: InputRow[];
  readonly batchId?: string;
  readonly profile?: string;
}

export type ParseOutcome = { ok: true; input: ParsedInput } | { ok: false; error: InputError };

const fail = (code: InputErrorCode, message: string): ParseOutcome => ({ ok: false, error: { code, message } });

/** Decodes bytes as UTF-8 (BOM optional) or UTF-16 with a BOM; refuses binary data and other encodings. */
export function decodeInput(bytes: Uint8Array, source: string): { ok: true; text: string } | { ok: false; error: InputError } {
  if (bytes.length > MAX_INPUT_BYTES) {
    return { ok: false, error: { code: 'too_large', message: `${source}: ${bytes.length} bytes is over the limit of ${MAX_INPUT_BYTES} bytes (20 MiB); split the file` } };
  }
  let text: string;
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
    else {
      if (bytes.includes(0)) {
        return { ok: false, error: { code: 'binary', message: `${source}: contains NUL bytes, so it is not a text file (expected UTF-8 CSV, a UPN list or JSON)` } };
      }
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    }
  } catch {
    return { ok: false, error: { code: 'encoding', message: `${source}: is not valid UTF-8 text; save it as UTF-8 (in Excel: "CSV UTF-8")` } };
  }
  let control = 0;
  // The whole text, not its first part: a control character deep in a file is as hidden as one at the start.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) control++;
  }
  if (control > 0) {
    return { ok: false, error: { code: 'binary', message: `${source}: contains control characters, so it is not a text file (expected UTF-8 CSV, a UPN list or JSON)` } };
  }
  return { ok: true, text };
}

type Column = 'upn' | 'profile' | 'skus' | 'usageLocation' | 'onPremisesPstn';

// A Map, not an object: a header cell named `constructor` or `__proto__` must not find Object.prototype's members.
const HEADER_ALIASES: ReadonlyMap<string, Column> = new Map([
  ['userprincipalname', 'upn'],
  ['upn', 'upn'],
  ['profile', 'profile'],
  ['skus', 'skus'],
  ['sku', 'skus'],
  ['usagelocation', 'usageLocation'],
  ['onpremisespstn', 'onPremisesPstn'],
  ['hybrid', 'onPremisesPstn'],
]);

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
export function parseInput(bytes: Uint8Array, source: string, hint?: { json?: boolean }): ParseOutcome {
  const decoded = decodeInput(bytes, source);
  if (!decoded.ok) return { ok: false, error: decoded.error };
  const text = decoded.text.replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.length === 0) return fail('empty', `${source}: is empty; expected a CSV with a userPrincipalName column, a list of UPNs, or JSON`);
  if (hint?.json || trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJsonText(text, source);
  const firstLine = firstMeaningfulLine(text);
  const delimiter = chooseDelimiter(firstLine);
  if (delimiter !== undefined || headerColumn(firstLine) === 'upn') return parseCsvText(text, source, delimiter ?? ',');
  return parseUpnList(text, source);
}

function firstMeaningfulLine(text: string): string {
  for (const line of text.split(/\r\n|\n|\r/)) {
    const t = line.trim();
    if (t.length > 0 && !t.startsWith('#')) return t;
  }
  return '';
}

/** The delimiter whose split of the header line yields a UPN column; a line with a delimiter but no UPN column still counts as CSV (so the error names the missing column). */
function chooseDelimiter(headerLine: string): ',' | ';' | undefined {
  const candidates: (',' | ';')[] = [',', ';'];
  for (const d of candidates) {
    if (headerLine.includes(d) && headerLine.split(d).some((h) => headerColumn(h.replace(/^"|"$/g, '')) === 'upn')) return d;
  }
  if (headerLine.includes(',') || headerLine.includes(';')) return headerLine.split(';').length > headerLine.split(',').length ? ';' : ',';
  return undefined;
}

function parseCsvText(text: string, source: string, delimiter: ',' | ';'): ParseOutcome {
  let records: string[][];
  try {
    records = parseCsv(text, {
      delimiter,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      trim: true,
      to: MAX_INPUT_ROWS + 2,
      max_record_size: 4 * 1024 * 1024,
    });
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return fail('malformed', errorText(`${source}: is not valid CSV: ${detail}`));
  }
  const header = records[0];
  if (!header) return fail('empty', `${source}: has no header row`);
  const columns = header.map((h) => headerColumn(h));
  const upnIndex = columns.indexOf('upn');
  if (upnIndex < 0) {
    return fail('no_upn_column', `${source}: has no userPrincipalName column (also accepted: UPN, "User principal name"); found columns: ${header.slice(0, 20).map((h) => shown(h, 40)).join(', ')}`);
  }
  const body = records.slice(1);
  if (body.length > MAX_INPUT_ROWS) return fail('too_many_rows', `${source}: has more than ${MAX_INPUT_ROWS} rows; split the file`);
  if (body.length === 0) return fail('empty', `${source}: has a header but no rows`);
  const index = (c: Column) => columns.indexOf(c);
  const [pIdx, sIdx, uIdx, hIdx] = [index('profile'), index('skus'), index('usageLocation'), index('onPremisesPstn')];
  const rows = body.map((rec, i): InputRow => {
    const cell = (idx: number): string | undefined => (idx >= 0 ? rec[idx] : undefined);
    const profile = cell(pIdx);
    const skus = cell(sIdx);
    const usage = cell(uIdx);
    const hybridRaw = cell(hIdx);
    const hybrid = hybridRaw === undefined ? undefined : parseBoolean(hybridRaw);
    return {
      row: i + 1,
      userPrincipalName: cell(upnIndex) ?? '',
      ...(profile ? { profile } : {}),
      ...(skus ? { skus: splitSkuList(skus) } : {}),
      ...(usage ? { usageLocation: usage } : {}),
      ...(hybrid !== undefined ? { onPremisesPstn: hybrid } : {}),
      ...(hybridRaw !== undefined && hybrid === undefined
        ? { problem: { reason: 'invalid_field', field: shown(header[hIdx] ?? 'onPremisesPstn', 40), message: `row ${i + 1}, field ${shown(header[hIdx] ?? 'onPremisesPstn', 40)}: "${truncate(hybridRaw)}" is not true/false/yes/no/1/0` } }
        : {}),
    };
  });
  return { ok: true, input: { format: 'csv', rows } };
}

function parseUpnList(text: string, source: string): ParseOutcome {
  const rows: InputRow[] = [];
  for (const line of text.split(/\r\n|\n|\r/)) {
    const t = line.trim();
    if (t.length === 0 || t.startsWith('#')) continue;
    if (rows.length >= MAX_INPUT_ROWS) return fail('too_many_rows', `${source}: has more than ${MAX_INPUT_ROWS} UPNs; split the file`);
    rows.push({ row: rows.length + 1, userPrincipalName: t });
  }
  if (rows.length === 0) return fail('empty', `${source}: has only comments and blank lines`);
  return { ok: true, input: { format: 'upn-list', rows } };
}

function truncate(s: string, n = 80): string {
  return shown(s, n);
}

function parseJsonText(text: string, source: string): ParseOutcome {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof RangeError ? 'nested too deeply' : e instanceof Error ? e.message : String(e);
    return fail('malformed', errorText(`${source}: is not valid JSON: ${detail}`));
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('malformed', `${source}: expected a JSON object { "users": [ … ] }`);
  }
  const envelope = body as Record<string, unknown>;
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
  const rows = users.map((u, i) => jsonRow(u, i + 1));
  return { ok: true, input: { format: 'json', rows, ...(batchId ? { batchId } : {}), ...(profile ? { profile } : {}) } };
}

function jsonRow(u: unknown, row: number): InputRow {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return { row, userPrincipalName: '', problem: { reason: 'invalid_upn', field: 'users', message: `users[${row - 1}]: must be an object with a userPrincipalName` } };
  }
  const o = u as Record<string, unknown>;
  const upn = o['userPrincipalName'];
  const where = (field: string) => `users[${row - 1}].${field}`;
  const base = { row, userPrincipalName: typeof upn === 'string' ? upn.trim() : '' };
  if (typeof upn !== 'string') return { ...base, problem: { reason: 'invalid_upn', field: 'userPrincipalName', message: `${where('userPrincipalName')}: must be a string` } };
  const problem = (field: string, expected: string): InputRow => ({ ...base, problem: { reason: 'invalid_field', field, message: `${where(field)}: must be ${expected}` } });
  const { profile, skus, usageLocation, onPremisesPstn } = o;
  if (profile !== undefined && profile !== null && typeof profile !== 'string') return problem('profile', 'a string');
  if (skus !== undefined && skus !== null && (!Array.isArray(skus) || skus.some((s) => typeof s !== 'string'))) return problem('skus', 'an array of part numbers');
  if (usageLocation !== undefined && usageLocation !== null && typeof usageLocation !== 'string') return problem('usageLocation', 'a two-letter country code');
  let hybrid: boolean | undefined;
  if (typeof onPremisesPstn === 'boolean') hybrid = onPremisesPstn;
  else if (typeof onPremisesPstn === 'string') {
    hybrid = parseBoolean(onPremisesPstn);
    if (hybrid === undefined) return problem('onPremisesPstn', 'true or false');
  } else if (onPremisesPstn !== undefined && onPremisesPstn !== null) return problem('onPremisesPstn', 'true or false');
  return {
    ...base,
    ...(typeof profile === 'string' && profile.trim() ? { profile: profile.trim() } : {}),
    ...(Array.isArray(skus) && skus.length > 0 ? { skus: (skus as string[]).map((s) => s.trim()).filter(Boolean) } : {}),
    ...(typeof usageLocation === 'string' && usageLocation.trim() ? { usageLocation: usageLocation.trim() } : {}),
    ...(hybrid !== undefined ? { onPremisesPstn: hybrid } : {}),
  };
}
