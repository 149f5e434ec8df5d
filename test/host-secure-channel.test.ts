/** @module The host's SCP03 layer against the simulator: personalization through it, plaintext and wire traces, wrong keys. */
import { describe, expect, it } from 'vitest';
import { hex } from '../applet-spec/codec/hex.js';
import { DGIS, storeDataEncryptionBits } from '../applet-spec/dgis.js';
import { dekEncrypt, SecureChannelError } from '../crypto/scp03.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { directTransport } from '../host/direct-transport.js';
import { DrmbCard } from '../host/drmb-card.js';
import { getResponse } from '../host/middleware/get-response.js';
import { trace } from '../host/middleware/trace.js';
import { stack } from '../host/transport.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { PERSO_KEYS, stage1Dgis, systemKeys } from './card-fixture.js';

const CARD_ID = '62120000000000000333';

describe('host secure channel', () => {
  it('prepares a blank card through SCP03 at level 33, tracing plaintext beside wire bytes without keys', async () => {
    const sim = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
    const wire: string[] = [];
    const plain: string[] = [];
    const card = new DrmbCard(stack(directTransport(sim), getResponse(), trace({ sink: (l) => wire.push(l) })));
    expect((await card.select()).state).toBe('BLANK');
    const channel = await card.openSecureChannel(PERSO_KEYS, { kvn: 0x30, level: 0x33, plainTrace: (l) => plain.push(l) });
    const dgis = stage1Dgis(CARD_ID, sm2GenerateKeyPair()).map(([name, value]) => {
      const def = DGIS[name];
      let bytes = (def.coder as any).encode(value) as Uint8Array;
      if (def.protection === 'dek') bytes = dekEncrypt(PERSO_KEYS.dek, bytes);
      return { dgi: { dgi: def.dgi, value: bytes }, encryption: storeDataEncryptionBits(def.protection) as 0 | 0x20 | 0x60 };
    });
    await card.storeDgis(channel, dgis);
    expect(sim.memory.state).toBe('PREPARED');
    expect((await card.select()).state).toBe('PREPARED');

    const all = [...wire, ...plain].join('\n');
    for (const k of Object.values(systemKeys().appKeys)) expect(all).not.toContain(hex(k));
    expect(plain.some((l) => l.startsWith('P>>') && l.includes('STORE DATA') && l.includes('0101 '))).toBe(true);
    expect(wire.some((l) => l.startsWith('A>>') && l.startsWith('A>> (4+') && l.includes('84E2'))).toBe(true);
  });

  it('refuses a card whose cryptogram does not match the keys with a SecureChannelError, leaving the card BLANK', async () => {
    const sim = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
    const card = new DrmbCard(stack(directTransport(sim), getResponse()));
    await card.select();
    const wrong = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2), dek: new Uint8Array(16).fill(3) };
    await expect(card.openSecureChannel(wrong, { kvn: 0x30 })).rejects.toBeInstanceOf(SecureChannelError);
    expect(sim.memory.state).toBe('BLANK');
  });
});
