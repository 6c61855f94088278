// Which integration is calling, and which durable instance a batch id means for it. The Functions host checks the
// function key but tells a Node worker nothing about which key it was (no key name reaches @azure/functions v4;
// only App Service Authentication's x-ms-client-principal headers do, and only when that feature is on). The key
// itself does reach the worker (the `x-functions-key` header or the `code` query parameter), so each integration
// gets a host function key of its own, and DIALTONE_CALLERS maps the key's SHA-256 to the integration's name.
// Batch ids are then namespaced by that name: one integration cannot read, recheck or pre-reserve another's batch.
import { createHash } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { SINGLE_CALLER, UPLOADS_OWNER, type Caller, type CallerDirectory } from '../shared/adapters/config';

// Requests the admin console passes on after checking its signed-in user (functions/console.ts): the caller it acts
// as is attached to the request object itself, in this process, so no header or query a client sends can claim it.
const delegated = new WeakMap<HttpRequest, Caller>();

/** Marks `request` as made by the admin console on behalf of `caller` (after the console checked the sign-in). */
export function actingAs(request: HttpRequest, caller: Caller): HttpRequest {
  delegated.set(request, caller);
  return request;
}

/** Whether the admin console passes this request on for a signed-in admin (not a key holder). */
export function isDelegated(request: HttpRequest): boolean {
  return delegated.has(request);
}

/** Without DIALTONE_CALLERS: the one integration every key holder is (reads and manages uploads, every profile). */
export const ONE_CALLER: Caller = {
  name: SINGLE_CALLER,
  readsUploads: true,
  managesUploads: true,
  callbackHosts: [],
  rights: { ownSkus: true },
};

/**
 * The caller, or undefined when callers are configured and this key is not one of theirs. `single` is the one
 * integration when DIALTONE_CALLERS is not set (AppConfig.singleCaller, with DIALTONE_CALLBACK_HOSTS).
 */
export function callerOf(
  request: HttpRequest,
  callers: CallerDirectory | undefined,
  single: Caller = ONE_CALLER,
): Caller | undefined {
  const onBehalf = delegated.get(request);
  if (onBehalf) return onBehalf;
  if (!callers) return single;
  const key = request.headers.get('x-functions-key') ?? request.query.get('code');
  if (!key) return undefined;
  return callers.get(createHash('sha256').update(key, 'utf8').digest('hex'));
}

/** The durable instance id of `owner`'s batch `batchId` ('~' appears in neither a caller name nor a batch id). */
export function instanceIdOf(owner: string, batchId: string): string {
  return `${owner}~${batchId}`;
}

export function uploadInstanceId(batchId: string): string {
  return instanceIdOf(UPLOADS_OWNER, batchId);
}

/**
 * The instances a caller may mean by a batch id, in the order they are looked up: its own, then an upload's when it
 * may read them (`manage`: when the route changes the batch, only a caller that manages uploads gets them).
 */
export function candidateInstances(caller: Caller, batchId: string, access: 'read' | 'manage' = 'read'): string[] {
  const uploads = access === 'manage' ? caller.managesUploads : caller.readsUploads;
  return uploads
    ? [instanceIdOf(caller.name, batchId), uploadInstanceId(batchId)]
    : [instanceIdOf(caller.name, batchId)];
}
