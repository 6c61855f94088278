// Reads the cut of Graph's v1.0 CSDL kept in test/fixtures/graph-schema and checks a JSON response body against it,
// so that the simulator's responses are held to Graph's own schema rather than to what the simulator's author read
// in the docs. OData JSON: "OData JSON Format Version 4.01" (docs.oasis-open.org/odata/odata-json-format/v4.01);
// CSDL: "OData Common Schema Definition Language (CSDL) XML Representation Version 4.01".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface PropertyDecl {
  readonly type: string; // a full name or Edm.*; for a collection, the item type
  readonly collection: boolean;
  readonly nullable: boolean;
}
interface TypeDecl {
  /** An Action stands for its request body: its parameters (the binding one left out) are the body's properties. */
  readonly kind: 'EntityType' | 'ComplexType' | 'EnumType' | 'Action';
  readonly baseType: string | undefined;
  readonly properties: Map<string, PropertyDecl>;
  readonly navigation: Set<string>;
  readonly members: Set<string>;
  readonly flags: boolean;
}
export type GraphSchema = ReadonlyMap<string, TypeDecl>;

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];

/** Parses a CSDL document (the cut is written by scripts/cut-graph-schema.js: one element per type, as Graph writes it). */
export function parseCsdl(xml: string): GraphSchema {
  const types = new Map<string, TypeDecl>();
  for (const schema of xml.matchAll(/<Schema ([^>]*)>([\s\S]*?)<\/Schema>/g)) {
    const namespace = attr(schema[1]!, 'Namespace')!;
    const aliases = new Map<string, string>();
    for (const s of xml.matchAll(/<Schema ([^>]*)>/g)) {
      const alias = attr(s[1]!, 'Alias');
      if (alias) aliases.set(alias, attr(s[1]!, 'Namespace')!);
    }
    const full = (name: string): string => {
      if (name.startsWith('Edm.')) return name;
      const dot = name.lastIndexOf('.');
      const ns = name.slice(0, dot);
      return `${aliases.get(ns) ?? ns}.${name.slice(dot + 1)}`;
    };
    for (const el of schema[2]!.matchAll(/<(EntityType|ComplexType|EnumType) ([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/g)) {
      const tag = el[2]!;
      const body = el[3] ?? '';
      const base = attr(tag, 'BaseType');
      const properties = new Map<string, PropertyDecl>();
      for (const p of body.matchAll(/<Property ([^>]*?)\/?>/g)) {
        const type = attr(p[1]!, 'Type')!;
        const item = /^Collection\((.+)\)$/.exec(type);
        properties.set(attr(p[1]!, 'Name')!, {
          type: full(item ? item[1]! : type),
          collection: item !== null,
          nullable: attr(p[1]!, 'Nullable') !== 'false',
        });
      }
      types.set(`${namespace}.${attr(tag, 'Name')!}`, {
        kind: el[1] as TypeDecl['kind'],
        baseType: base === undefined ? undefined : full(base),
        properties,
        navigation: new Set([...body.matchAll(/<NavigationProperty ([^>]*?)\/?>/g)].map((n) => attr(n[1]!, 'Name')!)),
        members: new Set([...body.matchAll(/<Member ([^>]*?)\/?>/g)].map((m) => attr(m[1]!, 'Name')!)),
        flags: attr(tag, 'IsFlags') === 'true',
      });
    }
    // Bound actions, keyed `namespace.name(binding type)` as actionKey writes it.
    for (const el of schema[2]!.matchAll(/<Action ([^>]*?)>([\s\S]*?)<\/Action>/g)) {
      const properties = new Map<string, PropertyDecl>();
      let binding = '';
      for (const p of el[2]!.matchAll(/<Parameter ([^>]*?)\/?>/g)) {
        const type = attr(p[1]!, 'Type')!;
        const item = /^Collection\((.+)\)$/.exec(type);
        const decl = {
          type: full(item ? item[1]! : type),
          collection: item !== null,
          nullable: attr(p[1]!, 'Nullable') !== 'false',
        };
        if (attr(p[1]!, 'Name') === 'bindingParameter')
          binding = decl.collection ? `Collection(${decl.type})` : decl.type;
        else properties.set(attr(p[1]!, 'Name')!, decl);
      }
      types.set(actionKey(`${namespace}.${attr(el[1]!, 'Name')!}`, binding), {
        kind: 'Action',
        baseType: undefined,
        properties,
        navigation: new Set(),
        members: new Set(),
        flags: false,
      });
    }
  }
  return types;
}

/** How parseCsdl keys a bound action: its full name and the full type of its binding parameter. */
export function actionKey(action: string, binding: string): string {
  return `${action}(${binding})`;
}

/**
 * Every way a request body departs from a bound action's parameters: a name that is not a parameter, a value of the
 * wrong type, and a Nullable="false" parameter missing or null (OData JSON 4.01, "Action Invocation": a parameter not
 * in the body is taken as null).
 */
export function requestProblems(schema: GraphSchema, key: string, body: unknown): string[] {
  const action = schema.get(key);
  if (action?.kind !== 'Action') return [`${key}: not an action in the schema`];
  const missing =
    typeof body === 'object' && body !== null
      ? [...action.properties]
          .filter(([name, p]) => !p.nullable && !(name in body))
          .map(([name]) => `${key}.${name}: missing, but the parameter is Nullable="false"`)
      : [];
  return [...schemaProblems(schema, key, body), ...missing];
}

/** The cut of Graph's v1.0 CSDL kept in the repository (its README says where it came from). */
export function graphSchema(): GraphSchema {
  return parseCsdl(readFileSync(join(__dirname, '..', 'fixtures', 'graph-schema', 'v1.0-cut.xml'), 'utf8'));
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// OData JSON 4.01 §7.1: Edm.DateTimeOffset as in RFC 3339 (xsd:dateTimeStamp), an offset or Z required.
const DATE_TIME_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,12})?)?(Z|[+-]\d{2}:\d{2})$/;

function primitiveProblem(type: string, v: unknown): string | undefined {
  switch (type) {
    case 'Edm.String':
      return typeof v === 'string' ? undefined : 'is not a string';
    case 'Edm.Guid':
      return typeof v === 'string' && GUID.test(v) ? undefined : 'is not a GUID string';
    case 'Edm.Boolean':
      return typeof v === 'boolean' ? undefined : 'is not a boolean';
    case 'Edm.Int32':
      return Number.isInteger(v) && Math.abs(v as number) <= 2 ** 31 ? undefined : 'is not an Int32';
    case 'Edm.Int64':
      return Number.isSafeInteger(v) ? undefined : 'is not an Int64';
    case 'Edm.Double':
      return typeof v === 'number' ? undefined : 'is not a number';
    case 'Edm.DateTimeOffset':
      return typeof v === 'string' && DATE_TIME_OFFSET.test(v) && Number.isFinite(Date.parse(v))
        ? undefined
        : 'is not an ISO 8601 date-time with an offset';
    default:
      return `has type ${type}, which the checker does not know`;
  }
}

/** A property's declaration, from the type or its base types. */
function lookup(schema: GraphSchema, typeName: string, name: string): PropertyDecl | 'navigation' | undefined {
  for (let t = schema.get(typeName); t; t = t.baseType ? schema.get(t.baseType) : undefined) {
    const p = t.properties.get(name);
    if (p) return p;
    if (t.navigation.has(name)) return 'navigation';
  }
  return undefined;
}

/**
 * Every way `value` departs from the type `typeName` of the schema, each as "path: what", empty when none: a
 * property the type (and its bases) does not declare, a primitive of the wrong type or format, an enum value that is
 * not a member (Graph writes enums, flags too, as member names: a flags value as names joined by commas), a
 * collection that is not an array, a null where Nullable="false"; complex values checked in turn. Instance
 * annotations (`@odata.context`, `x@odata.type`…) are not properties and are skipped. An open type (user) could carry
 * dynamic properties; Graph's are directory extensions (`extension_<appId>_<name>`), which the simulator never
 * returns, so any undeclared name is reported there too.
 */
export function schemaProblems(schema: GraphSchema, typeName: string, value: unknown, path = typeName): string[] {
  const type = schema.get(typeName);
  if (!type) return [`${path}: type ${typeName} is not in the schema`];
  if (type.kind === 'EnumType') {
    if (typeof value !== 'string') return [`${path}: ${JSON.stringify(value)} is not an enum member name`];
    const names = type.flags ? value.split(',').map((s) => s.trim()) : [value];
    const bad = names.filter((n) => !type.members.has(n));
    return bad.length === 0 ? [] : [`${path}: '${bad.join("', '")}' is not a member of ${typeName}`];
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${path}: ${JSON.stringify(value)} is not an object of ${typeName}`];
  const problems: string[] = [];
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (name.includes('@')) continue;
    const at = `${path}.${name}`;
    const decl = lookup(schema, typeName, name);
    if (decl === undefined) {
      problems.push(`${at}: not a property of ${typeName} or its base types`);
      continue;
    }
    if (decl === 'navigation') continue; // only with $expand, which nothing here asks for
    if (decl.collection) {
      // CSDL 4.01 §7.2.1: for a collection Nullable speaks of its items; the collection itself is never null.
      if (!Array.isArray(v)) {
        problems.push(`${at}: ${JSON.stringify(v)} is not an array`);
        continue;
      }
      v.forEach((item, i) => problems.push(...valueProblems(schema, decl, item, `${at}[${i}]`)));
    } else problems.push(...valueProblems(schema, decl, v, at));
  }
  return problems;
}

function valueProblems(schema: GraphSchema, decl: PropertyDecl, v: unknown, at: string): string[] {
  if (v === null) return decl.nullable ? [] : [`${at}: null, but the property is Nullable="false"`];
  if (decl.type.startsWith('Edm.')) {
    const p = primitiveProblem(decl.type, v);
    return p === undefined ? [] : [`${at}: ${JSON.stringify(v)} ${p}`];
  }
  return schemaProblems(schema, decl.type, v, at);
}
