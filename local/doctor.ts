// `dialtone doctor --url URL [--key KEY]`: asks a deployed app (or a local host) for its liveness and its deep health
// check (functions/health.ts) and prints one line per dependency with what is missing and the command that grants it.
// The azd postdeploy hook runs it after every deployment. The key is the app's function key (KEY, or the environment
// variable DIALTONE_FUNCTION_KEY, so that it stays out of the shell's history).
import { parseArgs } from 'node:util';
import type { HealthReport } from '../functions/health';

export class DoctorUsageError extends Error {}

/** The table `doctor` prints: one row per check, then what to do for each failure. */
export function healthTable(report: HealthReport): string {
  const rows = report.checks.map((c) => [
    c.check,
    c.ok ? 'ok' : 'FAILED',
    `${c.ms} ms`,
    c.problem?.missing ?? (c.ok ? '' : (c.problem?.title ?? '')),
  ]);
  const widths = [0, 1, 2].map((i) =>
    Math.max(...rows.map((r) => r[i]!.length), ['check', 'result', 'time'][i]!.length),
  );
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell))
      .join('  ')
      .trimEnd();
  const out = [line(['check', 'result', 'time', 'missing']), ...rows.map(line)];
  for (const c of report.checks.filter((x) => !x.ok)) {
    out.push('', `${c.check}: ${c.problem?.detail ?? 'failed'}`);
    if (c.problem?.grant) out.push(`  grant: ${c.problem.grant}`);
  }
  return `${out.join('\n')}\n`;
}

/** Exit code 0 when every check passed, 1 when one failed or the app did not answer. */
export async function doctor(
  args: string[],
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { url: { type: 'string' }, key: { type: 'string' } },
  });
  if (positionals.length > 0) throw new DoctorUsageError(`doctor takes no file; got: ${positionals[0]}`);
  if (!values.url)
    throw new DoctorUsageError("doctor needs --url (the app's URL, e.g. the azd output AZURE_FUNCTION_URI)");
  let base: URL;
  try {
    base = new URL(values.url);
  } catch {
    throw new DoctorUsageError(`--url is not a URL: ${values.url}`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname);
  if (base.protocol !== 'https:' && !(loopback && base.protocol === 'http:'))
    throw new DoctorUsageError(
      '--url must be https (http only for a local host on loopback): the function key is sent to it',
    );
  const key = values.key ?? process.env['DIALTONE_FUNCTION_KEY'];
  if (!key)
    throw new DoctorUsageError(
      'doctor needs the function key: --key KEY or DIALTONE_FUNCTION_KEY (az functionapp keys list --query functionKeys.default)',
    );
  const root = base.href.replace(/\/+$/, '');
  const live = await fetch(`${root}/api/health`).catch((e: unknown) => e as Error);
  if (live instanceof Error || live.status !== 200) {
    write(
      `${root}/api/health: ${live instanceof Error ? live.message : `HTTP ${live.status}`}: the app is not running (check its Log stream in the portal)\n`,
    );
    return 1;
  }
  const deep = await fetch(`${root}/api/health/deep`, { headers: { 'x-functions-key': key } });
  if (deep.status !== 200 && deep.status !== 503) {
    write(
      `${root}/api/health/deep: HTTP ${deep.status}${deep.status === 401 ? ' (the function key was refused)' : ''}\n`,
    );
    return 1;
  }
  const report = (await deep.json()) as HealthReport;
  write(healthTable(report));
  return report.status === 'ok' ? 0 : 1;
}
