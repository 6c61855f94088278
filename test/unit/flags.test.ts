import type { ServiceBusMessage } from '@azure/service-bus';
import { ServiceBusFlagPublisher, flagMessageId, type FlagMessage, type FlagSender } from '../../shared/adapters/flags';

/** Records what the publisher sends, standing in for @azure/service-bus's ServiceBusSender (no broker here). */
class RecordingSender implements FlagSender {
  readonly batches: ServiceBusMessage[][] = [];
  async sendMessages(messages: ServiceBusMessage[]): Promise<void> {
    this.batches.push(messages);
  }
}

const flag = (i: number, outcome: 'failed' | 'flagged' = 'failed'): FlagMessage => ({
  batchId: 'b1',
  row: i,
  userPrincipalName: `User${i}@contoso.com`,
  outcome,
  reason: outcome === 'failed' ? 'user_not_found' : 'no_calling_plan',
  message: 'm',
});

describe('Service Bus flag publisher', () => {
  it('sends one message per user, subject = outcome, with a message id made from batch and user', async () => {
    const sender = new RecordingSender();
    await new ServiceBusFlagPublisher(sender).publish([flag(1), flag(2, 'flagged')]);
    expect(sender.batches).toHaveLength(1);
    expect(sender.batches[0]!.map((m) => [m.subject, m.messageId, (m.body as FlagMessage).userPrincipalName])).toEqual([
      ['failed', flagMessageId('b1', 'User1@contoso.com'), 'User1@contoso.com'],
      ['flagged', flagMessageId('b1', 'User2@contoso.com'), 'User2@contoso.com'],
    ]);
  });

  // No broker here: that Service Bus drops a repeated message id rests on the queue's requiresDuplicateDetection
  // (asserted on the Bicep in deployment.test.ts). What this proves is the id it keys on.
  it('gives a replayed flag the same message id whatever the UPN case, and another batch or run another id', async () => {
    expect(flagMessageId('b1', 'USER1@contoso.com')).toBe(flagMessageId('b1', 'user1@contoso.com'));
    expect(flagMessageId('b1', 'user1@contoso.com')).not.toBe(flagMessageId('b2', 'user1@contoso.com'));
    // Two integrations may both call a batch b1: their runs' keys keep the messages apart.
    expect(flagMessageId('hr-a/b1/20261125T080000Z-00000001', 'user1@contoso.com')).not.toBe(
      flagMessageId('hr-b/b1/20261125T080000Z-00000002', 'user1@contoso.com'),
    );
  });

  it('sends in batches of at most 100', async () => {
    const sender = new RecordingSender();
    await new ServiceBusFlagPublisher(sender).publish(Array.from({ length: 250 }, (_, i) => flag(i)));
    expect(sender.batches.map((b) => b.length)).toEqual([100, 100, 50]);
  });
});
