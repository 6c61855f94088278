// Callbacks per integration on the local stack: each integration signs with its own secret and names its own hosts,
// and the signed body names the integration, batch, run and URL. Integration A posting a batch with B's batch id and
// B's receiver URL (the forgery a shared secret allowed) reaches B's receiver, which refuses it with docs/http-api.md's
// verifier, while B's own callback passes it. The verifier is the function in docs/http-api.md, read from the file.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { startStack, type Stack } from '../../local/stack';
import { postBatch, waitForReport } from '../support/e2e';
import { tenantSkus } from '../support/tenant';

type Verifier = (
  headers: IncomingHttpHeaders,
  rawBody: string,
  me: { secret: string; integration: string; url: string },
) => { batchId: string; run: string; integration: string } | null;

/** docs/http-api.md's callback verifier, as an HR integrator copies it. */
export function readmeVerifier(): Verifier {
  const doc = readFileSync(join(__dirname, '../../docs/http-api.md'), 'utf8');
  const block = [...doc.matchAll(/```js\n([\s\S]*?)\n\s*```/g)].find((m) => m[1]!.includes('function fromDialtone'));
  if (!block) throw new Error('docs/http-api.md has no js block with fromDialtone');
  const code = block[1]!.replace(/^ {2}/gm, '');
  // Run as a receiver would run it: a script of its own with Node's require, not part of this test's code.
  return new Script(`${code}\nfromDialtone;`).runInNewContext({ require, Buffer, Date, JSON, Math }) as Verifier;
}

const KEY_A = randomBytes(24).toString('base64url');
const KEY_B = randomBytes(24).toString('base64url');
const SECRET_A = randomBytes(32).toString('base64url');
const SECRET_B = randomBytes(32).toString('base64url');
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

let stack: Stack;
let receiver: Server;
let urlB = '';
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  urlB = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hr-b/callback`;
  stack = await startStack({
    tenant: {
      skus: tenantSkus({ ENTERPRISEPACK: 10, MCOEV: 10 }),
      users: [
        { userPrincipalName: 'ann@contoso.com', usageLocation: 'US' },
        { userPrincipalName: 'bob@contoso.com', usageLocation: 'US' },
      ],
    },
    settings: {
      DIALTONE_LOCAL_FUNCTION_KEY: KEY_A,
      DIALTONE_LOCAL_EXTRA_KEYS: KEY_B,
      DIALTONE_CALLERS: JSON.stringify({
        'hr-a': { keySha256: sha(KEY_A), callbackHosts: ['hr-a.example.com'] },
        'hr-b': { keySha256: sha(KEY_B), callbackHosts: ['hr-b.example.com'] },
      }),
      DIALTONE_CALLBACK_SECRET_HR_A: SECRET_A,
      DIALTONE_CALLBACK_SECRET_HR_B: SECRET_B,
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

async function callbackOf(key: string, batchId: string): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  const until = Date.now() + 90_000;
  for (;;) {
    const found = received.find(
      (c) =>
        (JSON.parse(c.body) as { batchId: string; integration: string }).batchId === batchId &&
        (JSON.parse(c.body) as { integration: string }).integration === (key === KEY_A ? 'hr-a' : 'hr-b'),
    );
    if (found) return found;
    if (Date.now() > until) throw new Error(`no callback for ${batchId}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('callbacks per integration', () => {
  const fromDialtone = readmeVerifier();
  const users = [{ userPrincipalName: 'ann@contoso.com', profile: 'phone-system-only' }];

  it("refuses A's callback URL on B's host: each integration names only its own hosts", async () => {
    const r = await postBatch(
      stack,
      { batchId: 'hires', callbackUrl: 'https://hr-b.example.com/callback', users },
      { key: KEY_A },
    );
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain("host hr-b.example.com is not in hr-a's callbackHosts in DIALTONE_CALLERS");
  });

  it("B's receiver rejects a callback made for A (with B's batch id and B's URL), and takes B's own", async () => {
    // A names B's batch id and B's receiver (loopback is allowed on the local runtime, so the URL check lets it by).
    expect((await postBatch(stack, { batchId: 'hires', callbackUrl: urlB, users }, { key: KEY_A })).status).toBe(202);
    await waitForReport(stack, 'hires');
    const forged = await callbackOf(KEY_A, 'hires');
    expect(fromDialtone(forged.headers, forged.body, { secret: SECRET_B, integration: 'hr-b', url: urlB })).toBeNull();
    // It is A's callback, valid for A: only B's checks refuse it.
    expect(
      fromDialtone(forged.headers, forged.body, { secret: SECRET_A, integration: 'hr-a', url: urlB }),
    ).toMatchObject({ batchId: 'hires', integration: 'hr-a' });
    // Even were A's secret B's by mistake, the signed body names hr-a: B refuses it.
    expect(fromDialtone(forged.headers, forged.body, { secret: SECRET_A, integration: 'hr-b', url: urlB })).toBeNull();

    expect(
      (
        await postBatch(
          stack,
          {
            batchId: 'hires',
            callbackUrl: urlB,
            users: [{ userPrincipalName: 'bob@contoso.com', profile: 'phone-system-only' }],
          },
          { key: KEY_B },
        )
      ).status,
    ).toBe(202);
    const own = await callbackOf(KEY_B, 'hires');
    const body = fromDialtone(own.headers, own.body, { secret: SECRET_B, integration: 'hr-b', url: urlB });
    expect(body).toMatchObject({ integration: 'hr-b', batchId: 'hires', callbackUrl: urlB });
    expect(body!.run).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(body!.run).not.toBe((JSON.parse(forged.body) as { run: string }).run);
  });

  it("docs/http-api.md's verifier refuses a stale timestamp, another URL and a bad signature", () => {
    const body = JSON.stringify({ integration: 'hr-b', batchId: 'x', run: 'r', callbackUrl: urlB });
    const sign = (ts: string, b: string) =>
      `sha256=${createHmac('sha256', SECRET_B).update(`${ts}.${b}`).digest('hex')}`;
    const now = String(Math.floor(Date.now() / 1000));
    const me = { secret: SECRET_B, integration: 'hr-b', url: urlB };
    expect(
      fromDialtone({ 'x-dialtone-timestamp': now, 'x-dialtone-signature': sign(now, body) }, body, me),
    ).toMatchObject({ batchId: 'x' });
    expect(
      fromDialtone({ 'x-dialtone-timestamp': now, 'x-dialtone-signature': sign(now, body) }, body, {
        ...me,
        url: `${urlB}/other`,
      }),
    ).toBeNull();
    const old = String(Math.floor(Date.now() / 1000) - 600);
    expect(fromDialtone({ 'x-dialtone-timestamp': old, 'x-dialtone-signature': sign(old, body) }, body, me)).toBeNull();
    expect(
      fromDialtone({ 'x-dialtone-timestamp': now, 'x-dialtone-signature': sign(now, `${body} `) }, body, me),
    ).toBeNull();
  });
});
