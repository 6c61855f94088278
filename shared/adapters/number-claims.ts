// Claims on the tenant's pool numbers, so that no number goes to two users: Graph lists a number as unassigned until
// its assignNumber order finishes, so two chunks, batches or app instances reading the list at once would pick the
// same number. A claim is a blob per number created with If-None-Match: * (Blob Storage's conditional create: one
// writer wins, the others get 409/412; "Specifying conditional headers for Blob service operations", Microsoft
// Learn), in the reports container beside the runs (caller names cannot start with '_', so no run lives here).
// A claim names its owner (the run and row), so a retried activity finds its own claim; a failed assignment releases
// it; a claim left behind by a run that died lapses after CLAIM_HOLD_MINUTES and is taken over with If-Match on its
// ETag, so two takers cannot both win.
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { claimHasLapsed, type NumberClaim } from '../domain/phone-numbers';

export interface NumberClaims {
  /**
   * Claims `telephoneNumber` for `owner`: true when it is the owner's now (newly, or already). `free` says whether
   * Graph lists the number as unassigned; only then can a lapsed claim of another owner be taken over.
   */
  claim(telephoneNumber: string, owner: string, now: Date, free: boolean): Promise<boolean>;
  /** Gives the number back to the pool if `owner` holds its claim. */
  release(telephoneNumber: string, owner: string): Promise<void>;
}

const PREFIX = '_number-claims/';

function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number }).statusCode;
}

export class BlobNumberClaims implements NumberClaims {
  private ready: Promise<ContainerClient> | undefined;

  constructor(
    private readonly service: BlobServiceClient,
    private readonly containerName: string,
  ) {}

  private container(): Promise<ContainerClient> {
    this.ready ??= (async () => {
      const c = this.service.getContainerClient(this.containerName);
      await c.createIfNotExists();
      return c;
    })();
    return this.ready;
  }

  private async blob(telephoneNumber: string) {
    // E.164 digits only: the '+' and anything else stay out of the blob name.
    const digits = telephoneNumber.replace(/\D/g, '');
    if (digits.length === 0 || digits.length > 15) throw new Error('a claim needs an E.164 number');
    return (await this.container()).getBlockBlobClient(`${PREFIX}${digits}.json`);
  }

  private async read(telephoneNumber: string): Promise<{ claim: NumberClaim; etag: string } | undefined> {
    const blob = await this.blob(telephoneNumber);
    try {
      const r = await blob.download();
      const chunks: Buffer[] = [];
      for await (const c of r.readableStreamBody ?? []) chunks.push(c as Buffer);
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<NumberClaim>;
      // A claim that cannot be read holds nothing: it lapses at once (claimedAt '' is never recent).
      const claim: NumberClaim = {
        owner: typeof parsed.owner === 'string' ? parsed.owner : '',
        claimedAt: typeof parsed.claimedAt === 'string' ? parsed.claimedAt : '',
      };
      return { claim, etag: r.etag ?? '' };
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      if (e instanceof SyntaxError)
        return { claim: { owner: '', claimedAt: '' }, etag: (await blob.getProperties()).etag ?? '' };
      throw e;
    }
  }

  async claim(telephoneNumber: string, owner: string, now: Date, free: boolean): Promise<boolean> {
    const blob = await this.blob(telephoneNumber);
    const body = JSON.stringify({ owner, claimedAt: now.toISOString() } satisfies NumberClaim);
    // Twice at most: a claim released between our create and our read leaves the number free for a second create.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await blob.upload(body, Buffer.byteLength(body), {
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        return true;
      } catch (e) {
        if (statusOf(e) !== 409 && statusOf(e) !== 412) throw e;
      }
      const held = await this.read(telephoneNumber);
      if (!held) continue;
      if (held.claim.owner === owner) return true;
      if (!free || !claimHasLapsed(held.claim, now)) return false;
      try {
        await blob.upload(body, Buffer.byteLength(body), {
          conditions: { ifMatch: held.etag },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        return true;
      } catch (e) {
        if (statusOf(e) === 412 || statusOf(e) === 404) return false;
        throw e;
      }
    }
    return false;
  }

  async release(telephoneNumber: string, owner: string): Promise<void> {
    const held = await this.read(telephoneNumber);
    if (!held || held.claim.owner !== owner) return;
    try {
      await (await this.blob(telephoneNumber)).delete({ conditions: { ifMatch: held.etag } });
    } catch (e) {
      // Changed or gone since it was read: it is no longer this owner's to release.
      if (statusOf(e) !== 412 && statusOf(e) !== 404) throw e;
    }
  }
}
