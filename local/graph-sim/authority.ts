// The simulated tenant's Entra ID: an OpenID Connect authority on the simulator's HTTPS port that issues the tokens
// its Graph checks. The app signs in through @azure/identity (MSAL underneath) exactly as it would against
// login.microsoftonline.com, with the authority host pointed here and instance discovery off (MSAL then reads this
// authority's own metadata: https://learn.microsoft.com/entra/identity-platform/msal-client-application-configuration).
//
// What it serves, after the Microsoft identity platform's v2.0 endpoints:
//   GET  /{tenant}/v2.0/.well-known/openid-configuration  (v2-protocols-oidc.md: authorization_endpoint, token_endpoint,
//        issuer and jwks_uri, the four fields MSAL requires of any authority's metadata)
//   GET  /{tenant}/discovery/v2.0/keys                     (the signing keys, a JWKS)
//   POST /{tenant}/oauth2/v2.0/token   client credentials with a secret or a certificate's signed assertion
//        (v2-oauth2-client-creds-grant-flow.md, certificate-credentials.md), the device-code grant and refresh tokens
//   POST /{tenant}/oauth2/v2.0/devicecode                  (v2-oauth2-device-code.md)
//   POST /devicelogin  {user_code, userPrincipalName}      the sign-in a person does in a browser, as one request
// Tokens are RS256 JWTs shaped as Graph's (v1.0 access tokens: aud https://graph.microsoft.com, tid, oid, appid,
// `roles` for app-only; `scp`, the user and the user's directory roles (`wids`) for delegated:
// access-token-claims-reference.md).
// Not like Entra: no passwords, MFA or consent prompts (the person signing in is named in the request), no key
// rollover, and tokens are opaque to no one (a test may read them). Token times follow the wall clock, as MSAL's do.
import {
  createHash,
  createVerify,
  constants,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';

/** Graph's application id, the audience of Graph tokens in one of its two spellings. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';

/** Directory roles as Entra names them (learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference). */
export const DIRECTORY_ROLES = [
  'Global Administrator',
  'Global Reader',
  'Directory Readers',
  'Directory Writers',
  'User Administrator',
  'License Administrator',
  'Teams Administrator',
  'Teams Communications Administrator',
  'Teams Communications Support Engineer',
  'Helpdesk Administrator',
] as const;
export type DirectoryRole = (typeof DIRECTORY_ROLES)[number];

/** Each role's template id, from the same reference's table: what a user token's `wids` claim lists. */
export const ROLE_TEMPLATE_IDS: Readonly<Record<DirectoryRole, string>> = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'Directory Readers': '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
  'Directory Writers': '9360feb5-f418-4baa-8175-e2a00bac4301',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'License Administrator': '4d6ac14f-3453-41d0-bef9-a3e0c569773a',
  'Teams Administrator': '69091246-20e8-4a56-aa4d-066075b2a7a8',
  'Teams Communications Administrator': 'baf37b3a-610e-45da-9e62-d9d1e5e8914b',
  'Teams Communications Support Engineer': 'f70938a0-fc10-4177-9e90-2178f8765737',
  'Helpdesk Administrator': '729827e3-9c14-49f7-bb1b-9608f156bbb8',
};

/** The tenant file's `identity`: the app registrations and the admins who may sign in. */
export const identityFileSchema = z
  .object({
    apps: z
      .array(
        z.object({
          clientId: z.string().regex(/^[0-9a-fA-F-]{36}$/, 'must be a GUID'),
          displayName: z.string().default('dialtone'),
          /** A client secret's value. */
          secret: z.string().min(1).optional(),
          /** PEM of a certificate whose private key the app signs its assertions with. */
          certificate: z.string().includes('BEGIN CERTIFICATE').optional(),
          /** Graph application permissions granted with admin consent; absent: the default grant (see SimAuthority). */
          roles: z.array(z.string()).optional(),
          /** Graph delegated permissions consented for the app; absent: the same names as its roles. */
          delegated: z.array(z.string()).optional(),
          /**
           * "Allow public client flows" (the registration's isFallbackPublicClient): without it Entra refuses a device
           * code's token request for want of a client secret. Absent: allowed (tenant files older than this field).
           */
          publicClient: z.boolean().optional(),
        }),
      )
      .default([]),
    /** People who may sign in with the device code (delegated calls), with their Entra directory roles. */
    admins: z
      .array(
        z.object({
          userPrincipalName: z.string().min(3),
          directoryRoles: z.array(z.enum(DIRECTORY_ROLES)).default([]),
        }),
      )
      .default([]),
  })
  .default({ apps: [], admins: [] });
export type IdentityFile = z.input<typeof identityFileSchema>;

export interface SimApp {
  readonly clientId: string;
  readonly displayName: string;
  readonly secret: string | undefined;
  readonly certificate: X509Certificate | undefined;
  /** Granted application permissions; a change applies to tokens issued after it, as in Entra. */
  roles: string[];
  delegated: string[];
  readonly publicClient: boolean;
}

export interface SimAdmin {
  readonly id: string;
  readonly userPrincipalName: string;
  directoryRoles: DirectoryRole[];
}

/** The claims Graph reads from an access token. */
export interface TokenClaims {
  readonly aud: string;
  readonly iss: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly tid: string;
  readonly appid: string;
  readonly oid: string;
  readonly idtyp: 'app' | 'user';
  readonly roles?: string[];
  readonly scp?: string;
  readonly upn?: string;
  /** A user token's directory roles at sign-in, by template id (access-token-claims-reference.md: wids). */
  readonly wids?: string[];
}

export interface AuthorityResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** A failed token check: Graph's 401 body, or undefined for a valid token with its claims. */
export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; message: string };

interface DeviceCode {
  readonly clientId: string;
  readonly scopes: string[];
  readonly userCode: string;
  readonly expiresAt: number;
  signedIn: SimAdmin | undefined;
  /** The person declined the sign-in at the verification page. */
  declined: boolean;
  redeemed: boolean;
}

/** Resources whose tokens this authority issues besides Graph's (so that a wrong audience can be asked for). */
const OTHER_RESOURCES = [
  'https://management.azure.com',
  'https://storage.azure.com',
  'https://vault.azure.net',
  'https://servicebus.azure.net',
];
const TOKEN_LIFETIME_S = 3600;
const DEVICE_CODE_LIFETIME_S = 900;

/** A GUID made from a seed, the same on every run (ids of the simulated tenant's objects). */
export function stableId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class SimAuthority {
  readonly apps = new Map<string, SimApp>();
  readonly admins = new Map<string, SimAdmin>();
  /** The tenant file's first app, or the one a file without `identity.apps` gets (a secret made at start, the default grant). */
  readonly defaultApp: SimApp;
  /** Tokens issued, by kind (a test can tell a token was fetched again). */
  readonly issued = { app: 0, user: 0 };
  private readonly keyId: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly deviceCodes = new Map<string, DeviceCode>();
  private readonly refreshTokens = new Map<string, { clientId: string; admin: SimAdmin; scopes: string[] }>();
  /** The simulator's https origin; set when it listens. */
  url = '';

  readonly tenantId: string;

  /**
   * @param defaultRoles what the default app is granted (infra/graph-permissions.json's list for the settings in
   *   force: permissions.ts); also the roles of a listed app without its own `roles`
   */
  constructor(
    tenantId: string,
    file: IdentityFile | undefined,
    defaultRoles: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    this.tenantId = tenantId.toLowerCase();
    const f = identityFileSchema.parse(file);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.keyId = createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64url')
      .slice(0, 27);
    for (const a of f.apps) {
      const roles = a.roles ?? [...defaultRoles];
      this.apps.set(a.clientId.toLowerCase(), {
        clientId: a.clientId.toLowerCase(),
        displayName: a.displayName,
        secret: a.secret,
        certificate: a.certificate ? new X509Certificate(a.certificate) : undefined,
        roles: [...roles],
        delegated: [...(a.delegated ?? roles)],
        publicClient: a.publicClient ?? true,
      });
    }
    const first = [...this.apps.values()][0];
    if (first) this.defaultApp = first;
    else {
      const app = {
        clientId: stableId('app:dialtone'),
        displayName: 'dialtone',
        secret: randomBytes(30).toString('base64url'),
        certificate: undefined,
        roles: [...defaultRoles],
        delegated: [...defaultRoles],
        publicClient: true,
      };
      this.apps.set(app.clientId, app);
      this.defaultApp = app;
    }
    for (const a of f.admins)
      this.admins.set(a.userPrincipalName.toLowerCase(), {
        id: stableId(`admin:${a.userPrincipalName.toLowerCase()}`),
        userPrincipalName: a.userPrincipalName,
        directoryRoles: [...a.directoryRoles],
      });
  }

  private get base(): string {
    return `${this.url}/${this.tenantId}`;
  }

  /** The paths this module answers; everything else is Graph's. */
  static handles(path: string): boolean {
    return (
      path === '/devicelogin' ||
      /^\/[^/]+\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/(token|devicecode))$/.test(
        path,
      )
    );
  }

  handle(method: string, path: string, body: Buffer): AuthorityResponse {
    if (path === '/devicelogin' && method === 'POST') return this.deviceLogin(body);
    const [, tenant = '', ...rest] = path.split('/');
    const endpoint = rest.join('/');
    // A tenant this authority does not hold: AADSTS90002 (Entra's error codes reference).
    if (tenant.toLowerCase() !== this.tenantId)
      return oauthError(
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant.slice(0, 64)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    if (method === 'GET' && endpoint === 'v2.0/.well-known/openid-configuration') return json(200, this.metadata());
    if (method === 'GET' && endpoint === 'discovery/v2.0/keys')
      return json(200, {
        keys: [{ ...this.publicKey.export({ format: 'jwk' }), kid: this.keyId, use: 'sig', alg: 'RS256' }],
      });
    if (method === 'POST' && endpoint === 'oauth2/v2.0/token')
      return this.token(new URLSearchParams(body.toString('utf8')));
    if (method === 'POST' && endpoint === 'oauth2/v2.0/devicecode')
      return this.deviceCode(new URLSearchParams(body.toString('utf8')));
    return oauthError(
      405,
      'invalid_request',
      900561,
      `The endpoint only accepts ${endpoint.endsWith('token') || endpoint.endsWith('devicecode') ? 'POST' : 'GET'} requests.`,
    );
  }

  metadata(): Record<string, unknown> {
    return {
      issuer: `${this.base}/v2.0`,
      authorization_endpoint: `${this.base}/oauth2/v2.0/authorize`,
      token_endpoint: `${this.base}/oauth2/v2.0/token`,
      device_authorization_endpoint: `${this.base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${this.base}/oauth2/v2.0/logout`,
      jwks_uri: `${this.base}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      tenant_region_scope: null,
      cloud_instance_name: new URL(this.url).host,
    };
  }

  private token(form: URLSearchParams): AuthorityResponse {
    const grant = form.get('grant_type') ?? '';
    const clientId = (form.get('client_id') ?? '').toLowerCase();
    const app = this.apps.get(clientId);
    if (!app)
      return oauthError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId.slice(0, 64)}' was not found in the directory '${this.tenantId}'.`,
      );
    if (grant === 'client_credentials') {
      const refused = this.authenticateClient(app, form);
      if (refused) return refused;
      const resource = resourceOf(form.get('scope') ?? '', this.url);
      if ('error' in resource) return resource.error;
      this.issued.app++;
      return json(
        200,
        this.sign({
          aud: resource.aud,
          idtyp: 'app',
          appid: app.clientId,
          appidacr: form.has('client_assertion') ? '2' : '1',
          oid: stableId(`sp:${app.clientId}`),
          roles: [...app.roles],
        }),
      );
    }
    // The v2 device-code page names the URN; MSAL sends the short form, which Entra also takes.
    if (grant === 'urn:ietf:params:oauth:grant-type:device_code' || grant === 'device_code') {
      // The errors the device-code page lists: bad_verification_code, expired_token, authorization_declined,
      // authorization_pending (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code#expected-errors),
      // with the AADSTS codes of Entra's error reference (reference-error-codes: 70016, 70018, 70019, 65004).
      if (!app.publicClient)
        return oauthError(
          401,
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
      const code = this.deviceCodes.get(form.get('device_code') ?? '');
      if (!code)
        return oauthError(
          400,
          'bad_verification_code',
          70018,
          'Invalid verification code due to User typing in wrong user code for device code flow. Authorization is not approved.',
        );
      if (code.clientId !== clientId || code.redeemed)
        return oauthError(400, 'invalid_grant', 70000, 'Provided grant is invalid or malformed.');
      if (this.now() > code.expiresAt)
        return oauthError(400, 'expired_token', 70019, 'Verification code expired. Have the user retry the sign-in.');
      if (code.declined)
        return oauthError(400, 'authorization_declined', 65004, 'User declined to consent to access the app.');
      if (!code.signedIn)
        return oauthError(
          400,
          'authorization_pending',
          70016,
          'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
        );
      code.redeemed = true;
      return this.userTokens(app, code.signedIn, code.scopes);
    }
    if (grant === 'refresh_token') {
      const held = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!held || held.clientId !== clientId)
        return oauthError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
      return this.userTokens(app, held.admin, form.get('scope')?.split(' ') ?? held.scopes);
    }
    return oauthError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grant.slice(0, 80)}'.`,
    );
  }

  /** A secret, or a client assertion signed with the app's certificate (certificate-credentials.md). */
  private authenticateClient(app: SimApp, form: URLSearchParams): AuthorityResponse | undefined {
    const secret = form.get('client_secret');
    if (secret !== null) {
      if (app.secret !== undefined && app.secret === secret) return undefined;
      return oauthError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    }
    const assertion = form.get('client_assertion');
    if (
      assertion === null ||
      form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
    ) {
      return oauthError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (!app.certificate)
      return oauthError(
        401,
        'invalid_client',
        700027,
        'Client assertion contains an invalid signature. [Reason - The key was not found.]',
      );
    const parsed = parseJwt(assertion);
    if (!parsed) return oauthError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    const { header, payload, signed, signature } = parsed;
    // The header names the certificate by its SHA-256 (x5t#S256) or SHA-1 (x5t) thumbprint; an unknown one is a key
    // Entra does not hold for the app.
    const named =
      typeof header['x5t#S256'] === 'string'
        ? header['x5t#S256']
        : typeof header['x5t'] === 'string'
          ? header['x5t']
          : '';
    const gotHex = Buffer.from(named, 'base64url').toString('hex');
    const known = [app.certificate.fingerprint256, app.certificate.fingerprint].map((f) =>
      f.replace(/:/g, '').toLowerCase(),
    );
    if (!known.includes(gotHex))
      return oauthError(
        401,
        'invalid_client',
        700027,
        `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${gotHex.toUpperCase().slice(0, 64)}']`,
      );
    const key = app.certificate.publicKey;
    const ok =
      header['alg'] === 'PS256'
        ? verify(
            'sha256',
            Buffer.from(signed),
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
            signature,
          )
        : header['alg'] === 'RS256' && createVerify('RSA-SHA256').update(signed).verify(key, signature);
    if (!ok) return oauthError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
    const nowS = Math.floor(this.now() / 1000);
    if (payload['aud'] !== `${this.base}/oauth2/v2.0/token`)
      return oauthError(
        401,
        'invalid_client',
        700021,
        `Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.`,
      );
    if (payload['iss'] !== app.clientId || payload['sub'] !== app.clientId)
      return oauthError(
        401,
        'invalid_client',
        700023,
        'Client assertion issuer and subject must both be the client id.',
      );
    if (typeof payload['exp'] !== 'number' || payload['exp'] < nowS)
      return oauthError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    return undefined;
  }

  private deviceCode(form: URLSearchParams): AuthorityResponse {
    const clientId = (form.get('client_id') ?? '').toLowerCase();
    if (!this.apps.has(clientId))
      return oauthError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId.slice(0, 64)}' was not found in the directory '${this.tenantId}'.`,
      );
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    const resource = resourceOf(
      scopes.find((s) => !['openid', 'profile', 'offline_access'].includes(s)) ?? '',
      this.url,
    );
    if ('error' in resource) return resource.error;
    const deviceCode = randomBytes(32).toString('base64url');
    const userCode = randomBytes(6).toString('hex').toUpperCase().slice(0, 9);
    this.deviceCodes.set(deviceCode, {
      clientId,
      scopes,
      userCode,
      expiresAt: this.now() + DEVICE_CODE_LIFETIME_S * 1000,
      signedIn: undefined,
      declined: false,
      redeemed: false,
    });
    const verificationUri = `${this.url}/devicelogin`;
    return json(200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      expires_in: DEVICE_CODE_LIFETIME_S,
      interval: 1,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    });
  }

  /**
   * The person's half of the device-code flow, standing in for the verification page (microsoft.com/devicelogin):
   * `{ user_code, userPrincipalName }` as JSON or a form signs in; `{ user_code, decline: "true" }` declines.
   */
  private deviceLogin(body: Buffer): AuthorityResponse {
    const text = body.toString('utf8');
    let fields: Record<string, unknown>;
    try {
      fields = text.trimStart().startsWith('{')
        ? (JSON.parse(text) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(text));
    } catch {
      return oauthError(
        400,
        'invalid_request',
        900144,
        'The request body must contain user_code and userPrincipalName.',
      );
    }
    const field = (k: string) => (typeof fields[k] === 'string' ? fields[k] : '');
    const code = [...this.deviceCodes.values()].find(
      (c) => c.userCode === field('user_code').toUpperCase() && !c.redeemed && c.expiresAt >= this.now(),
    );
    if (!code) return oauthError(400, 'invalid_grant', 70000, 'The code you entered has expired or is not valid.');
    if (fields['decline'] === true || field('decline') === 'true') {
      code.declined = true;
      return json(200, { declined: true });
    }
    const admin = this.admins.get(field('userPrincipalName').toLowerCase());
    if (!admin)
      return oauthError(
        400,
        'invalid_grant',
        50034,
        `The user account ${field('userPrincipalName').slice(0, 100)} does not exist in the ${this.tenantId} directory.`,
      );
    code.signedIn = admin;
    return json(200, { signedIn: admin.userPrincipalName });
  }

  private userTokens(app: SimApp, admin: SimAdmin, scopes: readonly string[]): AuthorityResponse {
    const resource = resourceOf(
      scopes.find((s) => !['openid', 'profile', 'offline_access'].includes(s)) ?? '',
      this.url,
    );
    if ('error' in resource) return resource.error;
    this.issued.user++;
    const refresh = randomBytes(32).toString('base64url');
    this.refreshTokens.set(refresh, { clientId: app.clientId, admin, scopes: [...scopes] });
    const nowS = Math.floor(this.now() / 1000);
    // MSAL builds the signed-in account from the ID token and client_info (uid.utid); it does not verify the ID token.
    const idToken = this.jws({
      aud: app.clientId,
      iss: `${this.base}/v2.0`,
      iat: nowS,
      nbf: nowS,
      exp: nowS + TOKEN_LIFETIME_S,
      tid: this.tenantId,
      oid: admin.id,
      sub: admin.id,
      preferred_username: admin.userPrincipalName,
      name: admin.userPrincipalName.split('@')[0],
      ver: '2.0',
    });
    const clientInfo = Buffer.from(JSON.stringify({ uid: admin.id, utid: this.tenantId })).toString('base64url');
    const access = this.sign({
      aud: resource.aud,
      idtyp: 'user',
      appid: app.clientId,
      appidacr: '0',
      oid: admin.id,
      scp: app.delegated.join(' '),
      upn: admin.userPrincipalName,
      wids: admin.directoryRoles.map((r) => ROLE_TEMPLATE_IDS[r]),
    });
    return json(200, {
      ...access,
      refresh_token: refresh,
      id_token: idToken,
      client_info: clientInfo,
      scope: scopes.join(' '),
    });
  }

  private sign(claims: Record<string, unknown>): {
    token_type: 'Bearer';
    expires_in: number;
    ext_expires_in: number;
    access_token: string;
  } {
    const nowS = Math.floor(this.now() / 1000);
    const token = this.jws({
      ...claims,
      iss: `https://sts.windows.net/${this.tenantId}/`,
      iat: nowS,
      nbf: nowS,
      exp: nowS + TOKEN_LIFETIME_S,
      tid: this.tenantId,
      ver: '1.0',
    });
    return {
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_S,
      ext_expires_in: TOKEN_LIFETIME_S,
      access_token: token,
    };
  }

  private jws(payload: Record<string, unknown>): string {
    const head = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: this.keyId })).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), this.privateKey).toString('base64url')}`;
  }

  /**
   * Graph's check of a bearer token: signed by this authority, not expired, for Graph. The messages are the ones
   * Graph returns with 401 InvalidAuthenticationToken (as public logs show them).
   * @param clockAheadMs how far Graph's clock runs ahead of the authority's (a test's clock skew)
   */
  check(bearer: string, clockAheadMs = 0): TokenCheck {
    const parsed = parseJwt(bearer);
    if (!parsed) return { ok: false, message: 'IDX14100: JWT is not well formed, there are no dots (.).' };
    if (
      parsed.header['kid'] !== this.keyId ||
      !verify('sha256', Buffer.from(parsed.signed), this.publicKey, parsed.signature)
    )
      return { ok: false, message: 'Access token validation failure.' };
    const c = parsed.payload as unknown as TokenClaims;
    if (c.aud !== GRAPH_AUDIENCE && c.aud !== GRAPH_APP_ID)
      return { ok: false, message: 'Access token validation failure. Invalid audience.' };
    const nowS = (this.now() + clockAheadMs) / 1000;
    if (typeof c.exp !== 'number' || c.exp <= nowS)
      return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
    if (c.tid !== this.tenantId) return { ok: false, message: 'Access token validation failure.' };
    return { ok: true, claims: c };
  }

  /**
   * The directory roles of the signed-in admin a delegated token names, as they are now: Graph decides on the roles
   * the person holds when the call is made (the token's `wids` says what they were at sign-in).
   */
  rolesOf(claims: TokenClaims): readonly DirectoryRole[] {
    return [...this.admins.values()].find((a) => a.id === claims.oid)?.directoryRoles ?? [];
  }
}

/** `<resource>/.default` (or a delegated `<resource>/<permission>`) as the audience Entra stamps on its token. */
function resourceOf(scope: string, selfUrl: string): { aud: string } | { error: AuthorityResponse } {
  const first = scope.split(' ').filter(Boolean)[0] ?? '';
  const m =
    /^(https:\/\/[^/]+)\/[^ ]+$/.exec(first) ?? /^(0{8}-0003-0000-0000-c000-0{12}|[0-9a-f-]{36})\/[^ ]+$/i.exec(first);
  const resource = m?.[1]?.toLowerCase() ?? '';
  // The simulator's own origin stands for Graph: the app asks for `<Graph base URL>/.default`, as in a national cloud.
  if (resource === GRAPH_AUDIENCE || resource === GRAPH_APP_ID || resource === selfUrl.toLowerCase())
    return { aud: GRAPH_AUDIENCE };
  if (OTHER_RESOURCES.includes(resource)) return { aud: resource };
  return {
    error: oauthError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource.slice(0, 100) || first.slice(0, 100)} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    ),
  };
}

function parseJwt(
  token: string,
):
  { header: Record<string, unknown>; payload: Record<string, unknown>; signed: string; signature: Buffer } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      payload: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>,
      signed: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** The identity platform's error body (reference-error-codes.md: error, error_description "AADSTS<code>: …", error_codes). */
function oauthError(status: number, error: string, code: number, description: string): AuthorityResponse {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
  return json(status, {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
  });
}

function json(status: number, body: unknown): AuthorityResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store, no-cache' },
    body,
  };
}
