// Jest's own order (the slowest file of the last run first, by the cache a fresh clone does not have; else the largest
// file first), with the few files that take minutes put first by name: with two workers and no cache, CI otherwise
// gave both real-extension runs of minutes to one worker one after the other (the conformance run then took 573 s of
// about 450 s of work per worker). Longest first is the usual way to spread jobs of known length over workers.
// Jest's page on the `testSequencer` option: https://jestjs.io/docs/configuration#testsequencer-string
'use strict';
const Sequencer = require('@jest/test-sequencer').default;

/**
 * Files that take minutes, the longest first (seconds in one jest run of every file, three at a time, on the 2-core
 * machine: each is longer there than alone, the local stack's clock slowed by the load).
 */
const LONG_FIRST = [
  'test/e2e/time-rate.test.ts', // 417 s (233 alone)
  'test/conformance/engines.test.ts', // 322 s
  'test/conformance/two-workers.test.ts', // 264 s
  'test/conformance/function-timeout.test.ts', // 139 s
  'test/e2e/cli.test.ts', // 135 s
  'test/e2e/workstation.test.ts', // 130 s
  'test/e2e/recheck-and-crash.test.ts', // 112 s
  'test/conformance/azd-package.test.ts', // 97 s
  'test/e2e/console.test.ts', // 95 s
];

class LongestFirst extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const rank = (t) => {
      const i = LONG_FIRST.findIndex((f) => t.path.replace(/\\/g, '/').endsWith(f));
      return i < 0 ? LONG_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep Jest's own order.
    return [...ordered].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongestFirst;
