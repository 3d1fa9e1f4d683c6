// A bearer token kept in a file that something else rewrites: a pod's bound service account
// token (the kubelet rotates it), or a kubeconfig user's tokenFile.
import { readFile } from 'node:fs/promises';

export type Clock = () => number;

/**
 * How long a read token is used before the file is read again: client-go's figure. The kubelet
 * renews a bound token once 80% of its life (an hour at least) is gone, so a minute-old copy is
 * always still valid, and requests do not each cost a disk read.
 */
export const TOKEN_REREAD_MS = 60_000;

export class FileToken {
  private readonly file: string;
  private readonly now: Clock;
  private token: string;
  private readAt: number;
  private rereading: Promise<void> | undefined;

  private constructor(file: string, token: string, now: Clock) {
    this.file = file;
    this.token = token;
    this.now = now;
    this.readAt = now();
  }

  /**
   * Reads the token now; an unreadable or empty file is an error unless `fallback` (a kubeconfig
   * user's `token` beside its `tokenFile`, as client-go allows) stands in for it.
   */
  static async read(file: string, fallback?: string, now: Clock = Date.now): Promise<FileToken> {
    try {
      return new FileToken(file, await readToken(file), now);
    } catch (err) {
      if (fallback) return new FileToken(file, fallback, now);
      throw err;
    }
  }

  /** The token, re-read first if the copy held is over a minute old. */
  async current(): Promise<string> {
    if (this.now() - this.readAt >= TOKEN_REREAD_MS) await (this.rereading ??= this.reread());
    return this.token;
  }

  private async reread(): Promise<void> {
    try {
      this.token = await readToken(this.file);
    } catch {
      // Keep the last token, as client-go does: it may well still be valid (a rotation mid-write,
      // a briefly missing file), and failing every request instead would not help.
    }
    this.readAt = this.now();
    this.rereading = undefined;
  }
}

async function readToken(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the token file ${file}: ${(err as Error).message}`);
  }
  const token = text.trim();
  if (!token) throw new Error(`the token file ${file} is empty`);
  return token;
}
