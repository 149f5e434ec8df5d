/**
 * @module The host's one transport interface: a command APDU in, the response APDU (data + SW1 SW2)
 * out. Backends (PC/SC reader, in-process card, transcript replay) and middleware (GET RESPONSE, Le
 * retry, chaining, secure channel, trace, recording) all have this shape and stack.
 */

/** Bytes in, bytes out. `transmit` rejects with TransportError when the reader or card is gone. */
export interface Transport {
  transmit(command: Uint8Array): Promise<Uint8Array>;
  /** releases the reader or card; transmit after close rejects */
  close(): Promise<void>;
  /** what this transport talks to, for messages and traces, e.g. "PC/SC Virtual PCD 00 00" */
  readonly description: string;
}

/** A layer over a transport, returning a transport of the same shape. */
export type Middleware = (next: Transport) => Transport;

/**
 * Stacks middleware on a base transport: `stack(base, a, b)` is `b(a(base))`, so a command passes b,
 * then a, then reaches the base; put GET RESPONSE handling close to the base and tracing outermost
 * (or innermost, to see the wire bytes).
 */
export function stack(base: Transport, ...layers: Middleware[]): Transport {
  return layers.reduce<Transport>((t, layer) => layer(t), base);
}

/** Helper for middleware that only changes transmit. */
export function wrapTransport(next: Transport, transmit: (command: Uint8Array) => Promise<Uint8Array>, description = next.description): Transport {
  return { transmit, close: () => next.close(), description };
}

/** SW1 SW2 of a response APDU as one number. */
export function swOf(response: Uint8Array): number {
  return response.length >= 2 ? (response[response.length - 2] << 8) | response[response.length - 1] : -1;
}

/** The data part of a response APDU. */
export function dataOf(response: Uint8Array): Uint8Array {
  return response.subarray(0, Math.max(0, response.length - 2));
}
