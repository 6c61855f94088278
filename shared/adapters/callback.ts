// Sends a batch's callback: one signed POST per attempt. The receiver checks
// X-Dialtone-Signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)) with its own integration's
// secret (DIALTONE_CALLBACK_SECRET_<NAME>; no other integration has it), X-Dialtone-Timestamp (Unix seconds) against
// its own clock to refuse replays, and that the body names its integration and the URL it was called on
// (shared/domain/callback.ts, CallbackPayload).
// Redirects are not followed: a redirect could lead the app to a host the allow-list does not name. Outside the local
// runtime the host's addresses are checked when the connection is made (the lookup the connection itself uses, so it
// goes to the address checked, with no second lookup an attacker's DNS could answer differently): a loopback,
// link-local, private or otherwise non-public address is refused, so an allowed name cannot be pointed inside the
// app's network.
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';

export const TIMESTAMP_HEADER = 'X-Dialtone-Timestamp';
export const SIGNATURE_HEADER = 'X-Dialtone-Signature';

export function signCallback(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

export interface DeliveryResult {
  readonly status: number | null;
  readonly delivered: boolean;
  readonly message: string;
}

export interface CallbackSender {
  /** Sends `body` to `url` signed with `integration`'s secret; undefined when that integration has none. */
  send(url: string, body: string, integration: string): Promise<DeliveryResult | undefined>;
}

/**
 * Addresses a callback never goes to: IANA's special-purpose ranges that are not globally reachable (RFC 6890 and its
 * registries): "this network", private (RFC 1918), shared (RFC 6598), loopback, link-local, benchmarking,
 * documentation, multicast and reserved; for IPv6 the same kinds, unique-local, and NAT64 (which can reach IPv4
 * private ranges). IPv4-mapped IPv6 addresses are checked as their IPv4 address.
 */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');

/** Whether a callback may connect to `address` (an IP address as dns.lookup gives it). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPublicAddress(mapped);
  return !NOT_PUBLIC.check(address, 'ipv6');
}

class PrivateAddressError extends Error {
  constructor(address: string) {
    super(`the callback host resolves to ${address}, which is not a public address`);
    this.name = 'PrivateAddressError';
  }
}

/** dns.lookup for the connection, failing when any address the name resolves to is not public. */
function publicLookup(
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, []);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused || addresses.length === 0)
      return callback(new PrivateAddressError(refused?.address ?? 'no address'), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

export class HttpCallbackSender implements CallbackSender {
  private readonly dispatcher: Agent | undefined;

  constructor(
    /** Each integration's secret, by its name. */
    private readonly secrets: ReadonlyMap<string, string>,
    private readonly timeoutMs = 30_000,
    private readonly now: () => number = Date.now,
    /** The local runtime (DIALTONE_LOCAL_RUNTIME): loopback and private receivers are allowed. */
    private readonly allowPrivateAddresses = false,
  ) {
    this.dispatcher = allowPrivateAddresses ? undefined : new Agent({ connect: { lookup: publicLookup } });
  }

  async send(url: string, body: string, integration: string): Promise<DeliveryResult | undefined> {
    const secret = this.secrets.get(integration);
    if (secret === undefined) return undefined;
    const timestamp = String(Math.floor(this.now() / 1000));
    // A literal address is connected to without a lookup: checked here.
    const literal = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (!this.allowPrivateAddresses && isIP(literal) !== 0 && !isPublicAddress(literal))
      return { status: null, delivered: false, message: `not sent: ${literal} is not a public address` };
    try {
      const res = await undiciFetch(url, {
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'User-Agent': 'dialtone-callback',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signCallback(secret, timestamp, body),
        },
        body,
      });
      // The answer's body is not needed; dropping it frees the connection without reading what may be large.
      await res.body?.cancel().catch(() => undefined);
      const delivered = res.status >= 200 && res.status < 300;
      const message = delivered
        ? 'delivered'
        : res.status >= 300 && res.status < 400
          ? `HTTP ${res.status}: redirects are not followed`
          : `HTTP ${res.status}`;
      return { status: res.status, delivered, message };
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string; name?: string } }).cause;
      if (cause?.name === 'PrivateAddressError')
        return { status: null, delivered: false, message: `not sent: ${cause.message}` };
      const detail =
        e instanceof Error && e.name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs / 1000} s`
          : (cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e)));
      return { status: null, delivered: false, message: `not delivered: ${String(detail).slice(0, 200)}` };
    }
  }
}
