// docs/configuration.md documents every setting the app's configuration schema reads, and only those: a setting
// added to shared/adapters/config.ts without a line in the doc (or a doc line for a setting that went) fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTING_NAMES, loadConfig } from '../../shared/adapters/config';

const doc = readFileSync(join(__dirname, '../../docs/configuration.md'), 'utf8');

/** The rows of the first table whose header starts with `| setting | default |`: [name, default, meaning]. */
export function settingsTable(markdown: string): string[][] {
  const start = markdown.indexOf('| setting | default | meaning |');
  if (start < 0) throw new Error('no "| setting | default | meaning |" table');
  const lines = markdown.slice(start).split('\n').slice(2);
  return lines
    .slice(
      0,
      lines.findIndex((l) => !l.startsWith('|')),
    )
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

/** A row names exactly one setting, in backticks; `<NAME>` stands for an integration's name. */
function settingOf(cell: string): string {
  const m = /^`([A-Za-z_][A-Za-z0-9_]*(?:<NAME>)?)`$/.exec(cell);
  if (!m) throw new Error(`a row names one setting in backticks, not: ${cell}`);
  return m[1]!;
}

describe('docs/configuration.md', () => {
  const rows = settingsTable(doc);
  const named = rows.map((r) => settingOf(r[0]!));

  it('names every setting of the configuration schema, once each, and no other', () => {
    const perIntegration = named.filter((n) => n.endsWith('<NAME>'));
    expect(perIntegration).toEqual(['DIALTONE_CALLBACK_SECRET_<NAME>']);
    const plain = named.filter((n) => !n.endsWith('<NAME>'));
    expect(new Set(plain).size).toBe(plain.length);
    expect([...plain].sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('gives each setting a meaning', () => {
    for (const r of rows) expect([r[0], (r[2] ?? '').length > 10]).toEqual([r[0], true]);
  });

  it('gives the defaults the app takes when a number setting is left out', () => {
    const config = loadConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    const defaults = Object.fromEntries(rows.map((r) => [settingOf(r[0]!), r[1]!.replace(/`/g, '')]));
    const taken: Record<string, unknown> = {
      DIALTONE_DEADLINE_HOURS: config.deadlineHours,
      DIALTONE_CHUNK_SIZE: config.chunkSize,
      DIALTONE_ASSIGN_PARALLELISM: config.assignParallelism,
      DIALTONE_GRAPH_WRITES_PER_SECOND: config.graphWritesPerSecond,
      DIALTONE_TEAMS_READS_PER_SECOND: config.teamsReadsPerSecond,
      DIALTONE_NUMBER_READS_PER_SECOND: config.numberReadsPerSecond,
      DIALTONE_LIST_PER_MINUTE: config.listPerMinute,
      DIALTONE_ACCOUNT_WAIT_HOURS: config.accountWaitHours,
      DIALTONE_DEFAULT_PROFILE: config.defaultProfile,
      DIALTONE_PHONE_NUMBERS: config.phoneNumbers,
      DIALTONE_BUDGET_CONTAINER: config.budgetContainer,
      DIALTONE_INTAKE_CONTAINER: config.intakeContainer,
      DIALTONE_REPORTS_CONTAINER: config.reportsContainer,
      DIALTONE_PRIVATE_CONTAINER: config.privateContainer,
      DIALTONE_FLAGS_QUEUE: config.flagsQueue,
      DIALTONE_TASK_HUB: config.taskHub,
      DIALTONE_GRAPH_BASE_URL: config.graphBaseUrl,
    };
    for (const [name, value] of Object.entries(taken)) expect([name, defaults[name]]).toEqual([name, String(value)]);
  });
});
