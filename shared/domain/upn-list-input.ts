// The simplest input: one user principal name a line, with blank lines and # comments read past.
import { fail, type InputMeta, type InputRow, MAX_INPUT_ROWS, type ParseOutcome } from './input-rows';

export function parseUpnList(text: string, source: string, meta: InputMeta): ParseOutcome {
  const rows: InputRow[] = [];
  let line = 0;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    line++;
    const t = raw.trim();
    if (t.length === 0 || t.startsWith('#')) continue;
    if (rows.length >= MAX_INPUT_ROWS)
      return fail('too_many_rows', `${source}: has more than ${MAX_INPUT_ROWS} UPNs; split the file`);
    rows.push({ row: rows.length + 1, line, userPrincipalName: t });
  }
  if (rows.length === 0) return fail('empty', `${source}: has only comments and blank lines`);
  return { ok: true, input: { format: 'upn-list', ...meta, rows } };
}
