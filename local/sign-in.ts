// An admin's own sign-in for `dialtone run|plan|resume --tenant-id T --sign-in …` from a workstation, the way the
// established Microsoft 365 command-line tools do it: a delegated sign-in of the admin through the admin's own app
// registration (`dialtone setup` prints it), so every Graph call is the admin's, limited both by the app's delegated
// permissions and by the admin's directory roles
// (learn.microsoft.com/graph/permissions-overview#delegated-permissions). All four ways are @azure/identity's own
// credentials (learn.microsoft.com/javascript/api/@azure/identity): tokens are fetched, cached in memory and renewed
// by MSAL, and never written anywhere by dialtone. A persistent token cache would need
// @azure/identity-cache-persistence, whose OS keyring binding (keytar, libsecret) does not build on every machine:
// so tokens live only as long as the process, and `dialtone resume` signs the admin in again.
import { rootCertificates } from 'node:tls';
import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { TokenCredential } from '@azure/identity';
import {
  AUTHORITY_HOSTS,
  DEVELOPMENT_STORAGE,
  loadConfig,
  type AppConfig,
  type Environment,
} from '../shared/adapters/config';
import { graphScopeFor } from '../shared/adapters/graph/client';
import type { TokenAnswer, TokenRequest } from './host/parent-credential';

export const SIGN_IN_METHODS = ['device-code', 'browser', 'azure-cli', 'certificate'] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

/** How the admin signs in: what a state folder remembers so that `dialtone resume` signs in the same way (no secret). */
export interface WorkstationSignIn {
  readonly tenantId: string;
  readonly method: SignInMethod;
  /** The admin's own app registration (not for azure-cli, which signs in as the Azure CLI's own app). */
  readonly clientId?: string;
  /** certificate: a PEM file holding the app registration's private key and certificate. */
  readonly certificatePath?: string;
}

export class SignInUsageError extends Error {}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A tenant id (a GUID) or one of its verified domains (contoso.onmicrosoft.com), as Entra's authority URL takes it. */
const TENANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;

/** The sign-in options as given, checked: a clear error for each that does not fit. */
export function signInFrom(options: {
  tenantId?: string | undefined;
  signIn?: string | undefined;
  clientId?: string | undefined;
  certificate?: string | undefined;
}): WorkstationSignIn {
  const { tenantId, signIn, clientId, certificate } = options;
  if (!tenantId)
    throw new SignInUsageError(
      "--sign-in needs --tenant-id (your tenant's id or a verified domain such as contoso.onmicrosoft.com)",
    );
  if (!TENANT.test(tenantId) || ['common', 'organizations', 'consumers'].includes(tenantId.toLowerCase()))
    throw new SignInUsageError(
      `--tenant-id must be your tenant's id (a GUID) or one of its domains (contoso.onmicrosoft.com); got "${tenantId.slice(0, 80)}"`,
    );
  const method = (signIn ?? 'device-code') as SignInMethod;
  if (!SIGN_IN_METHODS.includes(method))
    throw new SignInUsageError(
      `--sign-in must be one of ${SIGN_IN_METHODS.join(', ')}; got "${String(signIn).slice(0, 40)}"`,
    );
  if (method === 'azure-cli') {
    if (clientId !== undefined)
      throw new SignInUsageError(
        "--sign-in azure-cli signs in as the Azure CLI's own app (az login); --client-id does not apply to it",
      );
    if (certificate !== undefined) throw new SignInUsageError('--certificate is for --sign-in certificate only');
    return { tenantId, method };
  }
  if (!clientId)
    throw new SignInUsageError(
      `--sign-in ${method} needs --client-id: the application (client) id of your own app registration (dialtone setup prints how to make it)`,
    );
  if (!GUID.test(clientId))
    throw new SignInUsageError(
      `--client-id must be an application (client) id, a GUID; got "${clientId.slice(0, 80)}"`,
    );
  if (method === 'certificate') {
    if (!certificate)
      throw new SignInUsageError(
        "--sign-in certificate needs --certificate FILE: a PEM file with the app registration's private key and certificate",
      );
    if (!existsSync(certificate)) throw new SignInUsageError(`--certificate: file not found: ${certificate}`);
    return { tenantId, method, clientId, certificatePath: certificate };
  }
  if (certificate !== undefined) throw new SignInUsageError('--certificate is for --sign-in certificate only');
  return { tenantId, method, clientId };
}

/** Where Graph and the sign-in are: the app's own settings from this environment (a real tenant by default). */
export interface WorkstationTarget {
  /** The app's configuration as the host will load it (Graph base URL, profiles, phone numbers, …). */
  readonly config: AppConfig;
  /** The settings the host gets: this environment's DIALTONE_* settings. */
  readonly settings: Record<string, string>;
  readonly authorityHost: string;
  /** MSAL's instance discovery, which only Microsoft's own authorities answer. */
  readonly instanceDiscovery: boolean;
}

/**
 * The target from this environment: DIALTONE_* settings as the app reads them, and AZURE_AUTHORITY_HOST (a national
 * cloud's authority; @azure/identity's own variable). A loopback Graph and authority (the simulator, in tests) only
 * with DIALTONE_GRAPH_ALLOW_LOOPBACK=true, as for the app.
 */
export function workstationTarget(env: Environment = process.env): WorkstationTarget {
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('DIALTONE_') && v !== undefined) settings[k] = v;
  const authority = env['AZURE_AUTHORITY_HOST'];
  // The configuration needs a storage account to load; the host gets its own (Azurite in the state folder).
  const config = loadConfig({
    AzureWebJobsStorage: DEVELOPMENT_STORAGE,
    ...settings,
    ...(authority ? { AZURE_AUTHORITY_HOST: authority } : {}),
  });
  const authorityHost = authority ? new URL(authority).origin : 'https://login.microsoftonline.com';
  return { config, settings, authorityHost, instanceDiscovery: AUTHORITY_HOSTS.includes(new URL(authorityHost).host) };
}

/** The admin's credential; `prompt` shows the device code's message (where to go, which code to enter). */
export function workstationCredential(
  signIn: WorkstationSignIn,
  target: WorkstationTarget,
  prompt: (message: string) => void,
): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require('@azure/identity') as typeof import('@azure/identity');
  const ca = target.config.graphExtraCaPem;
  const common = {
    tenantId: signIn.tenantId,
    authorityHost: target.authorityHost,
    disableInstanceDiscovery: !target.instanceDiscovery,
    ...(ca ? { tlsOptions: { ca: [...rootCertificates, ca] } } : {}),
  };
  switch (signIn.method) {
    case 'device-code':
      // learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code: the person opens the verification page on
      // any device, enters the code and signs in; the credential polls the token endpoint meanwhile.
      return new identity.DeviceCodeCredential({
        ...common,
        clientId: signIn.clientId!,
        userPromptCallback: (info) => prompt(info.message),
      });
    case 'browser':
      // The system browser, answering on http://localhost (the redirect URI `dialtone setup` registers).
      if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
        throw new SignInUsageError(
          '--sign-in browser needs a desktop browser on this machine, and there is no display here (no DISPLAY or WAYLAND_DISPLAY); use --sign-in device-code and sign in from any browser',
        );
      }
      return new identity.InteractiveBrowserCredential({
        ...common,
        clientId: signIn.clientId!,
        redirectUri: 'http://localhost',
      });
    case 'azure-cli':
      if (!target.instanceDiscovery)
        throw new SignInUsageError(
          "--sign-in azure-cli signs in through Entra ID's own authority only; AZURE_AUTHORITY_HOST names another",
        );
      return new identity.AzureCliCredential({ tenantId: signIn.tenantId });
    case 'certificate':
      // An app-only sign-in with the app registration's certificate: the app's own application permissions, no person.
      return new identity.ClientCertificateCredential(
        signIn.tenantId,
        signIn.clientId!,
        { certificatePath: signIn.certificatePath! },
        {
          authorityHost: common.authorityHost,
          disableInstanceDiscovery: common.disableInstanceDiscovery,
          ...(ca ? { tlsOptions: { ca: [...rootCertificates, ca] } } : {}),
        },
      );
  }
}

/** Signs in now, before anything else starts: one token for Graph, or an error saying what to do. */
export async function signInNow(
  credential: TokenCredential,
  signIn: WorkstationSignIn,
  target: WorkstationTarget,
): Promise<void> {
  try {
    const token = await credential.getToken(graphScopeFor(target.config.graphBaseUrl));
    if (!token) throw new Error('no token was given');
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const hint =
      signIn.method === 'azure-cli'
        ? ' (is the Azure CLI installed, and signed in to this tenant with az login --tenant …?)'
        : signIn.method === 'browser'
          ? ' (could a browser be opened? --sign-in device-code works from any browser)'
          : '';
    throw new SignInFailed(
      `could not sign in to tenant ${signIn.tenantId} with --sign-in ${signIn.method}${hint}: ${why.split('\n')[0]}`,
    );
  }
}

export class SignInFailed extends Error {}

/**
 * Serves the host's token requests from the admin's credential over the child's IPC channel (the host's side:
 * local/host/parent-credential.ts). Tokens only cross the channel in memory.
 */
export function serveTokens(child: ChildProcess, credential: TokenCredential): void {
  child.on('message', (m: unknown) => {
    const request = m as Partial<TokenRequest>;
    if (request?.type !== 'dialtone-token' || typeof request.id !== 'number' || !Array.isArray(request.scopes)) return;
    const id = request.id;
    const answer = (a: Omit<TokenAnswer, 'type' | 'id'>) => {
      if (child.connected) child.send({ type: 'dialtone-token', id, ...a } satisfies TokenAnswer);
    };
    credential.getToken(request.scopes, request.claims ? { claims: request.claims } : {}).then(
      (t) =>
        t
          ? answer({ token: t.token, expiresOnTimestamp: t.expiresOnTimestamp })
          : answer({ error: 'the sign-in gave no token' }),
      (e: unknown) =>
        answer({ error: `the admin's sign-in failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` }),
    );
  });
}
