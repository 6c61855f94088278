// The local stand-in for Easy Auth: a sign-in link works once and for ten minutes, a session ends after an idle hour
// (each request restarts the hour), and the session cookie's name carries the host's port.
import type { IncomingMessage } from 'node:http';
import { LINK_MINUTES, LocalSignIn, SESSION_IDLE_MINUTES } from '../../local/host/easy-auth';

const MIN = 60_000;

function setUp() {
  let now = Date.parse('2026-12-07T09:00:00Z');
  const signIn = new LocalSignIn('Dialtone.Admin', () => now);
  signIn.port = 7123;
  const open = (path: string) => signIn.answer('GET', new URL(`http://127.0.0.1:7123${path}`), false, undefined);
  const signedIn = (cookie: string) =>
    signIn.headersFor({ headers: { cookie } } as unknown as IncomingMessage)['x-ms-client-principal'] !== undefined;
  return { signIn, open, signedIn, advance: (ms: number) => (now += ms) };
}

describe('local sign-in', () => {
  it(`takes a link once, within ${LINK_MINUTES} minutes, and names the cookie after the port`, () => {
    const { signIn, open, advance } = setUp();
    const link = signIn.mintLink();
    advance(LINK_MINUTES * MIN - 1_000);
    const first = open(link);
    expect(first?.status).toBe(302);
    expect(first?.headers['Set-Cookie']).toMatch(
      /^dialtone_console_session_7123=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    expect(open(link)?.status).toBe(401);
    const late = signIn.mintLink();
    advance(LINK_MINUTES * MIN);
    expect(open(late)).toMatchObject({
      status: 401,
      body: expect.stringContaining(`older than ${LINK_MINUTES} minutes`),
    });
  });

  it(`ends a session after ${SESSION_IDLE_MINUTES} idle minutes, each request restarting them, and takes no cookie of another port`, () => {
    const { signIn, open, signedIn, advance } = setUp();
    const cookie = open(signIn.mintLink())!.headers['Set-Cookie']!.split(';')[0]!;
    expect(signedIn(cookie)).toBe(true);
    expect(signedIn(cookie.replace('_7123=', '_7124='))).toBe(false);
    expect(signedIn(cookie.replace('_7123=', '='))).toBe(false);
    advance(SESSION_IDLE_MINUTES * MIN - 1_000);
    expect(signedIn(cookie)).toBe(true);
    advance(SESSION_IDLE_MINUTES * MIN - 1_000);
    expect(signedIn(cookie)).toBe(true);
    advance(SESSION_IDLE_MINUTES * MIN + 1_000);
    expect(signedIn(cookie)).toBe(false);
    // Ended for good: it does not come back.
    expect(signedIn(cookie)).toBe(false);
  });
});
