/** @module The PSAM's STORE DATA script as a pure builder (no card): block numbers, last-block flag, the purchase master DEK-encrypted in a block of its own. */
import { describe, expect, it } from 'vitest';
import { STORE_DATA_P1 } from '../applet-spec/dgis.js';
import { psamStoreData } from '../applet-spec/psam-commands.js';
import { PSAM_DGIS } from '../applet-spec/psam/psam-dgis.js';
import { fromHex, hex } from '../base/hex.js';
import { dekDecrypt } from '../crypto/scp03.js';
import { psamStoreDataSteps } from './personalize-psam.js';

const dek = fromHex('404142434445464748494A4B4C4D4E4F');
const master = fromHex('00112233445566778899AABBCCDDEEFF');
const terminalNumber = fromHex('202611220001');

describe('psamStoreDataSteps', () => {
  it('numbers the blocks 00, 01, 02: terminal number in clear, purchase master DEK-encrypted, completion flagged last', () => {
    const steps = psamStoreDataSteps({ terminalNumber, purchaseMaster: master }, dek);
    expect(steps.map((s) => [s.block, s.flags, s.dgis.map((d) => d.dgi)])).toEqual([
      [0, STORE_DATA_P1.DGI_FORMAT, [PSAM_DGIS.terminalNumber.dgi]],
      [1, STORE_DATA_P1.DGI_FORMAT | STORE_DATA_P1.ENC_DEK, [PSAM_DGIS.purchaseMaster.dgi]],
      [2, STORE_DATA_P1.DGI_FORMAT | STORE_DATA_P1.LAST_BLOCK, [PSAM_DGIS.completion.dgi]],
    ]);
    expect(hex(steps[0].dgis[0].value)).toBe('202611220001');
    const encrypted = steps[1].dgis[0].value;
    expect(hex(encrypted)).not.toBe(hex(master));
    expect(hex(dekDecrypt(dek, encrypted))).toBe(hex(master));
    // The plain commands a secure channel wraps: 80 E2 P1 P2.
    expect(hex(psamStoreData.encodeBytes(steps[2], { secure: false }))).toBe('80E2880203' + '7FFF00');
  });

  it('refuses a terminal number or master of the wrong length without echoing the key', () => {
    expect(() => psamStoreDataSteps({ terminalNumber: fromHex('2026'), purchaseMaster: master }, dek)).toThrow(/6 bytes/);
    const short = new Uint8Array(15).fill(0x42);
    expect(() => psamStoreDataSteps({ terminalNumber, purchaseMaster: short }, dek)).toThrow(/16 bytes/);
    expect(() => psamStoreDataSteps({ terminalNumber, purchaseMaster: short }, dek)).not.toThrow(/4242/);
  });
});
