/** @module Routes: the request decoded with the command's request coder, the handler's value encoded with its response coder. */
import { describe, expect, it } from 'vitest';
import { fromHex, hex } from '../../base/hex.js';
import { getBalance } from '../../applet-spec/commands/get-balance.js';
import { getData } from '../../applet-spec/commands/get-data.js';
import { exampleApdu } from '../../applet-spec/define-command.js';
import { FormatError } from '../../applet-spec/errors.js';
import { CardMemory } from '../card-memory.js';
import { PersistentStore } from '../persistent-store.js';
import { AppletContext } from './applet-context.js';
import { route } from './route.js';

const context = (): AppletContext => new AppletContext(new CardMemory(new PersistentStore()), (n) => new Uint8Array(n));
/** An example's response data: the response APDU without SW1 SW2. */
const responseData = (example: { response: string }): string => hex(fromHex(example.response).subarray(0, -2));

describe('route', () => {
  it("answers the handler's value in the bytes of the command's response layout (GET BALANCE example)", () => {
    const example = getBalance.examples[0];
    const r = route(getBalance, () => example.responseValue!);
    expect(hex(r.prepare(exampleApdu(example))(context()))).toBe(responseData(example));
  });

  it('hands the handler the P1P2 parameter with the data fields (GET DATA tag 9F79)', () => {
    const example = getData.examples[0];
    const seen: number[] = [];
    const r = route(getData, ({ tag }) => {
      seen.push(tag);
      return example.responseValue!;
    });
    expect(hex(r.prepare(exampleApdu(example))(context()))).toBe(responseData(example));
    expect(seen).toEqual([0x9f79]);
  });

  it('refuses data the request layout cannot hold with FormatError before the handler runs', () => {
    let ran = false;
    const r = route(getBalance, () => {
      ran = true;
      return { balanceFen: 0 };
    });
    expect(() => r.prepare({ ...exampleApdu(getBalance.examples[0]), data: Uint8Array.of(0x01) })).toThrow(FormatError);
    expect(ran).toBe(false);
  });
});
