// The local host's log is something a person can follow: a line when a batch is accepted (its id and rows), one per
// phase, one when it finishes (its counts), each once however often the orchestration replays, and no personal data.
import { startStack, type Stack } from '../../local/stack';
import { postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

describe("the host's log", () => {
  let stack: Stack;
  const lines: string[] = [];
  const users = ['ada.lovelace@contoso.com', 'grace.hopper@contoso.com', 'alan.turing@contoso.com'];
  beforeAll(async () => {
    stack = await startStack({
      tenant: {
        skus: tenantSkus({ ENTERPRISEPACK: 5, MCOEV: 5, MCOPSTN1: 5 }),
        users: [
          { userPrincipalName: users[0]!, usageLocation: 'US', teamsProvisioningMinutes: 30 },
          { userPrincipalName: users[1]!, usageLocation: 'US', teamsProvisioningMinutes: null },
        ],
      },
      settings: { DIALTONE_DEADLINE_HOURS: '2' },
      onHostLog: (l) => lines.push(l),
    });
  });
  afterAll(() => stack?.stop());

  it('says when a batch is accepted, enters each phase and finishes, once each, naming no user', async () => {
    expect(
      (await postBatch(stack, { batchId: 'log-1', users: users.map((userPrincipalName) => ({ userPrincipalName })) }))
        .status,
    ).toBe(202);
    const report = await waitForReport(stack, 'log-1');
    expect(report.counts).toMatchObject({ total: 3, provisioned: 1, flagged: 1, failed: 1 });
    const about = lines.filter((l) => /\blog-1\b/.test(l));
    const once = (re: RegExp) => expect(about.filter((l) => re.test(l))).toHaveLength(1);
    once(/batch log-1 accepted: 3 rows from /);
    once(/batch log-1: planning/);
    once(/batch log-1: licensing 3 rows, 1 chunk\(s\), settled at planning: 1 failed/);
    once(/batch log-1: writing the report/);
    once(/batch log-1 finished: 3 rows, 1 provisioned, 1 flagged, 1 failed$/);
    for (const u of users) {
      expect(lines.join('\n')).not.toContain(u);
      expect(lines.join('\n').toLowerCase()).not.toContain(u.split('@')[0]!);
    }
  });

  it("sends the host's time on every answer, ahead of the wall clock once a batch with a start date has run", async () => {
    const hostTime = (r: Response) => Date.parse(r.headers.get('x-dialtone-time') ?? '');
    const inFiveDays = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    expect(
      (await postBatch(stack, { batchId: 'log-2', users: [{ userPrincipalName: users[0]!, startDate: inFiveDays }] }))
        .status,
    ).toBe(202);
    await waitForReport(stack, 'log-2');
    const key = { 'x-functions-key': stack.host.functionKey };
    const answers = [
      await fetch(`${stack.host.url}/api/batches/log-2`, { headers: key }),
      await fetch(`${stack.host.url}/api/batches/nope`, { headers: key }),
      await fetch(`${stack.host.url}/api/batches/log-2`),
      await fetch(`${stack.host.url}/api/nothing-here`, { headers: key }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 404, 401, 404]);
    // The row was licensed a day before its start date (midnight UTC, five days on): the clock stands over three days ahead.
    for (const r of answers) expect(hostTime(r) - Date.now()).toBeGreaterThan(3 * 86_400_000);
    // HTTP's Date stays the wall clock.
    expect(Math.abs(Date.parse(answers[0]!.headers.get('date')!) - Date.now())).toBeLessThan(60_000);
  });
});
