// Whether a durable instance exists, told apart from "could not tell". The durable-functions client (3.x,
// DurableClient.getStatus) answers a missing instance by throwing an Error whose message says the extension
// "replied with HTTP 404 response"; every other failure (storage down, host busy, a network reset) throws too. Only
// the first may start a batch: the extension's default lets startNew overwrite a completed or failed instance, so
// treating a transient error as "no such batch" would run a finished batch again.
import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';

export type InstanceLookup =
  | { readonly kind: 'found'; readonly status: DurableOrchestrationStatus }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unknown'; readonly message: string };

const NOT_FOUND = /replied with HTTP 404 response/;

export async function lookUpInstance(client: DurableClient, instanceId: string): Promise<InstanceLookup> {
  try {
    const status = await client.getStatus(instanceId);
    if (status?.runtimeStatus) return { kind: 'found', status };
    return { kind: 'unknown', message: 'the status had no runtimeStatus' };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return NOT_FOUND.test(message) ? { kind: 'absent' } : { kind: 'unknown', message: message.slice(0, 200) };
  }
}

/** The first of `instanceIds` that exists; absent only when each one is definitely absent. */
export async function lookUpFirst(
  client: DurableClient,
  instanceIds: readonly string[],
): Promise<InstanceLookup & { instanceId?: string }> {
  for (const id of instanceIds) {
    const r = await lookUpInstance(client, id);
    if (r.kind !== 'absent') return { ...r, instanceId: id };
  }
  return { kind: 'absent' };
}
