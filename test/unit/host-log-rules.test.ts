// The conformance tests' reading of the extension's log (test/support/conformance.ts): the Azure Storage provider's
// warnings of a partition lease that moved (a message out of order, a split brain) fail a scenario unless leases moved
// on purpose there (a worker killed, a second worker), and then only after that moment and within the bounds the
// provider's source gives (episodes a worker runs at once, the tasks one episode schedules, the returns of one message
// before the lost episode replays); an error line fails it either way.
import { episodesAtOnce, HostLog } from '../support/conformance';

const SPLIT_BRAIN =
  '[extension-host] Warning DurableTask.AzureStorage: default~two-workers:chunk-0: Split brain detected: Another worker already updated the history for this instance - the 3 history event result(s) will be discarded';
const outOfOrder = (instance: string, task: number) =>
  `[extension-host] Warning DurableTask.AzureStorage: default~big:${instance}: Message [TaskCompleted#${task}] was received out of order and will be temporarily returned back to conformancebig-control-01`;
const OUT_OF_ORDER = outOfOrder('chunk-3', 12);

function logOf(...lines: string[]): HostLog {
  const log = new HostLog();
  for (const l of lines) log.onHostLog(l);
  return log;
}

const moved = (from = 0, episodeWidth = 10) => ({ from, episodeWidth });
const clean = (log: HostLog, move = moved()) => log.expectClean(undefined, undefined, undefined, move);

describe("the conformance tests' reading of the extension's log", () => {
  it('fails a scenario on an out-of-order or split-brain warning', () => {
    expect(() => logOf(OUT_OF_ORDER).expectClean()).toThrow(/1 troubling line/);
    expect(() => logOf(SPLIT_BRAIN).expectClean()).toThrow(/1 troubling line/);
  });

  it('reads the episodes a worker runs at once from host.json', () => {
    expect(episodesAtOnce()).toBe(5);
  });

  it("accepts a killed worker's lost episode: each of its tasks' answers returned a few times", () => {
    // As logged after a worker was killed while a chunk scheduled a group of ten assignments: nine answers, four times.
    const lines = [1, 2, 3, 4].flatMap(() => [3, 4, 5, 6, 7, 8, 9, 10, 11].map((t) => outOfOrder('chunk-3', t)));
    expect(clean(logOf(...lines))).toBe(36);
    expect(clean(logOf(SPLIT_BRAIN, OUT_OF_ORDER))).toBe(2);
  });

  it('fails those warnings before the leases moved', () => {
    expect(() => clean(logOf(OUT_OF_ORDER, 'the worker is killed', OUT_OF_ORDER), moved(1))).toThrow(
      /1 troubling line/,
    );
    expect(clean(logOf('the worker is killed', OUT_OF_ORDER, OUT_OF_ORDER), moved(1))).toBe(2);
  });

  it('fails a message returned more often than the provider returns it before the lost episode replays', () => {
    expect(clean(logOf(...Array<string>(8).fill(OUT_OF_ORDER)))).toBe(8);
    expect(() => clean(logOf(...Array<string>(9).fill(OUT_OF_ORDER)))).toThrow(/1 troubling line/);
  });

  it('fails more messages than one episode schedules, or more instances than a worker runs at once', () => {
    const eleven = Array.from({ length: 11 }, (_, t) => outOfOrder('chunk-1', t));
    expect(() => clean(logOf(...eleven))).toThrow(/1 troubling line/);
    expect(clean(logOf(...eleven), moved(0, 11))).toBe(11);
    const six = Array.from({ length: 6 }, (_, i) => outOfOrder(`chunk-${i}`, 3));
    expect(() => clean(logOf(...six))).toThrow(/1 troubling line.*chunk-5/s);
  });

  it('fails a split brain repeated beyond the episodes in flight', () => {
    expect(clean(logOf(...Array<string>(5).fill(SPLIT_BRAIN)))).toBe(5);
    expect(() => clean(logOf(...Array<string>(6).fill(SPLIT_BRAIN)))).toThrow(/1 troubling line/);
  });

  it('accepts only those lines: an error line or another warning still fails', () => {
    expect(() =>
      clean(logOf(OUT_OF_ORDER, '[extension-host] Error DurableTask.AzureStorage: something broke out of order')),
    ).toThrow(/1 troubling line/);
    expect(() =>
      clean(logOf('[extension-host] Warning DurableTask.AzureStorage: x: Split brain detected, something else')),
    ).toThrow(/1 troubling line/);
  });

  it("accepts a listener's failed start only when the same listener started later", () => {
    const failed = (fn: string) =>
      `[extension-host] Error Host.Startup: The listener for function '${fn}' was unable to start. (FunctionListenerException: The listener for function '${fn}' was unable to start.)`;
    const started = (fn: string) =>
      `[extension-host] Information Host.Startup: Listener successfully started for function '${fn}' after 2 retries.`;
    expect(logOf(failed('dialtone-batch'), started('dialtone-batch')).expectClean()).toBe(1);
    expect(() => logOf(failed('dialtone-batch')).expectClean()).toThrow(/1 troubling line/);
    expect(() => logOf(started('dialtone-batch'), failed('dialtone-batch')).expectClean()).toThrow(/1 troubling line/);
    expect(() => logOf(failed('dialtone-batch'), started('dialtone-assign')).expectClean()).toThrow(/1 troubling line/);
    expect(() =>
      logOf(
        '[extension-host] Error Microsoft.Extensions.Hosting.Internal.Host: Hosting failed to start (FunctionListenerException: x)',
        started('dialtone-batch'),
      ).expectClean(),
    ).toThrow(/1 troubling line/);
  });
});
