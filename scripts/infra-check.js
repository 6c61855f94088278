#!/usr/bin/env node
// `npm run infra:check`: compiles and lints every .bicep file under infra/ with the Bicep CLI, so a template that
// Azure would refuse fails here instead of in `azd up`. The CLI comes from NuGet (Azure.Bicep.CommandLine.<rid>)
// through a restore-only project that `dotnet restore` fills into node_modules/.cache (never committed). Without
// `dotnet` on the PATH the check says plainly that it was skipped; under CI (CI=true) it fails instead.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const BICEP_VERSION = '0.49.2';
const ROOT = path.join(__dirname, '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'dialtone-bicep', BICEP_VERSION);

/**
 * Linter findings accepted on purpose, as `code` (a rule name or BCPxxx). Each one must be justified in
 * infra/README.md. None today: every rule of the default linter passes.
 */
const ACCEPTED = new Set([]);

function runtimeId() {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  if (process.platform === 'win32') return `win-${arch}`;
  if (process.platform === 'darwin') return `osx-${arch}`;
  return `linux-${arch}`;
}

/** The dotnet CLI's version, or undefined when there is none on the PATH. */
function dotnetVersion() {
  const r = spawnSync('dotnet', ['--version'], { encoding: 'utf8', env: quietDotnetEnv() });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function quietDotnetEnv() {
  return {
    ...process.env,
    DOTNET_CLI_TELEMETRY_OPTOUT: '1',
    DOTNET_NOLOGO: '1',
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1',
  };
}

/** Restores the Bicep CLI from NuGet once and returns the path of its executable. */
function ensureBicep() {
  const rid = runtimeId();
  const pkg = `Azure.Bicep.CommandLine.${rid}`;
  const exe = path.join(
    CACHE,
    'packages',
    pkg.toLowerCase(),
    BICEP_VERSION,
    'tools',
    rid.startsWith('win') ? 'bicep.exe' : 'bicep',
  );
  if (!fs.existsSync(exe)) {
    fs.mkdirSync(CACHE, { recursive: true });
    // A project that builds nothing: PackageDownload fetches the package without referencing it.
    const project = path.join(CACHE, 'bicep-cli.csproj');
    fs.writeFileSync(
      project,
      [
        '<Project Sdk="Microsoft.NET.Sdk">',
        '  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>',
        `  <ItemGroup><PackageDownload Include="${pkg}" Version="[${BICEP_VERSION}]" /></ItemGroup>`,
        '</Project>',
        '',
      ].join('\n'),
    );
    const r = spawnSync('dotnet', ['restore', project, '--packages', path.join(CACHE, 'packages')], {
      encoding: 'utf8',
      env: quietDotnetEnv(),
    });
    if (r.status !== 0 || !fs.existsSync(exe)) {
      throw new Error(`could not restore ${pkg} ${BICEP_VERSION} from NuGet:\n${r.stdout}${r.stderr}`);
    }
  }
  if (process.platform !== 'win32') fs.chmodSync(exe, 0o755);
  return exe;
}

const DIAGNOSTIC = /^(.*)\((\d+),(\d+)\) : (Error|Warning|Info) ([^:\s]+): (.*)$/;

/** Parses the Bicep CLI's default diagnostics format ("file(line,col) : Level code: message"). */
function parseDiagnostics(text) {
  const out = [];
  for (const line of text.split(/\r?\n/)) {
    const m = DIAGNOSTIC.exec(line.trim());
    if (m)
      out.push({
        file: path.relative(ROOT, m[1]),
        line: Number(m[2]),
        column: Number(m[3]),
        level: m[4],
        code: m[5],
        message: m[6],
      });
  }
  return out;
}

function files(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.bicep') ? [path.join(dir, e.name)] : [],
    );
}

/**
 * Lints and builds every .bicep file under infra/. Returns the diagnostics that are not accepted, the files
 * checked, and where the compiled ARM JSON was written (same layout as infra/).
 */
function checkInfra() {
  const bicep = ensureBicep();
  const infra = path.join(ROOT, 'infra');
  const outDir = path.join(CACHE, 'arm');
  fs.rmSync(outDir, { recursive: true, force: true });
  const checked = files(infra).map((f) => path.relative(ROOT, f));
  const problems = [];
  for (const args of [
    ['lint', '--pattern', 'infra/**/*.bicep'],
    ['build', '--pattern', 'infra/**/*.bicep', '--outdir', outDir],
  ]) {
    // The Bicep CLI keeps a .bicep cache in the temporary folder: give it one under the cache, so nothing is left in
    // the system's (the test suite checks that).
    const tmp = path.join(CACHE, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    const r = spawnSync(bicep, args, {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...quietDotnetEnv(), TMPDIR: tmp, TMP: tmp, TEMP: tmp },
    });
    const found = parseDiagnostics(`${r.stdout}\n${r.stderr}`);
    problems.push(...found.filter((d) => d.level !== 'Info' && !ACCEPTED.has(d.code)));
    if (r.status !== 0 && found.length === 0)
      problems.push({
        file: 'infra',
        line: 0,
        column: 0,
        level: 'Error',
        code: `bicep ${args[0]}`,
        message: `exited with ${r.status}: ${r.stdout}${r.stderr}`.trim(),
      });
  }
  const unique = [...new Map(problems.map((p) => [`${p.file}:${p.line}:${p.column}:${p.code}`, p])).values()];
  return { bicepVersion: BICEP_VERSION, checked, problems: unique, armDir: outDir };
}

function main() {
  const ci = /^(1|true)$/i.test(process.env.CI ?? '');
  const dotnet = dotnetVersion();
  if (!dotnet) {
    if (ci) {
      console.error(
        'infra:check FAILED: dotnet is not on the PATH, and CI must compile the Bicep (install the .NET SDK).',
      );
      process.exit(1);
    }
    console.log(
      'infra:check SKIPPED: dotnet is not on the PATH, so the Bicep CLI cannot be restored from NuGet; infra/ was not compiled.',
    );
    return;
  }
  const result = checkInfra();
  for (const p of result.problems)
    console.error(`${p.file}(${p.line},${p.column}): ${p.level} ${p.code}: ${p.message}`);
  if (result.problems.length > 0) {
    console.error(
      `infra:check FAILED: ${result.problems.length} problem(s) in ${result.checked.length} Bicep files (Bicep ${result.bicepVersion}).`,
    );
    process.exit(1);
  }
  console.log(
    `infra:check passed: ${result.checked.length} Bicep files compiled and linted with no errors or warnings (Bicep ${result.bicepVersion}, dotnet ${dotnet}).`,
  );
}

module.exports = { checkInfra, dotnetVersion, parseDiagnostics, BICEP_VERSION };

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(`infra:check FAILED: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
