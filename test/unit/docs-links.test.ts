// Every relative link in README.md and docs/ leads somewhere: the file exists, and an anchor names a heading of the
// page it points at (as GitHub makes anchors from headings). Moving text between pages is how links break silently.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const pages = [
  'README.md',
  'infra/README.md',
  'bench/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as '-', a repeat numbered -1, -2 … */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The targets of inline links and images, outside code blocks and code spans. */
export function linksOf(markdown: string): string[] {
  const text = markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/!?\[[^\]\n]*\]\(\s*([^)\s]+)(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

function broken(page: string, text = readFileSync(join(root, page), 'utf8')): string[] {
  const problems: string[] = [];
  for (const link of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto: … (not checked: no network here)
    const [path = '', anchor] = link.split('#', 2);
    const target = path === '' ? join(root, page) : join(root, dirname(page), decodeURIComponent(path));
    const self = path === '' ? text : undefined;
    if (!relative(root, target) || relative(root, target).startsWith('..')) {
      problems.push(`${page}: ${link} leaves the repository`);
      continue;
    }
    if (self === undefined && !existsSync(target)) {
      problems.push(`${page}: ${link} (no such file)`);
      continue;
    }
    if (
      anchor !== undefined &&
      (self !== undefined || (statSync(target).isFile() && target.endsWith('.md'))) &&
      !anchorsOf(self ?? readFileSync(target, 'utf8')).has(anchor)
    )
      problems.push(`${page}: ${link} (no such heading)`);
  }
  return problems;
}

describe('links in README.md and docs/', () => {
  it('reads headings and links as GitHub does', () => {
    expect([
      ...anchorsOf("# A `code` title\n## Azure's settings\n## Twice\n## Twice\n```\n# not a heading\n```\n"),
    ]).toEqual(['a-code-title', 'azures-settings', 'twice', 'twice-1']);
    expect(
      linksOf('see [a](a.md#x), ![p](p.png) and `[no](code.md)`\n```\n[no](block.md)\n```\n[web](https://example.com)'),
    ).toEqual(['a.md#x', 'p.png', 'https://example.com']);
  });

  it('finds a broken link: a missing file and a missing heading are both reported', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/outcomes.md', 'docs/configuration.md']));
    const text =
      '[gone](gone.md) [bad anchor](outcomes.md#no-such-heading) [ok](outcomes.md#outcomes) [self](#nowhere) [out](../../x.md)';
    expect(broken('docs/sample.md', text)).toEqual([
      'docs/sample.md: gone.md (no such file)',
      'docs/sample.md: outcomes.md#no-such-heading (no such heading)',
      'docs/sample.md: #nowhere (no such heading)',
      'docs/sample.md: ../../x.md leaves the repository',
    ]);
  });

  it.each(pages)('%s: every relative link points at an existing file and heading', (page) => {
    expect(broken(page)).toEqual([]);
  });
});
