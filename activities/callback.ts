// The callback delivery activity: one signed POST of the batch's outcome to the HR system's URL, recorded (with its
// answer) in the batch's callback registration and in the report's `callback`. Delivery is at least once: an
// activity re-run after a crash may send again, so receivers deduplicate by batchId.
import type { BatchStore } from '../shared/adapters/batch-store';
import { SINGLE_CALLER, callbackSecretSetting } from '../shared/adapters/config';
import type { CallbackSender } from '../shared/adapters/callback';
import { callbackPayload, shownUrl, type CallbackAttempt } from '../shared/domain/callback';
import type { DeliverCallbackInput, DeliverCallbackResult } from '../contracts/callback';

export interface CallbackDeliveryDeps {
  readonly store: BatchStore;
  /** Signs with the registration's integration's own secret; nothing unsigned is ever sent. */
  readonly sender: CallbackSender;
}

export function createCallbackDelivery(deps: CallbackDeliveryDeps) {
  const { store, sender } = deps;

  return async function deliverCallback(input: DeliverCallbackInput): Promise<DeliverCallbackResult> {
    const registration = await store.readCallback(input.runKey);
    if (!registration) return { delivered: false, stop: true };
    const report = await store.readReport(input.runKey);
    if (!report) throw new Error(`run ${input.runKey} has no report to call back with yet`);
    const earlier = registration.attempts.find((a) => a.attempt === input.attempt);
    let attempt: CallbackAttempt;
    let stop = false;
    if (earlier) {
      // This activity ran before and recorded its attempt (the host stopped before the orchestration heard back).
      attempt = earlier;
    } else {
      const integration = registration.integration ?? SINGLE_CALLER;
      const body = JSON.stringify(
        callbackPayload(report, {
          integration,
          runKey: input.runKey,
          url: registration.url,
          statusUrl: registration.statusUrl,
        }),
      );
      const result = await sender.send(registration.url, body, integration);
      if (result) attempt = { attempt: input.attempt, at: input.at, ...result };
      else {
        const setting = integration === SINGLE_CALLER ? 'DIALTONE_CALLBACK_SECRET' : callbackSecretSetting(integration);
        attempt = {
          attempt: input.attempt,
          at: input.at,
          status: null,
          delivered: false,
          message: `not sent: the app has no ${setting} to sign ${integration}'s callbacks with`,
        };
        stop = true;
      }
    }
    const attempts = earlier ? registration.attempts : [...registration.attempts, attempt];
    await store.saveCallback(input.runKey, { ...registration, attempts });
    const state = attempt.delivered ? 'delivered' : input.last || stop ? 'gave_up' : 'pending';
    await store.saveReport(input.runKey, { ...report, callback: { url: shownUrl(registration.url), state, attempts } });
    return { delivered: attempt.delivered, stop };
  };
}
