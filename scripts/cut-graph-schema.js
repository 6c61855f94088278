#!/usr/bin/env node
// Cuts Graph's v1.0 CSDL (microsoftgraph/msgraph-metadata, clean_v10_metadata/cleanMetadata.xml) down to the types
// the Graph simulator returns, for test/fixtures/graph-schema/v1.0-cut.xml: the whole metadata is 3.5 MB, the cut a
// few hundred lines that test/integration/graph-schema.test.ts holds the simulator's responses to.
// Usage: node scripts/cut-graph-schema.js <cleanMetadata.xml> > test/fixtures/graph-schema/v1.0-cut.xml
// Each root type is kept whole (its Property and NavigationProperty elements), except user, of which only the
// properties in USER_PROPERTIES are kept. The types a kept Property or BaseType names are added, and theirs, to the
// end; the types a NavigationProperty names are not (they would pull in most of Graph). Of the Actions, only those in
// ACTIONS are kept (the request bodies dialtone sends), with the types their parameters name; no Functions.
'use strict';
const { readFileSync } = require('node:fs');

const ROOTS = [
  'microsoft.graph.user',
  'microsoft.graph.subscribedSku',
  'microsoft.graph.teamsAdministration.teamsAdminRoot',
  'microsoft.graph.teamsAdministration.teamsUserConfiguration',
  'microsoft.graph.teamsAdministration.numberAssignment',
  'microsoft.graph.teamsAdministration.telephoneNumberLongRunningOperation',
];
// The bound actions dialtone calls, [namespace.name, binding parameter type]: the test holds their request bodies to
// the parameters (user-assignlicense.md; teamsadministration-numberassignment-assignnumber.md, -unassignnumber.md,
// -updatenumber.md).
const ACTIONS = [
  ['microsoft.graph.assignLicense', 'microsoft.graph.user'],
  [
    'microsoft.graph.teamsAdministration.assignNumber',
    'Collection(microsoft.graph.teamsAdministration.numberAssignment)',
  ],
  [
    'microsoft.graph.teamsAdministration.unassignNumber',
    'Collection(microsoft.graph.teamsAdministration.numberAssignment)',
  ],
  [
    'microsoft.graph.teamsAdministration.updateNumber',
    'Collection(microsoft.graph.teamsAdministration.numberAssignment)',
  ],
];
// What dialtone $selects (shared/adapters/graph/licensing.ts) and Graph's default set without $select (user resource, v1.0).
const USER_PROPERTIES = new Set([
  'id',
  'userPrincipalName',
  'userType',
  'usageLocation',
  'assignedLicenses',
  'assignedPlans',
  'licenseAssignmentStates',
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
]);

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/cut-graph-schema.js <cleanMetadata.xml>');
  process.exit(2);
}
const xml = readFileSync(file, 'utf8');

/** Each Schema's namespace, alias and text. */
const schemas = [...xml.matchAll(/<Schema Namespace="([^"]+)"(?: Alias="([^"]+)")?[^>]*>([\s\S]*?)<\/Schema>/g)].map(
  (m) => ({ namespace: m[1], alias: m[2], text: m[3] }),
);
const byAlias = new Map(schemas.filter((s) => s.alias).map((s) => [s.alias, s.namespace]));

/** A qualified name with its alias replaced by the namespace. */
function fullName(name) {
  const dot = name.lastIndexOf('.');
  const ns = name.slice(0, dot);
  return `${byAlias.get(ns) ?? ns}.${name.slice(dot + 1)}`;
}

/** The element declaring a type, as written, or undefined. */
function element(full) {
  const dot = full.lastIndexOf('.');
  const schema = schemas.find((s) => s.namespace === full.slice(0, dot));
  if (!schema) return undefined;
  const re = new RegExp(
    `^[ \\t]*<(EntityType|ComplexType|EnumType) Name="${full.slice(dot + 1)}"[^>]*?(?:/>|>[\\s\\S]*?</\\1>)`,
    'm',
  );
  const m = re.exec(schema.text);
  return m ? m[0] : undefined;
}

const kept = new Map(); // full name (an action's with its binding type) -> element text
const queue = [...ROOTS];

/** Keeps one type, and queues the types its base and properties name. */
function keep(name) {
  if (kept.has(name) || name.startsWith('Edm.')) return;
  let text = element(name);
  if (text === undefined) {
    console.error(`${name} is not in ${file}`);
    process.exit(1);
  }
  if (name === 'microsoft.graph.user')
    // A Property may carry Annotation children, so an element runs to its own close, not to the line's end.
    text = text.replace(
      /\n[ \t]*<(NavigationProperty|Property) Name="([^"]+)"[^>]*?(?:\/>|>[\s\S]*?<\/\1>)/g,
      (whole, kind, prop) => (kind === 'Property' && USER_PROPERTIES.has(prop) ? whole : ''),
    );
  kept.set(name, text);
  const base = /^[ \t]*<\w+ Name="[^"]+"[^>]*\bBaseType="([^"]+)"/.exec(text);
  if (base) queue.push(fullName(base[1]));
  for (const p of text.matchAll(/<Property Name="[^"]+" Type="(?:Collection\()?([^")]+)\)?"/g))
    if (!p[1].startsWith('Edm.')) queue.push(fullName(p[1]));
}
while (queue.length > 0) keep(queue.shift());

/** A type as written in a Type attribute, with the alias of its namespace replaced (inside Collection() too). */
function fullType(type) {
  const item = /^Collection\((.+)\)$/.exec(type);
  return item ? `Collection(${fullName(item[1])})` : fullName(type);
}

for (const [name, binding] of ACTIONS) {
  const dot = name.lastIndexOf('.');
  const schema = schemas.find((s) => s.namespace === name.slice(0, dot));
  const text = [
    ...(schema?.text ?? '').matchAll(
      new RegExp(`^[ \\t]*<Action Name="${name.slice(dot + 1)}" IsBound="true">[\\s\\S]*?</Action>`, 'gm'),
    ),
  ]
    .map((m) => m[0])
    .find((a) => {
      const b = /<Parameter Name="bindingParameter" Type="([^"]+)"/.exec(a);
      return b && fullType(b[1]) === binding;
    });
  if (text === undefined) {
    console.error(`${name} bound to ${binding} is not in ${file}`);
    process.exit(1);
  }
  kept.set(`${name}(${binding})`, text);
  const types = [...text.matchAll(/<Parameter Name="(?!bindingParameter")[^"]+" Type="(?:Collection\()?([^")]+)\)?"/g)];
  for (const p of types) if (!p[1].startsWith('Edm.')) queue.push(fullName(p[1]));
}
while (queue.length > 0) keep(queue.shift());

const out = [
  '<?xml version="1.0" encoding="utf-8"?>',
  '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
  '  <edmx:DataServices>',
];
for (const s of schemas) {
  const namespaceOf = (n) => n.replace(/\(.*\)$/, '').slice(0, n.replace(/\(.*\)$/, '').lastIndexOf('.'));
  const mine = [...kept.entries()].filter(([n]) => namespaceOf(n) === s.namespace);
  if (mine.length === 0) continue;
  // In the order of the source, so that a new cut's diff shows only what Graph changed.
  const position = (text) => {
    const whole = s.text.indexOf(text);
    return whole >= 0 ? whole : s.text.indexOf(text.split('\n')[0]);
  };
  mine.sort((a, b) => position(a[1]) - position(b[1]));
  out.push(
    `    <Schema Namespace="${s.namespace}"${s.alias ? ` Alias="${s.alias}"` : ''} xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
  );
  for (const [, text] of mine) out.push(text.replace(/^\s*/, '      '));
  out.push('    </Schema>');
}
out.push('  </edmx:DataServices>', '</edmx:Edmx>', '');
process.stdout.write(out.join('\n'));
