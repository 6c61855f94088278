// The deployment's self-check (docs/deploying.md, "Health"): one harmless real call per dependency the app needs,
// each answered with what is missing and the command that grants it. A failed check is an RFC 9457 problem entry
// naming the role or permission; nothing here changes what the app does, and nothing is left behind (probe blobs are
// deleted, a probe queue message is deleted before anyone can see it, a scheduled Service Bus message is cancelled).
import { randomUUID } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import type { GraphResult } from '../domain/directory';
import { GRAPH_PERMISSIONS } from '../domain/directory';
import { graphScopeFor } from './graph/client';
import type { GraphLicensingDirectory } from './graph/directory';

/** One failed check, as an RFC 9457 problem details entry with the fields a person needs to fix it. */
export interface HealthProblem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly check: string;
  /** The permission or role the app's identity lacks, when that is the cause. */
  readonly missing?: string;
  /** What grants it, to run from this repository's folder. */
  readonly grant?: string;
}

export interface HealthCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly problem?: HealthProblem;
}

/** Something sends flag messages: probed without leaving a message where the service allows it. */
export type FlagSink =
  | { readonly kind: 'storageQueue'; readonly queue: QueueClient }
  | { readonly kind: 'serviceBus'; readonly sender: ServiceBusProbeSender; readonly queue: string };

export interface ServiceBusProbeSender {
  scheduleMessages(message: { body: unknown; subject?: string }, at: Date): Promise<unknown>;
  cancelScheduledMessages(sequenceNumbers: unknown): Promise<void>;
}

export interface HealthDependencies {
  readonly graphBaseUrl: string;
  readonly credential: TokenCredential;
  readonly graph: Pick<GraphLicensingDirectory, 'listSubscribedSkus' | 'readTeamsFeatures' | 'findNumber'>;
  readonly numbering: boolean;
  /** Containers the app writes (probe blob written, read, deleted) and reads (listed). */
  readonly containers: readonly { readonly client: ContainerClient; readonly writes: boolean }[];
  readonly flags: FlagSink;
  /** The task hub: resolves when reachable (a status read of an instance that does not exist). */
  readonly taskHub: () => Promise<void>;
}

const GRANT_GRAPH =
  'azd env set DIALTONE_GRANT_GRAPH_PERMISSIONS true && azd hooks run postprovision (needs Privileged Role Administrator; or the by-hand script in docs/deploying.md)';
const grantRole = (role: string, scope: string) =>
  `azd provision (infra/app/roles.bicep assigns it), or: az role assignment create --assignee-object-id "$(azd env get-value DIALTONE_IDENTITY_PRINCIPAL_ID)" --assignee-principal-type ServicePrincipal --role "${role}" --scope ${scope}`;
const DATA_ACCOUNT =
  '"$(az storage account show --name "$(azd env get-value AZURE_STORAGE_ACCOUNT_NAME)" --query id --output tsv)"';

function problem(check: string, status: number, detail: string, missing?: string, grant?: string): HealthProblem {
  return {
    type: missing ? 'urn:dialtone:health:missing-access' : 'urn:dialtone:health:unavailable',
    title: missing ? `The app's identity lacks ${missing}` : `${check} did not answer as expected`,
    status,
    detail,
    check,
    ...(missing ? { missing } : {}),
    ...(grant ? { grant } : {}),
  };
}

/**
 * What a Graph call's failure means: a 401 or 403 is the permission the grant hook gives for that call (for the number
 * list, the ReadWrite permission numbering needs anyway, scripts/grant-graph-permissions.js).
 */
function graphProblem(
  check: string,
  operation: keyof typeof GRAPH_PERMISSIONS,
  r: Exclude<GraphResult<unknown>, { ok: true }>,
  granted = GRAPH_PERMISSIONS[operation].permissions[0]!,
): HealthProblem {
  // For a 401 or 403 the adapter's message already names the call, the permissions it documents and Graph's words.
  if (r.status === 401 || r.status === 403)
    return problem(check, r.status, r.message, `the Microsoft Graph application permission ${granted}`, GRANT_GRAPH);
  return problem(
    check,
    r.status || 503,
    `Graph answered ${r.status || 'no response'} (${r.code}) to ${GRAPH_PERMISSIONS[operation].request}: ${r.message}`,
  );
}

function storageStatus(e: unknown): number {
  const status = (e as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : 0;
}
const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** Runs every check (at once; each is a single small call) and returns them in a fixed order. */
export async function runHealthChecks(deps: HealthDependencies): Promise<HealthCheck[]> {
  const checks: [string, () => Promise<HealthProblem | undefined>][] = [
    [
      'graph-token',
      async () => {
        try {
          await deps.credential.getToken(graphScopeFor(deps.graphBaseUrl));
          return undefined;
        } catch (e) {
          return problem(
            'graph-token',
            503,
            `no Microsoft Graph token for ${graphScopeFor(deps.graphBaseUrl)}: ${message(e)}`,
            'a managed identity that can sign in (AZURE_CLIENT_ID names the user-assigned identity)',
            'azd provision',
          );
        }
      },
    ],
    [
      'graph-subscribed-skus',
      async () => {
        const r = await deps.graph.listSubscribedSkus();
        return r.ok ? undefined : graphProblem('graph-subscribed-skus', 'listSubscribedSkus', r);
      },
    ],
    [
      'graph-teams-configuration',
      async () => {
        // An id that is no user: the permission is proven by a 404 (no such user), refused by a 403.
        const r = (await deps.graph.readTeamsFeatures([randomUUID()])).values().next().value as GraphResult<string[]>;
        if (r.ok || r.status === 404) return undefined;
        return graphProblem('graph-teams-configuration', 'readTeamsFeatures', r);
      },
    ],
    ...(deps.numbering
      ? [
          [
            'graph-phone-numbers',
            async () => {
              const r = await deps.graph.findNumber('+10000000000');
              return r.ok
                ? undefined
                : graphProblem('graph-phone-numbers', 'listNumbers', r, GRAPH_PERMISSIONS.assignNumber.permissions[0]);
            },
          ] as [string, () => Promise<HealthProblem | undefined>],
        ]
      : []),
    ...deps.containers.map(({ client, writes }): [string, () => Promise<HealthProblem | undefined>] => [
      `blob-${client.containerName}`,
      async () => {
        try {
          if (writes) {
            const blob = client.getBlockBlobClient(`health-probe/${randomUUID()}.txt`);
            await blob.upload('probe', 5);
            try {
              if ((await blob.downloadToBuffer()).toString('utf8') !== 'probe')
                throw new Error('the probe blob read back different');
            } finally {
              await blob.deleteIfExists();
            }
          } else await client.listBlobsFlat().byPage({ maxPageSize: 1 }).next();
          return undefined;
        } catch (e) {
          const status = storageStatus(e);
          const role = 'Storage Blob Data Owner';
          if (status === 403)
            return problem(
              `blob-${client.containerName}`,
              403,
              `${writes ? 'writing, reading and deleting a probe blob' : 'listing'} in ${client.containerName}: ${message(e)}`,
              `the role ${role} on the data storage account`,
              grantRole(role, DATA_ACCOUNT),
            );
          return problem(`blob-${client.containerName}`, status || 503, `${client.containerName}: ${message(e)}`);
        }
      },
    ]),
    [
      'flags',
      async () => {
        const f = deps.flags;
        if (f.kind === 'storageQueue') {
          try {
            // Invisible for ten minutes and deleted at once: no reader ever sees it.
            const sent = await f.queue.sendMessage('dialtone health probe', { visibilityTimeout: 600 });
            await f.queue.deleteMessage(sent.messageId, sent.popReceipt);
            return undefined;
          } catch (e) {
            const role = 'Storage Queue Data Contributor';
            if (storageStatus(e) === 403)
              return problem(
                'flags',
                403,
                `sending to the queue ${f.queue.name}: ${message(e)}`,
                `the role ${role} on the data storage account`,
                grantRole(role, DATA_ACCOUNT),
              );
            return problem('flags', storageStatus(e) || 503, `the queue ${f.queue.name}: ${message(e)}`);
          }
        }
        try {
          // Scheduled a year ahead and cancelled at once, which the Sender role allows: nothing is ever delivered.
          const seq = await f.sender.scheduleMessages(
            { body: 'dialtone health probe', subject: 'health-probe' },
            new Date(Date.now() + 365 * 24 * 3600_000),
          );
          await f.sender.cancelScheduledMessages(seq);
          return undefined;
        } catch (e) {
          const code = (e as { code?: unknown }).code;
          const role = 'Azure Service Bus Data Sender';
          const scope =
            '"$(az servicebus namespace list --resource-group "$(azd env get-value AZURE_RESOURCE_GROUP)" --query [0].id --output tsv)"';
          if (code === 'UnauthorizedAccess')
            return problem(
              'flags',
              403,
              `scheduling a message on ${f.queue}: ${message(e)}`,
              `the role ${role} on the Service Bus namespace`,
              grantRole(role, scope),
            );
          return problem('flags', 503, `Service Bus queue ${f.queue}: ${message(e)}`);
        }
      },
    ],
    [
      'task-hub',
      async () => {
        try {
          await deps.taskHub();
          return undefined;
        } catch (e) {
          return problem(
            'task-hub',
            503,
            `the Durable Functions task hub: ${message(e)} (the host needs Storage Blob Data Owner, Storage Queue Data Contributor and Storage Table Data Contributor on the data account)`,
          );
        }
      },
    ],
  ];
  return Promise.all(
    checks.map(async ([check, run]) => {
      const started = Date.now();
      let found: HealthProblem | undefined;
      try {
        found = await run();
      } catch (e) {
        found = problem(check, 503, message(e));
      }
      return { check, ok: !found, ms: Date.now() - started, ...(found ? { problem: found } : {}) };
    }),
  );
}
