#!/usr/bin/env node
// `npm run package` (azd runs it after `npm run build`, then zips the folder azure.yaml names as `dist`): stages the
// deployment package with only what the app needs at run time: host.json, a package.json without devDependencies,
// optionalDependencies or scripts, the compiled app without dist/local (the local runtime and simulator) and
// dist/bench, and node_modules holding only the production packages of package-lock.json (no devDependencies, and
// not the optional Azure Functions Core Tools package, whose installer downloads the whole Functions host).
// `node scripts/package.js --list` prints what would be packaged without copying anything.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, '.azd-package');
/** Compiled folders that exist only for local runs, benchmarks and tests. */
const DIST_EXCLUDED = ['dist/local/', 'dist/bench/', 'dist/test/'];

function walk(dir, rel, skip = () => false) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (skip(r, e)) continue;
    if (e.isDirectory()) out.push(...walk(path.join(dir, e.name), r, skip));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** Folders under node_modules of the packages npm installs with `--omit=dev --omit=optional`, per the lockfile. */
function productionPackages(root = ROOT) {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  if (!lock.packages) throw new Error('package-lock.json has no "packages" map (lockfileVersion 2 or later is needed)');
  return Object.entries(lock.packages)
    .filter(([key, meta]) => key.startsWith('node_modules/') && !meta.dev && !meta.optional && !meta.devOptional && !meta.link)
    .map(([key]) => key)
    .sort();
}

/** The package.json the deployed app gets: what the Functions host and npm read at run time, nothing else. */
function runtimeManifest(root = ROOT) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const { name, version, private: isPrivate, description, license, main, engines, dependencies } = pkg;
  return { name, version, private: isPrivate, description, license, main, engines, dependencies };
}

/** Every file of the package, as paths relative to the package root (package.json is written, not copied). */
function planPackage(root = ROOT) {
  if (!fs.existsSync(path.join(root, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  const files = ['host.json', 'package.json'];
  files.push(...walk(path.join(root, 'dist'), 'dist', (r, e) => DIST_EXCLUDED.some((x) => `${r}/`.startsWith(x)) || (e.isFile() && r.endsWith('.tsbuildinfo'))));
  for (const pkgDir of productionPackages(root)) {
    const abs = path.join(root, pkgDir);
    if (!fs.existsSync(abs)) throw new Error(`${pkgDir} is in package-lock.json but not installed: run \`npm ci\` first`);
    // Nested node_modules are packages of their own in the lockfile, listed (or left out) on their own.
    files.push(...walk(abs, pkgDir, (r, e) => e.isDirectory() && (e.name === 'node_modules' || e.name === '.bin')));
  }
  return files;
}

function writePackage(out = OUT, root = ROOT) {
  const files = planPackage(root);
  fs.rmSync(out, { recursive: true, force: true });
  for (const f of files) {
    const dest = path.join(out, f);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (f === 'package.json') fs.writeFileSync(dest, `${JSON.stringify(runtimeManifest(root), null, 2)}\n`);
    else fs.copyFileSync(path.join(root, f), dest);
  }
  return files;
}

module.exports = { planPackage, productionPackages, runtimeManifest, writePackage, OUT };

if (require.main === module) {
  try {
    if (process.argv.includes('--list')) {
      for (const f of planPackage()) console.log(f);
    } else {
      const files = writePackage();
      console.log(`Deployment package staged in ${path.relative(ROOT, OUT)}/: ${files.length} files (${productionPackages().length} production packages).`);
    }
  } catch (e) {
    console.error(`package FAILED: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
