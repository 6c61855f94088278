// The admin console: a page the function app serves itself (no second deployment), and the routes its script calls.
// Those routes are the HR API's own handlers (functions/batches.ts), reached after a check of who is signed in
// instead of a function key: in Azure, App Service Authentication (Easy Auth) signs the admin in with Entra ID and
// injects X-MS-CLIENT-PRINCIPAL; the console then acts as one integration (see consoleCallerFor), so the same
// per-caller rules decide which batches it sees. No key ever reaches the browser.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { CONSOLE_OWNER, type Caller, type CallerDirectory, type ConsoleSettings } from '../shared/adapters/config';
import { reportToCsv, type BatchReport } from '../shared/domain/report';
import { ONE_CALLER, actingAs } from './callers';
import { problem } from './batches';
import { LIVE_STATE_GUIDE, OUTCOME_GUIDE, REASON_GUIDE } from '../shared/domain/outcome-guide';
import { ADVISORIES } from '../shared/domain/outcomes';

/** The HR API's handlers the console passes requests on to; the listing and cancel routes may not exist yet. */
export interface ConsoleApi {
  readonly submit: HttpHandler;
  readonly status: HttpHandler;
  readonly recheck: HttpHandler;
  readonly list?: HttpHandler;
  readonly cancel?: HttpHandler;
  /** Cancels one waiting row by its number (POST …/rows/{row}/cancel). */
  readonly cancelRow?: HttpHandler;
}

export interface ConsoleDeps {
  readonly api: ConsoleApi;
  readonly settings: ConsoleSettings;
  readonly callers: CallerDirectory | undefined;
  readonly profiles: readonly string[];
  readonly defaultProfile: string;
  /** Where the compiled page script and style sheet are (dist/web); read once, at the first request. */
  readonly assetsDir?: string;
  /** The deployment's deep health check (functions/health.ts), shown on the console's home page. */
  readonly health?: (context: InvocationContext) => Promise<unknown>;
}

/** The page's own URL; every console route lives under it (host.json's routePrefix is `api`). */
export const CONSOLE_PATH = '/api/console';

/**
 * Sent with every console answer. No inline script or style is allowed (the page has none), nothing from another
 * origin, no framing; report values reach the page only as text (web/console.ts never uses innerHTML).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/**
 * The integration the console acts as. Without DIALTONE_CALLERS there is one integration and the console is it (it
 * sees every batch). With DIALTONE_CALLERS, DIALTONE_CONSOLE_CALLER names it (default `console`), and like an admin
 * tool's key it also reads the batches file uploads started: an HR system's batches stay that system's, unless the
 * operator points the console at that integration's name.
 */
export function consoleCallerFor(callers: CallerDirectory | undefined, settings: ConsoleSettings): Caller {
  if (!callers) return ONE_CALLER;
  // Admins read and manage uploads and may use every profile; the console asks for no callbacks.
  return {
    name: settings.caller ?? CONSOLE_OWNER,
    readsUploads: true,
    managesUploads: true,
    callbackHosts: [],
    rights: { ownSkus: true },
  };
}

export interface ConsoleUser {
  readonly name: string;
}

type Admission = { readonly user: ConsoleUser } | { readonly answer: HttpResponseInit };

interface ClientPrincipal {
  readonly auth_typ?: unknown;
  readonly name_typ?: unknown;
  readonly role_typ?: unknown;
  readonly claims?: unknown;
}

const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const NAME_CLAIMS = ['name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'];

/**
 * The signed-in user from Easy Auth's X-MS-CLIENT-PRINCIPAL header: base64 of `{ auth_typ, claims: [{ typ, val }],
 * name_typ, role_typ }` ("Work with user identities in Azure App Service authentication", learn.microsoft.com,
 * "Decode the client principal header"). Undefined when absent or unreadable.
 */
export function readClientPrincipal(
  header: string | null,
): { name: string; roles: string[]; groups: string[] } | undefined {
  if (!header || header.length > 64 * 1024) return undefined;
  let p: ClientPrincipal;
  try {
    p = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as ClientPrincipal;
  } catch {
    return undefined;
  }
  if (!p || typeof p !== 'object' || !Array.isArray(p.claims)) return undefined;
  const claims = (p.claims as unknown[]).flatMap((c) => {
    const { typ, val } = (c ?? {}) as { typ?: unknown; val?: unknown };
    return typeof typ === 'string' && typeof val === 'string' ? [{ typ, val }] : [];
  });
  const roleTypes = new Set([...ROLE_CLAIMS, ...(typeof p.role_typ === 'string' ? [p.role_typ] : [])]);
  const nameTypes = [...(typeof p.name_typ === 'string' ? [p.name_typ] : []), ...NAME_CLAIMS];
  const name =
    nameTypes.map((t) => claims.find((c) => c.typ === t)?.val).find((v) => v !== undefined) ?? 'signed-in user';
  return {
    name,
    roles: claims.filter((c) => roleTypes.has(c.typ)).map((c) => c.val),
    groups: claims.filter((c) => c.typ === 'groups').map((c) => c.val.toLowerCase()),
  };
}

function withSecurityHeaders(init: HttpResponseInit): HttpResponseInit {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
  return { ...init, headers: Object.fromEntries(headers) };
}

function page(title: string, body: string, status = 200): HttpResponseInit {
  // Only fixed text of this module goes into this HTML; nothing from a request or a report.
  return {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    body: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${CONSOLE_PATH}/assets/console.css">
${body.includes('id="main"') ? `<script type="module" src="${CONSOLE_PATH}/assets/console.js"></script>` : ''}
</head>
<body>
${body}
</body>
</html>
`,
  };
}

const SHELL = `<a class="skip" href="#main">Skip to the content</a>
<header class="top">
<p class="brand">dialtone console</p>
<nav aria-label="Console"><ul><li><a href="#/">Batches</a></li><li><a href="#/upload">Upload a file</a></li></ul></nav>
<p class="clock" id="clock" hidden></p>
<p class="who" id="who"></p>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<div class="live" id="announce" role="status" aria-live="polite"></div>`;

const ASSETS: Readonly<Record<string, string>> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

export function createConsole(deps: ConsoleDeps) {
  const { api, settings } = deps;
  const caller = consoleCallerFor(deps.callers, settings);
  const assetsDir = deps.assetsDir ?? join(__dirname, '..', 'web');
  const assetCache = new Map<string, Buffer>();

  /** Who is signed in and allowed, or the answer for someone who is not. */
  function admit(request: HttpRequest, asPage: boolean): Admission {
    if (!settings.signInEnabled) {
      const detail =
        'the console opens only behind App Service Authentication (Entra ID sign-in), which is off for this app: deploy with consoleClientId (see docs/console.md)';
      return {
        answer: asPage
          ? page(
              'dialtone console: sign-in is off',
              `<main id="content"><h1>Sign-in is not set up</h1><p>${detail}</p></main>`,
              503,
            )
          : problem(503, 'Sign-in is off', detail),
      };
    }
    const principal = readClientPrincipal(request.headers.get('x-ms-client-principal'));
    if (!principal) {
      if (asPage)
        return {
          answer: {
            status: 302,
            headers: { Location: `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(CONSOLE_PATH)}` },
          },
        };
      return { answer: problem(401, 'Not signed in', `sign in at ${CONSOLE_PATH} first`) };
    }
    const allowed =
      principal.roles.includes(settings.role) ||
      (settings.group !== undefined && principal.groups.includes(settings.group));
    if (!allowed) {
      const detail = `your account is signed in but has neither the app role ${settings.role}${settings.group ? ' nor membership of the console group' : ''}; ask an administrator to assign it`;
      return {
        answer: asPage
          ? page(
              'dialtone console: not allowed',
              `<main id="content"><h1>Not allowed</h1><p>${detail.replace(/[<>&"]/g, '')}</p></main>`,
              403,
            )
          : problem(403, 'Not allowed', detail),
      };
    }
    return { user: { name: principal.name } };
  }

  /**
   * A state-changing request must come from the console's own page: its script sends X-Dialtone-Console, which a
   * page on another origin cannot add without a CORS preflight this app never grants; a browser's Sec-Fetch-Site, when
   * sent, must say same-origin. Easy Auth's session cookie alone would otherwise let another site post here.
   */
  function crossSite(request: HttpRequest): HttpResponseInit | undefined {
    const site = request.headers.get('sec-fetch-site');
    if (request.headers.get('x-dialtone-console') !== '1' || (site !== null && site !== 'same-origin')) {
      return problem(
        403,
        'Not from the console',
        'state-changing console requests are accepted only from the console page itself',
      );
    }
    return undefined;
  }

  /** Passes a signed-in admin's request on to an HR API handler, as the console's integration. */
  function delegate(handler: HttpHandler | undefined, options: { write?: boolean } = {}): HttpHandler {
    return async (request: HttpRequest, context: InvocationContext) => {
      const admitted = admit(request, false);
      if ('answer' in admitted) return withSecurityHeaders(admitted.answer);
      if (options.write) {
        const refused = crossSite(request);
        if (refused) return withSecurityHeaders(refused);
      }
      if (!handler)
        return withSecurityHeaders(problem(404, 'Not available', 'this version of the app has no such route'));
      const answer = await handler(actingAs(request, caller), context);
      return withSecurityHeaders(answer);
    };
  }

  async function consolePage(request: HttpRequest): Promise<HttpResponseInit> {
    const admitted = admit(request, true);
    if ('answer' in admitted) return withSecurityHeaders(admitted.answer);
    return withSecurityHeaders(page('dialtone console', SHELL));
  }

  /** The page script and style sheet: code of this package, no data, so they need no sign-in. */
  async function asset(request: HttpRequest): Promise<HttpResponseInit> {
    const file = request.params['file'] ?? '';
    const type = ASSETS[file];
    if (!type) return withSecurityHeaders(problem(404, 'Not found', 'no such console asset'));
    let bytes = assetCache.get(file);
    if (!bytes) {
      try {
        bytes = readFileSync(join(assetsDir, file));
      } catch {
        return withSecurityHeaders(
          problem(500, 'Console not built', `${file} is missing from the package: run npm run build`),
        );
      }
      assetCache.set(file, bytes);
    }
    return withSecurityHeaders({ status: 200, headers: { 'Content-Type': type }, body: bytes });
  }

  /** Who is signed in, and what this app offers the page (routes that may not exist yet, the profiles). */
  async function me(request: HttpRequest): Promise<HttpResponseInit> {
    const admitted = admit(request, false);
    if ('answer' in admitted) return withSecurityHeaders(admitted.answer);
    return withSecurityHeaders({
      status: 200,
      jsonBody: {
        name: admitted.user.name,
        integration: caller.name,
        features: {
          list: api.list !== undefined,
          cancel: api.cancel !== undefined,
          cancelUser: api.cancelRow !== undefined,
        },
        profiles: [...deps.profiles].sort(),
        defaultProfile: deps.defaultProfile,
        advisories: ADVISORIES,
        guide: { outcomes: { ...OUTCOME_GUIDE, ...LIVE_STATE_GUIDE }, reasons: REASON_GUIDE },
      },
    });
  }

  /** report.csv or report.json of a finished batch, as a download; read through the status route, so with its rules. */
  async function report(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const format = request.params['format'];
    const admitted = admit(request, false);
    if ('answer' in admitted) return withSecurityHeaders(admitted.answer);
    if (format !== 'csv' && format !== 'json')
      return withSecurityHeaders(problem(404, 'Not found', 'the report is report/csv or report/json'));
    const answer = (await api.status(actingAs(request, caller), context)) as HttpResponseInit;
    if (answer.status !== 200) return withSecurityHeaders(answer);
    const {
      runtimeStatus: _r,
      phase: _p,
      ...body
    } = answer.jsonBody as BatchReport & { runtimeStatus?: unknown; phase?: unknown };
    if (!body.finishedAt)
      return withSecurityHeaders(
        problem(409, 'Batch running', `batch ${body.batchId} is still running: its report is written when it finishes`),
      );
    const disposition = `attachment; filename="report.${format}"`;
    if (format === 'json')
      return withSecurityHeaders({
        status: 200,
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Disposition': disposition },
        body: JSON.stringify(body, null, 2),
      });
    return withSecurityHeaders({
      status: 200,
      headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': disposition },
      body: reportToCsv(body),
    });
  }

  /** The deep health check for a signed-in admin: the same document as /api/health/deep, always with status 200. */
  async function health(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const admitted = admit(request, false);
    if ('answer' in admitted) return withSecurityHeaders(admitted.answer);
    if (!deps.health)
      return withSecurityHeaders(problem(404, 'Not available', 'this version of the app has no health check'));
    return withSecurityHeaders({
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      jsonBody: await deps.health(context),
    });
  }

  /** The console's routes, for main.ts to register (anonymous at the host: each one checks the sign-in itself). */
  const routes = [
    { name: 'console-page', route: 'console', methods: ['GET' as const], handler: consolePage },
    { name: 'console-asset', route: 'console/assets/{file}', methods: ['GET' as const], handler: asset },
    { name: 'console-me', route: 'console/api/me', methods: ['GET' as const], handler: me },
    {
      name: 'console-batches-list',
      route: 'console/api/batches',
      methods: ['GET' as const],
      handler: delegate(api.list),
    },
    {
      name: 'console-batches-submit',
      route: 'console/api/batches',
      methods: ['POST' as const],
      handler: delegate(api.submit, { write: true }),
    },
    {
      name: 'console-batches-status',
      route: 'console/api/batches/{batchId}',
      methods: ['GET' as const],
      handler: delegate(api.status),
    },
    {
      name: 'console-batches-recheck',
      route: 'console/api/batches/{batchId}/recheck',
      methods: ['POST' as const],
      handler: delegate(api.recheck, { write: true }),
    },
    {
      name: 'console-batches-cancel',
      route: 'console/api/batches/{batchId}/cancel',
      methods: ['POST' as const],
      handler: delegate(api.cancel, { write: true }),
    },
    {
      name: 'console-batches-cancel-row',
      route: 'console/api/batches/{batchId}/rows/{row}/cancel',
      methods: ['POST' as const],
      handler: delegate(api.cancelRow, { write: true }),
    },
    {
      name: 'console-batches-report',
      route: 'console/api/batches/{batchId}/report/{format}',
      methods: ['GET' as const],
      handler: report,
    },
    { name: 'console-health', route: 'console/api/health', methods: ['GET' as const], handler: health },
  ];
  return { routes, consolePage, asset, me, report, health };
}
