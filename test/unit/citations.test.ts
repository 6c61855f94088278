// The project's standard for citations: code, comments, test names, fixtures' "source" notes and the docs cite the
// project's own docs (docs/, README.md, infra/README.md, local/extension-host/README.md) or Microsoft's and other
// public pages, never a file that is not in the repository (a reader of the repository cannot open it) and never one
// of the project's own issue numbers (which say nothing once the issue is closed). A public repository's issue thread
// ("msgraph-bicep-types issue 193", "KelvinTegelaar/CIPP issue 783") is a public source and is allowed. This scans
// every tracked text file for the forbidden forms.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

// Files outside the repository that earlier code cited, by name, and the phrase that pointed at them. The names are
// put together from parts, so that this file does not itself name them and is scanned like any other.
const [design, protocol, licensing, deploy, toolchain, conventions] = [
  ['DES', 'IGN'],
  ['durable-', 'protocol'],
  ['graph-', 'licensing'],
  ['azure-', 'deploy'],
  ['tool', 'chain'],
  ['CONVEN', 'TIONS'],
].map((parts) => parts.join(''));
const outsideFiles: RegExp[] = [
  new RegExp(`\\b${design}\\.md\\b`),
  new RegExp(`\\b${design}'s\\b`),
  new RegExp(`\\b${design}\\b(?![|])`), // a test's regular expression asserting an answer does not mention it (…|…) is allowed
  new RegExp(protocol!),
  new RegExp(`${licensing}\\.md`),
  new RegExp(`${deploy}\\.md`),
  new RegExp(`\\b${toolchain}\\.md\\b`),
  new RegExp(`\\bnotes/(${licensing}|${protocol}|${toolchain}|${deploy})\\b`),
  new RegExp(`\\b${conventions}\\b`),
  new RegExp(`\\b${['des', 'ign'].join('')} notes?\\b`, 'i'),
];

// The word issue (or issues) followed by a number, with or without '#', dotted or in a list: allowed only right after
// the name of a public repository (a word with a hyphen or a slash in it, as an upstream project's issue is named).
const issueMention = /\b[Ii]ssues?\s+#?\d+/g;
const publicRepository = /(?:^|[\s"'(\[;])[A-Za-z0-9_.]+(?:[-/][A-Za-z0-9_.]+)+\s+$/;

function trackedTextFiles(): { path: string; text: string }[] {
  const paths = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((p) => p && p !== 'package-lock.json');
  const files: { path: string; text: string }[] = [];
  for (const path of paths) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(root, path));
    } catch {
      continue; // deleted in the work tree but not yet from the index
    }
    if (bytes.includes(0)) continue; // binary (images, workbooks)
    files.push({ path, text: bytes.toString('utf8') });
  }
  return files;
}

function offences(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const pattern of outsideFiles) {
      if (pattern.test(line)) found.push(`${i + 1}: ${line.trim()}`);
    }
    for (const m of line.matchAll(issueMention)) {
      if (!publicRepository.test(line.slice(0, m.index))) found.push(`${i + 1}: ${line.trim()}`);
    }
  });
  return [...new Set(found)];
}

describe('citations', () => {
  const files = trackedTextFiles();

  it('scans the tracked sources, tests, fixtures and docs', () => {
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['README.md', 'bench/README.md', 'shared/domain/outcomes.ts']));
    expect(paths.some((p) => p.startsWith('test/fixtures/graph-errors/'))).toBe(true);
    expect(paths.some((p) => p.startsWith('docs/'))).toBe(true);
  });

  it("recognises the forbidden forms and allows a public repository's issue", () => {
    // The samples are put together here, so that this file cites nothing itself and is scanned like any other.
    const issue = ['iss', 'ue'].join('');
    const Issue = ['Iss', 'ue'].join('');
    const design = ['DES', 'IGN'].join('');
    const notes = ['no', 'tes/graph-', 'licensing.md'].join('');
    expect(offences(`// as ${design}.md says`)).toHaveLength(1);
    expect(offences(`"source": "community scripts (${notes})."`)).toHaveLength(1);
    expect(offences(`// (the facts are in the ${['des', 'ign'].join('')} notes)`)).toHaveLength(1);
    expect(offences(`// The phone number step (${issue} 13): its own orchestration`)).toHaveLength(1);
    expect(offences(`## ${Issue} 17: read ceiling`)).toHaveLength(1);
    expect(offences(`describe('x (${issue}s 11.14, 12.3)', () => {`)).toHaveLength(1);
    expect(offences(`// polling by budget, ${issue} 17.1`)).toHaveLength(1);
    expect(offences(`// fails the first time (msgraph-bicep-types ${issue} 193).`)).toEqual([]);
    expect(offences(`msgraph-sdk-powershell ${issue}s 3231, 3245; KelvinTegelaar/CIPP ${issue} 783`)).toEqual([]);
    expect(offences(`expect(body).not.toMatch(/${design}|seed/);`)).toEqual([]);
  });

  it("no tracked file cites a file outside the repository or one of the project's issue numbers", () => {
    const report = files.flatMap(({ path, text }) => offences(text).map((o) => `${path}:${o}`));
    expect(report).toEqual([]);
  });
});
