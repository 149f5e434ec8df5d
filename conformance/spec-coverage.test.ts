/** @module Spec coverage: exchanges are attributed to commands by header, states follow what SELECT shows, and listed status words count once per family. */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../base/hex.js';
import { fciCoder } from '../applet-spec/commands/select.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { COMMANDS } from '../applet-spec/commands.js';
import { type Transport } from '../host/transport.js';
import { type Exchange, exchangeRecorder, formatCoverageLine, specCoverage } from './spec-coverage.js';

/** A card that answers each command with the next canned response. */
function cannedCard(responses: Uint8Array[]): Transport {
  return { description: 'canned', transmit: async () => responses.shift()!, close: async () => {} };
}

const fci = (appState: 'ISSUED' | 'LOCKED') =>
  Uint8Array.from([...fciCoder.encode({ aid: DRMB_AID, proprietary: { issuerData: { appState } } }), appState === 'LOCKED' ? 0x62 : 0x90, appState === 'LOCKED' ? 0x83 : 0x00]);

describe('spec coverage', () => {
  it('attributes each exchange to its command, and the state to what the last SELECT showed', async () => {
    const exchanges: Exchange[] = [];
    const card = exchangeRecorder(exchanges, 'ISSUED')(cannedCard([fromHex('0000002A9000'), fci('LOCKED'), fromHex('6985'), fromHex('6A86')]));
    await card.transmit(fromHex('805C000204')); // GET BALANCE in ISSUED
    await card.transmit(Uint8Array.from([0x00, 0xa4, 0x04, 0x00, DRMB_AID.length, ...DRMB_AID, 0x00])); // SELECT: now LOCKED
    await card.transmit(fromHex('805C000204')); // GET BALANCE in LOCKED
    await card.transmit(fromHex('805C010204')); // P1 changed on purpose: still GET BALANCE by its class and INS
    expect(exchanges).toEqual([
      { command: 'getBalance', sw: 0x9000, state: 'ISSUED' },
      { command: 'select', sw: 0x6283, state: 'ISSUED' },
      { command: 'getBalance', sw: 0x6985, state: 'LOCKED' },
      { command: 'getBalance', sw: 0x6a86, state: 'LOCKED' },
    ]);
  });

  it('counts a listed status word once when answered, 63Cx and 61xx by family, and a command never sent as not covered', () => {
    const c = specCoverage([
      { command: 'verify', sw: 0x63c2, state: 'ISSUED' },
      { command: 'verify', sw: 0x63c1, state: 'ISSUED' },
      { command: 'verify', sw: 0x9000, state: 'ISSUED' },
    ]);
    const verify = c.perCommand.find((p) => p.id === 'verify')!;
    expect(verify.answered).toEqual([0x63c0, 0x9000]);
    expect(verify.sentIn).toEqual(['ISSUED']);
    expect(c.commands).toEqual({ sent: 1, total: COMMANDS.length });
    expect(c.perCommand.find((p) => p.id === 'getBalance')).toMatchObject({ sent: false, answered: [], sentIn: [] });
    expect(formatCoverageLine(c)).toMatch(/^coverage: 1\/\d+ commands, 2\/\d+ listed status words/);
  });
});
