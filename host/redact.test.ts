/** @module Redaction of secrets in traced APDUs: PINs, withdrawal codes, key DGIs. */
import { describe, expect, it } from 'vitest';
import { encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { hex } from '../base/hex.js';
import { initializeForTransfer } from '../applet-spec/commands/initialize-for-transfer.js';
import { redactCommand } from './redact.js';

describe('redactCommand', () => {
  /** The definition's worked example: 50.00 yuan to "bob" with withdrawal code 1234567890123456. */
  const request = initializeForTransfer.examples[0].request;

  it('hides the withdrawal code of INITIALIZE FOR TRANSFER and keeps every other byte readable', () => {
    const apdu = encodeCommandApdu(initializeForTransfer.encode(request));
    const r = redactCommand(apdu);
    expect(r).toMatchObject({ name: 'INITIALIZE FOR TRANSFER', redacted: true });
    expect(r.text).not.toContain('1234567890123456');
    expect(r.text).toBe('80500702 1F 0000138803626F620807060504030201 <withdrawal code redacted> 20261122120000 00');
  });

  it('hides a zero code too (whether a code was given is the payee\'s business), and all of an undecodable request', () => {
    expect(redactCommand(encodeCommandApdu(initializeForTransfer.encode({ ...request, withdrawalCode: '0'.repeat(16) }))).text).toContain('<withdrawal code redacted>');
    const bad = Uint8Array.of(0x80, 0x50, 0x07, 0x02, 0x03, 0x12, 0x34, 0x56);
    expect(redactCommand(bad)).toMatchObject({ text: '80500702 03 <3 bytes redacted>', redacted: true });
    expect(hex(bad)).toContain('123456');
  });
});
