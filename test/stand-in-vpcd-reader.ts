/**
 * @module A stand-in for pcscd's vpcd reader in tests that need no pcscd: a TCP server a served card
 * connects to, which sends vpcd control bytes and C-APDUs (vsmartcard's vpcd protocol: a 2-byte
 * big-endian length, then the message) and awaits each reply.
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import { encodeVpcdFrame, VpcdFrameReader } from '../simulator/vpcd-client.js';

/** The reader side of vpcd, one connection at a time: sends control bytes and C-APDUs, awaits each reply. */
export class StandInReader {
  private readonly connections: Socket[] = [];
  private arrived: (() => void)[] = [];
  constructor(readonly server: Server) {
    server.on('connection', (s) => {
      this.connections.push(s);
      for (const a of this.arrived.splice(0)) a();
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The n-th connection (0-based) the card made, once it has made it. */
  async connection(n: number): Promise<Socket> {
    while (this.connections.length <= n) await new Promise<void>((r) => this.arrived.push(r));
    return this.connections[n];
  }

  /** Sends one message and resolves with the reply, or with 'closed' when the card leaves instead. */
  exchange(socket: Socket, payload: Uint8Array): Promise<Uint8Array | 'closed'> {
    return new Promise((resolve) => {
      const frames = new VpcdFrameReader();
      const onData = (chunk: Buffer): void => {
        const [reply] = frames.push(chunk);
        if (reply) done(Uint8Array.from(reply));
      };
      const onClose = (): void => done('closed');
      const done = (r: Uint8Array | 'closed'): void => {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(r);
      };
      if (socket.destroyed) return resolve('closed');
      socket.on('data', onData);
      socket.on('close', onClose);
      socket.write(encodeVpcdFrame(payload));
    });
  }
}
