/** @module readRequestBody: the body of an HTTP request as UTF-8 text, refused once it passes a size bound (the localhost services of the KGC and the banks). */
import type { IncomingMessage } from 'node:http';

/**
 * Reads the whole body of `req`; rejects with `tooLarge()` as soon as more than `maxBytes` arrive (the
 * rest is drained, never kept), or with the stream's error.
 */
export function readRequestBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(tooLarge());
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
