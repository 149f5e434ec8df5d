/**
 * @module The localhost services' shared HTTP plumbing (the KGC, the payee's bank, the central bank's
 * registry): listening on 127.0.0.1 only, answering JSON that no cache keeps, and closing with every
 * open connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The one address the services listen on: only processes of this machine reach them. */
export const LOCAL_HOST = '127.0.0.1';

/** A service listening on LOCAL_HOST. */
export interface LocalService {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Stops listening and drops the open connections. */
  close(): Promise<void>;
}

/** Answers `body` as one line of JSON (a string is sent as it is: JSON made by the caller). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(`${typeof body === 'string' ? body : JSON.stringify(body)}\n`);
}

/**
 * Serves `handle` on LOCAL_HOST:`port` (0: a free port) once listening. `handle` answers every request
 * itself, errors included: a rejection it lets through is a fault of the service.
 */
export async function listenLocal(port: number, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<LocalService> {
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOCAL_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${LOCAL_HOST}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Calls a local service: its HTTP status and JSON answer. A service that cannot be reached, or answers
 * no JSON, rejects with `unreachable(message)`; any answer, refusals included, resolves.
 */
export async function fetchJson(url: string, init: RequestInit | undefined, unreachable: (message: string) => Error, timeoutMs = 30_000): Promise<{ status: number; json: Record<string, unknown> }> {
  let r: Response;
  try {
    r = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message;
    throw unreachable(`${url} cannot be reached (${cause})`);
  }
  try {
    const json = (await r.json()) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not an object');
    return { status: r.status, json: json as Record<string, unknown> };
  } catch {
    throw unreachable(`${url} answered HTTP ${r.status} without a JSON object`);
  }
}

/** A JSON POST request's init. */
export const postJson = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
