// HR onboarding on the real Durable Functions extension: the cancellation scenario of test/e2e/hr-cancel.test.ts
// (slot orchestrations on durable timers days ahead, cancel events, the activity that binds a durable client to end a
// chunk's Teams wait, the callback orchestration and its signed delivery) gives the same outcomes as on the local
// engine. The extension's timers follow the wall clock; nothing here waits for one to fire. The extension must have
// run it (test/support/conformance.ts) and logged nothing that marks an episode gone wrong: that once happened here
// (an event to a slot waiting days ahead ended in a split brain), until slots stopped taking events. Run by
// `npm run test:conformance` (with the other conformance tests), or alone: `npx jest test/conformance/hr-extension`.
import { startStack, type Stack } from '../../local/stack';
import { expectEngineRan, expectTaskHubEnded, HostLog } from '../support/conformance';
import { describeOnExtension } from '../support/extension';
import { CANCEL_SETTINGS, CANCEL_TENANT, CallbackReceiver, runCancelScenario } from '../support/hr-cancel-scenario';

describeOnExtension('HR onboarding on the real Durable extension', () => {
  let stack: Stack;
  const hostLog = new HostLog();
  const receiver = new CallbackReceiver();
  beforeAll(async () => {
    await receiver.start();
    stack = await startStack({
      engine: 'extension',
      onHostLog: hostLog.onHostLog,
      tenant: CANCEL_TENANT,
      settings: {
        ...CANCEL_SETTINGS,
        DIALTONE_TASK_HUB: 'conformancehr',
        AzureWebJobs__Extensions__DurableTask__StorageProvider__MaxQueuePollingInterval: '00:00:01',
      },
    });
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
    await receiver.close();
  });

  it('cancels a no-show row and then the batch with scheduled rows: cancelled rows get nothing, the licensed row ends assigned, the callback arrives signed', async () => {
    // On failure, what the batch and the task hub looked like, and the extension's warnings, say where it stopped.
    try {
      await runCancelScenario(stack, receiver, 240_000);
    } catch (e) {
      const last = (await fetch(`${stack.host.url}/api/batches/cancel-1`, {
        headers: { 'x-functions-key': stack.host.functionKey },
      }).then((r) => r.json())) as Record<string, unknown>;
      const instances = await fetch(
        `${stack.host.url}/runtime/webhooks/durabletask/instances?code=${stack.host.functionKey}`,
      ).then((r) => r.text());
      const { users, ...rest } = last;
      throw new Error(
        `${e instanceof Error ? e.message : String(e)}\nstatus: ${JSON.stringify(rest)}\nusers: ${JSON.stringify((users as { outcome: string }[]).map((u) => u.outcome))}\ninstances: ${instances.slice(0, 4000)}\nhost log:\n${hostLog.lines.slice(-40).join('\n')}`,
      );
    }
  }, 600_000);

  it('ran on the real extension, which logged no error, split brain, aborted function or message out of order', async () => {
    await expectEngineRan(stack, 'extension');
    hostLog.expectClean();
  });

  it('ends every instance Completed but the batch and the two slots still sleeping to their next check', async () => {
    // The slots take no events (workflows/slot.ts) and look at the cancel record every few hours; the batch waits
    // for them. Everything else (the chunk, the callback) has completed.
    await expectTaskHubEnded(stack, 60_000, {
      stillRunning: ['default~cancel-1', 'default~cancel-1:slot-0', 'default~cancel-1:slot-1'],
    });
  });
});
