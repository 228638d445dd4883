// One file over HTTP(S), as datasets are fetched: streamed to FILE.partial while hashed, checked,
// then renamed into place, so the folder never holds a file that is half there or wrong.
import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { RemoteFile } from './catalog';

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

export interface DownloadProgress {
  received: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
}

const idleTimeoutMs = 30_000;

function request(url: string, signal: AbortSignal | undefined, redirects = 5): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { signal, timeout: idleTimeoutMs }, (response) => {
      const { statusCode = 0, headers } = response;
      if (statusCode >= 300 && statusCode < 400 && headers.location && redirects > 0) {
        response.resume();
        resolve(request(new URL(headers.location, url).toString(), signal, redirects - 1));
      } else if (statusCode !== 200) {
        response.resume();
        reject(new DownloadError(`${url} answered HTTP ${statusCode}`));
      } else {
        resolve(response);
      }
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer for ${idleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (signal?.aborted) reject(new DownloadError('the download was cancelled'));
      else reject(new DownloadError(`${new URL(url).host} could not be reached (${error.code ?? error.message})`));
    });
  });
}

/** md5 of a gzip stream's content, or null when it is not valid gzip. */
function contentHash(): { sink: NodeJS.WritableStream; digest: Promise<string | null> } {
  const gunzip = createGunzip();
  const hash = createHash('md5');
  gunzip.on('data', (chunk: Buffer) => hash.update(chunk));
  const digest = new Promise<string | null>((resolve) => {
    gunzip.on('end', () => resolve(hash.digest('hex')));
    gunzip.on('error', () => resolve(null));
  });
  return { sink: gunzip, digest };
}

/**
 * Fetches `url` to `destination`, verifying `file.md5` (or, for gzip, the content's md5). On any
 * failure the partial file is removed and a DownloadError says what happened.
 */
export async function download(url: string, destination: string, file: RemoteFile, options: { signal?: AbortSignal; onProgress?: (progress: DownloadProgress) => void } = {}): Promise<void> {
  const partial = `${destination}.partial`;
  try {
    const response = await request(url, options.signal);
    const total = response.headers['content-length'] ? Number(response.headers['content-length']) : null;
    const hash = createHash('md5');
    const content = file.contentMd5 ? contentHash() : undefined;
    let received = 0;
    let lastReport = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      hash.update(chunk);
      content?.sink.write(chunk);
      const now = Date.now();
      if (now - lastReport >= 200) {
        lastReport = now;
        options.onProgress?.({ received, total });
      }
    });
    try {
      await pipeline(response, createWriteStream(partial), { signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw new DownloadError('the download was cancelled');
      throw new DownloadError(`the download of ${file.name} broke off after ${received.toLocaleString('en-US')}${total === null ? '' : ` of ${total.toLocaleString('en-US')}`} bytes (${(error as Error).message})`);
    }
    content?.sink.end();
    options.onProgress?.({ received, total });
    if (total !== null && received !== total) {
      throw new DownloadError(`the download of ${file.name} is truncated: ${received.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} bytes arrived`);
    }
    const md5 = hash.digest('hex');
    const contentMd5 = content ? await content.digest : null;
    if (md5 !== file.md5 && (!file.contentMd5 || contentMd5 !== file.contentMd5)) {
      throw new DownloadError(`${file.name} from ${new URL(url).host} is corrupt: its md5 is ${md5}, not ${file.md5}`);
    }
    renameSync(partial, destination);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error instanceof DownloadError ? error : new DownloadError(`downloading ${file.name} failed: ${(error as Error).message}`);
  }
}
