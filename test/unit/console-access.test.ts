// Who the admin console lets in and as whom it acts: Easy Auth's client principal read as Microsoft documents it, the
// app role or group required, the integration the console's requests count as, and its settings checked at start-up.
import { HttpRequest } from '@azure/functions';
import { callerOf, actingAs } from '../../functions/callers';
import { consoleCallerFor, createConsole, readClientPrincipal } from '../../functions/console';
import {
  CONSOLE_SETTING_NAMES,
  ConfigError,
  SETTING_NAMES,
  loadConsoleSettings,
  type CallerDirectory,
} from '../../shared/adapters/config';

const principal = (claims: { typ: string; val: string }[], extra: Record<string, string> = {}) =>
  Buffer.from(
    JSON.stringify({
      auth_typ: 'aad',
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
      role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
      claims,
      ...extra,
    }),
  ).toString('base64');

describe('readClientPrincipal', () => {
  it("reads name, roles and groups from Easy Auth's base64 JSON", () => {
    const p = readClientPrincipal(
      principal([
        { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', val: 'Adele Vance' },
        { typ: 'roles', val: 'Dialtone.Admin' },
        { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Other.Role' },
        { typ: 'groups', val: 'A1B2C3D4-0000-4000-8000-000000000001' },
      ]),
    );
    expect(p).toEqual({
      name: 'Adele Vance',
      roles: ['Dialtone.Admin', 'Other.Role'],
      groups: ['a1b2c3d4-0000-4000-8000-000000000001'],
    });
  });

  it('reads nothing from a missing, oversized or malformed header', () => {
    expect(readClientPrincipal(null)).toBeUndefined();
    expect(readClientPrincipal('not base64 json')).toBeUndefined();
    expect(readClientPrincipal(Buffer.from('{"claims": 3}').toString('base64'))).toBeUndefined();
    expect(readClientPrincipal('A'.repeat(70_000))).toBeUndefined();
  });
});

describe('console settings', () => {
  it('are off without App Service Authentication and default to the Dialtone.Admin role', () => {
    expect(loadConsoleSettings({})).toEqual({
      signInEnabled: false,
      role: 'Dialtone.Admin',
      group: undefined,
      caller: undefined,
    });
    expect(
      loadConsoleSettings({
        WEBSITE_AUTH_ENABLED: 'True',
        DIALTONE_CONSOLE_GROUP: 'A1B2C3D4-0000-4000-8000-000000000001',
        DIALTONE_CONSOLE_CALLER: 'it-admin',
      }),
    ).toEqual({
      signInEnabled: true,
      role: 'Dialtone.Admin',
      group: 'a1b2c3d4-0000-4000-8000-000000000001',
      caller: 'it-admin',
    });
  });

  it('name every bad setting', () => {
    let error: unknown;
    try {
      loadConsoleSettings({
        DIALTONE_CONSOLE_ROLE: 'has space',
        DIALTONE_CONSOLE_GROUP: 'sales',
        DIALTONE_CONSOLE_CALLER: 'uploads',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0])).toEqual([
      'DIALTONE_CONSOLE_ROLE',
      'DIALTONE_CONSOLE_GROUP',
      'DIALTONE_CONSOLE_CALLER',
    ]);
  });

  it('are among the settings the deployment may set', () => {
    for (const name of CONSOLE_SETTING_NAMES) expect([name, SETTING_NAMES.includes(name)]).toEqual([name, true]);
  });
});

describe('the integration the console acts as', () => {
  const callers: CallerDirectory = new Map([
    [
      'f'.repeat(64),
      { name: 'workday', readsUploads: false, managesUploads: false, callbackHosts: [], rights: { ownSkus: false } },
    ],
  ]);
  const settings = { signInEnabled: true, role: 'Dialtone.Admin', group: undefined, caller: undefined };

  it('is the one integration without DIALTONE_CALLERS, and `console` (reading uploads) with it', () => {
    expect(consoleCallerFor(undefined, settings)).toMatchObject({
      name: 'default',
      readsUploads: true,
      managesUploads: true,
    });
    expect(consoleCallerFor(callers, settings)).toMatchObject({
      name: 'console',
      readsUploads: true,
      managesUploads: true,
    });
    expect(consoleCallerFor(callers, { ...settings, caller: 'workday' })).toMatchObject({
      name: 'workday',
      readsUploads: true,
    });
  });

  it('is attached to the request object, not to anything a client can send', () => {
    const forged = new HttpRequest({
      method: 'GET',
      url: 'http://localhost/api/batches',
      headers: { 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Dialtone.Admin' }]) },
    });
    expect(callerOf(forged, callers)).toBeUndefined();
    const passed = actingAs(
      new HttpRequest({ method: 'GET', url: 'http://localhost/api/batches' }),
      consoleCallerFor(callers, settings),
    );
    expect(callerOf(passed, callers)).toMatchObject({ name: 'console', readsUploads: true });
  });
});

describe('console routes', () => {
  const seen: string[] = [];
  const handler = (name: string) => async (request: HttpRequest) => {
    seen.push(`${name}:${callerOf(request, new Map())?.name ?? 'none'}`);
    return { status: 200, jsonBody: { ok: true } };
  };
  const build = (signInEnabled: boolean, group?: string) =>
    createConsole({
      api: { submit: handler('submit'), status: handler('status'), recheck: handler('recheck') },
      settings: { signInEnabled, role: 'Dialtone.Admin', group, caller: 'console' },
      callers: new Map(),
      profiles: ['phone-domestic'],
      defaultProfile: 'phone-domestic',
    });
  const route = (c: ReturnType<typeof build>, name: string) => c.routes.find((r) => r.name === name)!.handler;
  const request = (headers: Record<string, string>, method = 'GET') =>
    new HttpRequest({
      method,
      url: 'https://dialtone.example/api/console/api/batches/b1',
      headers,
      params: { batchId: 'b1' },
    });
  const ctx = {} as never;

  beforeEach(() => (seen.length = 0));

  it('stay closed while App Service Authentication is off, even with a principal header', async () => {
    const r = await route(build(false), 'console-batches-status')(
      request({ 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Dialtone.Admin' }]) }),
      ctx,
    );
    expect((r as { status: number }).status).toBe(503);
    expect(seen).toEqual([]);
  });

  it('refuse a signed-in user without the app role, and pass one with it on as the console integration', async () => {
    const c = build(true);
    const refused = await route(c, 'console-batches-status')(
      request({ 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Someone.Else' }]) }),
      ctx,
    );
    expect((refused as { status: number }).status).toBe(403);
    const allowed = await route(c, 'console-batches-status')(
      request({ 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Dialtone.Admin' }]) }),
      ctx,
    );
    expect((allowed as { status: number }).status).toBe(200);
    expect(seen).toEqual(['status:console']);
  });

  it('with a console group, let in the app role or the group, as docs/console.md says: the platform only authenticates (no allowedPrincipals policy in infra/app/api.bicep, deployment.test.ts), so the app decides', async () => {
    const group = 'a1b2c3d4-0000-4000-8000-000000000001';
    const c = build(true, group);
    const statusFor = async (claims: { typ: string; val: string }[]) =>
      (
        (await route(c, 'console-batches-status')(request({ 'x-ms-client-principal': principal(claims) }), ctx)) as {
          status: number;
        }
      ).status;
    expect(
      await statusFor([
        { typ: 'roles', val: 'Dialtone.Admin' },
        { typ: 'groups', val: '00000000-0000-4000-8000-00000000beef' },
      ]),
    ).toBe(200);
    expect(await statusFor([{ typ: 'groups', val: group.toUpperCase() }])).toBe(200);
    expect(
      await statusFor([
        { typ: 'roles', val: 'Someone.Else' },
        { typ: 'groups', val: '00000000-0000-4000-8000-00000000beef' },
      ]),
    ).toBe(403);
    expect(seen).toEqual(['status:console', 'status:console']);
  });

  it('give the deep health check to a signed-in admin only', async () => {
    const report = { status: 'ok', checks: [{ check: 'graph-token', ok: true, ms: 1 }] };
    const c = createConsole({
      api: { submit: handler('submit'), status: handler('status'), recheck: handler('recheck') },
      settings: { signInEnabled: true, role: 'Dialtone.Admin', group: undefined, caller: 'console' },
      callers: new Map(),
      profiles: ['phone-domestic'],
      defaultProfile: 'phone-domestic',
      health: async () => report,
    });
    const status = async (headers: Record<string, string>) =>
      (await route(c, 'console-health')(request(headers), ctx)) as { status: number; jsonBody?: unknown };
    expect((await status({})).status).toBe(401);
    expect((await status({ 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Someone.Else' }]) })).status).toBe(
      403,
    );
    expect(
      await status({ 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Dialtone.Admin' }]) }),
    ).toMatchObject({ status: 200, jsonBody: report });
  });

  it('answer 404 for a route this version of the app lacks (listing, cancel)', async () => {
    const r = await route(build(true), 'console-batches-list')(
      request({ 'x-ms-client-principal': principal([{ typ: 'roles', val: 'Dialtone.Admin' }]) }),
      ctx,
    );
    expect((r as { status: number }).status).toBe(404);
  });
});
