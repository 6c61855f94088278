// Which text an input's bytes are: a declared charset, a byte order mark, UTF-8, or Windows-1252 as Excel saves a
// CSV on a Western European Windows; and what to say of bytes that are not text at all (a workbook, a PDF).
import {
  type InputAdvisory,
  type InputEncoding,
  type InputError,
  type InputErrorCode,
  MAX_INPUT_BYTES,
  truncate,
} from './input-rows';

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
    if (head.includes('xl/'))
      return 'is an Excel workbook (.xlsx), not a CSV: open it in Excel and save it as "CSV UTF-8 (Comma delimited)"';
    if (head.includes('word/'))
      return 'is a Word document, not a CSV: put the users in a spreadsheet and save it as "CSV UTF-8"';
    return 'is a ZIP archive, not a CSV: unpack it and upload the CSV inside';
  }
  if (starts(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1))
    return 'is an Excel 97-2003 workbook (.xls) or another Office document, not a CSV: open it in Excel and save it as "CSV UTF-8 (Comma delimited)"';
  if (starts(0x25, 0x50, 0x44, 0x46))
    return 'is a PDF document, not a CSV: export the users from the system that made it as CSV';
  if (starts(0x89, 0x50, 0x4e, 0x47) || starts(0xff, 0xd8, 0xff) || starts(0x47, 0x49, 0x46, 0x38))
    return 'is a picture, not a CSV';
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
export function decodeInput(
  bytes: Uint8Array,
  source: string,
  charset?: string,
): { ok: true; decoded: DecodedInput } | { ok: false; error: InputError } {
  const refuse = (code: InputErrorCode, message: string) => ({
    ok: false as const,
    error: { code, message: `${source}: ${message}` },
  });
  if (bytes.length > MAX_INPUT_BYTES)
    return refuse(
      'too_large',
      `${bytes.length} bytes is over the limit of ${MAX_INPUT_BYTES} bytes (20 MiB); split the file`,
    );
  const binary = describeBinary(bytes);
  if (binary) return refuse('binary', binary);
  let declared: InputEncoding | undefined;
  if (charset !== undefined && charset.trim() !== '') {
    declared = CHARSET_LABELS.get(charset.trim().replace(/^"|"$/g, '').toLowerCase());
    if (!declared)
      return refuse(
        'unsupported_charset',
        `charset "${truncate(charset, 40)}" is not supported; send utf-8, utf-16 or windows-1252`,
      );
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
  else if (bytes[0] === 0xfe && bytes[1] === 0xff)
    [encoding, text] = ['utf-16be', strict('utf-16be', bytes.subarray(2))];
  else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    [encoding, text] = ['utf-8', strict('utf-8', bytes.subarray(3))];
  else if (declared === 'utf-16le' || declared === 'utf-16be') [encoding, text] = [declared, strict(declared, bytes)];
  else if (bytes.includes(0))
    return refuse('binary', 'contains NUL bytes, so it is not a text file (expected a CSV, a list of UPNs or JSON)');
  else if (declared === 'windows-1252')
    [encoding, text] = ['windows-1252', new TextDecoder('windows-1252').decode(bytes)];
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
    const what = declared
      ? `is not valid ${declared} text, the charset it declared`
      : encoding === 'utf-8'
        ? 'is neither UTF-8 nor Windows-1252 text'
        : `is not valid ${encoding.toUpperCase()} text`;
    return refuse('encoding', `${what}; save it as UTF-8 (in Excel: "CSV UTF-8")`);
  }
  let control = 0;
  // The whole text, not its first part: a control character deep in a file is as hidden as one at the start.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) control++;
  }
  if (control > 0)
    return refuse(
      'binary',
      'contains control characters, so it is not a text file (expected a CSV, a list of UPNs or JSON)',
    );
  return { ok: true, decoded: { text, encoding, advisories } };
}
