// Turns what an HR system or an admin sends (a CSV or tab-delimited file as Excel saves it, a plain list of UPNs, or the
// JSON batch body) into numbered rows, each with the physical line it came from. Whole-input problems (too big, binary, no UPN column) become one InputError; problems in a single
// field stay on the row so that the row, and only the row, is rejected later. Each format is read in a module of its own (csv-input.ts, upn-list-input.ts, json-input.ts, with input-charset.ts for
// the bytes and input-rows.ts for what they are read into); this one chooses the format and is where the rest of the
// app imports input from.
import { chooseDelimiter, firstMeaningfulLine, headerColumn, parseCsvText } from './csv-input';
import { decodeInput } from './input-charset';
import { fail, type ParseHints, type ParseOutcome } from './input-rows';
import { parseJsonText } from './json-input';
import { parseUpnList } from './upn-list-input';

export {
  BATCH_ID,
  BATCH_ID_RULE,
  closestName,
  type CsvDelimiter,
  INPUT_ADVISORIES,
  type InputAdvisory,
  type InputEncoding,
  type InputError,
  type InputErrorCode,
  type InputFormat,
  type InputRow,
  isBatchId,
  MAX_INPUT_BYTES,
  MAX_INPUT_ROWS,
  type ParsedInput,
  type ParseHints,
  type ParseOutcome,
  parseRowAction,
  ROW_ACTIONS,
  type RowAction,
  type RowProblem,
  type UnknownField,
} from './input-rows';
export { decodeInput, type DecodedInput } from './input-charset';
export { headerColumn, isAdminCenterExport, splitSkuList } from './csv-input';
export { JSON_BATCH_FIELDS, JSON_USER_FIELDS, MAX_UNKNOWN_FIELDS, unknownFieldsText } from './json-input';
export { jsonSyntaxErrorAt, lineAndColumn } from './json-locator';

/** Parses an input, choosing the format from its content (and a `.json` name or JSON content type). */
export function parseInput(bytes: Uint8Array, source: string, hints?: ParseHints): ParseOutcome {
  const decoded = decodeInput(bytes, source, hints?.charset);
  if (!decoded.ok) return { ok: false, error: decoded.error };
  const { encoding, advisories } = decoded.decoded;
  const text = decoded.decoded.text.replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.length === 0)
    return fail(
      'empty',
      `${source}: is empty; expected a CSV with a userPrincipalName column, a list of UPNs, or JSON`,
    );
  if (hints?.json || trimmed.startsWith('{') || trimmed.startsWith('['))
    return parseJsonText(text, source, { encoding, advisories });
  // Windows PowerShell 5.1's Export-Csv writes "#TYPE System.Management.Automation.PSCustomObject" (or the object's
  // type) above the header unless told -NoTypeInformation (Export-Csv's documentation); it is read past.
  const typeLine = /^#TYPE [^\r\n]*(\r\n|\n|\r|$)/i.exec(text);
  const csvText = typeLine ? text.slice(typeLine[0].length) : text;
  const skipped = typeLine ? 1 : 0;
  const csvMeta = {
    encoding,
    advisories: typeLine ? [...advisories, 'powershell_type_line_skipped' as const] : advisories,
  };
  // Excel's convention: a first line "sep=;" names the delimiter (and is not the header).
  const sep = /^sep=(.)[ \t]*(\r\n|\n|\r|$)/i.exec(csvText);
  if (sep) {
    const d = sep[1]!;
    if (d !== ',' && d !== ';' && d !== '\t')
      return fail(
        'malformed',
        `${source}: line ${skipped + 1}: "sep=${d}" names a delimiter dialtone does not read; use sep=; or sep=,`,
      );
    return parseCsvText(csvText.slice(sep[0].length), source, d, skipped + 1, csvMeta);
  }
  const firstLine = firstMeaningfulLine(csvText);
  const delimiter = chooseDelimiter(firstLine);
  if (delimiter !== undefined || headerColumn(firstLine) === 'upn')
    return parseCsvText(csvText, source, delimiter ?? ',', skipped, csvMeta);
  return parseUpnList(text, source, { encoding, advisories });
}
