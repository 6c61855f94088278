// HR onboarding on the real Durable Functions extension: the cancellation scenario of test/e2e/hr-cancel.test.ts
// (slot orchestrations on durable timers days ahead, cancel events, the activity that binds a durable client to end a
// chunk's Teams wait, the callback orchestration and its signed delivery) gives the same outcomes as on the local
// engine. The extension's timers follow the wall clock; nothing here waits for one to fire. Run by
// `npm run test:conformance` (with the other conformance tests), or alone: `npx jest test/conformance/hr-extension`.
import { startStack, type Stack } from '../../local/stack';
import { describeOnExtension } from '../support/extension';
import { CANCEL_SETTINGS, CANCEL_TENANT, CallbackReceiver, runCancelScenario } from '../support/hr-cancel-scenario';

describeOnExtension('HR onboarding on the real Durable extension', () => {
  let stack: Stack;
  const hostLog: string[] = [];
  const receiver = new CallbackReceiver();
  beforeAll(async () => {
    await receiver.start();
    stack = await startStack({
      engine: 'extension',
      onHostLog: (l) => hostLog.push(l),
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
      const last = (await fetch(`${stack.host.url}/api/batches/cancel-1`, { headers: { 'x-functions-key': stack.host.functionKey } }).then((r) => r.json())) as Record<string, unknown>;
      const instances = await fetch(`${stack.host.url}/runtime/webhooks/durabletask/instances?code=${stack.host.functionKey}`).then((r) => r.text());
      const { users, ...rest } = last;
      throw new Error(`${e instanceof Error ? e.message : String(e)}\nstatus: ${JSON.stringify(rest)}\nusers: ${JSON.stringify((users as { outcome: string }[]).map((u) => u.outcome))}\ninstances: ${instances.slice(0, 4000)}\nhost log:\n${hostLog.filter((l) => !/out of order|Abandoning/.test(l)).slice(-40).join('\n')}`);
    }
  }, 600_000);
});
