// The files admins have: Windows PowerShell's Export-Csv "#TYPE" line is read past; a column whose name is nearly one
// dialtone reads is named in a note; a refused file's report.csv says why in its first row; file notes reach the
// CLI summary and report.csv.
import { parseInput } from '../../shared/domain/input';
import { buildReport, reportToCsv } from '../../shared/domain/report';
import { summary } from '../../local/run-summary';

const csv = (text: string) => parseInput(Buffer.from(text), 'hires.csv');

describe('files admins have', () => {
  it("reads past PowerShell 5.1's #TYPE line, keeping the file's own line numbers, and says so", () => {
    const r = csv(
      '#TYPE System.Management.Automation.PSCustomObject\r\n"UserPrincipalName","UsageLocation"\r\n"a@contoso.com","US"\r\n',
    );
    if (!r.ok) throw new Error(r.error.message);
    expect(r.input.advisories).toEqual(['powershell_type_line_skipped']);
    expect(r.input.rows).toEqual([{ row: 1, line: 3, userPrincipalName: 'a@contoso.com', usageLocation: 'US' }]);
  });

  it('names a column whose name is nearly one dialtone reads, and still reads the file', () => {
    const r = csv('upn,Start Dte,Department,usage_locaton\na@contoso.com,2026-12-24,Sales,US\n');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.input.notes).toEqual([
      'column "Start Dte" (line 1) was not read; did you mean startDate?',
      'column "usage_locaton" (line 1) was not read; did you mean usageLocation?',
    ]);
    expect(r.input.rows[0]).toEqual({ row: 1, line: 2, userPrincipalName: 'a@contoso.com' });
  });

  it("puts a refused file's error in the first row of report.csv, and file notes before the users", () => {
    const refused = buildReport({
      batchId: 'b',
      source: 'blob:x.json',
      startedAt: '',
      finishedAt: '',
      deadline: null,
      error: 'x.json: users[0].startdate: unknown field; did you mean startDate?',
      users: [],
    });
    const lines = reportToCsv(refused)
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      ',,,,,,,file,input_refused,"x.json: users[0].startdate: unknown field; did you mean startDate?",,,,,,,',
    );
    const noted = buildReport({
      batchId: 'b',
      source: 'x',
      startedAt: '',
      finishedAt: '',
      deadline: null,
      advisories: ['powershell_type_line_skipped'],
      inputNotes: ['column "Start Dte" (line 1) was not read; did you mean startDate?'],
      users: [],
    });
    const rows = reportToCsv(noted)
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(rows[1]).toContain(',file,powershell_type_line_skipped,');
    expect(rows[2]).toContain(
      ',file,column_not_read,"column ""Start Dte"" (line 1) was not read; did you mean startDate?",',
    );
    expect(summary(noted)).toMatch(
      /about the file\n {2}The file's first line is the "#TYPE …" line .*\n {2}column "Start Dte" \(line 1\) was not read; did you mean startDate\?/,
    );
  });
});
