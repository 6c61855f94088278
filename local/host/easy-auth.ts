// The local stand-in for App Service Authentication ("Easy Auth"), which only Azure has. In Azure the platform signs
// the admin in with Entra ID, keeps the session in its own cookie, removes any X-MS-CLIENT-PRINCIPAL header a client
// sends and injects its own on every request of a signed-in user ("Work with user identities in Azure App Service
// authentication", learn.microsoft.com). Here there is no Entra ID: the host holding the local function key is
// trusted, so `dialtone host` prints a one-time sign-in link; opening it sets an HttpOnly, SameSite=Strict session
// cookie (no key is ever kept in the browser), and requests carrying that cookie get a principal with the console's
// app role. A link works for LINK_MINUTES and a session ends after SESSION_IDLE_MINUTES without a request (Easy
// Auth's own session lasts as its cookie and token do; these bounds are this stand-in's). The cookie's name carries
// the port: browsers keep cookies per host, not per port, so two local hosts on one machine would otherwise share
// one cookie name. What this stand-in does not do: real Entra sign-in, token validation, group claims, the token
// store (/.auth/me) or refresh; sessions live only as long as the host process.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const COOKIE = 'dialtone_console_session';
const MAX_SESSIONS = 1000;
const MAX_LINKS = 1000;
/** How long a sign-in link works, and how long a session lasts without a request. */
export const LINK_MINUTES = 10;
export const SESSION_IDLE_MINUTES = 60;

export interface SignInAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function text(status: number, body: string, headers: Record<string, string> = {}): SignInAnswer {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
    body,
  };
}

export class LocalSignIn {
  /** Links by token, with when each stops working; sessions by id, with their last request. */
  private readonly links = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  /** The host's port, once it listens: part of the cookie's name. */
  port: number | undefined;

  /**
   * `role`: the app role the console asks for (DIALTONE_CONSOLE_ROLE), given to everyone signed in here. `now`: the
   * wall clock (not the local stack's faster app time: a person's link and session follow real minutes).
   */
  constructor(
    private readonly role: string,
    private readonly now: () => number = Date.now,
  ) {}

  get cookieName(): string {
    return this.port === undefined ? COOKIE : `${COOKIE}_${this.port}`;
  }

  /** A new sign-in path (`/.auth/login/local?token=…`) that works once, for LINK_MINUTES. */
  mintLink(): string {
    if (this.links.size >= MAX_LINKS) this.links.delete(this.links.keys().next().value!);
    const token = randomBytes(24).toString('base64url');
    this.links.set(token, this.now() + LINK_MINUTES * 60_000);
    return `/.auth/login/local?token=${token}`;
  }

  /** Answers the /.auth/… paths this stand-in serves; undefined for any other path. */
  answer(method: string, url: URL, keyOk: boolean, cookieHeader: string | undefined): SignInAnswer | undefined {
    if (url.pathname === '/.auth/login/local' && method === 'GET') {
      const given = url.searchParams.get('token') ?? '';
      const token = [...this.links.keys()].find((t) => sameSecret(t, given));
      const expired = token !== undefined && this.links.get(token)! <= this.now();
      if (token) this.links.delete(token);
      if (!token || expired)
        return text(
          401,
          `This sign-in link is unknown, was already used or is older than ${LINK_MINUTES} minutes. Start \`dialtone host\` again, or POST /.auth/local/links with the function key (x-functions-key) for a new one.`,
        );
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
      const session = randomBytes(32).toString('base64url');
      this.sessions.set(session, this.now());
      // No Secure flag: the local host speaks plain HTTP on loopback. HttpOnly keeps it from scripts; Strict keeps
      // other sites' pages from sending it.
      return {
        status: 302,
        headers: {
          Location: '/api/console',
          'Set-Cookie': `${this.cookieName}=${session}; Path=/; HttpOnly; SameSite=Strict`,
          'Cache-Control': 'no-store',
        },
        body: '',
      };
    }
    if (url.pathname === '/.auth/login/aad') {
      return text(
        401,
        'There is no Entra ID sign-in on the local host. Open the one-time console link `dialtone host` printed, or POST /.auth/local/links with the function key (x-functions-key) for a new one.',
      );
    }
    if (url.pathname === '/.auth/local/links' && method === 'POST') {
      if (!keyOk) return text(401, 'send the local function key as x-functions-key');
      return {
        status: 201,
        headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
        body: JSON.stringify({ path: this.mintLink() }),
      };
    }
    if (url.pathname === '/.auth/logout') {
      const session = this.sessionOf(cookieHeader);
      if (session) this.sessions.delete(session);
      return text(200, 'Signed out of the dialtone console.', {
        'Set-Cookie': `${this.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
      });
    }
    return undefined;
  }

  /** The live session the cookie names (its idle time restarts), or undefined; an idle one is ended. */
  private sessionOf(cookieHeader: string | undefined): string | undefined {
    const now = this.now();
    for (const part of (cookieHeader ?? '').split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name !== this.cookieName) continue;
      const value = rest.join('=');
      const found = [...this.sessions.keys()].find((s) => sameSecret(s, value));
      if (!found) continue;
      if (now - this.sessions.get(found)! > SESSION_IDLE_MINUTES * 60_000) {
        this.sessions.delete(found);
        continue;
      }
      this.sessions.set(found, now);
      return found;
    }
    return undefined;
  }

  /**
   * The request's headers as the app sees them behind Easy Auth: any X-MS-CLIENT-PRINCIPAL* or X-MS-TOKEN-* header the
   * client sent is dropped, and a signed-in session gets the platform's principal headers.
   */
  headersFor(req: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v !== 'string') continue;
      if (k.startsWith('x-ms-client-principal') || k.startsWith('x-ms-token-')) continue;
      headers[k] = v;
    }
    if (this.sessionOf(req.headers.cookie)) {
      const principal = {
        auth_typ: 'local',
        name_typ: 'name',
        role_typ: 'roles',
        claims: [
          { typ: 'name', val: 'local administrator' },
          { typ: 'roles', val: this.role },
        ],
      };
      headers['x-ms-client-principal'] = Buffer.from(JSON.stringify(principal)).toString('base64');
      headers['x-ms-client-principal-name'] = 'local administrator';
      headers['x-ms-client-principal-idp'] = 'local';
    }
    return headers;
  }
}
