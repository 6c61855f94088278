// The conformance tests' reading of the extension's log (test/support/conformance.ts): the Azure Storage provider's
// out-of-order warning fails a scenario unless the scenario killed a worker on purpose, which moves partition leases
// (the one case the provider's source gives for it); an error line fails it either way.
import { HostLog } from '../support/conformance';

const OUT_OF_ORDER =
  '[extension-host] Warning DurableTask.AzureStorage: default~big:chunk-3: Message [TaskCompleted#12] was received out of order and will be temporarily returned back to conformancebig-control-01';

function logOf(...lines: string[]): HostLog {
  const log = new HostLog();
  for (const l of lines) log.onHostLog(l);
  return log;
}

describe("the conformance tests' reading of the extension's log", () => {
  it('fails a scenario on an out-of-order warning', () => {
    expect(() => logOf(OUT_OF_ORDER).expectClean()).toThrow(/1 troubling line/);
  });

  it('accepts the out-of-order warning after a worker was killed on purpose, and only that line', () => {
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
      logOf('[extension-host] Warning DurableTask.AzureStorage: x: Split brain detected').expectClean(
        undefined,
        undefined,
        undefined,
        true,
      ),
    ).toThrow(/1 troubling line/);
  });
});
