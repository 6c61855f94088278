#!/usr/bin/env node
// Bundles the compiled app (dist/main.js and the modules registering its functions needs, the Functions and Durable
// libraries included) into one file, which the deployment package (scripts/package.js) ships as its dist/main.js:
// reading and compiling one file instead of some thousand modules is most of what keeps a cold start short
// (bench/README.md, "Cold start"). The SDKs the handlers load on their first invocation (wiring.ts) stay out of it and
// are required from the package's node_modules then, so they are neither read nor compiled at start. Names are kept
// (identifiers are not minified), so a stack trace in Application Insights still names the function it came from.
// `@azure/functions-core` is left out too: it is no npm package but a module the Azure Functions Node.js worker
// provides at run time, which a bundle must leave external (the library's maintainers in
// https://github.com/Azure/azure-functions-nodejs-library/issues/201).
// `node scripts/bundle.js OUT_FILE` writes the bundle of dist/main.js to OUT_FILE.
'use strict';
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
/** Packages the app requires only once a handler runs (wiring.ts and the adapters it builds), from node_modules. */
const LOADED_ON_FIRST_USE = [
  '@azure/storage-blob',
  '@azure/storage-queue',
  '@azure/identity',
  '@azure/service-bus',
  '@microsoft/microsoft-graph-client',
  'undici',
];

/** Writes the bundle of `entry` (the compiled dist/main.js) to `outfile`; throws with esbuild's errors on failure. */
function bundleApp(outfile, entry = path.join(ROOT, 'dist', 'main.js')) {
  const esbuild = require('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minifyWhitespace: true,
    minifySyntax: true,
    external: ['@azure/functions-core', ...LOADED_ON_FIRST_USE, ...LOADED_ON_FIRST_USE.map((p) => `${p}/*`)],
    legalComments: 'eof',
    logLevel: 'silent',
  });
  if (result.errors.length > 0)
    throw new Error(`bundling ${entry} failed: ${result.errors.map((e) => e.text).join('; ')}`);
  return outfile;
}

module.exports = { bundleApp, LOADED_ON_FIRST_USE };

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node scripts/bundle.js OUT_FILE');
    process.exit(2);
  }
  bundleApp(path.resolve(out));
}
