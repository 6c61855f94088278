// What every input format is read into: numbered rows with the line each came from, the input's notes, and one
// error for an input that cannot be used; and the field readers the CSV and JSON formats share (true/false words,
// phone fields, a row's problem, the known name a misspelt one is closest to). shared/domain/input.ts reads an input.
import { isEmergencyLocationId, normalisePhoneNumber, type NumberType, parseNumberType } from './phone-numbers';
import { shown } from './text';

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

export const BATCH_ID_RULE =
  "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit, not ending with '.' and without '..'";

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
  readonly reason: 'invalid_field' | 'invalid_upn' | 'invalid_phone_number' | 'invalid_start_date' | 'invalid_end_date';
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
  /** What the row asks for (docs/leavers-and-movers.md): absent means `join`. */
  readonly action?: RowAction;
  /** A leaver's end date as sent: the day the phone line is given back, read like the start date. */
  readonly endDate?: string;
  readonly problem?: RowProblem;
}

/** What a row asks for: a new hire's line (`join`), a leaver's line given back (`leave`), or a move of country. */
export const ROW_ACTIONS = ['join', 'leave', 'move'] as const;
export type RowAction = (typeof ROW_ACTIONS)[number];

/** An action as written in a row, case and spaces ignored; blank is `join`; undefined when it is no action. */
export function parseRowAction(raw: string): RowAction | undefined {
  const key = raw.trim().toLowerCase();
  if (key === '') return 'join';
  return ROW_ACTIONS.find((a) => a === key);
}

/** The problem of an action that is not one, naming the field as the input spells it. */
export function actionProblem(field: string, raw: unknown): { field: string; message: string } {
  const what = typeof raw === 'string' ? `"${truncate(raw.trim())}" is not an action` : 'must be a string';
  return { field, message: `${what}; expected ${ROW_ACTIONS.join(', ')} (blank means join)` };
}

export type InputErrorCode =
  | 'too_large'
  | 'too_many_rows'
  | 'empty'
  | 'binary'
  | 'encoding'
  | 'unsupported_charset'
  | 'no_upn_column'
  | 'malformed'
  | 'unknown_field';

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

export const fail = (code: InputErrorCode, message: string): ParseOutcome => ({ ok: false, error: { code, message } });

export interface InputMeta {
  readonly encoding: InputEncoding;
  readonly advisories: readonly InputAdvisory[];
}

const TRUE_WORDS = new Set(['true', 'yes', '1', 'y']);

const FALSE_WORDS = new Set(['false', 'no', '0', 'n', '']);

export function parseBoolean(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  return undefined;
}

/** One problem for a row naming every field that cannot be read: `row 3 (line 4): field hybrid: "maybe" is …`. */
export function rowProblem(
  reason: RowProblem['reason'],
  where: string,
  problems: readonly { field: string; message: string }[],
  noun: 'field' | '',
): RowProblem {
  return {
    reason,
    field: problems.map((p) => p.field).join(', '),
    message: `${where}: ${problems.map((p) => `${noun ? `${noun} ` : ''}${p.field}: ${p.message}`).join('; ')}`,
  };
}

export function truncate(s: string, n = 80): string {
  return shown(s, n);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
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
export function phoneFields(
  raw: { phoneNumber: unknown; numberType: unknown; emergencyLocationId: unknown },
  name: (field: keyof PhoneFields) => string,
): { fields: PhoneFields; problems: { field: string; message: string }[]; badNumber: boolean } {
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
      problems.push({
        field: name('phoneNumber'),
        message: `${shown} an E.164 number ('+', country code and number, up to 15 digits, e.g. "+14255550100")`,
      });
    }
  }
  if (present(raw.numberType)) {
    const parsed = typeof raw.numberType === 'string' ? parseNumberType(raw.numberType) : undefined;
    if (parsed) fields.numberType = parsed;
    else
      problems.push({
        field: name('numberType'),
        message: `${typeof raw.numberType === 'string' ? `"${truncate(raw.numberType.trim())}"` : 'it'} is not a number type; expected callingPlan, directRouting or operatorConnect`,
      });
  }
  if (present(raw.emergencyLocationId)) {
    const id = typeof raw.emergencyLocationId === 'string' ? raw.emergencyLocationId.trim() : undefined;
    if (id && isEmergencyLocationId(id)) fields.emergencyLocationId = id.toLowerCase();
    else
      problems.push({
        field: name('emergencyLocationId'),
        message: `${id ? `"${truncate(id)}"` : 'it'} is not an emergency location id (a GUID, as Get-CsOnlineLisLocation shows it)`,
      });
  }
  return { fields, problems, badNumber };
}
