// The JSON batch body (docs/strict-json.md): the envelope and each user, strict about field names (an unknown one
// refuses the batch with its path and the known name it is closest to); problems in one user stay on its row.
import {
  BATCH_ID_RULE,
  closestName,
  fail,
  type InputMeta,
  type InputRow,
  isBatchId,
  MAX_INPUT_ROWS,
  actionProblem,
  parseBoolean,
  parseRowAction,
  type ParseOutcome,
  phoneFields,
  rowProblem,
  truncate,
  type UnknownField,
} from './input-rows';
import { describeChar, jsonSyntaxErrorAt, lineAndColumn } from './json-locator';
import { isProfileName } from './profiles';
import { errorText, shown } from './text';

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
  ['action', 'action'],
  ['endDate', 'endDate'],
  ['leaveDate', 'endDate'],
  ['employeeLeaveDateTime', 'endDate'],
]);

/** How many unknown fields an error lists: a 50,000-row batch with one wrong key per user is told about the first few. */
export const MAX_UNKNOWN_FIELDS = 20;

/** How many unknown fields a message spells out (the problem's unknownFields lists up to MAX_UNKNOWN_FIELDS). */
const SHOWN_UNKNOWN_FIELDS = 5;

/** `users[0].startdate: unknown field; did you mean startDate?` for the first few, then how many more. */
export function unknownFieldsText(fields: readonly UnknownField[], more: number): string {
  const lines = fields
    .slice(0, SHOWN_UNKNOWN_FIELDS)
    .map((f) => `${f.path}: unknown field${f.closest ? `; did you mean ${f.closest}?` : ''}`);
  const rest = more + Math.max(0, fields.length - SHOWN_UNKNOWN_FIELDS);
  return `${lines.join('; ')}${rest > 0 ? `; and ${rest} more unknown field(s)` : ''}`;
}

/** A JSON path segment for a key: `.name`, or `["odd key"]` when it is not a plain name. */
function keyPath(parent: string, key: string): string {
  const k = shown(key, 60);
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)
    ? `${parent}${parent ? '.' : ''}${k}`
    : `${parent}[${JSON.stringify(k)}]`;
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
      for (const key of Object.keys(u))
        if (!JSON_USER_FIELDS.has(key)) note(`users[${i}]`, key, JSON_USER_FIELDS.keys());
    });
  }
  return { fields, more };
}

export function parseJsonText(text: string, source: string, meta: InputMeta): ParseOutcome {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) return fail('malformed', `${source}: is not valid JSON: nested too deeply`);
    const at = jsonSyntaxErrorAt(text);
    const { line, column } = lineAndColumn(text, at);
    const what =
      at >= text.length ? 'the text ends too early (a missing } or ] or ")' : `unexpected ${describeChar(text[at]!)}`;
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
        message: errorText(
          `${source}: ${unknownFieldsText(unknown.fields, unknown.more)}. Nothing was licensed: fix the field names and send the batch again (a batch has ${batchHint}; a user has ${userHint})`,
        ),
        fields: unknown.fields,
      },
    };
  }
  const users = envelope['users'];
  if (!Array.isArray(users))
    return fail('malformed', `${source}: "users" must be an array of { "userPrincipalName": … } objects`);
  if (users.length === 0) return fail('empty', `${source}: "users" is empty`);
  if (users.length > MAX_INPUT_ROWS)
    return fail('too_many_rows', `${source}: has more than ${MAX_INPUT_ROWS} users; split the batch`);
  const batchId = envelope['batchId'];
  if (batchId !== undefined && (typeof batchId !== 'string' || !isBatchId(batchId))) {
    return fail('malformed', `${source}: "batchId" must be ${BATCH_ID_RULE}`);
  }
  const profile = envelope['profile'];
  if (profile !== undefined && typeof profile !== 'string')
    return fail('malformed', `${source}: "profile" must be a string`);
  // Every row without its own profile copies the batch's: a name that is not a profile name stops here, once.
  if (typeof profile === 'string' && profile.trim() !== '' && !isProfileName(profile.trim().toLowerCase())) {
    return fail(
      'malformed',
      `${source}: "profile" "${shown(profile, 64)}" is not a profile name (lower-case letters, digits, '.', '_' or '-', at most 64)`,
    );
  }
  const callbackUrl = envelope['callbackUrl'];
  if (callbackUrl !== undefined && callbackUrl !== null && typeof callbackUrl !== 'string')
    return fail('malformed', `${source}: "callbackUrl" must be an https URL string`);
  const rows = users.map((u, i) => jsonRow(u, i + 1));
  return {
    ok: true,
    input: {
      format: 'json',
      ...meta,
      rows,
      ...(batchId ? { batchId } : {}),
      ...(profile ? { profile } : {}),
      ...(typeof callbackUrl === 'string' ? { callbackUrl } : {}),
    },
  };
}

function jsonRow(u: unknown, row: number): InputRow {
  const where = `row ${row} (users[${row - 1}])`;
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return {
      row,
      userPrincipalName: '',
      problem: {
        reason: 'invalid_upn',
        field: 'users',
        message: `${where}: must be an object with a userPrincipalName`,
      },
    };
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
  const {
    displayName,
    profile,
    skus,
    usageLocation,
    onPremisesPstn,
    phoneNumber,
    numberType,
    emergencyLocationId,
    startDate,
    action: actionRaw,
    endDate,
  } = o;
  const problems: { field: string; message: string }[] = [];
  for (const field of new Set(twice))
    problems.push({
      field,
      message: `is given twice, under two of its names (${[...JSON_USER_FIELDS]
        .filter(([, f]) => f === field)
        .map(([k]) => k)
        .join(', ')}); give it once`,
    });
  if (typeof upn !== 'string')
    problems.push({ field: 'userPrincipalName', message: upn === undefined ? 'is missing' : 'must be a string' });
  if (displayName !== undefined && displayName !== null && typeof displayName !== 'string')
    problems.push({ field: 'displayName', message: 'must be a string' });
  if (profile !== undefined && profile !== null && typeof profile !== 'string')
    problems.push({ field: 'profile', message: 'must be a string' });
  if (skus !== undefined && skus !== null && (!Array.isArray(skus) || skus.some((s) => typeof s !== 'string')))
    problems.push({ field: 'skus', message: 'must be an array of part numbers' });
  if (usageLocation !== undefined && usageLocation !== null && typeof usageLocation !== 'string')
    problems.push({ field: 'usageLocation', message: 'must be a two-letter country code' });
  if (startDate !== undefined && startDate !== null && typeof startDate !== 'string')
    problems.push({
      field: 'startDate',
      message: 'must be a date (2026-12-07) or a date-time with an offset, as a string',
    });
  const action =
    actionRaw === undefined || actionRaw === null
      ? 'join'
      : typeof actionRaw === 'string'
        ? parseRowAction(actionRaw)
        : undefined;
  if (action === undefined) problems.push(actionProblem('action', actionRaw));
  if (endDate !== undefined && endDate !== null && typeof endDate !== 'string')
    problems.push({
      field: 'endDate',
      message: 'must be a date (2026-12-07) or a date-time with an offset, as a string',
    });
  else if (typeof endDate === 'string' && endDate.trim() !== '' && action !== undefined && action !== 'leave')
    problems.push({
      field: 'endDate',
      message: `is for leave rows only ("action": "leave"); this row is a ${action} row`,
    });
  let hybrid: boolean | undefined;
  if (typeof onPremisesPstn === 'boolean') hybrid = onPremisesPstn;
  else if (typeof onPremisesPstn === 'string') {
    hybrid = parseBoolean(onPremisesPstn);
    if (hybrid === undefined) problems.push({ field: 'onPremisesPstn', message: 'must be true or false' });
  } else if (onPremisesPstn !== undefined && onPremisesPstn !== null)
    problems.push({ field: 'onPremisesPstn', message: 'must be true or false' });
  const phone = phoneFields({ phoneNumber, numberType, emergencyLocationId }, (f) => f);
  problems.push(...phone.problems);
  const base = {
    row,
    userPrincipalName: typeof upn === 'string' ? upn.trim() : '',
    ...(typeof displayName === 'string' && displayName.trim()
      ? { displayName: truncate(displayName.trim(), 256) }
      : {}),
  };
  if (problems.length > 0) {
    const reason =
      typeof upn !== 'string'
        ? 'invalid_upn'
        : phone.badNumber
          ? 'invalid_phone_number'
          : twice.length === 0 && problems.every((p) => p.field === 'startDate')
            ? 'invalid_start_date'
            : twice.length === 0 && problems.every((p) => p.field === 'endDate') && typeof endDate !== 'string'
              ? 'invalid_end_date'
              : 'invalid_field';
    return { ...base, problem: rowProblem(reason, where, problems, '') };
  }
  return {
    ...base,
    ...(typeof profile === 'string' && profile.trim() ? { profile: profile.trim() } : {}),
    ...(Array.isArray(skus) && skus.length > 0
      ? { skus: (skus as string[]).map((s) => s.trim()).filter(Boolean) }
      : {}),
    ...(typeof usageLocation === 'string' && usageLocation.trim() ? { usageLocation: usageLocation.trim() } : {}),
    ...(hybrid !== undefined ? { onPremisesPstn: hybrid } : {}),
    ...phone.fields,
    ...(typeof startDate === 'string' && startDate.trim() ? { startDate: startDate.trim() } : {}),
    ...(action && action !== 'join' ? { action } : {}),
    ...(typeof endDate === 'string' && endDate.trim() ? { endDate: endDate.trim() } : {}),
  };
}
