/**
 * @module The host side of GlobalPlatform SCP03 as a transport layer: opens the session (INITIALIZE
 * UPDATE, EXTERNAL AUTHENTICATE at the requested security level, both sent as the spec's commands
 * through CardSession) and then wraps every command and unwraps every response. Long commands are
 * chained above the wrapping (each block carries its own C-MAC, GP 2.3 10.8.2); GET RESPONSE stays
 * below it, on the wire.
 */
import { externalAuthenticate } from '../applet-spec/commands/external-authenticate.js';
import { initializeUpdate } from '../applet-spec/commands/initialize-update.js';
import { SecureChannelError, type Scp03StaticKeys } from '../crypto/scp03.js';
import { CardSession } from './card-session.js';
import { commandChaining } from './middleware/chaining.js';
import { trace, type TraceOptions } from './middleware/trace.js';
import { Scp03HostSession } from './scp03-host-session.js';
import { type Transport, stack } from './transport.js';

/** Plain data per chained block so that padding (16) and the C-MAC (8) still fit a short Lc. */
export const SECURE_BLOCK_SIZE = 239;

/** How openSecureChannel opens SCP03: the key version, the security level, and a trace of the plaintext inside the channel. */
export interface SecureChannelOptions {
  /** key version number, P1 of INITIALIZE UPDATE (default 0: the card's default key set) */
  kvn?: number;
  /** security level of EXTERNAL AUTHENTICATE: 01 C-MAC, 03 +C-DEC, 11/13 +R-MAC, 33 +R-ENC (default 33) */
  level?: number;
  /** trace the plaintext inside the channel (prefix "P"), beside a wire trace below it */
  plainTrace?: TraceOptions['sink'];
}

/** An open secure channel: a transport whose commands travel wrapped. */
export interface SecureChannel extends Transport {
  readonly securityLevel: number;
  readonly keyVersion: number;
}

/**
 * Opens SCP03 over `wire` (which should already collect 61xx responses). Throws SecureChannelError
 * when the card cryptogram is wrong (wrong keys: do not retry with the same keys, the card counts
 * failures), StatusWordError when the card refuses INITIALIZE UPDATE or EXTERNAL AUTHENTICATE.
 * Security: the static keys are used, not kept; session keys live in the returned channel until close().
 */
export async function openSecureChannel(wire: Transport, keys: Scp03StaticKeys, options: SecureChannelOptions = {}): Promise<SecureChannel> {
  const level = options.level ?? 0x33;
  const card = new CardSession(wire);
  const host = new Scp03HostSession(keys, { kvn: options.kvn ?? 0 });
  try {
    host.processInitializeUpdateResponse(await card.send(initializeUpdate, host.initializeUpdate()));
    await card.send(externalAuthenticate, host.externalAuthenticate(level));
  } catch (e) {
    host.close();
    throw e;
  }
  host.authenticated();

  const wrapped: Transport = {
    description: `${wire.description} (SCP03 level ${level.toString(16).padStart(2, '0')})`,
    async transmit(command: Uint8Array): Promise<Uint8Array> {
      const response = await wire.transmit(host.wrap(command));
      return host.unwrap(response);
    },
    async close(): Promise<void> {
      host.close();
    },
  };
  const layers = [commandChaining({ blockSize: SECURE_BLOCK_SIZE })];
  if (options.plainTrace) layers.push(trace({ sink: options.plainTrace, prefix: 'P' }));
  const channel = stack(wrapped, ...layers);
  return {
    ...channel,
    transmit: (c) => channel.transmit(c),
    close: () => channel.close(),
    description: channel.description,
    securityLevel: level,
    keyVersion: host.keyVersion ?? options.kvn ?? 0,
  };
}

export { SecureChannelError };
