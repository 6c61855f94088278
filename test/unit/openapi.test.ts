// docs/openapi.json is the HTTP API's reference, and this holds it to the app: every route main.ts registers (the HR
// API, health and the console's routes) is in the file with its method, and nothing else is; every example is valid
// against its schema (JSON Schema 2020-12, which OpenAPI 3.1 uses); the JSON batch's fields are the ones the app's
// parser knows, and its examples are batches the parser takes; a report and a callback the domain builds fit their
// schemas.
import Ajv2020 from 'ajv/dist/2020';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callbackPayload } from '../../shared/domain/callback';
import { JSON_BATCH_FIELDS, JSON_USER_FIELDS, parseInput } from '../../shared/domain/input';
import type { UserOutcome } from '../../shared/domain/outcomes';
import { buildReport } from '../../shared/domain/report';

type Json = any;
const doc: Json = JSON.parse(readFileSync(join(__dirname, '../../docs/openapi.json'), 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The HTTP routes main.ts registers, as "METHOD /route" with path parameters written {x}, without the catch-all. */
function registeredRoutes(): string[] {
  const seen: string[] = [];
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const functions = require('@azure/functions') as typeof import('@azure/functions');
    const df = require('durable-functions') as typeof import('durable-functions');
    /* eslint-enable @typescript-eslint/no-require-imports */
    jest.spyOn(functions.app, 'http').mockImplementation((_name: string, o: Json) => {
      for (const m of o.methods ?? ['GET', 'POST']) seen.push(`${String(m)} /${String(o.route)}`);
    });
    jest.spyOn(functions.app, 'eventGrid').mockImplementation(() => undefined);
    jest.spyOn(df.app, 'orchestration').mockImplementation(() => ({}) as never);
    jest.spyOn(df.app, 'activity').mockImplementation(() => ({}) as never);
    const saved = process.env['AzureWebJobsStorage'];
    process.env['AzureWebJobsStorage'] = 'UseDevelopmentStorage=true';
    try {
      require('../../main'); // eslint-disable-line @typescript-eslint/no-require-imports
    } finally {
      if (saved === undefined) delete process.env['AzureWebJobsStorage'];
      else process.env['AzureWebJobsStorage'] = saved;
      jest.restoreAllMocks();
    }
  });
  // The catch-all answers 404 or 405 for whatever no route takes: it is no route of the API.
  return seen.filter((r) => !r.endsWith(' /{*path}')).sort();
}

function documentedRoutes(): string[] {
  return Object.entries(doc.paths as Record<string, Json>)
    .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

/** A validator for schemas of the document: its components' schemas as $defs of one schema, refs rewritten to them. */
function validatorFor(): (schema: Json, value: unknown) => string[] {
  const ID = 'urn:dialtone:openapi';
  const rewrite = (v: Json): Json =>
    Array.isArray(v)
      ? v.map(rewrite)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v).map(([k, x]) => [
              k,
              k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', `${ID}#/$defs/`) : rewrite(x),
            ]),
          )
        : v;
  // Formats are annotations in JSON Schema 2020-12 unless a vocabulary asserts them; the file uses none.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: ID, $defs: rewrite(doc.components.schemas) });
  return (schema, value) => {
    const validate = ajv.compile(rewrite(schema));
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  };
}

/** An example's value, its own or the shared one its $ref names (#/components/examples/…). */
function exampleValue(ex: Json): unknown {
  if (typeof ex.$ref !== 'string') return ex.value;
  const shared = doc.components.examples?.[String(ex.$ref).replace('#/components/examples/', '')];
  if (!shared) throw new Error(`no example ${String(ex.$ref)}`);
  return shared.value;
}

/** Every example in the document, with the schema it must fit and where it is. */
function examples(): { where: string; schema: Json; value: unknown }[] {
  const found: { where: string; schema: Json; value: unknown }[] = [];
  const media = (where: string, content: Json) => {
    for (const [type, m] of Object.entries((content ?? {}) as Record<string, Json>)) {
      for (const [name, ex] of Object.entries((m.examples ?? {}) as Record<string, Json>))
        found.push({ where: `${where} ${type} ${name}`, schema: m.schema, value: exampleValue(ex) });
    }
  };
  const operations = [
    ...Object.entries(doc.paths as Record<string, Json>),
    ...Object.entries((doc.webhooks ?? {}) as Record<string, Json>),
  ];
  for (const [path, item] of operations) {
    for (const m of METHODS.filter((x) => item[x])) {
      const op = item[m];
      media(`${m.toUpperCase()} ${path} request`, op.requestBody?.content);
      for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Json>))
        media(`${m.toUpperCase()} ${path} ${status}`, r.content);
    }
  }
  return found;
}

describe('docs/openapi.json', () => {
  const check = validatorFor();

  it('is OpenAPI 3.1 with operation ids of its own', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const ids = documentedRoutes().map((r) => {
      const [method, path] = r.split(' ');
      return doc.paths[path!][method!.toLowerCase()].operationId as string;
    });
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has every route the app registers, and no other', () => {
    const registered = registeredRoutes();
    expect(registered).toEqual(
      expect.arrayContaining(['POST /batches', 'GET /batches/{batchId}', 'GET /health', 'GET /console/api/me']),
    );
    expect(documentedRoutes()).toEqual(registered);
  });

  it('gives a JSON example for every JSON request body and every 2xx JSON answer', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const m of METHODS.filter((x) => item[x])) {
        const op = item[m];
        const json = op.requestBody?.content?.['application/json'];
        if (json && !json.examples) missing.push(`${m} ${path} request`);
        for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
          const answer = r.content?.['application/json'];
          if (status.startsWith('2') && answer && !answer.examples) missing.push(`${m} ${path} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('finds an example that does not fit its schema', () => {
    const report = { $ref: '#/components/schemas/Report' };
    expect(check(report, { batchId: 'b1', counts: null, users: [] })).toEqual([]);
    expect(check(report, { batchId: 'b 1', counts: null, users: [{ row: 0 }] }).length).toBeGreaterThan(1);
    expect(
      check(
        { $ref: '#/components/schemas/BatchRequest' },
        { users: [{ userPrincipalName: 'a@b.c', startdate: '2026-12-07' }] },
      ),
    ).toEqual([expect.stringContaining('must NOT have additional properties')]);
  });

  it('has examples that fit their schemas', () => {
    const all = examples();
    expect(all.length).toBeGreaterThan(40);
    const wrong = all.filter((e) => e.schema).flatMap((e) => check(e.schema, e.value).map((p) => `${e.where}: ${p}`));
    expect(wrong).toEqual([]);
  });

  it("names exactly the JSON batch's fields the app's parser knows, and its examples are batches the parser takes", () => {
    const batch = doc.components.schemas.BatchRequest;
    expect(Object.keys(batch.properties).sort()).toEqual([...JSON_BATCH_FIELDS].sort());
    expect(Object.keys(doc.components.schemas.UserRow.properties).sort()).toEqual([...JSON_USER_FIELDS.keys()].sort());
    const bodies = Object.values(
      doc.paths['/batches'].post.requestBody.content['application/json'].examples as Record<string, Json>,
    );
    expect(bodies.length).toBeGreaterThan(0);
    for (const { value } of bodies) {
      const parsed = parseInput(Buffer.from(JSON.stringify(value)), 'example.json', { json: true });
      expect(parsed).toMatchObject({ ok: true });
      if (parsed.ok) expect(parsed.input.rows).toHaveLength(value.users.length);
    }
  });

  it('describes the report and the callback the domain builds', () => {
    const user = (row: number, outcome: UserOutcome['outcome'], reason: UserOutcome['reason']): UserOutcome => ({
      row,
      line: row + 1,
      displayName: `User ${row}`,
      userPrincipalName: `u${row}@contoso.com`,
      profile: 'phone-domestic',
      skus: ['MCOEV'],
      addedSkus: ['MCOEV'],
      outcome,
      reason,
      message: `row ${row}`,
      advisories: ['number_kept'],
      scheduledFor: null,
      assignedAt: '2026-11-25T16:49:22.000Z',
      provisionedAt: null,
      phoneNumber: '+14255550100',
    });
    const report = buildReport({
      batchId: 'b1',
      source: 'upload',
      startedAt: '2026-11-25T16:49:20.000Z',
      finishedAt: '2026-11-25T17:49:20.000Z',
      deadline: '2026-11-26T16:49:20.000Z',
      users: [user(1, 'provisioned', ''), user(2, 'failed', 'user_not_found'), user(3, 'flagged', 'no_calling_plan')],
    });
    expect(check({ $ref: '#/components/schemas/Report' }, report)).toEqual([]);
    const payload = callbackPayload(report, {
      integration: 'workday',
      runKey: 'workday/b1/20261125T164920Z-0a1b2c3d',
      url: 'https://hr.workday.example/cb',
      statusUrl: 'https://app/api/batches/b1',
    });
    expect(check({ $ref: '#/components/schemas/CallbackPayload' }, JSON.parse(JSON.stringify(payload)))).toEqual([]);
  });
});
