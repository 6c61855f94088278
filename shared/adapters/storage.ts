// Blob and queue clients for the configured storage: a connection string (Azurite, or a key where shared keys are
// allowed) or service URIs with the app's managed identity (shared keys off, as the Bicep deploys it).
// SDKs that are not needed to register functions are loaded on first use, which keeps a cold start short.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import type { QueueServiceClient } from '@azure/storage-queue';
import type { AppConfig } from './config';

/** ManagedIdentityCredential for the given user-assigned identity (Azure), DefaultAzureCredential otherwise. */
export function azureCredential(clientId: string | undefined): TokenCredential {
  let inner: TokenCredential | undefined;
  return {
    getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      if (!inner) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const identity = require('@azure/identity') as typeof import('@azure/identity');
        inner = clientId ? new identity.ManagedIdentityCredential({ clientId }) : new identity.DefaultAzureCredential();
      }
      return inner.getToken(scopes, options);
    },
  };
}

export function blobServiceFor(config: AppConfig): BlobServiceClient {
  const s = config.storage;
  return 'connectionString' in s
    ? BlobServiceClient.fromConnectionString(s.connectionString)
    : new BlobServiceClient(s.blobServiceUri, azureCredential(s.clientId));
}

export function queueServiceFor(config: AppConfig): QueueServiceClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { QueueServiceClient: Client } = require('@azure/storage-queue') as typeof import('@azure/storage-queue');
  const s = config.storage;
  return 'connectionString' in s
    ? Client.fromConnectionString(s.connectionString)
    : new Client(s.queueServiceUri, azureCredential(s.clientId));
}
