import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpCallbackSender, isPublicAddress, signCallback } from '../../shared/adapters/callback';
import {
  callbackPayload,
  checkCallbackUrl,
  nextCallbackAttemptAt,
  shownUrl,
  type CallbackPolicy,
} from '../../shared/domain/callback';
import { buildReport } from '../../shared/domain/report';
import type { UserOutcome } from '../../shared/domain/outcomes';

const policy: CallbackPolicy = {
  allowedHosts: ['hr.example.com', 'hooks.example.org:8443'],
  hasSecret: true,
  localRuntime: false,
};
const SECRET = 'it-is-a-shared-secret-of-32-chars!!';

describe('callback URLs', () => {
  it('accepts https URLs on an allowed host (and port), dropping the fragment', () => {
    expect(checkCallbackUrl('https://HR.example.com/hooks/dialtone?token=abc#x', policy)).toEqual({
      ok: true,
      url: 'https://hr.example.com/hooks/dialtone?token=abc',
    });
    expect(checkCallbackUrl('https://hooks.example.org:8443/in', policy).ok).toBe(true);
  });

  it.each([
    ['https://evil.example.net/x', 'host evil.example.net is not in DIALTONE_CALLBACK_HOSTS'],
    ['https://hr.example.com:444/x', 'host hr.example.com:444 is not in DIALTONE_CALLBACK_HOSTS'],
    ['https://hr.example.com.evil.net/x', 'is not in DIALTONE_CALLBACK_HOSTS'],
    ['http://hr.example.com/x', 'must use https'],
    ['https://user:pw@hr.example.com/x', 'must not carry a user name or password'],
    ['https://127.0.0.1:9000/x', 'loopback host (127.0.0.1), which only the local runtime calls'],
    ['http://localhost:9000/x', 'loopback host'],
    ['not a url', 'is not a URL'],
    [42, 'must be an https URL string'],
    [`https://hr.example.com/${'a'.repeat(3000)}`, 'longer than 2048'],
  ])('refuses %j, saying why', (url, why) => {
    const r = checkCallbackUrl(url, policy);
    expect(r).toEqual({ ok: false, message: expect.stringContaining(why) });
  });

  it('says the allow-list is empty when it is', () => {
    expect(checkCallbackUrl('https://hr.example.com/x', { ...policy, allowedHosts: [] })).toEqual({
      ok: false,
      message: expect.stringContaining('DIALTONE_CALLBACK_HOSTS (empty: no callback host is allowed)'),
    });
  });

  it('refuses every callback when no secret is configured, naming the setting', () => {
    expect(checkCallbackUrl('https://hr.example.com/x', { ...policy, hasSecret: false })).toEqual({
      ok: false,
      message: expect.stringContaining('DIALTONE_CALLBACK_SECRET'),
    });
  });

  it('allows loopback receivers, over http too, only on the local runtime', () => {
    expect(checkCallbackUrl('http://127.0.0.1:9000/cb', { ...policy, localRuntime: true })).toEqual({
      ok: true,
      url: 'http://127.0.0.1:9000/cb',
    });
    expect(checkCallbackUrl('ftp://127.0.0.1:9000/cb', { ...policy, localRuntime: true }).ok).toBe(false);
  });

  it('shows the URL in reports without its query string', () => {
    expect(shownUrl('https://hr.example.com/hooks?token=secret')).toBe('https://hr.example.com/hooks');
  });
});

describe('callback retries', () => {
  const first = new Date('2026-11-25T10:00:00Z');
  const after = (min: number) => new Date(first.getTime() + min * 60_000);

  it('waits 1, 2, 4 … minutes, at most an hour, and stops 24 hours after the first attempt', () => {
    expect(nextCallbackAttemptAt(first, 1, first)).toEqual(after(1));
    expect(nextCallbackAttemptAt(first, 2, after(1))).toEqual(after(3));
    expect(nextCallbackAttemptAt(first, 3, after(3))).toEqual(after(7));
    expect(nextCallbackAttemptAt(first, 10, after(300))).toEqual(after(360));
    expect(nextCallbackAttemptAt(first, 30, after(24 * 60 - 30))).toBeNull();
    let now = first;
    let attempts = 1;
    for (
      let next = nextCallbackAttemptAt(first, attempts, now);
      next;
      next = nextCallbackAttemptAt(first, ++attempts, now)
    )
      now = next;
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(35);
    expect(now.getTime()).toBeLessThanOrEqual(after(24 * 60).getTime());
  });
});

describe('callback body and signature', () => {
  const user = (row: number, outcome: UserOutcome['outcome']): UserOutcome => ({
    row,
    userPrincipalName: `u${row}@c.com`,
    profile: 'p',
    skus: [],
    outcome,
    reason: '',
    message: '',
    advisories: [],
    assignedAt: null,
    provisionedAt: null,
    phoneNumber: null,
  });

  it('carries the counts and only the rows someone must look at', () => {
    const report = buildReport({
      batchId: 'b1',
      source: 'http',
      startedAt: '',
      finishedAt: '',
      deadline: '',
      users: [user(1, 'provisioned'), user(2, 'failed'), user(3, 'flagged'), user(4, 'rejected'), user(5, 'cancelled')],
    });
    const payload = callbackPayload(report, {
      integration: 'workday',
      runKey: 'workday/b1/20261125T100000Z-0a1b2c3d',
      url: 'https://hr.example.com/cb',
      statusUrl: 'https://app/api/batches/b1',
    });
    expect(payload).toMatchObject({
      integration: 'workday',
      batchId: 'b1',
      run: '20261125T100000Z-0a1b2c3d',
      callbackUrl: 'https://hr.example.com/cb',
      statusUrl: 'https://app/api/batches/b1',
      counts: { total: 5, failed: 1, flagged: 1 },
    });
    expect(payload.users.map((u) => u.row)).toEqual([2, 3]);
  });

  it('signs "timestamp.body" with HMAC-SHA256 as openssl computes it', () => {
    // echo -n '1764064800.{"batchId":"b1"}' | openssl dgst -sha256 -hmac 'it-is-a-shared-secret-of-32-chars!!'
    expect(signCallback(SECRET, '1764064800', '{"batchId":"b1"}')).toBe(
      'sha256=c3fdff5c8180f511d74cbf636fbc507c6defd07063082f7c72cfd00bb0eaba20',
    );
  });

  it('POSTs the body with timestamp and signature headers, reports the answer, and does not follow redirects', async () => {
    const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
    const answers = [500, 302, 204];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        const status = answers.shift() ?? 200;
        res.writeHead(status, status === 302 ? { Location: 'https://elsewhere.example/' } : {});
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`;
      const sender = new HttpCallbackSender(new Map([['workday', SECRET]]), 5_000, () => 1_764_064_800_000, true);
      expect(await sender.send(url, '{"batchId":"b1"}', 'workday')).toEqual({
        status: 500,
        delivered: false,
        message: 'HTTP 500',
      });
      expect(await sender.send(url, '{"batchId":"b1"}', 'workday')).toEqual({
        status: 302,
        delivered: false,
        message: 'HTTP 302: redirects are not followed',
      });
      expect(await sender.send(url, '{"batchId":"b1"}', 'workday')).toEqual({
        status: 204,
        delivered: true,
        message: 'delivered',
      });
      expect(seen).toHaveLength(3);
      expect(seen[2]!.headers['x-dialtone-timestamp']).toBe('1764064800');
      expect(seen[2]!.headers['x-dialtone-signature']).toBe(
        'sha256=c3fdff5c8180f511d74cbf636fbc507c6defd07063082f7c72cfd00bb0eaba20',
      );
      expect(seen[2]!.headers['content-type']).toBe('application/json; charset=utf-8');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('records a receiver that does not answer as not delivered, with the reason', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const r = await new HttpCallbackSender(new Map([['workday', SECRET]]), 2_000, Date.now, true).send(
      `http://127.0.0.1:${port}/cb`,
      '{}',
      'workday',
    );
    expect(r).toEqual({ status: null, delivered: false, message: expect.stringContaining('ECONNREFUSED') });
  });

  it('outside the local runtime, connects to no loopback, private or link-local address, by literal or by a name that resolves to one', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as AddressInfo).port;
      const sender = new HttpCallbackSender(new Map([['workday', SECRET]]), 5_000);
      expect(await sender.send(`http://127.0.0.1:${port}/cb`, '{}', 'workday')).toEqual({
        status: null,
        delivered: false,
        message: 'not sent: 127.0.0.1 is not a public address',
      });
      expect(await sender.send(`http://[::1]:${port}/cb`, '{}', 'workday')).toMatchObject({
        delivered: false,
        message: 'not sent: ::1 is not a public address',
      });
      // "localhost" resolves to loopback: refused by the lookup the connection itself makes.
      expect(await sender.send(`http://localhost:${port}/cb`, '{}', 'workday')).toMatchObject({
        status: null,
        delivered: false,
        message: expect.stringMatching(
          /^not sent: the callback host resolves to (127\.0\.0\.1|::1), which is not a public address$/,
        ),
      });
      expect(requests).toBe(0);
      // The local runtime's sender reaches the same receiver.
      expect(
        await new HttpCallbackSender(new Map([['workday', SECRET]]), 5_000, Date.now, true).send(
          `http://localhost:${port}/cb`,
          '{}',
          'workday',
        ),
      ).toMatchObject({ delivered: true });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it.each([
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['127.0.0.1', false],
    ['::1', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:169.254.169.254', false],
    ['64:ff9b::a00:1', false],
    ['20.50.2.1', true],
    ['2603:1030::1', true],
    ['::ffff:20.50.2.1', true],
    ['not-an-ip', false],
  ])('classifies %s as public: %s', (address, ok) => {
    expect(isPublicAddress(address)).toBe(ok);
  });
});
