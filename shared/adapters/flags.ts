// Users who need a person: failed and flagged rows go to a queue that helpdesk tooling reads. Service Bus in Azure
// (duplicate detection on the message id makes a replay harmless); without Service Bus, an Azure Storage queue on the
// app's own storage, so a local run can be read the same way.
import type { ServiceBusMessage } from '@azure/service-bus';
import type { QueueClient } from '@azure/storage-queue';
import { createHash } from 'node:crypto';
import { eachAtMost } from './at-once';

export interface FlagMessage {
  readonly batchId: string;
  /** The run's key (`<owner>/<batchId>/<run>`): two integrations' batches with one id, or two runs, never share ids. */
  readonly run?: string;
  readonly row: number;
  readonly userPrincipalName: string;
  readonly outcome: 'failed' | 'flagged';
  readonly reason: string;
  readonly message: string;
  /** The Teams number the user holds (assigned or kept), or null: helpdesk sees which number a flag is about. */
  readonly phoneNumber?: string | null;
}

export interface FlagPublisher {
  publish(flags: readonly FlagMessage[]): Promise<void>;
}

/** The same run (or batch) and user always give the same id, so Service Bus drops a replayed message. */
export function flagMessageId(batchId: string, userPrincipalName: string): string {
  return createHash('sha256').update(`${batchId}\n${userPrincipalName.toLowerCase()}`).digest('hex').slice(0, 32);
}

/** The part of @azure/service-bus's ServiceBusSender this publisher uses. */
export interface FlagSender {
  sendMessages(messages: ServiceBusMessage[]): Promise<void>;
}

export class ServiceBusFlagPublisher implements FlagPublisher {
  constructor(private readonly sender: FlagSender) {}

  async publish(flags: readonly FlagMessage[]): Promise<void> {
    for (let i = 0; i < flags.length; i += 100) {
      await this.sender.sendMessages(
        flags.slice(i, i + 100).map((f) => ({
          messageId: flagMessageId(f.run ?? f.batchId, f.userPrincipalName),
          subject: f.outcome,
          contentType: 'application/json',
          body: f,
          applicationProperties: { batchId: f.batchId, reason: f.reason },
        })),
      );
    }
  }
}

/** Builds the real publisher (and loads its SDK) only when the first flags are published. */
export class DeferredFlagPublisher implements FlagPublisher {
  private inner: FlagPublisher | undefined;

  constructor(private readonly create: () => FlagPublisher) {}

  publish(flags: readonly FlagMessage[]): Promise<void> {
    this.inner ??= this.create();
    return this.inner.publish(flags);
  }
}

/** Where the storage-queue publisher records the messages it has sent, per run (the batch store's `_work` folder). */
export interface SentFlagLedger {
  sentIds(run: string): Promise<Set<string>>;
  /** One record for a group of messages sent (their ids), not one per message. */
  recordSent(run: string, messageIds: readonly string[]): Promise<void>;
}

/** Flags sent to a storage queue at once (each its own message: the reader's format is one user a message). */
export const FLAG_SENDS_AT_ONCE = 16;
/** Flags whose sending one ledger record covers. */
export const FLAGS_PER_RECORD = 100;

/**
 * Azure Storage queues have no duplicate detection (Service Bus does: `requiresDuplicateDetection`), so this
 * publisher keeps its own ledger: after each group of up to FLAGS_PER_RECORD messages is sent, one record names them,
 * and a replay (the finish activity run again after a crash between publishing and marking the flags done) sends only
 * the ids not recorded. When a send fails, the messages of its group that were sent are recorded before the failure
 * is thrown, so a retry sends just the rest. What this cannot close: a worker that dies in the middle of a group
 * leaves that group unrecorded, and a replay sends its sent messages again (up to FLAGS_PER_RECORD); each carries the
 * same `messageId` in its envelope, so a reader can drop it. Recording before sending would instead lose that user's
 * flag, and a lost flag is a user nobody helps. One record per flag (as before) made the local stack's storage
 * emulator slower with every flag of a 50,000-row batch (bench/README.md).
 */
export class StorageQueueFlagPublisher implements FlagPublisher {
  private ready: Promise<unknown> | undefined;

  constructor(
    private readonly queue: QueueClient,
    private readonly ledger: SentFlagLedger,
  ) {}

  async publish(flags: readonly FlagMessage[]): Promise<void> {
    this.ready ??= this.queue.createIfNotExists();
    await this.ready;
    const sent = new Map<string, Set<string>>();
    const todo = new Map<string, { messageId: string; flag: FlagMessage }[]>();
    for (const f of flags) {
      const run = f.run ?? f.batchId;
      let ids = sent.get(run);
      if (!ids) sent.set(run, (ids = await this.ledger.sentIds(run)));
      const messageId = flagMessageId(run, f.userPrincipalName);
      if (ids.has(messageId)) continue;
      ids.add(messageId);
      const list = todo.get(run) ?? [];
      list.push({ messageId, flag: f });
      todo.set(run, list);
    }
    for (const [run, list] of todo) {
      for (let i = 0; i < list.length; i += FLAGS_PER_RECORD) {
        const group = list.slice(i, i + FLAGS_PER_RECORD);
        const done: string[] = [];
        // A few sends at a time; after a failure no new send starts, and the ones under way end before the sent ones
        // are recorded and the failure is thrown (so a retry of the activity neither races them nor repeats them).
        try {
          await eachAtMost(group, FLAG_SENDS_AT_ONCE, async ({ messageId, flag }) => {
            const envelope = { messageId, subject: flag.outcome, body: flag };
            await this.queue.sendMessage(Buffer.from(JSON.stringify(envelope)).toString('base64'), {
              messageTimeToLive: -1,
            });
            done.push(messageId);
          });
        } finally {
          if (done.length > 0) await this.ledger.recordSent(run, done);
        }
      }
    }
  }
}

/**
 * The ledger kept as `flagsent-<first id>` steps of the run in the batch store, each naming its group's message ids;
 * `flag-<messageId>` steps (one per message, as runs recorded before groups) are read too.
 */
export function sentFlagLedgerIn(store: {
  doneSteps(runKey: string, prefix: string): Promise<Set<string>>;
  doneStepDetails(runKey: string, prefix: string): Promise<Map<string, string>>;
  markDone(runKey: string, step: string, detail?: string): Promise<void>;
}): SentFlagLedger {
  return {
    sentIds: async (run) => {
      const ids = new Set([...(await store.doneSteps(run, 'flag-'))].map((step) => step.slice('flag-'.length)));
      for (const detail of (await store.doneStepDetails(run, 'flagsent-')).values())
        for (const id of detail.split('\n')) if (id) ids.add(id);
      return ids;
    },
    recordSent: (run, messageIds) => store.markDone(run, `flagsent-${messageIds[0]}`, messageIds.join('\n')),
  };
}
