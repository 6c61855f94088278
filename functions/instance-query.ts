// One page of the durable instances whose ids start with a prefix, created within a window: the extension's "get all
// instances status" query with `instanceIdPrefix`, `top` and the `x-ms-continuation-token` header
// (https://learn.microsoft.com/azure/azure-functions/durable/durable-functions-http-api#get-all-instances-status).
// durable-functions 3.x (DurableClient.getStatusBy) sends neither a prefix nor a page size and follows every
// continuation token itself, so a list built on it read every instance of the task hub on every call; this asks for
// one page, through the same endpoint the client uses (the extension's worker-facing rpcBaseUrl, else the management
// URL the binding gives, which carries its key).
import type { DurableClient } from 'durable-functions';

export interface InstanceSummary {
  readonly name: string;
  readonly instanceId: string;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly runtimeStatus: string;
  readonly output?: unknown;
  readonly customStatus?: unknown;
}

export interface InstanceQuery {
  readonly prefix: string;
  readonly top: number;
  readonly runtimeStatus?: readonly string[];
  readonly createdFrom?: Date;
  readonly createdTo?: Date;
  /** The token the previous page returned. */
  readonly continuation?: string;
}

export interface InstancePage {
  readonly instances: InstanceSummary[];
  /** Absent on the last page. */
  readonly continuation?: string;
}

interface ClientData {
  readonly rpcBaseUrl?: string;
  readonly managementUrls?: { readonly statusQueryGetUri?: string; readonly id?: string };
}

/** The "instances" query URL of the extension the client talks to, with the caller's query parameters. */
function queryUrl(client: DurableClient, q: InstanceQuery): string {
  // The binding's data is not part of the client's typed surface; it is what DurableClient itself builds URLs from.
  const data = (client as unknown as { clientData?: ClientData }).clientData ?? {};
  let url: URL;
  if (data.rpcBaseUrl) url = new URL('instances/', data.rpcBaseUrl);
  else if (data.managementUrls?.statusQueryGetUri && data.managementUrls.id)
    url = new URL(data.managementUrls.statusQueryGetUri.replace(data.managementUrls.id, ''));
  else throw new Error('the durable client binding gives no URL to query instances with');
  url.searchParams.set('instanceIdPrefix', q.prefix);
  url.searchParams.set('top', String(q.top));
  url.searchParams.set('showInput', 'false');
  if (q.runtimeStatus && q.runtimeStatus.length > 0) url.searchParams.set('runtimeStatus', q.runtimeStatus.join(','));
  if (q.createdFrom) url.searchParams.set('createdTimeFrom', q.createdFrom.toISOString());
  if (q.createdTo) url.searchParams.set('createdTimeTo', q.createdTo.toISOString());
  return url.href;
}

export async function queryInstances(client: DurableClient, q: InstanceQuery): Promise<InstancePage> {
  const res = await fetch(queryUrl(client, q), {
    headers: q.continuation ? { 'x-ms-continuation-token': q.continuation } : {},
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`the instance query was answered HTTP ${res.status}`);
  }
  const instances = (await res.json()) as InstanceSummary[];
  const token = res.headers.get('x-ms-continuation-token');
  // The extension answers an empty token header on the last page of some providers.
  return { instances, ...(token && token !== 'null' ? { continuation: token } : {}) };
}
