// The host's Graph credential on an admin's workstation: the admin signed in once in the `dialtone` process that
// started this host (local/sign-in.ts), and this host asks that process for each token over the Node IPC channel it
// was started with. Tokens stay in the two processes' memory: @azure/identity caches and renews them in the parent,
// and nothing here keeps or writes one.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** A token request and its answer over the IPC channel (the parent's side: local/sign-in.ts serveTokens). */
export interface TokenRequest {
  readonly type: 'dialtone-token';
  readonly id: number;
  readonly scopes: string[];
  readonly claims?: string;
}
export interface TokenAnswer {
  readonly type: 'dialtone-token';
  readonly id: number;
  readonly token?: string;
  readonly expiresOnTimestamp?: number;
  readonly error?: string;
}

export class ParentProcessCredential implements TokenCredential {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (t: AccessToken) => void; reject: (e: Error) => void }>();

  constructor(private readonly channel: NodeJS.Process = process) {
    if (!channel.send)
      throw new Error(
        'DIALTONE_LOCAL_GRAPH_TOKENS=parent: the host was started without an IPC channel to the dialtone process',
      );
    channel.on('message', (m: unknown) => {
      const answer = m as Partial<TokenAnswer>;
      if (answer?.type !== 'dialtone-token' || typeof answer.id !== 'number') return;
      const w = this.waiting.get(answer.id);
      if (!w) return;
      this.waiting.delete(answer.id);
      if (answer.token && typeof answer.expiresOnTimestamp === 'number')
        w.resolve({ token: answer.token, expiresOnTimestamp: answer.expiresOnTimestamp });
      else w.reject(new Error(answer.error ?? 'the dialtone process gave no token'));
    });
    // The parent gone (the run stopped): no token will come; the host is stopped with it.
    channel.on('disconnect', () => {
      for (const w of this.waiting.values())
        w.reject(new Error('the dialtone process that holds the sign-in has stopped'));
      this.waiting.clear();
    });
  }

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    const id = this.next++;
    const request: TokenRequest = {
      type: 'dialtone-token',
      id,
      scopes: Array.isArray(scopes) ? scopes : [scopes],
      ...(options?.claims ? { claims: options.claims } : {}),
    };
    return new Promise<AccessToken>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.channel.send!(request, undefined, undefined, (e: Error | null) => {
        if (!e) return;
        this.waiting.delete(id);
        reject(e);
      });
    });
  }
}
