// The admin console on the local stack: who may open it (the local stand-in for Easy Auth, forged principals, requests
// from other sites), and, in a real Chromium, what an admin sees and does: a finished batch listed with its counts,
// a running batch's progress changing after a recheck, flagged rows filtered, report.csv downloaded, a file uploaded
// that then runs, and a hostile UPN shown as text. Each view is screenshotted into docs/ for docs/console.md.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startStack, type Stack } from '../../local/stack';
import type { TenantFile } from '../../local/graph-sim/tenant';
import { describeWithBrowser } from '../support/browser';
import { getBatch, postBatch, readRunFile, waitForReport } from '../support/e2e';

// The screenshots land in docs/ only when asked (`npm run screenshots`), so that a plain test run leaves the tracked
// tree as it found it; otherwise they go to a folder of this test's own that is removed at the end.
const UPDATE_DOCS = process.env.DIALTONE_UPDATE_SCREENSHOTS === '1';
let shotsFolder: string | undefined;
function shots(): string {
  shotsFolder ??= UPDATE_DOCS
    ? join(__dirname, '..', '..', 'docs')
    : mkdtempSync(join(tmpdir(), 'dialtone-console-shots-'));
  return shotsFolder;
}
afterAll(() => {
  if (!UPDATE_DOCS && shotsFolder) rmSync(shotsFolder, { recursive: true, force: true });
});
const HOSTILE_UPN = '<img src=x onerror=alert(1)>@contoso.com';
const WAIT = 90_000;

const SKUS = [
  { skuPartNumber: 'ENTERPRISEPACK', prepaidUnits: 20 },
  { skuPartNumber: 'MCOEV', prepaidUnits: 20 },
  { skuPartNumber: 'MCOPSTN1', prepaidUnits: 20 },
];

const tenant: TenantFile = {
  skus: SKUS,
  users: [
    { userPrincipalName: 'adele.vance@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
    { userPrincipalName: 'alex.wilber@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 300 },
    { userPrincipalName: 'megan.bowen@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: null },
    { userPrincipalName: 'lynne.robbins@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: null },
    { userPrincipalName: 'nestor.wilke@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 60 },
    { userPrincipalName: 'joni.sherman@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 45 },
    { userPrincipalName: 'patti.fernandez@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 20 },
    { userPrincipalName: 'isaiah.langer@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 30 },
  ],
  numbers: [
    {
      telephoneNumber: '+14255550100',
      numberType: 'callingPlan',
      isoCountryCode: 'US',
      assignedTo: null,
      locationId: null,
    },
  ],
};

const FINISHED_USERS = [
  { userPrincipalName: 'adele.vance@contoso.com' },
  { userPrincipalName: 'alex.wilber@contoso.com' },
  { userPrincipalName: 'megan.bowen@contoso.com' },
  { userPrincipalName: 'lynne.robbins@contoso.com' },
  { userPrincipalName: 'ghost@contoso.com' },
  { userPrincipalName: HOSTILE_UPN },
];

async function signInLink(stack: Stack): Promise<string> {
  const r = await fetch(`${stack.host.url}/.auth/local/links`, {
    method: 'POST',
    headers: { 'x-functions-key': stack.host.functionKey },
  });
  expect(r.status).toBe(201);
  return `${stack.host.url}${((await r.json()) as { path: string }).path}`;
}

/** A session cookie from a one-time sign-in link, as a browser would get it. */
async function sessionCookie(stack: Stack): Promise<string> {
  const r = await fetch(await signInLink(stack), { redirect: 'manual' });
  expect(r.status).toBe(302);
  return r.headers.get('set-cookie')!.split(';')[0]!;
}

describe('admin console: who may reach it', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ tenant });
  });
  afterAll(() => stack?.stop());

  it('sends a visitor without a sign-in to the sign-in page, and answers the API 401', async () => {
    const page = await fetch(`${stack.host.url}/api/console`, { redirect: 'manual' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fconsole');
    const api = await fetch(`${stack.host.url}/api/console/api/batches/anything`);
    expect([api.status, api.headers.get('content-type')]).toEqual([401, 'application/problem+json']);
  });

  it('ignores an X-MS-CLIENT-PRINCIPAL header sent by the client, as Easy Auth does', async () => {
    const forged = Buffer.from(
      JSON.stringify({
        auth_typ: 'aad',
        name_typ: 'name',
        role_typ: 'roles',
        claims: [{ typ: 'roles', val: 'Dialtone.Admin' }],
      }),
    ).toString('base64');
    const r = await fetch(`${stack.host.url}/api/console/api/me`, { headers: { 'x-ms-client-principal': forged } });
    expect(r.status).toBe(401);
  });

  it('accepts a sign-in link once, and sets an HttpOnly, SameSite=Strict session cookie', async () => {
    const link = await signInLink(stack);
    const first = await fetch(link, { redirect: 'manual' });
    expect([first.status, first.headers.get('location')]).toEqual([302, '/api/console']);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);
    const me = await fetch(`${stack.host.url}/api/console/api/me`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      integration: 'default',
      profiles: expect.arrayContaining(['phone-domestic']),
    });
    // A new link needs the function key.
    expect((await fetch(`${stack.host.url}/.auth/local/links`, { method: 'POST' })).status).toBe(401);
  });

  it('serves the page with a strict Content-Security-Policy and no inline script or style', async () => {
    const r = await fetch(`${stack.host.url}/api/console`, { headers: { cookie: await sessionCookie(stack) } });
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await r.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('refuses a state-changing request that does not come from the console page, and starts nothing', async () => {
    const cookie = await sessionCookie(stack);
    const body = JSON.stringify({
      batchId: 'from-elsewhere',
      users: [{ userPrincipalName: 'adele.vance@contoso.com' }],
    });
    const noHeader = await fetch(`${stack.host.url}/api/console/api/batches`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body,
    });
    expect(noHeader.status).toBe(403);
    const crossSite = await fetch(`${stack.host.url}/api/console/api/batches`, {
      method: 'POST',
      headers: {
        cookie,
        'content-type': 'application/json',
        'x-dialtone-console': '1',
        'sec-fetch-site': 'cross-site',
      },
      body,
    });
    expect(crossSite.status).toBe(403);
    expect((await getBatch(stack, 'from-elsewhere')).status).toBe(404);
  });
});

describeWithBrowser('admin console in Chromium', (executablePath) => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    mkdirSync(shots(), { recursive: true });
    stack = await startStack({ tenant });
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(await signInLink(stack));
    await page.locator('#who').filter({ hasText: 'Signed in as' }).waitFor({ timeout: WAIT });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  let finished: Awaited<ReturnType<typeof waitForReport>>;

  it('lists a finished batch with the counts of its report', async () => {
    expect(
      (await postBatch(stack, { batchId: 'onboarding-2026-11', profile: 'phone-domestic', users: FINISHED_USERS }))
        .status,
    ).toBe(202);
    finished = await waitForReport(stack, 'onboarding-2026-11', WAIT);
    expect(finished.counts).toMatchObject({ total: 6, provisioned: 2, flagged: 2, failed: 1, rejected: 1 });
    await page.goto(`${stack.host.url}/api/console#/`);
    const row = page.locator('#batches tr[data-batch-id="onboarding-2026-11"]');
    await row.waitFor({ timeout: WAIT });
    await row.locator('td[data-field="status"]', { hasText: 'finished' }).waitFor({ timeout: WAIT });
    // A count that no listed batch has gets no column (a column of zeros would only widen the table).
    for (const key of ['total', 'provisioned', 'assigned', 'flagged', 'failed', 'rejected'] as const) {
      const cell = row.locator(`td[data-count="${key}"]`);
      expect([key, (await cell.count()) === 0 ? '0' : await cell.textContent()]).toEqual([
        key,
        String(finished.counts[key]),
      ]);
    }
    expect(await page.locator('#batches thead th').allTextContents()).toEqual([
      'Batch',
      'Source',
      'Started',
      'Status',
      'total',
      'provisioned',
      'flagged',
      'failed',
      'rejected',
    ]);
    // The batch waited a simulated day for Teams: the header shows the host's time, ahead of the wall clock.
    expect(await page.locator('#clock').textContent()).toMatch(
      /^simulated time: \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\+\d+ [hd]\)$/,
    );
    await page.screenshot({ path: join(shots(), 'console-batches.png'), fullPage: true });
  });

  it("shows the deployment's health on the home page: every check, and for a missing permission what it is and what grants it", async () => {
    // As infra/app/storage.bicep provisions them in Azure (locally the app makes them on first use).
    const blobs = BlobServiceClient.fromConnectionString(stack.azurite.connectionString);
    for (const c of ['license-requests', 'license-reports', 'dialtone-budgets'])
      await blobs.getContainerClient(c).createIfNotExists();
    await QueueServiceClient.fromConnectionString(stack.azurite.connectionString)
      .getQueueClient('license-flags')
      .createIfNotExists();
    // The simulator's permission switch: Graph's documented 403 for the SKU list, which needs LicenseAssignment.Read.All.
    stack.sim.permissions = [
      'LicenseAssignment.ReadWrite.All',
      'TeamsUserConfiguration.Read.All',
      'User.ReadWrite.All',
      'TeamsTelephoneNumber.ReadWrite.All',
    ];
    // A token keeps the roles it was issued with, as Graph's do: the app signs in again (a new host process, so the
    // console signs in again too).
    await stack.crashAndRestartHost();
    try {
      await page.goto(await signInLink(stack));
      await page.locator('#who').filter({ hasText: 'Signed in as' }).waitFor({ timeout: WAIT });
      // A fresh load: the home page runs the check once per visit, and an earlier test left it open.
      await page.goto(`${stack.host.url}/api/console#/`);
      await page.reload();
      await page.locator('#health-checks tr[data-check="task-hub"]').waitFor({ timeout: WAIT });
      expect(await page.locator('#health-checks tbody th').allTextContents()).toEqual([
        'graph-token',
        'graph-subscribed-skus',
        'graph-teams-configuration',
        'graph-phone-numbers',
        'blob-license-reports',
        'blob-dialtone-budgets',
        'blob-license-requests',
        'flags',
        'task-hub',
      ]);
      expect(await page.locator('#health-checks tr[data-ok="false"] th').allTextContents()).toEqual([
        'graph-subscribed-skus',
      ]);
      expect(await page.locator('#health-checks tr[data-check="graph-subscribed-skus"] td').allTextContents()).toEqual([
        'failed',
        'the Microsoft Graph application permission LicenseAssignment.Read.All',
      ]);
      expect(await page.locator('#health-note').textContent()).toBe(
        '1 of 9 checks failed; what is missing and how to grant it is below.',
      );
      expect(await page.locator('#health-fixes code').allTextContents()).toEqual([
        expect.stringContaining('azd hooks run postprovision'),
      ]);
    } finally {
      stack.sim.permissions = undefined;
      await stack.crashAndRestartHost();
      await page.goto(await signInLink(stack));
      await page.locator('#who').filter({ hasText: 'Signed in as' }).waitFor({ timeout: WAIT });
    }
  });

  it('shows a hostile UPN from the input as text: no img element, no dialog', async () => {
    await page.goto(`${stack.host.url}/api/console#/batches/onboarding-2026-11`);
    const hostile = page.locator('#rows-body th.upn', { hasText: HOSTILE_UPN });
    await hostile.waitFor({ timeout: WAIT });
    expect(await hostile.textContent()).toBe(HOSTILE_UPN);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#rows-body tr[data-outcome="rejected"] td').nth(2).textContent()).toBe('invalid_upn');
    expect(dialogs).toEqual([]);
  });

  it('filters the rows of a batch to the flagged ones, each with what to do', async () => {
    await page.locator('#rows-body tr').first().waitFor({ timeout: WAIT });
    expect(await page.locator('#rows-body tr').count()).toBe(6);
    await page.selectOption('#filter', 'flagged');
    const shown = page.locator('#rows-body tr');
    expect(await shown.count()).toBe(finished.counts.flagged);
    const outcomes = await shown.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-outcome')));
    expect(outcomes).toEqual(['flagged', 'flagged']);
    const flaggedUpns = finished.users.filter((u) => u.outcome === 'flagged').map((u) => u.userPrincipalName);
    expect(await shown.locator('th.upn').allTextContents()).toEqual(flaggedUpns);
    expect(await shown.first().locator('td[data-field="next"]').textContent()).toMatch(/Teams admin center/);
    await page.screenshot({ path: join(shots(), 'console-batch.png'), fullPage: true });
  });

  it('downloads report.csv, the same file the batch wrote to storage', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: WAIT }),
      page.click('#download-csv'),
    ]);
    expect(download.suggestedFilename()).toBe('report.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv).toBe(await readRunFile(stack, 'default', 'onboarding-2026-11', 'report.csv'));
    expect(csv.split(/\r?\n/).filter(Boolean)).toHaveLength(1 + finished.counts.total);
  });

  it('is usable from the keyboard, labels every control, and fits the width at 200% zoom', async () => {
    // 200% zoom of a 1280-pixel window: the page lays out in 640 CSS pixels, drawn with two device pixels each.
    const zoomed = await browser.newContext({ viewport: { width: 640, height: 900 }, deviceScaleFactor: 2 });
    const p = await zoomed.newPage();
    await p.goto(await signInLink(stack));
    await p.locator('#who').filter({ hasText: 'Signed in as' }).waitFor({ timeout: WAIT });
    for (const view of ['#/batches/onboarding-2026-11', '#/upload', '#/']) {
      await p.goto(`${stack.host.url}/api/console${view}`);
      await p.locator('main h1').waitFor({ timeout: WAIT });
      await p.locator('main p', { hasText: 'Loading' }).waitFor({ state: 'detached', timeout: WAIT });
      const fits = await p.evaluate('document.documentElement.scrollWidth <= window.innerWidth');
      expect([view, fits]).toEqual([view, true]);
      const unlabelled = await p.evaluate(
        `[...document.querySelectorAll('input, select, textarea')].filter((c) => !c.id || !document.querySelector('label[for="' + c.id + '"]')).map((c) => c.outerHTML)`,
      );
      expect([view, unlabelled]).toEqual([view, []]);
    }
    // Each view puts the keyboard focus on its content; Shift+Tab reaches the navigation, Enter follows a link, and
    // the next view has the focus again.
    await p.goto(`${stack.host.url}/api/console#/`);
    await p.locator('main h1', { hasText: 'Batches' }).waitFor({ timeout: WAIT });
    expect(await p.evaluate('document.activeElement?.id')).toBe('main');
    await p.keyboard.press('Shift+Tab');
    expect(await p.evaluate('document.activeElement?.textContent')).toBe('Upload a file');
    await p.keyboard.press('Enter');
    await p.locator('#upload-form').waitFor({ timeout: WAIT });
    expect(await p.evaluate('document.activeElement?.id')).toBe('main');
    await p.keyboard.press('Tab');
    expect(await p.evaluate('document.activeElement?.id')).toBe('file');
    await zoomed.close();
  });

  it('uploads a CSV with a profile, which then runs to its report', async () => {
    await page.goto(`${stack.host.url}/api/console#/upload`);
    await page.locator('#file').setInputFiles({
      name: 'new-hires.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'userPrincipalName,usageLocation\r\nnestor.wilke@contoso.com,US\r\njoni.sherman@contoso.com,US\r\n',
      ),
    });
    await page.selectOption('#profile', 'phone-domestic');
    await page.locator('#chosen', { hasText: 'new-hires.csv' }).waitFor({ timeout: WAIT });
    await page.screenshot({ path: join(shots(), 'console-upload.png'), fullPage: true });
    await page.click('#start');
    await page.waitForURL(/#\/batches\/.+/, { timeout: WAIT });
    const batchId = decodeURIComponent(new URL(page.url()).hash.replace('#/batches/', ''));
    await page.locator('#facts [data-fact="status"] dd', { hasText: 'finished' }).waitFor({ timeout: WAIT });
    const report = await waitForReport(stack, batchId, WAIT);
    expect(report.counts).toMatchObject({ total: 2, provisioned: 2 });
    expect(report.users.map((u) => u.profile)).toEqual(['phone-domestic', 'phone-domestic']);
    expect(await page.locator('#counts [data-count="provisioned"] dd').textContent()).toBe('2');
  });

  it('fits its data: chart axes from the batch, a caption true for rows with a start date, numbers and advisories in the rows, no sideways scrolling at common widths', async () => {
    // Three days after the host's own time (its clock has run ahead of the wall clock by now).
    const hostNow = Date.parse(
      (
        await fetch(`${stack.host.url}/api/batches/onboarding-2026-11`, {
          headers: { 'x-functions-key': stack.host.functionKey },
        })
      ).headers.get('x-dialtone-time')!,
    );
    const startDate = new Date(hostNow + 3 * 86_400_000).toISOString().slice(0, 10);
    const users = [
      { userPrincipalName: 'patti.fernandez@contoso.com', phoneNumber: '+14255550100' },
      { userPrincipalName: 'isaiah.langer@contoso.com', startDate },
    ];
    expect((await postBatch(stack, { batchId: 'fits-1', profile: 'phone-domestic', users })).status).toBe(202);
    const report = await waitForReport(stack, 'fits-1', WAIT);
    expect(report.users.map((u) => [u.outcome, u.phoneNumber, Boolean(u.scheduledFor)])).toEqual([
      ['provisioned', '+14255550100', false],
      ['provisioned', null, true],
    ]);
    for (const width of [1280, 1400, 1920]) {
      const wide = await browser.newContext({ viewport: { width, height: 900 } });
      const p = await wide.newPage();
      await p.goto(await signInLink(stack));
      await p.locator('#who').filter({ hasText: 'Signed in as' }).waitFor({ timeout: WAIT });
      for (const view of ['#/', '#/batches/fits-1', '#/batches/onboarding-2026-11']) {
        await p.goto(`${stack.host.url}/api/console${view}`);
        await p
          .locator(view === '#/' ? '#batches tr[data-batch-id="fits-1"]' : '#rows-body tr')
          .first()
          .waitFor({ timeout: WAIT });
        const overflowing = await p.evaluate(
          `[...document.querySelectorAll('.scroll')].filter((r) => r.scrollWidth > r.clientWidth + 1).map((r) => r.getAttribute('aria-label') + ' ' + r.scrollWidth + '>' + r.clientWidth)`,
        );
        expect([
          width,
          view,
          overflowing,
          await p.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
        ]).toEqual([width, view, [], true]);
      }
      if (width === 1400) {
        await p.goto(`${stack.host.url}/api/console#/batches/fits-1`);
        await p.locator('#rows-body tr').first().waitFor({ timeout: WAIT });
        const headers = await p.locator('#rows thead th').allTextContents();
        expect(headers).toEqual(expect.arrayContaining(['Phone number', 'Advisories']));
        expect(await p.locator('#rows-body tr[data-row="1"] td[data-field="phone"]').textContent()).toBe(
          '+14255550100',
        );
        // Every point of the line, and the deadline, lies on the axes, which run from the batch's start to past its last provisioning.
        const chart = await p.evaluate<{ xs: number[]; deadline: number; end: string }>(
          `(() => { const svg = document.getElementById('chart'); const d = svg.querySelector('path.provisioned').getAttribute('d'); const xs = [...d.matchAll(/[MH] ([0-9.]+)/g)].map((m) => Number(m[1])); return { xs, deadline: Number(svg.querySelector('line.deadline').getAttribute('x1')), end: svg.getAttribute('data-end') }; })()`,
        );
        for (const x of [...chart.xs, chart.deadline]) expect(x).toBeGreaterThanOrEqual(48);
        for (const x of [...chart.xs, chart.deadline]) expect(x).toBeLessThanOrEqual(616);
        expect(Date.parse(chart.end)).toBeGreaterThanOrEqual(
          Math.max(...report.users.map((u) => Date.parse(u.provisionedAt!))),
        );
        // The scheduled row was provisioned days after the batch's deadline: the line reaches it, not the axis' end before it.
        expect(Math.max(...chart.xs)).toBeGreaterThan(chart.deadline);
        expect(await p.locator('#chart-note').textContent()).toMatch(
          /rows with a start date were licensed on their day and have a deadline of their own/,
        );
        await p.screenshot({ path: join(shots(), 'console-batch-scheduled.png'), fullPage: true });
        await p.goto(`${stack.host.url}/api/console#/batches/onboarding-2026-11`);
        await p.locator('#rows-body tr').first().waitFor({ timeout: WAIT });
        expect(await p.locator('#rows-body li[data-advisory="next_step_phone_number"]').first().textContent()).toMatch(
          /^Next step: assign the user a phone number/,
        );
      }
      await wide.close();
    }
  });
});

describeWithBrowser('admin console in Chromium: a running batch', (executablePath) => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    // The real clock: the batch waits for Teams (first poll 10 minutes away) until the admin asks for a recheck.
    stack = await startStack({
      tenant: {
        skus: SKUS,
        users: [
          { userPrincipalName: 'quick@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: 0 },
          { userPrincipalName: 'slow@contoso.com', usageLocation: 'US', teamsProvisioningMinutes: null },
        ],
      },
      skipAhead: false,
    });
    browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("shows a running batch's progress change after a recheck, and cancels it", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(await signInLink(stack));
    await page.locator('#who').filter({ hasText: 'Signed in as' }).waitFor({ timeout: WAIT });
    expect(
      (
        await postBatch(stack, {
          batchId: 'waiting-for-teams',
          users: [{ userPrincipalName: 'quick@contoso.com' }, { userPrincipalName: 'slow@contoso.com' }],
        })
      ).status,
    ).toBe(202);
    await page.goto(`${stack.host.url}/api/console#/batches/waiting-for-teams`);
    await page.locator('#counts [data-count="waiting"] dd', { hasText: '2' }).waitFor({ timeout: WAIT });
    expect(await page.locator('#waiting-table tbody th').allTextContents()).toEqual([
      'quick@contoso.com',
      'slow@contoso.com',
    ]);
    expect(await page.locator('#facts [data-fact="status"] dd').textContent()).toMatch(/^running/);
    await page.screenshot({ path: join(shots(), 'console-running.png'), fullPage: true });
    await page.click('#recheck');
    // The page refreshes itself: quick's calling plan is live at the recheck, slow's never is.
    await page.locator('#counts [data-count="provisioned"] dd', { hasText: '1' }).waitFor({ timeout: WAIT });
    await page.locator('#counts [data-count="waiting"] dd', { hasText: '1' }).waitFor({ timeout: WAIT });
    expect(await page.locator('#waiting-table tbody th').allTextContents()).toEqual(['slow@contoso.com']);
    expect(await page.locator('#rows-body tr[data-outcome="provisioned"] th.upn').allTextContents()).toEqual([
      'quick@contoso.com',
    ]);
    expect((await getBatch(stack, 'waiting-for-teams')).body.counts).toMatchObject({ provisioned: 1, waiting: 1 });
    // Cancel asks for a confirmation, then posts to the batch's cancel route, which takes it.
    await page.click('#cancel');
    expect(await page.locator('#cancel').textContent()).toMatch(/^Confirm/);
    await page.click('#cancel');
    await page.locator('#announce', { hasText: 'The batch is being cancelled.' }).waitFor({ timeout: WAIT });
    // slow already has its licences, so it keeps them and ends assigned; the page shows the batch finished.
    await page.locator('#facts [data-fact="status"] dd', { hasText: 'finished' }).waitFor({ timeout: WAIT });
    const report = await waitForReport(stack, 'waiting-for-teams', WAIT);
    expect(report.users.map((u) => `${u.userPrincipalName} ${u.outcome}`)).toEqual([
      'quick@contoso.com provisioned',
      'slow@contoso.com assigned',
    ]);
    expect(await page.locator('#rows-body tr[data-outcome="assigned"] th.upn').allTextContents()).toEqual([
      'slow@contoso.com',
    ]);
    await context.close();
  });
});
