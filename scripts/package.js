#!/usr/bin/env node
// Stages the folder azd deploys (.azd-package/, the folder azure.yaml names as `dist`). azd's package step for a Node
// service runs only the `build` script and then zips the `dist` folder (docs/deploying.md says how azd packages and
// which source files say so); it never runs a `package` script, so azure.yaml runs this one as the service's
// `prepackage` hook (`npm run package`: the build, then this). The folder holds only what the app needs at run
// time: host.json, a package.json without devDependencies, optionalDependencies or scripts (its `overrides` kept), the
// compiled app, the whole of dist/ (scripts/build.js compiles the app alone there; the local runtime, simulator and
// benchmarks go to dist-dev/), its dist/main.js the bundle scripts/bundle.js makes for a shorter cold start, and
// node_modules with only the production packages
// of package-lock.json, each checked to be the version the lockfile records (overrides included), so the deployed
// app runs on exactly the tree `npm ci` installed. No devDependencies, and not the optional Azure Functions Core Tools
// package, whose installer downloads the whole Functions host. azure.yaml sets `remoteBuild: false`, so azd keeps
// node_modules in the zip and Azure runs no build of its own.
// `node scripts/package.js --list` prints what would be packaged without copying anything.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { bundleApp } = require('./bundle');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, '.azd-package');

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

function lockedPackages(root) {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  if (!lock.packages) throw new Error('package-lock.json has no "packages" map (lockfileVersion 2 or later is needed)');
  return Object.entries(lock.packages).filter(
    ([key, meta]) => key.startsWith('node_modules/') && !meta.dev && !meta.optional && !meta.devOptional && !meta.link,
  );
}

/** Folders under node_modules of the packages npm installs with `--omit=dev --omit=optional`, per the lockfile. */
function productionPackages(root = ROOT) {
  return lockedPackages(root)
    .map(([key]) => key)
    .sort();
}

/** Each production package installed at the version package-lock.json records (where `overrides` already apply). */
function checkInstalledVersions(root = ROOT) {
  const wrong = [];
  for (const [key, meta] of lockedPackages(root)) {
    const manifest = path.join(root, key, 'package.json');
    if (!fs.existsSync(manifest))
      throw new Error(`${key} is in package-lock.json but not installed: run \`npm ci\` first`);
    const installed = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
    if (installed !== meta.version) wrong.push(`${key} ${installed} (package-lock.json: ${meta.version})`);
  }
  if (wrong.length > 0)
    throw new Error(`node_modules does not match package-lock.json: ${wrong.join(', ')}; run \`npm ci\` first`);
}

/** The package.json the deployed app gets: what the Functions host and npm read at run time, nothing else. */
function runtimeManifest(root = ROOT) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const { name, version, private: isPrivate, description, license, main, engines, dependencies, overrides } = pkg;
  return {
    name,
    version,
    private: isPrivate,
    description,
    license,
    main,
    engines,
    dependencies,
    ...(overrides ? { overrides } : {}),
  };
}

/** Every file of the package, as paths relative to the package root (package.json is written, not copied). */
function planPackage(root = ROOT) {
  if (!fs.existsSync(path.join(root, 'dist', 'main.js')))
    throw new Error('dist/main.js is missing: run `npm run build` first');
  checkInstalledVersions(root);
  const files = ['host.json', 'package.json'];
  files.push(...walk(path.join(root, 'dist'), 'dist', (r, e) => e.isFile() && r.endsWith('.tsbuildinfo')));
  for (const pkgDir of productionPackages(root)) {
    const abs = path.join(root, pkgDir);
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
    // The entry the Functions worker loads is the bundle of the compiled app (scripts/bundle.js): a shorter cold start.
    else if (f === 'dist/main.js') bundleApp(dest, path.join(root, f));
    else fs.copyFileSync(path.join(root, f), dest);
  }
  return files;
}

module.exports = { planPackage, productionPackages, checkInstalledVersions, runtimeManifest, writePackage, OUT };

if (require.main === module) {
  try {
    if (process.argv.includes('--list')) {
      for (const f of planPackage()) console.log(f);
    } else {
      const files = writePackage();
      console.log(
        `Deployment package staged in ${path.relative(ROOT, OUT)}/: ${files.length} files (${productionPackages().length} production packages).`,
      );
    }
  } catch (e) {
    console.error(`package FAILED: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
