/**
 * @module APDU fuzzer for the simulated card: random and mutated APDUs (and short valid prefixes that
 * open deeper paths), checking that no exception escapes, that every status word is one the
 * definitions allow, and that a failing command writes nothing but the PIN and authentication counters.
 * Seeded, so a failure replays exactly.
 */
import { decodeCommandApdu, encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { fromHex, hex } from '../base/hex.js';
import { COMMANDS, commandForHeader } from '../applet-spec/commands.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { CARD_OS_STATUS_WORDS, type Command } from '../applet-spec/define-command.js';
import { PowerLossError } from '../simulator/persistent-store.js';
import { SimulatedCard } from '../simulator/simulated-card.js';

/** mulberry32: a small, fast, seedable PRNG (not for keys: fuzzing only). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Status words for APDUs no definition claims: the card-OS words of applet-spec, plus 6D00 (no such
 * instruction), 6A86 (no such P1-P2), 6A82 (SELECT of another AID) and 9000 (a chained block taken).
 */
const OS_SWS = new Set([...CARD_OS_STATUS_WORDS.filter((sw) => sw !== 0x6100 && sw !== 0x6c00), 0x6d00, 0x6a86, 0x6a82, 0x9000]);
/** Records a failing command may write: counters the standards require to survive (ISO 7816-4 VERIFY, GP 11.8.2). */
const COUNTER_RECORDS = new Set(['pin/tries', 'scp/failures']);

export interface FuzzViolation {
  seed: number;
  index: number;
  apdu: string;
  response: string;
  problem: string;
}

export interface FuzzReport {
  apdus: number;
  violations: FuzzViolation[];
  /** status words seen, for the curious */
  sws: Map<number, number>;
}

/** True when `sw` is an acceptable answer to `apdu` by the definitions (or the card OS). */
export function allowedSw(apdu: Uint8Array, sw: number): boolean {
  if (OS_SWS.has(sw) || sw >> 8 === 0x61 || sw >> 8 === 0x6c) return true;
  let cmd: Command<any, any> | undefined;
  try {
    cmd = commandForHeader(decodeCommandApdu(apdu));
  } catch {
    return false;
  }
  if (cmd) return cmd.allows(sw);
  // No definition claims these P1-P2: the answer must be one a command with this class and INS may
  // give (the card decides P1-P2, length and data in an order of its choosing).
  const a = decodeCommandApdu(apdu);
  const plain = a.cla & ~0x1c;
  return COMMANDS.some((c) => c.ins === a.ins && (c.cla === plain || (c.otherClasses ?? []).includes(plain)) && (c as Command<any, any>).allows(sw));
}

function randomBytes(rnd: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
  return b;
}

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[(rnd() * xs.length) | 0];

/** A random APDU around the command set: known headers with random parameters and data, or noise. */
function randomApdu(rnd: () => number): Uint8Array {
  const r = rnd();
  if (r < 0.1) return randomBytes(rnd, (rnd() * 12) | 0);
  const c = pick(rnd, COMMANDS) as Command<any, any>;
  const cla = rnd() < 0.8 ? (c.secureMessaging === 'required' ? c.cla | 0x04 : c.cla) : pick(rnd, [0x00, 0x04, 0x0c, 0x10, 0x80, 0x84, 0x90, 0x94, 0x01, 0x40, 0xff, (rnd() * 256) | 0]);
  const ins = rnd() < 0.9 ? c.ins : (rnd() * 256) | 0;
  const p1 = typeof c.p1 === 'number' && rnd() < 0.8 ? c.p1 : (rnd() * 256) | 0;
  const p2 = typeof c.p2 === 'number' && rnd() < 0.8 ? c.p2 : (rnd() * 256) | 0;
  const size = c.request.size;
  const len = size !== undefined && rnd() < 0.6 ? size : rnd() < 0.9 ? (rnd() * 260) | 0 : (rnd() * 700) | 0;
  const le = rnd() < 0.5 ? undefined : pick(rnd, [1, 4, 8, 256, (rnd() * 256) | 0 || 1]);
  try {
    return encodeCommandApdu({ cla, ins, p1, p2, data: randomBytes(rnd, len), le, extended: rnd() < 0.1 });
  } catch {
    return randomBytes(rnd, 5);
  }
}

/** Mutates a valid APDU: bit flips, byte changes, truncation, extension, Lc tampering. */
function mutate(rnd: () => number, apdu: Uint8Array): Uint8Array {
  const b = Array.from(apdu);
  const rounds = 1 + ((rnd() * 3) | 0);
  for (let i = 0; i < rounds; i++) {
    const kind = (rnd() * 6) | 0;
    const at = (rnd() * Math.max(1, b.length)) | 0;
    if (kind === 0 && b.length) b[at] ^= 1 << ((rnd() * 8) | 0);
    else if (kind === 1 && b.length) b[at] = (rnd() * 256) | 0;
    else if (kind === 2) b.length = Math.max(0, b.length - 1 - ((rnd() * 4) | 0));
    else if (kind === 3) b.push(...randomBytes(rnd, 1 + ((rnd() * 8) | 0)));
    else if (kind === 4 && b.length > 4) b[4] = (b[4] + (rnd() < 0.5 ? 1 : -1)) & 0xff;
    else if (b.length > 5) b.splice(5 + ((rnd() * (b.length - 5)) | 0), 1);
  }
  return Uint8Array.from(b);
}

/** Valid APDUs to mutate and to use as prefixes: every definition's examples plus session openers. */
export function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of COMMANDS) for (const ex of c.examples) out.push(fromHex(ex.apdu));
  out.push(
    encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: DRMB_AID, le: 256 }),
    fromHex('0084000008'),
    fromHex('00200000 03 123456'),
    fromHex('8050300008 0102030405060708 00'),
    fromHex('805001020B 01 00000064 112233445566 00'),
    fromHex('8050080200'),
    fromHex('805C000204'),
  );
  return out;
}

/**
 * Sends `count` fuzzed APDUs to a card made from `image`; returns every violation found.
 * The card is re-created from the image after every `restartEvery` APDUs, so one run covers
 * many fresh sessions of the same lifecycle state.
 */
export function fuzzCard(image: Uint8Array, seed: number, count: number, restartEvery = 2000): FuzzReport {
  const rnd = prng(seed);
  const cardRandom = prng(seed ^ 0x5a5a5a5a);
  const seeded = (n: number) => randomBytes(cardRandom, n);
  const valid = corpus();
  const violations: FuzzViolation[] = [];
  const sws = new Map<number, number>();
  let card = SimulatedCard.fromImage(image, { random: seeded });
  for (let i = 0; i < count; i++) {
    if (i % restartEvery === 0) card = SimulatedCard.fromImage(image, { random: seeded });
    const r = rnd();
    let apdu: Uint8Array;
    if (r < 0.35) apdu = randomApdu(rnd);
    else if (r < 0.85) apdu = mutate(rnd, pick(rnd, valid));
    else apdu = pick(rnd, valid);
    card.store.takeWrites();
    let response: Uint8Array;
    try {
      response = card.transmit(apdu);
    } catch (e) {
      violations.push({ seed, index: i, apdu: hex(apdu), response: '', problem: `exception escaped: ${(e as Error).message}` });
      if (e instanceof PowerLossError) card = SimulatedCard.fromImage(image, { random: seeded });
      continue;
    }
    const writes = card.store.takeWrites();
    if (response.length < 2) {
      violations.push({ seed, index: i, apdu: hex(apdu), response: hex(response), problem: 'response without status word' });
      continue;
    }
    const sw = (response[response.length - 2] << 8) | response[response.length - 1];
    sws.set(sw, (sws.get(sw) ?? 0) + 1);
    if (sw === 0x6f00) violations.push({ seed, index: i, apdu: hex(apdu), response: hex(response), problem: 'card fault 6F00 (an exception inside the card)' });
    else if (!allowedSw(apdu, sw)) violations.push({ seed, index: i, apdu: hex(apdu), response: hex(response), problem: `status word ${sw.toString(16)} not listed for this command` });
    const failed = sw !== 0x9000 && sw >> 8 !== 0x61 && sw >> 8 !== 0x62;
    if (failed) {
      const bad = writes.filter((k) => !COUNTER_RECORDS.has(k));
      if (bad.length) violations.push({ seed, index: i, apdu: hex(apdu), response: hex(response), problem: `failing command wrote ${bad.join(', ')}` });
    }
    if (violations.length > 20) break;
  }
  return { apdus: count, violations, sws };
}
