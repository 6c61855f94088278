// Cancellation end to end on the local stack, on the real clock (so scheduled rows are certainly still waiting when
// the cancellations arrive): a no-show row is cancelled alone, then the whole batch. Rows not yet licensed end
// cancelled with nothing assigned to them; the row already licensed keeps its licences and ends assigned; the signed
// callback follows the report. The same scenario runs on the real Durable extension in test/conformance/hr-extension.
import { startStack, type Stack } from '../../local/stack';
import { CANCEL_SETTINGS, CANCEL_TENANT, CallbackReceiver, runCancelScenario } from '../support/hr-cancel-scenario';

let stack: Stack;
const receiver = new CallbackReceiver();
beforeAll(async () => {
  await receiver.start();
  stack = await startStack({ skipAhead: false, tenant: CANCEL_TENANT, settings: CANCEL_SETTINGS });
});
afterAll(async () => {
  await stack?.stop();
  await receiver.close();
});

describe('HR onboarding: cancellation', () => {
  it('cancels a no-show row and then the batch: waiting rows end cancelled with nothing assigned, the licensed row ends assigned', async () => {
    await runCancelScenario(stack, receiver, 60_000);
  });
});
