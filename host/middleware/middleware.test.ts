/** @module Middleware tables over transcript replay: 61xx chains, 6Cxx retries, chaining splits, extended length. */
import { describe, expect, it } from 'vitest';
import { fromHex, hex } from '../../base/hex.js';
import { ReplayTransport } from '../replay-transport.js';
import { stack } from '../transport.js';
import { atrAllowsExtendedLength, commandChaining, historicalBytes } from './chaining.js';
import { getResponse } from './get-response.js';
import { leRetry } from './le-retry.js';
import { completeResponse } from './complete-response.js';
import { TransportError } from '../errors.js';
import { hostStack } from '../pcsc.js';

const run = async (transcript: string, layers: Parameters<typeof stack>[1][], command: string) => {
  const base = ReplayTransport.fromText(transcript);
  const t = stack(base, ...layers);
  const out = hex(await t.transmit(fromHex(command)));
  base.assertDone();
  return out;
};

describe('getResponse', () => {
  it.each([
    ['no 61xx passes through', '=> 805C000204\n<= 000027109000', '805C000204', '000027109000'],
    ['one 61xx round joins the data', '=> 80CA9F7900\n<= AABB6102\n=> 80C0000002\n<= CCDD9000', '80CA9F7900', 'AABBCCDD9000'],
    ['61 00 asks for 256 more, then 61 03 for 3', '=> 00B201D400\n<= 016100\n=> 00C0000000\n<= 026103\n=> 00C0000003\n<= 0304059000', '00B201D400', '01020304059000'],
    ['keeps the command CLA (chaining bit cleared) and its logical channel', '=> 84CA9F7900\n<= 016101\n=> 84C0000001\n<= 029000', '84CA9F7900', '01029000'],
    ['a final error SW is returned with the data so far', '=> 8054070004 0A0B0C0D 00\n<= 116101\n=> 80C0000001\n<= 6F00', '8054070004 0A0B0C0D 00', '116F00'],
  ])('%s', async (_name, transcript, command, expected) => {
    expect(await run(transcript, [getResponse()], command)).toBe(expected);
  });

  it('gives up with a TransportError after the round cap', async () => {
    const loops = Array.from({ length: 4 }, () => '=> 80C0000001\n<= 016101').join('\n');
    const base = ReplayTransport.fromText(`=> 805C000204\n<= 6101\n${loops}`);
    await expect(stack(base, getResponse({ maxRounds: 3 })).transmit(fromHex('805C000204'))).rejects.toThrow(/after 3 GET RESPONSE rounds/);
  });
});

describe('leRetry', () => {
  it.each([
    ['6Cxx resends with the exact Le', '=> 805C000202\n<= 6C04\n=> 805C000204\n<= 000027109000', '805C000202', '000027109000'],
    ['6C00 means 256', '=> 0084000004\n<= 6C00\n=> 0084000000\n<= 01029000', '0084000004', '01029000'],
    ['a second 6Cxx goes back to the caller', '=> 805C000202\n<= 6C04\n=> 805C000204\n<= 6C05', '805C000202', '6C05'],
  ])('%s', async (_name, transcript, command, expected) => {
    expect(await run(transcript, [leRetry()], command)).toBe(expected);
  });
});

describe('completeResponse', () => {
  // every transcript of the getResponse and leRetry tables, and their interplay, answered as stacking the two does
  it.each([
    ['no 61xx or 6Cxx passes through', '=> 805C000204\n<= 000027109000', '805C000204'],
    ['one 61xx round joins the data', '=> 80CA9F7900\n<= AABB6102\n=> 80C0000002\n<= CCDD9000', '80CA9F7900'],
    ['61 00 then 61 03', '=> 00B201D400\n<= 016100\n=> 00C0000000\n<= 026103\n=> 00C0000003\n<= 0304059000', '00B201D400'],
    ['keeps the command CLA and channel', '=> 84CA9F7900\n<= 016101\n=> 84C0000001\n<= 029000', '84CA9F7900'],
    ['a final error SW after 61xx', '=> 8054070004 0A0B0C0D 00\n<= 116101\n=> 80C0000001\n<= 6F00', '8054070004 0A0B0C0D 00'],
    ['6Cxx resends with the exact Le', '=> 805C000202\n<= 6C04\n=> 805C000204\n<= 000027109000', '805C000202'],
    ['6C00 means 256', '=> 00B2010C01\n<= 6C00\n=> 00B2010C00\n<= 9000', '00B2010C01'],
    ['a second 6Cxx goes back to the caller', '=> 805C000202\n<= 6C04\n=> 805C000204\n<= 6C05', '805C000202'],
    ['the resent command\'s 61xx is collected', '=> 805C000202\n<= 6C04\n=> 805C000204\n<= 00006102\n=> 80C0000002\n<= 27109000', '805C000202'],
    ['a 6Cxx after the GET RESPONSE rounds resends the command', '=> 80CA9F7900\n<= AA6101\n=> 80C0000001\n<= 6C02\n=> 80CA9F7902\n<= AABB9000', '80CA9F7900'],
    ['an answer without a status word passes through', '=> 805C000204\n<= ', '805C000204'],
  ])('%s', async (_name, transcript, command) => {
    const stacked = await run(transcript, [getResponse(), leRetry()], command);
    expect(await run(transcript, [completeResponse()], command)).toBe(stacked);
  });

  it('gives up with a TransportError after the round cap', async () => {
    const loops = Array.from({ length: 4 }, () => '=> 80C0000001\n<= 016101').join('\n');
    const base = ReplayTransport.fromText(`=> 805C000204\n<= 6101\n${loops}`);
    await expect(stack(base, completeResponse({ maxRounds: 3 })).transmit(fromHex('805C000204'))).rejects.toThrow(/after 3 GET RESPONSE rounds/);
  });
});

describe('commandChaining', () => {
  const data = 'AB'.repeat(600);
  it('splits 600 bytes into 255 + 255 + 90 with the chaining bit on all but the last block, Le on the last', async () => {
    const transcript = [
      `=> 90520000 FF ${'AB'.repeat(255)}`,
      '<= 9000',
      `=> 90520000 FF ${'AB'.repeat(255)}`,
      '<= 9000',
      `=> 80520000 5A ${'AB'.repeat(90)} 00`,
      '<= 556677889000',
    ].join('\n');
    expect(await run(transcript, [commandChaining()], `80520000 000258 ${data} 0000`)).toBe('556677889000');
  });

  it('stops at a refused block and returns its status word', async () => {
    const transcript = [`=> 90520000 FF ${'AB'.repeat(255)}`, '<= 6A80'].join('\n');
    expect(await run(transcript, [commandChaining()], `80520000 000258 ${data} 0000`)).toBe('6A80');
  });

  it('sends one extended APDU instead when the card allows extended length', async () => {
    const transcript = [`=> 80520000 000258 ${data} 0000`, '<= 9000'].join('\n');
    expect(await run(transcript, [commandChaining({ extended: true })], `80520000 000258 ${data} 0000`)).toBe('9000');
  });

  it('passes short commands unchanged', async () => {
    expect(await run('=> 805C000204\n<= 9000', [commandChaining()], '805C000204')).toBe('9000');
  });

  it('reads the extended-length capability from the ATR historical bytes', () => {
    const sim = fromHex('3B8E800180730000C05844524D422D53494D' + '00');
    const tck = sim.subarray(1, -1).reduce((a, b) => a ^ b, 0);
    sim[sim.length - 1] = tck;
    expect(hex(historicalBytes(sim)!)).toBe('80730000C05844524D422D53494D');
    expect(atrAllowsExtendedLength(sim)).toBe(true);
    expect(atrAllowsExtendedLength(fromHex('3B8A800180730000805844524D42'))).toBe(false);
    expect(atrAllowsExtendedLength(fromHex('3B00'))).toBe(false);
  });
});

describe('the stack order', () => {
  it('chaining above GET RESPONSE: a long command, then its long answer collected', async () => {
    const transcript = [`=> 90520800 FF ${'CD'.repeat(255)}`, '<= 9000', `=> 80520800 2D ${'CD'.repeat(45)} 00`, '<= 01026101', '=> 80C0000001', '<= 039000'].join('\n');
    expect(await run(transcript, [getResponse(), commandChaining()], `80520800 00012C ${'CD'.repeat(300)} 0000`)).toBe('0102039000');
  });

  it('hostStack with rawResponses leaves 61xx and 6Cxx to the caller; without it both are handled', async () => {
    const atr = fromHex('3B8080010101');
    const answer = async (transcript: string, rawResponses: boolean, command: string) => {
      const base = ReplayTransport.fromText(transcript);
      const out = hex(await hostStack(base, atr, { rawResponses }).transmit(fromHex(command)));
      base.assertDone();
      return out;
    };
    expect(await answer('=> 80CA9F7900\n<= AABB6102', true, '80CA9F7900')).toBe('AABB6102');
    expect(await answer('=> 805C000202\n<= 6C04', true, '805C000202')).toBe('6C04');
    expect(await answer('=> 80CA9F7900\n<= AABB6102\n=> 80C0000002\n<= CCDD9000', false, '80CA9F7900')).toBe('AABBCCDD9000');
  });

  it('reports a replay mismatch as a TransportError', async () => {
    await expect(run('=> 805C000204\n<= 9000', [getResponse()], '805C000200')).rejects.toThrow(TransportError);
  });
});
