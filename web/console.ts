// The admin console's page script (served by the function app as /api/console/assets/console.js). It reads the same
// API HR systems use, through the console's signed-in routes, and draws three views: the batches, one batch, and an
// upload form. Every value that comes from a report (UPNs and messages come from uploaded files) is set as text, never
// as HTML, and the page has no inline script or style, so the strict Content-Security-Policy holds.

const API = '/api/console/api';
const RUNNING = new Set(['Running', 'Pending', 'ContinuedAsNew', 'Suspended']);
const POLL_MS = 2500;
const COUNT_KEYS = [
  'total',
  'provisioned',
  'assigned',
  'released',
  'waiting',
  'scheduled',
  'flagged',
  'failed',
  'rejected',
  'cancelled',
  'pending',
] as const;
type CountKey = (typeof COUNT_KEYS)[number];
type Counts = Partial<Record<CountKey, number>>;

interface Row {
  row: number;
  line?: number;
  displayName?: string;
  userPrincipalName: string;
  profile: string;
  skus: string[];
  /** Part numbers this run assigned to the user. */
  addedSkus?: string[];
  outcome: string;
  reason: string;
  message: string;
  advisories: string[];
  scheduledFor?: string | null;
  assignedAt: string | null;
  provisionedAt: string | null;
  phoneNumber?: string | null;
}

interface Batch {
  batchId: string;
  source?: string;
  startedAt?: string;
  finishedAt?: string | null;
  deadline?: string | null;
  error?: string;
  runtimeStatus?: string;
  phase?: string;
  counts: Counts | null;
  /** Seats bought so far, by part number. */
  bought?: Record<string, number>;
  /** Seats given back so far by part number, and numbers unassigned (leavers and movers). */
  released?: { seats: Record<string, number>; numbers: number };
  /** Notes about the input file as a whole (encoding, columns read or not), as sentences. */
  fileNotes?: string[];
  users: Row[];
}

interface ListedBatch {
  batchId: string;
  upload?: boolean;
  runtimeStatus: string;
  phase: string | null;
  createdTime: string;
  counts: Counts | null;
}

interface Me {
  name: string;
  integration: string;
  features: { list: boolean; cancel: boolean; cancelUser: boolean };
  profiles: string[];
  defaultProfile: string;
  /** What each advisory code means, in the app's words (older apps send none: the code is shown). */
  advisories?: Record<string, string>;
  /**
   * What each outcome (and live state: waiting, scheduled, pending) means and what to do next, and the next step for
   * each reason: the app's one outcome guide (shared/domain/outcome-guide.ts), so the page says what the CLI, the
   * callback and docs/outcomes.md say. Older apps send none: the column stays empty.
   */
  guide?: { outcomes: Record<string, { meaning: string; next: string }>; reasons: Record<string, string> };
}

// ---------------------------------------------------------------------------------------------------------------
// Building the page: elements and text only.

type Child = Node | string | number | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (/^on/i.test(k) || k === 'style') throw new Error(`attribute ${k} is not set from code`);
    if (v === undefined || v === false) continue;
    if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, v);
  }
  append(e, children);
  return e;
}

function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

const SVG = 'http://www.w3.org/2000/svg';
function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function main(): HTMLElement {
  return document.getElementById('main')!;
}

function announce(text: string): void {
  const live = document.getElementById('announce');
  if (live) live.textContent = text;
}

function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function duration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
}

function statusText(runtimeStatus: string | undefined, phase: string | null | undefined): string {
  if (!runtimeStatus) return phase ?? '—';
  if (RUNNING.has(runtimeStatus)) return `running${phase ? ` (${phase})` : ''}`;
  return runtimeStatus === 'Completed' ? 'finished' : runtimeStatus.toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------------
// Talking to the API.

interface Answer {
  status: number;
  body: unknown;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  // The console's routes refuse a state-changing request without it: a page of another site cannot add it.
  headers.set('X-Dialtone-Console', '1');
  const r = await fetch(`${API}${path}`, { ...init, headers, credentials: 'same-origin', cache: 'no-store' });
  const type = r.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await r.json().catch(() => null) : await r.text();
  showHostTime(r.headers.get('X-Dialtone-Time'));
  if (r.status === 401) signedOut();
  return { status: r.status, body };
}

/** How far the app's clock stands ahead of this browser's (the local host's simulated time; 0 in Azure). */
let hostAheadMs = 0;
/** Now, by the app's clock: what a running batch's times are measured against. */
const appNow = (): number => Date.now() + hostAheadMs;

/**
 * The local host's time, which it sends with every answer (Azure sends none, and then nothing is shown): its clock
 * skips ahead while idle, and start dates, deadlines and the report's times are all read against it.
 */
function showHostTime(iso: string | null): void {
  const el = document.getElementById('clock');
  const at = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) return;
  hostAheadMs = at - Date.now();
  if (!el) return;
  const hours = Math.round((at - Date.now()) / 3_600_000);
  const ahead = hours >= 48 ? `+${Math.round(hours / 24)} d` : hours >= 1 ? `+${hours} h` : '';
  el.textContent = `${ahead ? 'simulated time' : 'host time'}: ${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC${ahead ? ` (${ahead})` : ''}`;
  el.hidden = false;
}

function problemText(a: Answer): string {
  const detail = (a.body as { detail?: unknown } | null)?.detail;
  return typeof detail === 'string' ? detail : `the app answered HTTP ${a.status}`;
}

function signedOut(): void {
  stopPolling();
  main().replaceChildren(
    h('h1', {}, 'Signed out'),
    h('p', {}, 'Your sign-in has ended. ', h('a', { href: '/api/console' }, 'Sign in again'), '.'),
  );
}

let me: Me | undefined;
let pollTimer: number | undefined;
let lastShown = '';

function stopPolling(): void {
  if (pollTimer !== undefined) window.clearTimeout(pollTimer);
  pollTimer = undefined;
}

function pollAgain(fn: () => Promise<void>): void {
  stopPolling();
  pollTimer = window.setTimeout(() => void fn(), POLL_MS);
}

// ---------------------------------------------------------------------------------------------------------------
// The batches, newest first.

function countCells(counts: Counts | null, keys: readonly CountKey[]): HTMLTableCellElement[] {
  return keys.map((k) => h('td', { 'data-count': k, class: 'num' }, counts ? String(counts[k] ?? 0) : '—'));
}

/** The count columns worth a column in the list: the total, and each count that some listed batch has. */
function countColumns(batches: readonly ListedBatch[]): CountKey[] {
  return COUNT_KEYS.filter((k) => k === 'total' || batches.some((b) => (b.counts?.[k] ?? 0) > 0));
}

function openByIdForm(): HTMLFormElement {
  const input = h('input', {
    id: 'open-id',
    name: 'batchId',
    type: 'text',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const form = h(
    'form',
    { class: 'inline', id: 'open-form' },
    h('label', { for: 'open-id' }, 'Open a batch by its id'),
    input,
    h('button', { type: 'submit' }, 'Open'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = input.value.trim();
    if (id) location.hash = `#/batches/${encodeURIComponent(id)}`;
  });
  return form;
}

// ---------------------------------------------------------------------------------------------------------------
// The deployment's health: the app's deep check (every dependency proven by a harmless call), once per visit.

interface HealthCheckView {
  check: string;
  ok: boolean;
  problem?: { detail?: string; missing?: string; grant?: string };
}

function healthSection(): HTMLElement {
  const note = h('p', { id: 'health-note' }, 'Checking what the app needs…');
  const section = h(
    'section',
    { id: 'health', 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title' }, 'Health'),
    note,
  );
  void call('/health').then((a) => {
    if (a.status === 404) return void (note.textContent = 'This version of the app has no health check.');
    if (a.status !== 200) return void (note.textContent = `The health check could not run: ${problemText(a)}`);
    const checks = (a.body as { checks?: HealthCheckView[] }).checks ?? [];
    const failed = checks.filter((c) => !c.ok);
    note.textContent =
      failed.length === 0
        ? `All ${checks.length} checks passed.`
        : `${failed.length} of ${checks.length} checks failed; what is missing and how to grant it is below.`;
    const rows = checks.map((c) =>
      h(
        'tr',
        { 'data-check': c.check, 'data-ok': String(c.ok) },
        h('th', { scope: 'row' }, c.check),
        h('td', {}, c.ok ? 'ok' : 'failed'),
        h('td', {}, c.problem?.missing ?? ''),
      ),
    );
    const table = h(
      'table',
      { id: 'health-checks' },
      h('caption', {}, 'What the app needs, each proven by a harmless call'),
      h('thead', {}, h('tr', {}, ...['Check', 'Result', 'Missing'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows),
    );
    const fixes = failed.map((c) =>
      h(
        'li',
        {},
        h('strong', {}, c.check),
        `: ${c.problem?.detail ?? 'failed'}`,
        ...(c.problem?.grant ? [h('br'), 'Grant: ', h('code', {}, c.problem.grant)] : []),
      ),
    );
    append(section, [
      h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Health checks table' }, table),
      fixes.length > 0 && h('ul', { id: 'health-fixes' }, ...fixes),
    ]);
  });
  return section;
}

async function showList(): Promise<void> {
  lastShown = '';
  const body = h('tbody', { id: 'batches-body' });
  const table = h('table', { id: 'batches' }, h('caption', {}, 'Batches, newest first'), h('thead', {}), body);
  const head = table.querySelector('thead')!;
  const note = h('p', { id: 'list-note' });
  main().replaceChildren(
    h('h1', {}, 'Batches'),
    note,
    h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Batches table' }, table),
    openByIdForm(),
    healthSection(),
  );

  const refresh = async (): Promise<void> => {
    if (!document.body.contains(body)) return;
    const a = await call('/batches?top=50');
    // The view may have been left (or shown anew) while the answer was on its way: a stale answer must neither draw
    // into a table no longer shown nor take `lastShown`, which would keep the current view from drawing the same list.
    if (!document.body.contains(body)) return;
    if (a.status === 404) {
      table.hidden = true;
      note.textContent = 'This version of the app cannot list batches yet: open a batch by its id below.';
      return;
    }
    if (a.status !== 200) {
      note.textContent = `The batches could not be read: ${problemText(a)}. Trying again…`;
      pollAgain(refresh);
      return;
    }
    const batches = ((a.body as { batches?: ListedBatch[] }).batches ?? []).slice();
    const running = batches.some((b) => RUNNING.has(b.runtimeStatus));
    const text = JSON.stringify(batches);
    if (text !== lastShown) {
      lastShown = text;
      note.textContent =
        batches.length === 0
          ? 'No batches yet: upload a file to start one.'
          : running
            ? 'Updates by itself while a batch runs.'
            : '';
      // Only the counts these batches have get a column (a count none of them has would be a column of zeros), so that
      // the list fits the page without scrolling sideways.
      const keys = countColumns(batches);
      head.replaceChildren(
        h('tr', {}, ...['Batch', 'Source', 'Started', 'Status', ...keys].map((c) => h('th', { scope: 'col' }, c))),
      );
      body.replaceChildren(
        ...batches.map((b) =>
          h(
            'tr',
            { 'data-batch-id': b.batchId, 'data-status': RUNNING.has(b.runtimeStatus) ? 'running' : 'finished' },
            h('th', { scope: 'row' }, h('a', { href: `#/batches/${encodeURIComponent(b.batchId)}` }, b.batchId)),
            h('td', {}, b.upload ? 'file upload' : 'HTTP'),
            h('td', { class: 'time' }, time(b.createdTime)),
            h('td', { 'data-field': 'status' }, statusText(b.runtimeStatus, b.phase)),
            ...countCells(b.counts, keys),
          ),
        ),
      );
    }
    if (running) pollAgain(refresh);
  };
  // Drawn now, filled when the answer comes: the view (and the keyboard focus on it) does not wait for the app.
  void refresh();
}

// ---------------------------------------------------------------------------------------------------------------
// One batch.

/** A calling plan's part numbers: rows holding one wait for Teams (Communications Credits are not a plan). */
const CALLING_PLAN = /^(MCOPSTN(?!C$|PP$)|MCOTEAMS_ESSENTIALS$)/;

/**
 * Rows whose licences are assigned and who wait for Teams to show the calling plan. The status API counts them
 * (`counts.waiting`) and lists them as `waiting` (an older app listed them as `assigned` with no `provisionedAt`).
 */
function waitingRows(b: Batch): Row[] {
  if (!RUNNING.has(b.runtimeStatus ?? '') || !(b.counts?.waiting ?? 0)) return [];
  return b.users.filter(
    (u) =>
      u.outcome === 'waiting' ||
      (u.outcome === 'assigned' &&
        !u.reason &&
        u.assignedAt &&
        !u.provisionedAt &&
        u.skus.some((k) => CALLING_PLAN.test(k))),
  );
}

/** "3 × MCOPSTN1, 1 × MCOEV": the seats a batch bought (the report's bought), or "nothing". */
function boughtText(bought: Record<string, number> | undefined): string {
  const parts = Object.entries(bought ?? {}).map(([sku, n]) => `${n} × ${sku}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

/** "2 × MCOEV, 1 × MCOPSTN1, 1 number": what a batch gave back (the report's released), or "nothing". */
function givenBackText(released: Batch['released']): string {
  const parts = Object.entries(released?.seats ?? {}).map(([sku, n]) => `${n} × ${sku}`);
  const numbers = released?.numbers ?? 0;
  if (numbers > 0) parts.push(`${numbers} number${numbers === 1 ? '' : 's'}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

function shownOutcome(u: Row, waiting: ReadonlySet<number>): string {
  return waiting.has(u.row) ? 'waiting' : u.outcome;
}

/** The guide's next step for the row (its reason's, else its shown outcome's), as a sentence. */
function nextStep(u: Row, outcome: string): string {
  const step =
    (outcome !== 'cancelled' ? me?.guide?.reasons[u.reason] : undefined) ?? me?.guide?.outcomes[outcome]?.next ?? '';
  return step ? `${step[0]!.toUpperCase()}${step.slice(1)}.` : '';
}

/**
 * The rows provisioned over time, on axes drawn from the batch's own times: from its start (or its first licence) to
 * the last of its deadline, its rows' provisioning, its end (or, while it runs, now by the app's clock) and, for rows
 * licensed later on their start date, their own deadline.
 */
function chart(b: Batch, waiting: number): SVGSVGElement {
  const W = 640;
  const H = 260;
  const left = 48;
  const right = 24;
  const top = 20;
  const bottom = 40;
  const ms = (iso: string | null | undefined) => (iso ? new Date(iso).getTime() : NaN);
  const started = ms(b.startedAt);
  const deadline = ms(b.deadline);
  const times = b.users
    .map((u) => ms(u.provisionedAt))
    .filter((t) => !Number.isNaN(t))
    .sort((x, y) => x - y);
  const c = b.counts ?? {};
  const goal = Math.max(1, (c.provisioned ?? 0) + (c.flagged ?? 0) + waiting + (c.pending ?? 0) + (c.scheduled ?? 0));
  const waitMs = Number.isNaN(deadline) || Number.isNaN(started) ? 0 : deadline - started;
  // Rows with a start date get their licences later, and their own deadline as long after that as the batch's.
  const later = b.users
    .filter((u) => u.scheduledFor)
    .map((u) => ms(u.assignedAt ?? u.scheduledFor) + waitMs)
    .filter((t) => !Number.isNaN(t));
  const lineEnd = b.finishedAt ? ms(b.finishedAt) : appNow();
  const start = Math.min(started, ...b.users.map((u) => ms(u.assignedAt)).filter((t) => !Number.isNaN(t)));
  const known = [deadline, lineEnd, ...times, ...later, start + 60_000].filter((t) => !Number.isNaN(t));
  const end = Math.max(...known);
  const x = (t: number) => left + ((Math.min(Math.max(t, start), end) - start) / (end - start)) * (W - left - right);
  const y = (n: number) => top + (1 - n / goal) * (H - top - bottom);
  const titleId = `chart-title-${b.batchId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-labelledby': titleId,
    class: 'chart',
    id: 'chart',
    focusable: 'false',
    'data-start': new Date(Number.isNaN(start) ? 0 : start).toISOString(),
    'data-end': new Date(Number.isNaN(end) ? 0 : end).toISOString(),
  });
  const summary = Number.isNaN(start)
    ? 'No rows have been planned yet.'
    : `${times.length} of ${goal} rows with a calling plan provisioned${Number.isNaN(deadline) ? '' : `; deadline ${time(b.deadline)}`}`;
  svg.appendChild(s('title', { id: titleId }, summary));
  if (Number.isNaN(start)) return svg;
  svg.appendChild(s('line', { x1: left, y1: y(0), x2: W - right, y2: y(0), class: 'axis' }));
  svg.appendChild(s('line', { x1: left, y1: y(0), x2: left, y2: y(goal), class: 'axis' }));
  svg.appendChild(s('text', { x: left - 6, y: y(goal) + 4, 'text-anchor': 'end', class: 'label' }, String(goal)));
  svg.appendChild(s('text', { x: left - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'label' }, '0'));
  svg.appendChild(s('text', { x: left, y: H - 12, class: 'label' }, time(new Date(start).toISOString())));
  svg.appendChild(
    s('text', { x: W - right, y: H - 12, 'text-anchor': 'end', class: 'label' }, time(new Date(end).toISOString())),
  );
  let d = `M ${x(start)} ${y(0)}`;
  times.forEach((t, i) => (d += ` H ${x(t)} V ${y(i + 1)}`));
  // The line runs to the end of the batch or, while it runs, to now by the app's clock.
  d += ` H ${x(Math.max(times[times.length - 1] ?? start, lineEnd))}`;
  svg.appendChild(s('path', { d, class: 'provisioned' }));
  if (!Number.isNaN(deadline)) {
    svg.appendChild(s('line', { x1: x(deadline), y1: top - 8, x2: x(deadline), y2: y(0), class: 'deadline' }));
    svg.appendChild(s('text', { x: x(deadline) - 4, y: top + 4, 'text-anchor': 'end', class: 'label' }, 'deadline'));
  }
  return svg;
}

/** What the chart shows, in words that hold for the batch at hand. */
function chartNote(b: Batch): string {
  const scheduled = b.users.some((u) => u.scheduledFor);
  return scheduled
    ? 'The line counts rows as Teams shows their calling plan. The dashed line is the deadline of the rows licensed when the batch started; rows with a start date were licensed on their day and have a deadline of their own, as long after their licences; rows still waiting at their deadline are flagged.'
    : 'The line counts rows as Teams shows their calling plan; the dashed line is the deadline, after which rows still waiting are flagged.';
}

function countsList(counts: Counts | null): HTMLDListElement {
  const dl = h('dl', { class: 'counts', id: 'counts' });
  for (const k of COUNT_KEYS) {
    if (!counts || (counts[k] === undefined && k !== 'total')) continue;
    dl.appendChild(h('div', { 'data-count': k }, h('dt', {}, k), h('dd', {}, String(counts[k] ?? 0))));
  }
  if (!counts) dl.appendChild(h('div', {}, h('dt', {}, 'rows'), h('dd', {}, 'being read…')));
  return dl;
}

async function showBatch(batchId: string): Promise<void> {
  lastShown = '';
  const heading = h('h1', {}, 'Batch ', h('span', { class: 'id' }, batchId));
  const facts = h('dl', { class: 'facts', id: 'facts' });
  const error = h('p', { class: 'error', role: 'alert', id: 'batch-error', hidden: true });
  const countsBox = h('section', { 'aria-labelledby': 'counts-h' }, h('h2', { id: 'counts-h' }, 'Counts'));
  const actions = h(
    'section',
    { 'aria-labelledby': 'actions-h', id: 'actions' },
    h('h2', { id: 'actions-h' }, 'Actions'),
  );
  const waitingBox = h(
    'section',
    { 'aria-labelledby': 'waiting-h', id: 'waiting' },
    h('h2', { id: 'waiting-h' }, 'Waiting for Teams'),
  );
  const chartBox = h(
    'section',
    { 'aria-labelledby': 'chart-h' },
    h('h2', { id: 'chart-h' }, 'Rows provisioned over time'),
  );
  const filter = h('select', { id: 'filter', name: 'outcome' });
  const rowsBody = h('tbody', { id: 'rows-body' });
  const rowsHead = h('thead', {});
  const rowsTable = h('table', { id: 'rows' }, h('caption', {}, 'Every row of the batch'), rowsHead, rowsBody);
  const rowsBox = h(
    'section',
    { 'aria-labelledby': 'rows-h' },
    h('h2', { id: 'rows-h' }, 'Rows'),
    h('p', { class: 'inline' }, h('label', { for: 'filter' }, 'Show rows with outcome'), filter),
    h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Rows table' }, rowsTable),
  );
  main().replaceChildren(heading, facts, error, countsBox, actions, waitingBox, chartBox, rowsBox);

  let batch: Batch | undefined;
  let waitingSet = new Set<number>();
  const drawRows = (): void => {
    if (!batch) return;
    const wanted = filter.value;
    const cancellable =
      me?.features.cancelUser === true &&
      RUNNING.has(batch.runtimeStatus ?? '') &&
      batch.users.some((u) => u.outcome === 'scheduled');
    rowsHead.replaceChildren(
      h(
        'tr',
        {},
        ...[
          'Row',
          'User',
          'Outcome',
          'Reason',
          'Message',
          'Phone number',
          'Advisories',
          'What to do',
          'Bought',
          ...(cancellable ? ['Action'] : []),
        ].map((c) => h('th', { scope: 'col' }, c)),
      ),
    );
    rowsBody.replaceChildren(
      ...batch.users
        .filter((u) => !wanted || shownOutcome(u, waitingSet) === wanted)
        .map((u) => {
          const outcome = shownOutcome(u, waitingSet);
          const button =
            cancellable && outcome === 'scheduled'
              ? h('button', { type: 'button', 'data-upn': u.userPrincipalName }, 'Cancel row')
              : null;
          button?.addEventListener('click', () => void cancelRow(u.row, u.userPrincipalName));
          return h(
            'tr',
            { 'data-outcome': outcome, 'data-row': String(u.row) },
            h('td', { class: 'num' }, String(u.row)),
            h(
              'th',
              { scope: 'row', class: 'upn' },
              u.userPrincipalName,
              u.displayName ? h('span', { class: 'name' }, u.displayName) : null,
            ),
            h('td', {}, outcome),
            h('td', {}, u.reason || '—'),
            h(
              'td',
              { class: 'message' },
              u.message || (outcome === 'scheduled' && u.scheduledFor ? `licences on ${time(u.scheduledFor)}` : ''),
            ),
            h('td', { class: 'phone', 'data-field': 'phone' }, u.phoneNumber ?? '—'),
            h(
              'td',
              { class: 'advisories', 'data-field': 'advisories' },
              u.advisories.length === 0
                ? '—'
                : h('ul', {}, ...u.advisories.map((a) => h('li', { 'data-advisory': a }, me?.advisories?.[a] ?? a))),
            ),
            h('td', { class: 'next', 'data-field': 'next' }, nextStep(u, outcome)),
            h('td', { class: 'skus', 'data-field': 'bought' }, (u.addedSkus ?? []).join(', ') || '—'),
            cancellable ? h('td', {}, button) : null,
          );
        }),
    );
  };
  filter.addEventListener('change', drawRows);

  // By row number: a UPN never goes in a URL.
  const cancelRow = async (row: number, upn: string): Promise<void> => {
    const a = await call(`/batches/${encodeURIComponent(batchId)}/rows/${row}/cancel`, { method: 'POST' });
    announce(
      a.status === 202 || a.status === 200 ? `Row ${upn} cancelled.` : `The row was not cancelled: ${problemText(a)}`,
    );
    await refresh();
  };

  const drawActions = (b: Batch): void => {
    const running = RUNNING.has(b.runtimeStatus ?? '');
    const items: HTMLElement[] = [];
    if (running) {
      const recheck = h('button', { type: 'button', id: 'recheck' }, 'Recheck Teams now');
      recheck.addEventListener('click', () => {
        void (async () => {
          const a = await call(`/batches/${encodeURIComponent(batchId)}/recheck`, { method: 'POST' });
          const said = (a.body as { message?: unknown } | null)?.message;
          announce(
            a.status === 202
              ? typeof said === 'string'
                ? said
                : 'Asked Teams to check the waiting users now.'
              : `Recheck refused: ${problemText(a)}`,
          );
          await refresh();
        })();
      });
      items.push(recheck);
      if (me?.features.cancel) {
        const cancel = h('button', { type: 'button', id: 'cancel', class: 'danger' }, 'Cancel the batch…');
        let armed = false;
        cancel.addEventListener('click', () => {
          if (!armed) {
            armed = true;
            cancel.textContent = 'Confirm: cancel the batch (rows not yet licensed end cancelled)';
            return;
          }
          void (async () => {
            const a = await call(`/batches/${encodeURIComponent(batchId)}/cancel`, { method: 'POST' });
            announce(a.status === 202 ? 'The batch is being cancelled.' : `Cancel refused: ${problemText(a)}`);
            await refresh();
          })();
        });
        items.push(cancel);
      }
      items.push(h('p', {}, 'The report can be downloaded when the batch has finished.'));
    } else {
      const base = `${API}/batches/${encodeURIComponent(batchId)}/report`;
      items.push(
        h(
          'a',
          { href: `${base}/csv`, download: 'report.csv', id: 'download-csv', class: 'button' },
          'Download report.csv',
        ),
      );
      items.push(
        h(
          'a',
          { href: `${base}/json`, download: 'report.json', id: 'download-json', class: 'button' },
          'Download report.json',
        ),
      );
    }
    actions.replaceChildren(h('h2', { id: 'actions-h' }, 'Actions'), h('div', { class: 'buttons' }, ...items));
  };

  const drawWaiting = (b: Batch, rows: Row[]): void => {
    const now = appNow();
    const deadline = b.deadline ? new Date(b.deadline).getTime() : NaN;
    const content: Child[] = [h('h2', { id: 'waiting-h' }, 'Waiting for Teams')];
    if (rows.length === 0)
      content.push(
        h(
          'p',
          {},
          RUNNING.has(b.runtimeStatus ?? '')
            ? 'Nobody is waiting for Teams right now.'
            : 'The batch has finished: nobody is waiting.',
        ),
      );
    else {
      content.push(
        h(
          'table',
          { id: 'waiting-table' },
          h('caption', {}, `${rows.length} users have their licences and wait for Teams to show the calling plan`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['User', 'Licences assigned', 'Waiting for', 'Deadline in'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            ...rows.map((u) =>
              h(
                'tr',
                {},
                h('th', { scope: 'row', class: 'upn' }, u.userPrincipalName),
                h('td', {}, time(u.assignedAt)),
                h('td', {}, duration(now - new Date(u.assignedAt ?? now).getTime())),
                h('td', {}, Number.isNaN(deadline) ? '—' : duration(deadline - now)),
              ),
            ),
          ),
        ),
      );
    }
    waitingBox.replaceChildren(...content.filter((c): c is Node => c instanceof Node));
  };

  const refresh = async (): Promise<void> => {
    if (!document.body.contains(rowsBody)) return;
    const a = await call(`/batches/${encodeURIComponent(batchId)}`);
    if (!document.body.contains(rowsBody)) return; // left while the answer was on its way (see the list's refresh)
    if (a.status !== 200) {
      error.hidden = false;
      error.textContent =
        a.status === 404
          ? `There is no batch ${batchId} that this console may see.`
          : `The batch could not be read: ${problemText(a)}`;
      if (a.status !== 404) pollAgain(refresh);
      return;
    }
    const b = a.body as Batch;
    const running = RUNNING.has(b.runtimeStatus ?? '');
    const text = JSON.stringify(b);
    if (text !== lastShown) {
      lastShown = text;
      batch = b;
      error.hidden = !b.error;
      error.textContent = b.error ?? '';
      facts.replaceChildren(
        ...(
          [
            ['Source', b.source ?? '—'],
            ['Started', time(b.startedAt)],
            ['Deadline', time(b.deadline)],
            ['Finished', b.finishedAt ? time(b.finishedAt) : 'not yet'],
            ['Status', statusText(b.runtimeStatus, b.phase)],
            ['Bought', boughtText(b.bought)],
            ['Given back', givenBackText(b.released)],
            ...(b.fileNotes ?? []).map((n) => ['File', n] as const),
          ] as const
        ).map(([k, v]) => h('div', { 'data-fact': k.toLowerCase() }, h('dt', {}, k), h('dd', {}, v))),
      );
      countsBox.replaceChildren(h('h2', { id: 'counts-h' }, 'Counts'), countsList(b.counts));
      const waiting = waitingRows(b);
      waitingSet = new Set(waiting.map((u) => u.row));
      drawActions(b);
      drawWaiting(b, waiting);
      chartBox.replaceChildren(
        h('h2', { id: 'chart-h' }, 'Rows provisioned over time'),
        chart(b, b.counts?.waiting ?? 0),
        h('p', { class: 'chart-note', id: 'chart-note' }, chartNote(b)),
      );
      const present = new Map<string, number>();
      for (const u of b.users)
        present.set(shownOutcome(u, waitingSet), (present.get(shownOutcome(u, waitingSet)) ?? 0) + 1);
      const keep = filter.value;
      filter.replaceChildren(
        h('option', { value: '' }, `all (${b.users.length})`),
        ...[...present].sort().map(([o, n]) => h('option', { value: o }, `${o} (${n})`)),
      );
      filter.value = present.has(keep) ? keep : '';
      drawRows();
    }
    if (running) pollAgain(refresh);
  };
  // Drawn now, filled when the answer comes: the view (and the keyboard focus on it) does not wait for the app.
  void refresh();
}

// ---------------------------------------------------------------------------------------------------------------
// Upload: a CSV, a UPN list or a JSON batch, with a profile.

function contentTypeOf(file: File): string {
  const name = file.name.toLowerCase();
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.txt')) return 'text/plain';
  return 'text/csv';
}

function showUpload(): void {
  stopPolling();
  let chosen: File | undefined;
  const file = h('input', {
    id: 'file',
    name: 'file',
    type: 'file',
    accept: '.csv,.txt,.json,text/csv,text/plain,application/json',
    'aria-describedby': 'file-help',
  });
  const chosenText = h('p', { id: 'chosen', class: 'chosen' }, 'No file chosen yet.');
  const drop = h(
    'div',
    { class: 'drop', id: 'drop' },
    h('label', { for: 'file' }, 'CSV file, list of UPNs (.txt) or JSON batch'),
    file,
    h(
      'p',
      { id: 'file-help', class: 'help' },
      'Or drop the file here. A CSV needs a UPN column (the Microsoft 365 admin center export works as it is); a list has one UPN per line.',
    ),
    chosenText,
  );
  const profile = h(
    'select',
    { id: 'profile', name: 'profile' },
    h('option', { value: '' }, `each row's own, else ${me?.defaultProfile ?? 'the default'}`),
    ...(me?.profiles ?? []).map((p) => h('option', { value: p }, p)),
  );
  const batchId = h('input', {
    id: 'batch-id',
    name: 'batchId',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'batch-id-help',
  });
  const result = h('p', { id: 'upload-result', role: 'status' });
  const form = h(
    'form',
    { id: 'upload-form', novalidate: true },
    drop,
    h('p', {}, h('label', { for: 'profile' }, 'Licence profile'), profile),
    h(
      'p',
      {},
      h('label', { for: 'batch-id' }, 'Batch id (optional)'),
      batchId,
      h(
        'span',
        { id: 'batch-id-help', class: 'help' },
        'Letters, digits, ., _ or -; sending the same id again returns the same batch.',
      ),
    ),
    h('p', {}, h('button', { type: 'submit', id: 'start' }, 'Start the batch')),
    result,
  );
  const choose = (f: File | undefined) => {
    chosen = f;
    chosenText.textContent = f ? `Chosen: ${f.name} (${f.size} bytes)` : 'No file chosen yet.';
  };
  file.addEventListener('change', () => choose(file.files?.[0]));
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    choose(e.dataTransfer?.files[0]);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      if (!chosen) {
        result.textContent = 'Choose or drop a file first.';
        file.focus();
        return;
      }
      const query = new URLSearchParams();
      if (profile.value) query.set('profile', profile.value);
      if (batchId.value.trim()) query.set('batchId', batchId.value.trim());
      result.textContent = `Sending ${chosen.name}…`;
      const a = await call(`/batches${query.size > 0 ? `?${query.toString()}` : ''}`, {
        method: 'POST',
        headers: { 'Content-Type': contentTypeOf(chosen) },
        body: await chosen.arrayBuffer(),
      });
      if (a.status !== 202 && a.status !== 200) {
        result.textContent = `Not started: ${problemText(a)}`;
        return;
      }
      const started = a.body as { batchId: string; rows?: number; existing?: boolean };
      announce(
        started.existing
          ? `Batch ${started.batchId} already exists: showing it.`
          : `Batch ${started.batchId} started with ${started.rows ?? 0} rows.`,
      );
      location.hash = `#/batches/${encodeURIComponent(started.batchId)}`;
    })();
  });
  main().replaceChildren(h('h1', {}, 'Upload a file'), form);
}

// ---------------------------------------------------------------------------------------------------------------
// Routing by the URL's fragment, so the browser's back button and bookmarks work.

async function route(): Promise<void> {
  stopPolling();
  const hash = location.hash.replace(/^#/, '');
  const m = /^\/batches\/(.+)$/.exec(hash);
  for (const a of document.querySelectorAll('nav a')) a.removeAttribute('aria-current');
  if (m) await showBatch(decodeURIComponent(m[1]!));
  else if (hash === '/upload') {
    document.querySelector('nav a[href="#/upload"]')?.setAttribute('aria-current', 'page');
    showUpload();
  } else {
    document.querySelector('nav a[href="#/"]')?.setAttribute('aria-current', 'page');
    await showList();
  }
  document.title = `${main().querySelector('h1')?.textContent ?? 'dialtone'} · dialtone console`;
  main().focus();
}

async function start(): Promise<void> {
  const a = await call('/me');
  if (a.status !== 200) {
    if (a.status !== 401) main().replaceChildren(h('h1', {}, 'The console cannot start'), h('p', {}, problemText(a)));
    return;
  }
  me = a.body as Me;
  const who = document.getElementById('who');
  if (who) who.textContent = `Signed in as ${me.name} · batches of ${me.integration}`;
  window.addEventListener('hashchange', () => void route());
  await route();
}

void start();
