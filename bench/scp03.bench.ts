/** @module Benchmark: SCP03 secure messaging at security level 33 (C-MAC, C-DEC, R-MAC, R-ENC) on a 255-byte-data APDU, against plain AES-128-CBC of 256 bytes in node:crypto. */
import { createCipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import { concatBytes } from '../base/bytes.js';
import type { Scp03StaticKeys } from '../crypto/scp03.js';
import { externalAuthenticate } from '../applet-spec/commands/external-authenticate.js';
import { initializeUpdate } from '../applet-spec/commands/initialize-update.js';
import { Scp03HostSession } from '../host/scp03-host-session.js';
import { Scp03CardSession } from '../simulator/scp03-card-session.js';
import type { Benchmark } from './harness.js';

function openLevel33(): { host: Scp03HostSession; card: Scp03CardSession } {
  const keys: Scp03StaticKeys = { enc: new Uint8Array(nodeRandomBytes(16)), mac: new Uint8Array(nodeRandomBytes(16)), dek: new Uint8Array(nodeRandomBytes(16)) };
  const aid = Uint8Array.of(0xa0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00);
  const host = new Scp03HostSession(keys);
  const { session: card, data } = Scp03CardSession.initializeUpdate(initializeUpdate.encode(host.initializeUpdate()), { keys, kvn: 0x30, kdd: new Uint8Array(10), aid, sequenceCounter: 1 });
  host.processInitializeUpdateResponse(initializeUpdate.decodeResponse(data));
  card.processExternalAuthenticate(externalAuthenticate.encode(host.externalAuthenticate(0x33)));
  host.authenticated();
  return { host, card };
}

export const scp03Bench: Benchmark = {
  name: 'scp03',
  title: 'SCP03 level 33 secure messaging against one AES-128-CBC of 256 bytes',
  async run(b) {
    // Case 4 extended APDU with 255 data bytes: padded to 256, + 8-byte C-MAC = 264 > 255, so extended Lc.
    const data = new Uint8Array(nodeRandomBytes(255));
    const command = concatBytes(Uint8Array.of(0x80, 0xe2, 0x00, 0x00, 0x00, 0x00, 0xff), data, Uint8Array.of(0x00, 0x00));
    const response = concatBytes(data, Uint8Array.of(0x90, 0x00));
    const aesKey = new Uint8Array(nodeRandomBytes(16));
    const plain256 = new Uint8Array(nodeRandomBytes(256));
    const cbc128 = (): Buffer => {
      const c = createCipheriv('aes-128-cbc', aesKey, Buffer.alloc(16));
      c.setAutoPadding(false);
      return Buffer.concat([c.update(plain256), c.final()]);
    };

    {
      const { host, card } = openLevel33();
      await b.compare(
        'SCP03 level 33: host wrap + card unwrap of a 255-byte command (AES-128)',
        ['wrap-unwrap', 'host.wrap + card.unwrapCommand', () => card.unwrapCommand(host.wrap(command))],
        ['aes-cbc-for-wrap', 'node:crypto AES-128-CBC of 256 bytes', cbc128],
      );
    }
    {
      const { host, card } = openLevel33();
      const exchange = () => {
        card.unwrapCommand(host.wrap(command));
        return host.unwrap(card.wrapResponse(response));
      };
      await b.compare(
        'SCP03 level 33: full exchange, command and 255-byte response (AES-128)',
        ['exchange', 'wrap, unwrapCommand, wrapResponse, unwrap', exchange],
        ['aes-cbc-for-exchange', 'node:crypto AES-128-CBC of 256 bytes', cbc128],
      );
    }
    {
      const { card } = openLevel33();
      await b.time('serialize-restore', 'card serialize + restore (transient state round trip)', () => Scp03CardSession.restore(card.serialize()));
    }
  },
};
