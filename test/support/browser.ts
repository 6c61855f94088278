// Finds a Chromium for the console's browser tests: Debian's `chromium` package (or DIALTONE_CHROMIUM), driven by
// playwright-core, whose own browser download cannot work on these machines. Without one the browser tests skip
// with a plain message; with DIALTONE_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails them instead.
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string | undefined {
  const named = process.env['DIALTONE_CHROMIUM'];
  if (named) return existsSync(named) ? named : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** `describe` when a browser is there; otherwise a skip that says why (or a failure where one is required). */
export function describeWithBrowser(name: string, fn: (executablePath: string) => void): void {
  const path = chromiumPath();
  if (path) {
    describe(name, () => fn(path));
    return;
  }
  if (process.env['DIALTONE_REQUIRE_BROWSER'] === '1') {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(
          'DIALTONE_REQUIRE_BROWSER=1 but no Chromium was found: apt-get install chromium, or set DIALTONE_CHROMIUM',
        );
      });
    });
    return;
  }
  console.warn(`SKIPPED "${name}": no Chromium found (apt-get install chromium, or set DIALTONE_CHROMIUM to its path)`);
  describe.skip(name, () => fn(''));
}
