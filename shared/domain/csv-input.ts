// A CSV or tab-delimited file as Excel, the Microsoft 365 admin center or PowerShell's Export-Csv save it: which
// columns are read under which names, the delimiter, and each record with the physical line it starts on.
import { parse as parseCsv } from 'csv-parse/sync';
import {
  closestName,
  type CsvDelimiter,
  fail,
  type InputMeta,
  type InputRow,
  MAX_INPUT_ROWS,
  actionProblem,
  parseBoolean,
  parseRowAction,
  type ParseOutcome,
  phoneFields,
  rowProblem,
  truncate,
} from './input-rows';
import { errorText, shown } from './text';

type Column =
  | 'upn'
  | 'displayName'
  | 'profile'
  | 'skus'
  | 'usageLocation'
  | 'onPremisesPstn'
  | 'phoneNumber'
  | 'numberType'
  | 'emergencyLocationId'
  | 'startDate'
  | 'action'
  | 'endDate';

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
  ['action', 'action'],
  ['enddate', 'endDate'],
  ['leavedate', 'endDate'],
  ['employeeleavedatetime', 'endDate'],
]);

/**
 * The Microsoft 365 admin center's user export (Users > Active users > Export users): its "Phone number" is the
 * user's business phone (Entra ID's businessPhones), beside "Mobile Phone", "Licenses" and "Object Id". Those three
 * together say the file came from there.
 */
export function isAdminCenterExport(header: readonly string[]): boolean {
  const names = new Set(
    header.map((h) =>
      h
        .trim()
        .toLowerCase()
        .replace(/[\s_]+/g, ''),
    ),
  );
  return names.has('phonenumber') && names.has('mobilephone') && names.has('licenses') && names.has('objectid');
}

/** The columns a CSV may have, as the docs spell them: what a near miss is compared with. */
const CSV_COLUMN_NAMES = [
  'userPrincipalName',
  'UPN',
  'displayName',
  'profile',
  'skus',
  'usageLocation',
  'onPremisesPstn',
  'hybrid',
  'phoneNumber',
  'telephoneNumber',
  'numberType',
  'emergencyLocationId',
  'locationId',
  'startDate',
  'hireDate',
  'employeeHireDate',
  'action',
  'endDate',
  'leaveDate',
  'employeeLeaveDateTime',
];

export function headerColumn(header: string): Column | undefined {
  // No alias is longer than 20 characters once spaces and underscores go; a longer cell is never one.
  if (header.length > 256) return undefined;
  return HEADER_ALIASES.get(
    header
      .trim()
      .toLowerCase()
      .replace(/[\s_]+/g, ''),
  );
}

export function splitSkuList(value: string): string[] {
  return value
    .split(/[;+,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function firstMeaningfulLine(text: string): string {
  for (const line of text.split(/\r\n|\n|\r/, 1000)) {
    const t = line.trim();
    if (t.length > 0 && !t.startsWith('#')) return t;
  }
  return '';
}

/** The delimiter whose split of the header line yields a UPN column; a line with a delimiter but no UPN column still counts as CSV (so the error names the missing column). */
export function chooseDelimiter(headerLine: string): CsvDelimiter | undefined {
  const candidates: CsvDelimiter[] = [',', ';', '\t'];
  for (const d of candidates) {
    if (headerLine.includes(d) && headerLine.split(d).some((h) => headerColumn(h.replace(/^"|"$/g, '')) === 'upn'))
      return d;
  }
  const counts = candidates.map((d) => [d, headerLine.split(d).length - 1] as const).filter(([, n]) => n > 0);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]?.[0];
}

const NEWLINES = /\r\n|\n|\r/g;

function countNewlines(s: string): number {
  return s.match(NEWLINES)?.length ?? 0;
}

export function parseCsvText(
  text: string,
  source: string,
  delimiter: CsvDelimiter,
  lineOffset: number,
  meta: InputMeta,
): ParseOutcome {
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
  const lineOf = (r: { info: { lines: number }; raw: string }) =>
    lineOffset + r.info.lines - countNewlines(r.raw.replace(/^[\r\n]+|[\r\n]+$/g, ''));
  const headerRecord = records[0];
  if (!headerRecord) return fail('empty', `${source}: has no header row`);
  const header = headerRecord.record;
  const columns = header.map((h) => headerColumn(h));
  const upnIndex = columns.indexOf('upn');
  if (upnIndex < 0) {
    return fail(
      'no_upn_column',
      `${source}: line ${lineOf(headerRecord)}: has no userPrincipalName column (also accepted: UPN, "User principal name"); found columns: ${header
        .slice(0, 20)
        .map((h) => shown(h, 40))
        .join(', ')}`,
    );
  }
  const body = records.slice(1);
  if (body.length > MAX_INPUT_ROWS)
    return fail('too_many_rows', `${source}: has more than ${MAX_INPUT_ROWS} rows; split the file`);
  if (body.length === 0) return fail('empty', `${source}: has a header but no rows`);
  const index = (c: Column) => columns.indexOf(c);
  const [nIdx, pIdx, sIdx, uIdx, hIdx, dIdx] = [
    index('displayName'),
    index('profile'),
    index('skus'),
    index('usageLocation'),
    index('onPremisesPstn'),
    index('startDate'),
  ];
  // The admin center's export has business numbers under "Phone number": neither rejected row by row nor assigned.
  const adminExport = isAdminCenterExport(header) && header.some((h) => h.trim().toLowerCase() === 'phone number');
  const telIdx = adminExport
    ? header.findIndex((h, k) => columns[k] === 'phoneNumber' && h.trim().toLowerCase() !== 'phone number')
    : index('phoneNumber');
  const [typeIdx, locIdx] = [index('numberType'), index('emergencyLocationId')];
  const [aIdx, eIdx] = [index('action'), index('endDate')];
  if (adminExport) meta = { ...meta, advisories: [...meta.advisories, 'admin_export_phone_numbers_ignored'] };
  // Extra columns are fine (exports carry dozens), but one whose name is nearly a column dialtone reads is named.
  const nearMisses = header.flatMap((h, k) => {
    if (columns[k] !== undefined || h.trim() === '') return [];
    const closest = closestName(h.trim(), CSV_COLUMN_NAMES);
    return closest
      ? [`column "${shown(h.trim(), 40)}" (line ${lineOf(headerRecord)}) was not read; did you mean ${closest}?`]
      : [];
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
    const actionRaw = cell(aIdx);
    const action = actionRaw === undefined ? 'join' : parseRowAction(actionRaw);
    const endDate = cell(eIdx);
    const hybrid = hybridRaw === undefined ? undefined : parseBoolean(hybridRaw);
    const problems: { field: string; message: string }[] = [];
    if (hybridRaw !== undefined && hybrid === undefined)
      problems.push({
        field: shown(header[hIdx] ?? 'onPremisesPstn', 40),
        message: `"${truncate(hybridRaw)}" is not true/false/yes/no/1/0`,
      });
    const phone = phoneFields(
      { phoneNumber: cell(telIdx), numberType: cell(typeIdx), emergencyLocationId: cell(locIdx) },
      (f) => shown(header[f === 'phoneNumber' ? telIdx : f === 'numberType' ? typeIdx : locIdx] ?? f, 40),
    );
    problems.push(...phone.problems);
    if (action === undefined) problems.push(actionProblem(shown(header[aIdx] ?? 'action', 40), actionRaw));
    if (endDate && action !== 'leave')
      problems.push({
        field: shown(header[eIdx] ?? 'endDate', 40),
        message: `is for leave rows only (${shown(header[aIdx] ?? 'action', 40)} leave); this row is a ${action ?? 'join'} row`,
      });
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
      ...(action && action !== 'join' ? { action } : {}),
      ...(endDate ? { endDate } : {}),
      ...(problems.length > 0
        ? {
            problem: rowProblem(
              phone.badNumber ? 'invalid_phone_number' : 'invalid_field',
              `row ${i + 1} (line ${line})`,
              problems,
              'field',
            ),
          }
        : {}),
    };
  });
  return {
    ok: true,
    input: {
      format: 'csv',
      ...meta,
      delimiter,
      ...(uIdx >= 0 ? { usageLocationColumn: header[uIdx]! } : {}),
      ...(nearMisses.length > 0 ? { notes: nearMisses.slice(0, 10) } : {}),
      rows,
    },
  };
}
