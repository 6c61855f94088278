// The simulated Entra ID's device-code flow as the identity platform documents it
// (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code): the device authorization response, then the
// token endpoint's answers while the person has not signed in, has declined, or has let the code expire, and a code it
// does not know; a registration that does not allow public client flows; and the delegated token's claims.
import { SimAuthority, ROLE_TEMPLATE_IDS, type TokenClaims } from '../../local/graph-sim/authority';

const TENANT = '2f6c3a1e-5d4b-4c7a-9e8f-0a1b2c3d4e5f';
const APP = '6c2e8f40-1d3b-4a5c-8e7f-9a0b1c2d3e4f';
const CONFIDENTIAL = '7d3f9a51-2e4c-4b6d-9f80-ab1c2d3e4f50';

let now = Date.parse('2026-12-07T09:00:00Z');
const authority = new SimAuthority(
  TENANT,
  {
    apps: [
      { clientId: APP, delegated: ['LicenseAssignment.ReadWrite.All', 'User.Read.All'] },
      { clientId: CONFIDENTIAL, secret: 's3cret', publicClient: false },
    ],
    admins: [
      {
        userPrincipalName: 'admin@contoso.com',
        directoryRoles: ['License Administrator', 'Teams Communications Administrator'],
      },
    ],
  },
  ['User.Read.All'],
  () => now,
);
authority.url = 'https://127.0.0.1:8443';

const form = (fields: Record<string, string>) => Buffer.from(new URLSearchParams(fields).toString());
const body = (r: { body: unknown }) => r.body as Record<string, unknown>;
function deviceCode(clientId = APP) {
  const r = authority.handle(
    'POST',
    `/${TENANT}/oauth2/v2.0/devicecode`,
    form({ client_id: clientId, scope: 'https://graph.microsoft.com/.default openid profile offline_access' }),
  );
  return {
    status: r.status,
    ...(body(r) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
      expires_in: number;
      interval: number;
      message: string;
    }),
  };
}
const poll = (device_code: string, clientId = APP) =>
  authority.handle(
    'POST',
    `/${TENANT}/oauth2/v2.0/token`,
    form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: clientId, device_code }),
  );
const enter = (fields: Record<string, unknown>) =>
  authority.handle('POST', '/devicelogin', Buffer.from(JSON.stringify(fields)));
const errorOf = (r: { status: number; body: unknown }) => [
  r.status,
  body(r)['error'],
  String(body(r)['error_description']).split(':')[0],
];

describe('the simulated device-code flow', () => {
  it('answers the device authorization request with the documented fields, and the metadata names its endpoint', () => {
    const d = deviceCode();
    expect(d.status).toBe(200);
    expect(d.expires_in).toBe(900);
    expect(d.interval).toBeGreaterThan(0);
    expect(d.verification_uri).toBe('https://127.0.0.1:8443/devicelogin');
    expect(d.message).toBe(
      `To sign in, use a web browser to open the page https://127.0.0.1:8443/devicelogin and enter the code ${d.user_code} to authenticate.`,
    );
    expect(authority.metadata()['device_authorization_endpoint']).toBe(
      `https://127.0.0.1:8443/${TENANT}/oauth2/v2.0/devicecode`,
    );
  });

  it('authorization_pending until the person enters the code, then the tokens; the code is used once', () => {
    const d = deviceCode();
    expect(errorOf(poll(d.device_code))).toEqual([400, 'authorization_pending', 'AADSTS70016']);
    expect(enter({ user_code: d.user_code, userPrincipalName: 'admin@contoso.com' }).status).toBe(200);
    const tokens = poll(d.device_code);
    expect(tokens.status).toBe(200);
    expect(Object.keys(body(tokens))).toEqual(
      expect.arrayContaining(['access_token', 'refresh_token', 'id_token', 'expires_in', 'token_type', 'scope']),
    );
    // The delegated token: the app's delegated permissions in scp, the person, and the person's directory roles.
    const check = authority.check(String(body(tokens)['access_token']));
    expect(check.ok).toBe(true);
    const claims = (check as { claims: TokenClaims }).claims;
    expect(claims).toMatchObject({
      idtyp: 'user',
      appid: APP,
      upn: 'admin@contoso.com',
      scp: 'LicenseAssignment.ReadWrite.All User.Read.All',
      wids: [ROLE_TEMPLATE_IDS['License Administrator'], ROLE_TEMPLATE_IDS['Teams Communications Administrator']],
    });
    expect(claims.roles).toBeUndefined();
    expect(errorOf(poll(d.device_code))).toEqual([400, 'invalid_grant', 'AADSTS70000']);
  });

  it('authorization_declined when the person declines, bad_verification_code for a code it never gave, expired_token after 15 minutes', () => {
    const declined = deviceCode();
    expect(enter({ user_code: declined.user_code, decline: true }).status).toBe(200);
    expect(errorOf(poll(declined.device_code))).toEqual([400, 'authorization_declined', 'AADSTS65004']);
    expect(errorOf(poll('not-a-device-code'))).toEqual([400, 'bad_verification_code', 'AADSTS70018']);
    const late = deviceCode();
    now += 901_000;
    expect(errorOf(poll(late.device_code))).toEqual([400, 'expired_token', 'AADSTS70019']);
    // Nor can the person sign in with it any more.
    expect(errorOf(enter({ user_code: late.user_code, userPrincipalName: 'admin@contoso.com' }))).toEqual([
      400,
      'invalid_grant',
      'AADSTS70000',
    ]);
  });

  it('a registration without public client flows cannot redeem a device code (it would need a secret)', () => {
    const d = deviceCode(CONFIDENTIAL);
    enter({ user_code: d.user_code, userPrincipalName: 'admin@contoso.com' });
    expect(errorOf(poll(d.device_code, CONFIDENTIAL))).toEqual([401, 'invalid_client', 'AADSTS7000218']);
  });

  it('refuses a person the directory does not hold', () => {
    const d = deviceCode();
    expect(errorOf(enter({ user_code: d.user_code, userPrincipalName: 'mallory@contoso.com' }))).toEqual([
      400,
      'invalid_grant',
      'AADSTS50034',
    ]);
    expect(errorOf(poll(d.device_code))).toEqual([400, 'authorization_pending', 'AADSTS70016']);
  });
});
