// The onboarding steps of docs/http-api.md ("Onboarding and revoking an HR system"), run as written with bash: `az` and `azd` are stand-ins on PATH that record every
// argument and the request body they were given (no Azure here). The key is made first, in a file only its owner
// reads; it is in no program's arguments; Azure gets it in the body; and the DIALTONE_CALLERS value the block sets
// names the SHA-256 of that very key, which the app's own configuration then takes as the integration's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../shared/adapters/config';

function readmeBlock(marker: string): string {
  const doc = readFileSync(join(__dirname, '../../docs/http-api.md'), 'utf8');
  const block = [...doc.matchAll(/```sh\n([\s\S]*?)\n\s*```/g)].find((m) => m[1]!.includes(marker));
  if (!block) throw new Error(`docs/http-api.md has no sh block with ${marker}`);
  return block[1]!.replace(/^ {3}/gm, '');
}

// Each stand-in appends one JSON line per call: its name, its arguments, and the body file's content if given one.
const STAND_IN = `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
const at = args.indexOf('--body');
const body = at >= 0 && args[at + 1].startsWith('@') ? fs.readFileSync(args[at + 1].slice(1), 'utf8') : undefined;
fs.appendFileSync(process.env.STAND_IN_LOG, JSON.stringify({ tool: require('path').basename(process.argv[1]), args, body }) + '\\n');
if (args[0] === 'functionapp' && args[1] === 'show') process.stdout.write('/subscriptions/0000/resourceGroups/rg-dialtone/providers/Microsoft.Web/sites/func-dialtone\\n');
`;

describe("docs/http-api.md's onboarding steps", () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'readme-onboarding-'));
    for (const tool of ['az', 'azd']) {
      writeFileSync(join(dir, tool), STAND_IN);
      chmodSync(join(dir, tool), 0o755);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('make the key first, keep it off every command line, and set DIALTONE_CALLERS to its SHA-256', () => {
    const log = join(dir, 'calls.jsonl');
    execFileSync('bash', ['-euo', 'pipefail', '-c', readmeBlock('workday.key')], {
      cwd: dir,
      env: {
        ...process.env,
        PATH: `${dir}:${process.env['PATH'] ?? ''}`,
        STAND_IN_LOG: log,
        RG: 'rg-dialtone',
        APP: 'func-dialtone',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const key = readFileSync(join(dir, 'workday.key'), 'utf8');
    // 32 random bytes in base64 are 43 characters and a pad; the recipe strips '+' and '/' (each character one of them
    // with odds 1/32), so the key is 35-43 characters almost always: 40 failed about one run in twenty. Fewer than 32
    // would take 12 of the 43 to be stripped: odds of about 5 in a billion.
    expect(key).toMatch(/^[A-Za-z0-9]{32,43}$/);
    expect(statSync(join(dir, 'workday.key')).mode & 0o077).toBe(0);
    expect(existsSync(join(dir, 'workday-key.json'))).toBe(false);
    const calls = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tool: string; args: string[]; body?: string });
    expect(calls.map((c) => `${c.tool} ${c.args.slice(0, 2).join(' ')}`)).toEqual([
      'az functionapp show',
      'az rest --method',
      'azd env set',
      'azd provision',
    ]);
    for (const c of calls) expect(c.args.join(' ')).not.toContain(key);
    const put = calls[1]!;
    expect(put.args).toContain(
      'https://management.azure.com/subscriptions/0000/resourceGroups/rg-dialtone/providers/Microsoft.Web/sites/func-dialtone/host/default/functionKeys/workday?api-version=2024-04-01',
    );
    expect(JSON.parse(put.body!)).toEqual({ properties: { name: 'workday', value: key } });
    const callers = calls[2]!.args[3]!;
    const sha = createHash('sha256').update(key).digest('hex');
    expect(callers).toBe(`workday:${sha}:profiles=phone-domestic@hr.workday.example`);
    // Not the SHA-256 of an empty key (an unset variable), and a value the app itself takes.
    expect(sha).not.toBe(createHash('sha256').update('').digest('hex'));
    const caller = loadConfig({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      DIALTONE_CALLERS: callers,
    }).callers?.get(sha);
    expect(caller).toMatchObject({
      name: 'workday',
      callbackHosts: ['hr.workday.example'],
      rights: { profiles: ['phone-domestic'], ownSkus: false },
    });
  });
});
