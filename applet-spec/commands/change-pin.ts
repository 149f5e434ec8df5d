/** @module CHANGE PIN (JR/T 0025.2 PIN change, 80 5E 01 00): old PIN FF new PIN. */
import { coder, decodePinDigits, bcdPin, empty } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { FormatError } from '../errors.js';
import { SW, swTriesLeft } from '../status-words.js';

const pin = bcdPin(4, 12);

/** Old PIN || FF || new PIN, each packed BCD with F padding (a BCD byte is never FF, so FF separates). */
export const pinChangeCoder = coder<{ oldPin: string; newPin: string }>({
  size: undefined,
  describe: 'old PIN (BCD, F-padded) || FF || new PIN (BCD, F-padded)',
  write(v, out) {
    out.push(...pin.encode(v.oldPin), 0xff, ...pin.encode(v.newPin));
  },
  read(r) {
    const b = r.rest();
    const sep = b.indexOf(0xff);
    if (sep < 0) throw new FormatError(r.what, 'missing FF separator between old and new PIN');
    return {
      oldPin: decodePinDigits(b.subarray(0, sep), 4, 12, `${r.what} old PIN`),
      newPin: decodePinDigits(b.subarray(sep + 1), 4, 12, `${r.what} new PIN`),
    };
  },
  layout: () => [
    { field: 'oldPin', size: '2-6', description: 'current PIN, packed BCD, odd length padded with F' },
    { field: 'separator', size: '1', description: 'FF' },
    { field: 'newPin', size: '2-6', description: 'new PIN, packed BCD, odd length padded with F' },
  ],
});

/** CHANGE PIN. A wrong old PIN counts as a failed VERIFY (63Cx, 6983 when blocked). */
export const changePin = defineCommand({
  name: 'CHANGE PIN',
  id: 'changePin',
  summary: 'Replaces the holder PIN after checking the current one.',
  mirrors: 'JR/T 0025.2 CHANGE PIN (80 5E 01 00)',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x5e,
  p1: 0x01,
  p2: 0x00,
  request: pinChangeCoder,
  response: empty,
  states: ['ISSUED'],
  security: { note: 'the current PIN in the data is the authorisation' },
  sw: [swTriesLeft(0), SW.AUTHENTICATION_METHOD_BLOCKED],
  persistent: 'keys',
  examples: [
    {
      title: 'change 123456 to 654321',
      request: { oldPin: '123456', newPin: '654321' },
      apdu: '80 5E 01 00 07 123456 FF 654321',
      response: '9000',
      responseValue: {},
    },
  ],
});
