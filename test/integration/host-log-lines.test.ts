// A host's log reaches a stack's onHostLog a whole line at a time, however the pipe cuts it: .NET's console writes a
// long line in pieces of 256 bytes, so a line longer than that (an instance id of 257 characters in a failure line)
// can arrive in two reads, and a check of the log must see the line whole, not its first half.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchHostProcess } from '../../local/stack';

describe("a host's log lines", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dialtone-host-lines-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reach onHostLog whole when the host writes one line in several pieces, with multi-byte characters cut too', async () => {
    const script = join(dir, 'host.js');
    // The line in three writes, apart in time, the second cut inside the two bytes of "é"; then a short line and READY.
    writeFileSync(
      script,
      `const id = 'x'.repeat(257);
const line = Buffer.from('Error Function.b.User: ' + id + ': Function \\'b (Orchestrator)\\' failed with an error. é\\n');
const cut = line.indexOf(Buffer.from('é')) + 1;
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  process.stderr.write(line.subarray(0, 256));
  await wait(50);
  process.stderr.write(line.subarray(256, cut));
  await wait(50);
  process.stderr.write(line.subarray(cut));
  process.stderr.write('second\\r\\nthird');
  await wait(50);
  process.stderr.write('\\n');
  process.stdout.write('DIALTONE_HOST_READY {"url":"http://127.0.0.1:1","functionKey":"k"}\\n');
  setInterval(() => {}, 1000);
})();
`,
    );
    const lines: string[] = [];
    const host = await launchHostProcess(script, { PATH: process.env['PATH'] ?? '' }, (l) => lines.push(l));
    try {
      // The stderr lines come before READY on stdout, but the two pipes are read independently: wait for the last.
      for (let i = 0; i < 100 && !lines.includes('third'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(lines).toEqual([
        `Error Function.b.User: ${'x'.repeat(257)}: Function 'b (Orchestrator)' failed with an error. é`,
        'second',
        'third',
      ]);
    } finally {
      host.child.kill('SIGKILL');
      await new Promise((r) => (host.child.exitCode !== null ? r(undefined) : host.child.once('exit', r)));
    }
  });
});
