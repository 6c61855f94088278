// What the Azure Developer CLI does with this repository when it packages the function app, reproduced from azd's
// own source (Azure/azure-dev, cli/azd/pkg/project/) so that a test can build the very zip `azd up` deploys. Each
// function names the azd file and function it follows; docs/deploying.md explains the design these rules lead to.
// azd itself cannot run here (no Azure), and these few rules are all of it that decides the zip's content.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  statSync,
  writeSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

/** The part of a service's azure.yaml entry that packaging reads (ServiceConfig: project, language, host, dist, remoteBuild, hooks). */
export interface AzdService {
  readonly path: string;
  readonly language: string;
  readonly host: string;
  readonly dist: string | undefined;
  readonly remoteBuild: boolean | undefined;
  /** The posix `run` of each service hook, by hook name (prepackage, postpackage…). */
  readonly hooks: Record<string, string>;
}

type Yaml = { [key: string]: Yaml | string };

/** The subset of YAML azure.yaml uses (nested maps of plain scalars, comments): enough to read it without a parser package. */
export function parseAzureYaml(text: string): Yaml {
  const root: Yaml = {};
  const stack: { indent: number; map: Yaml }[] = [{ indent: -1, map: root }];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '');
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const m = /^( *)([^:\s][^:]*):(?:\s+(.*))?$/.exec(line);
    if (!m) throw new Error(`azure.yaml: a line this reader does not understand: ${raw}`);
    const indent = m[1]!.length;
    while (stack[stack.length - 1]!.indent >= indent) stack.pop();
    const parent = stack[stack.length - 1]!.map;
    if (m[3] === undefined || m[3] === '') {
      const child: Yaml = {};
      parent[m[2]!] = child;
      stack.push({ indent, map: child });
    } else parent[m[2]!] = m[3].replace(/^(['"])(.*)\1$/, '$2');
  }
  return root;
}

/** One service of azure.yaml, resolved against the project folder (ServiceConfig.Path()). */
export function readAzdService(projectDir: string, name: string): AzdService {
  const yaml = parseAzureYaml(readFileSync(join(projectDir, 'azure.yaml'), 'utf8'));
  const svc = (yaml['services'] as Yaml | undefined)?.[name];
  if (!svc || typeof svc === 'string') throw new Error(`azure.yaml has no service ${name}`);
  const str = (k: string) => (typeof svc[k] === 'string' ? svc[k] : undefined);
  const hooks: Record<string, string> = {};
  for (const [hook, spec] of Object.entries((svc['hooks'] as Yaml | undefined) ?? {})) {
    if (typeof spec === 'string') continue;
    const posix = spec['posix'];
    const run = typeof posix === 'object' ? posix['run'] : spec['run'];
    if (typeof run === 'string') hooks[hook] = run;
  }
  const remote = str('remoteBuild');
  return {
    path: join(projectDir, str('project') ?? '.'),
    language: str('language') ?? '',
    host: str('host') ?? '',
    dist: str('dist'),
    remoteBuild: remote === undefined ? undefined : remote === 'true',
    hooks,
  };
}

/** ServiceTargetKind.IgnoreFile (service_target.go): `.funcignore` for a function app. */
export function ignoreFileOf(svc: AzdService): string {
  return svc.host === 'function' ? '.funcignore' : svc.host === 'appservice' ? '.webappignore' : '';
}

/**
 * gitignore matching as azd's library (denormal/go-gitignore) applies it: the last matching pattern wins, `!`
 * re-includes, a trailing `/` matches directories only, a pattern with a `/` before its end is anchored to the file's
 * folder, one without matches a name at any depth; `*`, `?` and `**`.
 */
export function gitignore(text: string): (relativePath: string, isDir: boolean) => boolean {
  const rules = text
    .replace(/^\uFEFF/, '') // stripUTF8BOM (project_utils.go)
    .split(/\r?\n/)
    .map((l) => l.replace(/(?<!\\)\s+$/, ''))
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      let p = negate ? line.slice(1) : line;
      const dirOnly = p.endsWith('/');
      if (dirOnly) p = p.slice(0, -1);
      const anchored = p.includes('/');
      if (p.startsWith('/')) p = p.slice(1);
      let re = '';
      for (let i = 0; i < p.length; i++) {
        const c = p[i]!;
        if (c === '*' && p[i + 1] === '*') {
          const slash = p[i + 2] === '/';
          re += slash ? '(?:.*/)?' : '.*';
          i += slash ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else if (c === '\\' && i + 1 < p.length) re += p[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      }
      return { negate, dirOnly, anchored, re: new RegExp(`^${re}$`) };
    });
  return (relativePath, isDir) => {
    const path = relativePath.split(sep).join('/');
    let ignored = false;
    for (const r of rules) {
      if (r.dirOnly && !isDir) continue;
      const subject = r.anchored ? path : path.slice(path.lastIndexOf('/') + 1);
      if (r.re.test(subject)) ignored = !r.negate;
    }
    return ignored;
  };
}

/**
 * resolveFunctionAppRemoteBuild (service_target_functionapp.go), for JavaScript and TypeScript: read from the service
 * root's ignore file. Without the file: `remoteBuild` if set, else on. With it: unset means on exactly when it
 * excludes node_modules; `true` requires the exclusion and `false` forbids it (both are errors otherwise).
 */
export function resolveFunctionAppRemoteBuild(svc: AzdService): boolean {
  const file = join(svc.path, ignoreFileOf(svc));
  if (!existsSync(file)) return svc.remoteBuild ?? true;
  const excluded = gitignore(readFileSync(file, 'utf8'))('node_modules', true);
  if (svc.remoteBuild === undefined) return excluded;
  if (svc.remoteBuild && !excluded)
    throw new Error(`'remoteBuild: true' requires '${ignoreFileOf(svc)}' to exclude node_modules`);
  if (!svc.remoteBuild && excluded)
    throw new Error(`'remoteBuild: false' cannot be used when '${ignoreFileOf(svc)}' excludes node_modules`);
  return svc.remoteBuild;
}

/**
 * nodeProject.Package (framework_service_node.go): runs the `build` script (`npm run build --if-present`, npmCli.RunScript
 * in tools/node/node.go) and takes the folder `dist` names, failing as azd does when it is empty or missing.
 */
export function frameworkPackage(svc: AzdService, env: NodeJS.ProcessEnv): string {
  run('npm', ['run', 'build', '--if-present'], svc.path, env);
  const packagePath = svc.dist ? join(svc.path, svc.dist) : svc.path;
  if (!existsSync(packagePath) || readdirSync(packagePath).length === 0)
    throw new Error(`package source '${packagePath}' is empty or does not exist`);
  return packagePath;
}

/** A service hook as azd runs it for `shell: sh` (cmd/middleware/hooks.go: the service's folder is the working directory). */
export function runServiceHook(svc: AzdService, hook: string, env: NodeJS.ProcessEnv): void {
  const script = svc.hooks[hook];
  if (script) run('sh', ['-c', script], svc.path, env);
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}) in ${cwd}:\n${(r.stdout + r.stderr).slice(-4000)}`);
}

interface ZipEntry {
  readonly name: string;
  readonly mode: number;
  readonly modified: Date;
  readonly source: string;
}

/**
 * createDeployableZip (project_utils.go) with rzip.CreateFromDirectory (pkg/rzip/rzip.go): every file under the
 * package folder, symlinks followed, except `.azure` folders, the ignore file itself, `local.settings.json` for a
 * function app, and what the ignore file found in the package folder excludes; without such a file, for JavaScript
 * and TypeScript, every node_modules folder unless `remoteBuild` is explicitly false. Files only (no folder entries),
 * deflated. Writes the zip to `zipPath` and returns the entry names.
 */
export function createDeployableZip(svc: AzdService, root: string, zipPath: string): string[] {
  const ignoreFile = ignoreFileOf(svc);
  const ignorePath = ignoreFile ? join(root, ignoreFile) : '';
  const ignorer = ignorePath && existsSync(ignorePath) ? gitignore(readFileSync(ignorePath, 'utf8')) : undefined;
  const onZip = (src: string, isDir: boolean): boolean => {
    const name = basename(src);
    if (name === '.azure' && isDir) return false;
    if (name === ignoreFile && !isDir) return false;
    if (svc.host === 'function' && name === 'local.settings.json' && !isDir) return false;
    if (ignorer) return !ignorer(relative(root, src), isDir);
    if ((svc.language === 'js' || svc.language === 'ts') && name === 'node_modules' && isDir)
      return svc.remoteBuild === false;
    return true;
  };
  const entries: ZipEntry[] = [];
  const addDir = (destRoot: string, dir: string, depth: number): void => {
    if (depth > 40) return;
    for (const name of readdirSync(dir).sort()) {
      const src = join(dir, name);
      const info = lstatSync(src);
      const target = info.isSymbolicLink() ? statSync(src) : info;
      if (!onZip(src, target.isDirectory())) continue;
      const dest = destRoot ? `${destRoot}/${name}` : name;
      if (target.isDirectory())
        addDir(dest, info.isSymbolicLink() ? realpathSync(src) : src, depth + (info.isSymbolicLink() ? 1 : 0));
      else entries.push({ name: dest, mode: target.mode, modified: target.mtime, source: src });
    }
  };
  addDir('', root, 0);
  writeZip(zipPath, entries);
  return entries.map((e) => e.name);
}

function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: (Math.max(d.getFullYear() - 1980, 0) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/** A plain zip (APPNOTE 6.3: local headers, deflated data, central directory), as Go's archive/zip writes one for rzip. */
function writeZip(zipPath: string, entries: readonly ZipEntry[]): void {
  if (entries.length > 0xffff) throw new Error(`${entries.length} entries need Zip64, which this writer does not do`);
  const fd = openSync(zipPath, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  const put = (b: Buffer) => {
    writeSync(fd, b);
    offset += b.length;
  };
  try {
    for (const e of entries) {
      const data = readFileSync(e.source);
      const packed = deflateRawSync(data);
      const name = Buffer.from(e.name, 'utf8');
      const { time, date } = dosTime(e.modified);
      const crc = crc32(data);
      if (offset > 0xffffffff || packed.length > 0xffffffff)
        throw new Error('the package needs Zip64, which this writer does not do');
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(0x0800, 6); // names in UTF-8
      local.writeUInt16LE(8, 8); // deflate
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(packed.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(name.length, 26);
      const at = offset;
      put(Buffer.concat([local, name]));
      put(packed);
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode below counts
      c.writeUInt16LE(20, 6);
      c.writeUInt16LE(0x0800, 8);
      c.writeUInt16LE(8, 10);
      c.writeUInt16LE(time, 12);
      c.writeUInt16LE(date, 14);
      c.writeUInt32LE(crc, 16);
      c.writeUInt32LE(packed.length, 20);
      c.writeUInt32LE(data.length, 24);
      c.writeUInt16LE(name.length, 28);
      c.writeUInt32LE(((e.mode & 0o777) | 0o100000) * 0x10000, 38);
      c.writeUInt32LE(at, 42);
      central.push(Buffer.concat([c, name]));
    }
    const start = offset;
    const dir = Buffer.concat(central);
    put(dir);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(dir.length, 12);
    end.writeUInt32LE(start, 16);
    put(end);
  } finally {
    closeSync(fd);
  }
}

/** Every entry of a zip with its content, each checked against its CRC-32 and size. */
export function readZip(zipPath: string): { name: string; data: Buffer }[] {
  const zip = readFileSync(zipPath);
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error(`${zipPath}: no end of central directory`);
  const count = zip.readUInt16LE(end + 10);
  let p = zip.readUInt32LE(end + 16);
  const out: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory entry ${i}`);
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const packedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLength = zip.readUInt16LE(p + 28);
    const extra = zip.readUInt16LE(p + 30);
    const comment = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const packed = zip.subarray(dataAt, dataAt + packedSize);
    const data = method === 8 ? inflateRawSync(packed) : method === 0 ? Buffer.from(packed) : undefined;
    if (!data) throw new Error(`${name}: compression method ${method}`);
    if (data.length !== size || crc32(data) !== crc)
      throw new Error(`${name}: size or CRC-32 does not match its header`);
    out.push({ name, data });
    p += 46 + nameLength + extra + comment;
  }
  return out;
}

/** Unpacks a zip into an empty folder (as the platform unpacks a deployment package), refusing names that leave it. */
export function extractZip(zipPath: string, into: string): number {
  if (existsSync(into) && readdirSync(into).length > 0) throw new Error(`${into} is not empty`);
  const entries = readZip(zipPath);
  for (const e of entries) {
    const dest = join(into, e.name);
    if (relative(into, dest).startsWith('..')) throw new Error(`${e.name} leaves the folder`);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, e.data);
  }
  return entries.length;
}
