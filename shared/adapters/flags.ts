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
        flags.slice(i, i + 100).map((f) => ({ messageId: flagMessageId(f.run ?? f.batchId, f.userPrincipalName), subject: f.outcome, contentType: 'application/json', body: f, applicationProperties: { batchId: f.batchId, reason: f.reason } })),
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

/** Where the storage-queue publisher records each message it has sent, per run (the batch store's `_work` folder). */
export interface SentFlagLedger {
  sentIds(run: string): Promise<Set<string>>;
  recordSent(run: string, messageId: string): Promise<void>;
}

/**
 * Azure Storage queues have no duplicate detection (Service Bus does: `requiresDuplicateDetection`), so this
 * publisher keeps its own ledger: each message id is recorded right after its message is sent, and a replay (the
 * finish activity run again after a crash between publishing and marking the flags done) sends only the ids not
 * recorded. What this cannot close: a crash after a send and before its record sends that message again (up to
 * FLAG_SENDS_AT_ONCE of them, the sends under way); each carries the same `messageId` in its envelope, so a reader
 * can drop it. Recording before sending would instead
 * lose that user's flag, and a lost flag is a user nobody helps.
 */
/** Flags sent to a storage queue at once (each send then its ledger record). */
export const FLAG_SENDS_AT_ONCE = 16;

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
    const todo: { run: string; messageId: string; flag: FlagMessage }[] = [];
    for (const f of flags) {
      const run = f.run ?? f.batchId;
      let ids = sent.get(run);
      if (!ids) sent.set(run, (ids = await this.ledger.sentIds(run)));
      const messageId = flagMessageId(run, f.userPrincipalName);
      if (ids.has(messageId)) continue;
      ids.add(messageId);
      todo.push({ run, messageId, flag: f });
    }
    // A few sends at a time: one after another, each a queue write and a ledger write, 40,000 flags of a 50,000-row
    // batch took the finish activity many minutes. Each message is still recorded right after its own send; after a
    // failure no new send starts, and the ones under way end before the failure is thrown (so a retry of the activity
    // does not race them).
    await eachAtMost(todo, FLAG_SENDS_AT_ONCE, async ({ run, messageId, flag }) => {
      const envelope = { messageId, subject: flag.outcome, body: flag };
      await this.queue.sendMessage(Buffer.from(JSON.stringify(envelope)).toString('base64'), { messageTimeToLive: -1 });
      await this.ledger.recordSent(run, messageId);
    });
  }
}

/** The ledger kept as `flag-<messageId>` steps of the run in the batch store. */
export function sentFlagLedgerIn(store: { doneSteps(runKey: string, prefix: string): Promise<Set<string>>; markDone(runKey: string, step: string): Promise<void> }): SentFlagLedger {
  return {
    sentIds: async (run) => new Set([...(await store.doneSteps(run, 'flag-'))].map((step) => step.slice('flag-'.length))),
    recordSent: (run, messageId) => store.markDone(run, `flag-${messageId}`),
  };
}
