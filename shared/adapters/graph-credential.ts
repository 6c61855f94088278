// The credential the app's Graph calls sign in with: its managed identity in Azure, or an app registration's client
// secret or certificate against an Entra authority (a national cloud's, or any OpenID authority such as the local
// stack's). Every path goes through @azure/identity, so tokens are fetched, cached and renewed by MSAL.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { TokenCredential } from '@azure/identity';
import type { GraphSignIn } from './config';
import { azureCredential } from './storage';

/**
 * @param extraCaPem a certificate authority to trust beside Node's own (a TLS-inspecting proxy in front of both Graph
 *   and the authority, or the local stack's); TLS settings replace the default list, so the defaults are kept too
 */
export function graphCredential(signIn: GraphSignIn, extraCaPem?: string): TokenCredential {
  if (signIn.kind === 'managedIdentity') return azureCredential(signIn.clientId);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require('@azure/identity') as typeof import('@azure/identity');
  // authorityHost and disableInstanceDiscovery: an authority other than Microsoft's own cannot be discovered through
  // login.microsoftonline.com, so MSAL reads its OpenID metadata from the authority itself
  // (learn.microsoft.com/javascript/api/@azure/identity/clientsecretcredentialoptions).
  const options = {
    authorityHost: signIn.authorityHost,
    disableInstanceDiscovery: !signIn.instanceDiscovery,
    ...(extraCaPem ? { tlsOptions: { ca: [...rootCertificates, extraCaPem] } } : {}),
  };
  if (signIn.secret !== undefined)
    return new identity.ClientSecretCredential(signIn.tenantId, signIn.clientId, signIn.secret, options);
  // The PEM holds the private key and its certificate (ClientCertificateCredential's certificatePath form).
  const certificate = readFileSync(signIn.certificatePath!, 'utf8');
  return new identity.ClientCertificateCredential(
    signIn.tenantId,
    signIn.clientId,
    { certificate },
    { ...options, sendCertificateChain: false },
  );
}
