// Sends a batch's callback: one signed POST per attempt. The receiver checks
// X-Dialtone-Signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)) with its own integration's
// secret (DIALTONE_CALLBACK_SECRET_<NAME>; no other integration has it), X-Dialtone-Timestamp (Unix seconds) against
// its own clock to refuse replays, and that the body names its integration and the URL it was called on
// (shared/domain/callback.ts, CallbackPayload).
// Redirects are not followed: a redirect could lead the app to a host the allow-list does not name.
import { createHmac } from 'node:crypto';

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

export class HttpCallbackSender implements CallbackSender {
  constructor(
    /** Each integration's secret, by its name. */
    private readonly secrets: ReadonlyMap<string, string>,
    private readonly timeoutMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async send(url: string, body: string, integration: string): Promise<DeliveryResult | undefined> {
    const secret = this.secrets.get(integration);
    if (secret === undefined) return undefined;
    const timestamp = String(Math.floor(this.now() / 1000));
    try {
      const res = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'User-Agent': 'dialtone-callback', [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signCallback(secret, timestamp, body) },
        body,
      });
      // The answer's body is not needed; dropping it frees the connection without reading what may be large.
      await res.body?.cancel().catch(() => undefined);
      const delivered = res.status >= 200 && res.status < 300;
      const message = delivered ? 'delivered' : res.status >= 300 && res.status < 400 ? `HTTP ${res.status}: redirects are not followed` : `HTTP ${res.status}`;
      return { status: res.status, delivered, message };
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const detail = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e)));
      return { status: null, delivered: false, message: `not delivered: ${String(detail).slice(0, 200)}` };
    }
  }
}
