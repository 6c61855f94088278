// A counting proxy in front of Azurite: the local stack's storage clients (the app, the Durable extension) talk to it
// instead of Azurite, and it counts every request by the operation Azure Storage would bill, then passes it on
// unchanged. bench/cost.ts prices the counts (bench/cost-model.ts). Azurite itself logs no per-operation tally.
//
// The billing class of each blob operation follows "Map each REST operation to a price" (learn.microsoft.com,
// azure/storage/blobs/map-rest-apis-transaction-categories), column "Standard general purpose v2". Queue operations
// follow the classes of the Queue Storage pricing page (azure.microsoft.com/pricing/details/storage/queues/): class 1
// writes (create, put, update, delete, clear, list queues), class 2 reads (get and peek messages, queue metadata).
// Table operations are all one class (azure.microsoft.com/pricing/details/storage/tables/), and an entity group
// transaction ($batch) counts once here.
import { createServer, request, Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Azurite } from './azurite';

export type StorageService = 'blob' | 'queue' | 'table';

export type BillingClass =
  'blobWrite' | 'blobListCreate' | 'blobRead' | 'blobOther' | 'blobFree' | 'queueClass1' | 'queueClass2' | 'table';

export interface StorageOperation {
  /** The operation's name as Azure Storage logs it (PutBlob, GetMessages, QueryEntities…). */
  readonly operation: string;
  readonly billingClass: BillingClass;
  /** The container, queue or table the request named ('' for the account). */
  readonly resource: string;
}

const param = (query: URLSearchParams, name: string) => query.get(name)?.toLowerCase() ?? '';

/**
 * Which billed operation one request to the storage emulator is. `path` is the URL path with the account first
 * (path-style, as Azurite serves it: /devstoreaccount1/container/blob).
 */
export function classifyStorageRequest(
  service: StorageService,
  method: string,
  path: string,
  query: URLSearchParams,
  headers: IncomingHttpHeaders = {},
): StorageOperation {
  const parts = path.split('/').filter((p) => p !== '');
  const [, first = '', ...rest] = parts; // parts[0] is the account
  const m = method.toUpperCase();
  const comp = param(query, 'comp');
  const restype = param(query, 'restype');
  const op = (operation: string, billingClass: BillingClass): StorageOperation => ({
    operation,
    billingClass,
    resource: decodeURIComponent(first.replace(/\(.*$/, '')),
  });
  if (service === 'table') {
    if (first === '$batch') return op('EntityGroupTransaction', 'table');
    if (first.startsWith('Tables'))
      return op(m === 'POST' ? 'CreateTable' : m === 'DELETE' ? 'DeleteTable' : 'QueryTables', 'table');
    const names: Record<string, string> = {
      GET: 'QueryEntities',
      POST: 'InsertEntity',
      PUT: 'UpdateEntity',
      MERGE: 'MergeEntity',
      PATCH: 'MergeEntity',
      DELETE: 'DeleteEntity',
    };
    return op(names[m] ?? `Table${m}`, 'table');
  }
  if (service === 'queue') {
    if (first === '')
      return op(comp === 'list' ? 'ListQueues' : `QueueService${m}`, comp === 'list' ? 'queueClass1' : 'queueClass2');
    const messages = rest[0] === 'messages';
    const message = messages && rest.length > 1;
    if (messages && m === 'POST') return op('PutMessage', 'queueClass1');
    if (messages && m === 'GET')
      return param(query, 'peekonly') === 'true' ? op('PeekMessages', 'queueClass2') : op('GetMessages', 'queueClass2');
    if (message && m === 'PUT') return op('UpdateMessage', 'queueClass1');
    if (message && m === 'DELETE') return op('DeleteMessage', 'queueClass1');
    if (messages && m === 'DELETE') return op('ClearMessages', 'queueClass1');
    if (m === 'PUT')
      return op(
        comp === 'metadata' ? 'SetQueueMetadata' : comp === 'acl' ? 'SetQueueACL' : 'CreateQueue',
        'queueClass1',
      );
    if (m === 'DELETE') return op('DeleteQueue', 'queueClass1');
    return op(comp === 'acl' ? 'GetQueueACL' : 'GetQueueMetadata', 'queueClass2');
  }
  // Blob service.
  if (first === '') {
    if (comp === 'list') return op('ListContainers', 'blobListCreate');
    return op(m === 'PUT' ? 'SetBlobServiceProperties' : 'GetBlobServiceProperties', 'blobOther');
  }
  const container = restype === 'container' && rest.length === 0;
  if (m === 'DELETE') return op(container ? 'DeleteContainer' : 'DeleteBlob', 'blobFree');
  if (container) {
    if (m === 'GET' && comp === 'list') return op('ListBlobs', 'blobListCreate');
    if (m === 'PUT' && comp === '') return op('CreateContainer', 'blobListCreate');
    if (comp === 'lease') return op(`${leaseAction(headers)}ContainerLease`, 'blobOther');
    if (m === 'PUT') return op(comp === 'acl' ? 'SetContainerACL' : 'SetContainerMetadata', 'blobOther');
    return op(comp === 'acl' ? 'GetContainerACL' : 'GetContainerProperties', 'blobOther');
  }
  if (comp === 'lease') return op(`${leaseAction(headers)}BlobLease`, 'blobOther');
  if (m === 'PUT') {
    if (comp === 'block') return op('PutBlock', 'blobWrite');
    if (comp === 'blocklist') return op('PutBlockList', 'blobWrite');
    if (comp === 'appendblock') return op('AppendBlock', 'blobWrite');
    if (comp === 'metadata') return op('SetBlobMetadata', 'blobOther');
    if (comp === 'properties') return op('SetBlobProperties', 'blobOther');
    if (comp === 'tags') return op('SetBlobTags', 'blobOther');
    if (comp === 'snapshot') return op('SnapshotBlob', 'blobOther');
    if (headers['x-ms-copy-source']) return op('CopyBlob', 'blobWrite');
    return op('PutBlob', 'blobWrite');
  }
  if (m === 'HEAD') return op('GetBlobProperties', 'blobOther');
  if (m === 'GET') {
    if (comp === 'blocklist') return op('GetBlockList', 'blobOther');
    if (comp === 'metadata') return op('GetBlobMetadata', 'blobOther');
    if (comp === 'tags') return op('GetBlobTags', 'blobOther');
    return op('GetBlob', 'blobRead');
  }
  return op(`Blob${m}`, 'blobOther');
}

function leaseAction(headers: IncomingHttpHeaders): string {
  const a = String(headers['x-ms-lease-action'] ?? '').toLowerCase();
  return a ? a[0]!.toUpperCase() + a.slice(1) : 'Lease';
}

/** One tally of requests: by billing class, and by `service:operation` (with the resource it named, for the report). */
export interface StorageCounts {
  readonly byClass: Record<BillingClass, number>;
  readonly byOperation: Record<string, number>;
  readonly byResource: Record<string, number>;
  readonly total: number;
}

/** Every billing class at zero. */
export const emptyClasses = (): Record<BillingClass, number> => ({
  blobWrite: 0,
  blobListCreate: 0,
  blobRead: 0,
  blobOther: 0,
  blobFree: 0,
  queueClass1: 0,
  queueClass2: 0,
  table: 0,
});

class Tally {
  byClass = emptyClasses();
  byOperation = new Map<string, number>();
  byResource = new Map<string, number>();
  total = 0;

  add(service: StorageService, o: StorageOperation): void {
    this.byClass[o.billingClass]++;
    const k = `${service}:${o.operation}`;
    this.byOperation.set(k, (this.byOperation.get(k) ?? 0) + 1);
    const r = `${service}:${o.resource || '(account)'}`;
    this.byResource.set(r, (this.byResource.get(r) ?? 0) + 1);
    this.total++;
  }

  snapshot(): StorageCounts {
    const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([, a], [, b]) => b - a));
    return {
      byClass: { ...this.byClass },
      byOperation: sorted(this.byOperation),
      byResource: sorted(this.byResource),
      total: this.total,
    };
  }
}

export interface StorageMeter {
  /** The connection string of the proxy: the same account and key as Azurite's, at the proxy's ports. */
  readonly connectionString: string;
  /** What was counted since the start or the last reset. */
  counts(): StorageCounts;
  /** Starts a new tally (the old one is returned). */
  reset(): StorageCounts;
  close(): Promise<void>;
}

/**
 * Starts one counting proxy per storage service in front of `azurite`. `exclude` leaves requests out of the tally (they
 * are still passed on): the local stand-ins that Azure does not have, such as the upload watcher's listing.
 */
export async function startStorageMeter(
  azurite: Azurite,
  exclude: (service: StorageService, o: StorageOperation) => boolean = () => false,
): Promise<StorageMeter> {
  let tally = new Tally();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const servers: Server[] = [];
  const ports: Record<StorageService, number> = { blob: 0, queue: 0, table: 0 };
  const targets: Record<StorageService, number> = {
    blob: azurite.blobPort,
    queue: azurite.queuePort,
    table: azurite.tablePort,
  };
  for (const service of ['blob', 'queue', 'table'] as const) {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const o = classifyStorageRequest(service, req.method ?? 'GET', url.pathname, url.searchParams, req.headers);
      if (!exclude(service, o)) tally.add(service, o);
      const upstream = request(
        {
          host: '127.0.0.1',
          port: targets[service],
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(e));
      });
      req.pipe(upstream);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    ports[service] = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  const connectionString = azurite.connectionString
    .replace(`:${azurite.blobPort}/`, `:${ports.blob}/`)
    .replace(`:${azurite.queuePort}/`, `:${ports.queue}/`)
    .replace(`:${azurite.tablePort}/`, `:${ports.table}/`);
  return {
    connectionString,
    counts: () => tally.snapshot(),
    reset() {
      const old = tally.snapshot();
      tally = new Tally();
      return old;
    },
    async close() {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      agent.destroy();
    },
  };
}
