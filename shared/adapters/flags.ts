// Users who need a person: failed and flagged rows go to a queue that helpdesk tooling reads. Service Bus in Azure
// (duplicate detection on the message id makes a replay harmless); without Service Bus, an Azure Storage queue on the
// app's own storage, so a local run can be read the same way.
import type { ServiceBusMessage } from '@azure/service-bus';
import type { QueueClient } from '@azure/storage-queue';
import { createHash } from 'node:crypto';

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

export class StorageQueueFlagPublisher implements FlagPublisher {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly queue: QueueClient) {}

  async publish(flags: readonly FlagMessage[]): Promise<void> {
    this.ready ??= this.queue.createIfNotExists();
    await this.ready;
    for (const f of flags) {
      const envelope = { messageId: flagMessageId(f.run ?? f.batchId, f.userPrincipalName), subject: f.outcome, body: f };
      await this.queue.sendMessage(Buffer.from(JSON.stringify(envelope)).toString('base64'), { messageTimeToLive: -1 });
    }
  }
}
