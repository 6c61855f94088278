// Blob and queue clients for the configured storage: a connection string (Azurite, or a key where shared keys are
// allowed) or service URIs with the app's managed identity (shared keys off, as the Bicep deploys it).
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import type { AppConfig } from './config';

export function azureCredential(clientId: string | undefined): TokenCredential {
  return clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential();
}

export function blobServiceFor(config: AppConfig): BlobServiceClient {
  const s = config.storage;
  return 'connectionString' in s ? BlobServiceClient.fromConnectionString(s.connectionString) : new BlobServiceClient(s.blobServiceUri, azureCredential(s.clientId));
}

export function queueServiceFor(config: AppConfig): QueueServiceClient {
  const s = config.storage;
  return 'connectionString' in s ? QueueServiceClient.fromConnectionString(s.connectionString) : new QueueServiceClient(s.queueServiceUri, azureCredential(s.clientId));
}
