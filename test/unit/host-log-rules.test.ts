// The conformance tests' reading of the extension's log (test/support/conformance.ts): the Azure Storage provider's
// warnings of a partition lease that moved (a message out of order, a split brain) fail a scenario unless leases moved
// on purpose there (a worker killed, a second worker), and then only up to a few; an error line fails it either way.
import { HostLog } from '../support/conformance';

const SPLIT_BRAIN =
  '[extension-host] Warning DurableTask.AzureStorage: default~two-workers:chunk-0: Split brain detected: Another worker already updated the history for this instance - the 3 history event result(s) will be discarded';
const OUT_OF_ORDER =
  '[extension-host] Warning DurableTask.AzureStorage: default~big:chunk-3: Message [TaskCompleted#12] was received out of order and will be temporarily returned back to conformancebig-control-01';

function logOf(...lines: string[]): HostLog {
  const log = new HostLog();
  for (const l of lines) log.onHostLog(l);
  return log;
}

describe("the conformance tests' reading of the extension's log", () => {
  it('fails a scenario on an out-of-order or split-brain warning', () => {
    expect(() => logOf(OUT_OF_ORDER).expectClean()).toThrow(/1 troubling line/);
    expect(() => logOf(SPLIT_BRAIN).expectClean()).toThrow(/1 troubling line/);
  });

  it('fails a scenario whose leases moved when those warnings go on (more than five)', () => {
    expect(logOf(SPLIT_BRAIN, OUT_OF_ORDER).expectClean(undefined, undefined, undefined, true)).toBe(2);
    expect(() =>
      logOf(...Array<string>(6).fill(SPLIT_BRAIN)).expectClean(undefined, undefined, undefined, true),
    ).toThrow(/1 troubling line/);
  });

  it('accepts the warnings after leases moved on purpose, and only those lines', () => {
    expect(logOf(OUT_OF_ORDER, OUT_OF_ORDER).expectClean(undefined, undefined, undefined, true)).toBe(2);
    expect(() =>
      logOf(OUT_OF_ORDER, '[extension-host] Error DurableTask.AzureStorage: something broke out of order').expectClean(
        undefined,
        undefined,
        undefined,
        true,
      ),
    ).toThrow(/1 troubling line/);
    expect(() =>
      logOf('[extension-host] Warning DurableTask.AzureStorage: x: Split brain detected, something else').expectClean(
        undefined,
        undefined,
        undefined,
        true,
      ),
    ).toThrow(/1 troubling line/);
  });
});
