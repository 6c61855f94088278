// Jest's own order (the slowest file of the last run first, by the cache a fresh clone does not have; else the largest
// file first), with the few files that take minutes put first by name: with two workers and no cache, CI otherwise
// gave both real-extension runs of minutes to one worker one after the other (the conformance run then took 573 s of
// about 450 s of work per worker). Longest first is the usual way to spread jobs of known length over workers.
// Jest's page on the `testSequencer` option: https://jestjs.io/docs/configuration#testsequencer-string
'use strict';
const Sequencer = require('@jest/test-sequencer').default;

/** Files that take minutes, the longest first (seconds as measured in a fresh-clone `.ci/run` on the 2-core machine). */
const LONG_FIRST = [
  'test/conformance/two-workers.test.ts', // 378 s
  'test/conformance/engines.test.ts', // 312 s
  'test/e2e/time-rate.test.ts', // 188 s
  'test/conformance/function-timeout.test.ts', // 139 s
  'test/e2e/recheck-and-crash.test.ts', // 118 s
  'test/e2e/workstation.test.ts', // 108 s
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
