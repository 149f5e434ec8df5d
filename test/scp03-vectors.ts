/**
 * @module The pySim SCP03 transcripts of test/vectors/scp03.json as the SCP03 suites read them (the
 * crypto primitives, the host session and the card session): keysets, sessions, the security
 * domain AID of their pseudo-random challenges, and a forger holding a vector session's keys.
 */
import { createCipheriv } from 'node:crypto';
import { expect } from 'vitest';
import { initializeUpdate, type InitializeUpdateResponse } from '../applet-spec/commands/initialize-update.js';
import { aesCmac } from '../crypto/aes-cmac.js';
import { bytesToHex, hexToBytes } from '../base/bytes.js';
import { deriveSessionKeys, SecureChannelError, type Scp03SessionKeys, type Scp03StaticKeys } from '../crypto/scp03.js';
import { loadVectors } from './vectors.js';

interface Keyset {
  kvn: string;
  enc: string;
  mac: string;
  dek: string;
}

/** One pySim session: the handshake, GET EID and the four APDU cases, wrapped at `security_level`. */
export interface VectorSession {
  keyset: string;
  security_level: string;
  init_update_cmd: string;
  init_update_rsp: string;
  ext_auth_cmd: string;
  get_eid_cmd: string;
  get_eid_rsp_wrapped: string;
  case_1: string;
  case_2: string;
  case_3: string;
  case_4: string;
}

export const V = loadVectors('scp03') as { plain: Record<string, string>; keysets: Record<string, Keyset>; sessions: VectorSession[] };

export const h = (s: string): Uint8Array => hexToBytes(s.toLowerCase());
export const x = (b: Uint8Array): string => bytesToHex(b);
export const lower = (s: string): string => s.toLowerCase();
export const CASES = ['case_1', 'case_2', 'case_3', 'case_4'] as const;

/**
 * AID of the eUICC ISD-R (GSMA SGP.22 2.2.3), the security domain the pySim transcripts talk to (they
 * send GET EID, an ISD-R command); it is the context of their pseudo-random card challenges.
 */
export const ISD_R_AID = h('A0000005591010FFFFFFFF8900000100');

export function keysOf(s: VectorSession): Scp03StaticKeys & { kvn: number } {
  const k = V.keysets[s.keyset];
  return { enc: h(k.enc), mac: h(k.mac), dek: h(k.dek), kvn: parseInt(k.kvn, 16) };
}
export const label = (s: VectorSession): string => `${s.keyset} level ${s.security_level}`;
export const levelOf = (s: VectorSession): number => parseInt(s.security_level, 16);
export const hostChallengeOf = (s: VectorSession): Uint8Array => h(s.init_update_cmd).subarray(5, 13);
/** The session's INITIALIZE UPDATE response, decoded with the spec's response coder. */
export const initializeUpdateResponseOf = (s: VectorSession): InitializeUpdateResponse => initializeUpdate.decodeResponse(h(s.init_update_rsp));
/** Every vector session with its label, for it.each. */
export const SESSIONS = V.sessions.map((s) => [label(s), s] as const);
/** The session at level 33 (everything on), for the failure tests. */
export const LEVEL_33 = V.sessions.find((v) => v.security_level === '33') as VectorSession;

export function expectFailure(fn: () => unknown, reason: string): SecureChannelError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SecureChannelError);
    expect((e as SecureChannelError).reason).toBe(reason);
    return e as SecureChannelError;
  }
  throw new Error(`expected SecureChannelError ${reason}, nothing thrown`);
}

/**
 * Session keys and post-EXTERNAL AUTHENTICATE chaining value of a vector session, computed here with
 * node:crypto, to forge messages an attacker with a broken host could send.
 */
export function forger(s: VectorSession): {
  keys: Scp03SessionKeys;
  chainingAfterEa: Uint8Array;
  encrypt: (data: Uint8Array, counter: number, response: boolean) => Uint8Array;
} {
  const keys = deriveSessionKeys(keysOf(s), hostChallengeOf(s), initializeUpdateResponseOf(s).cardChallenge);
  const ea = h(s.ext_auth_cmd);
  const chainingAfterEa = aesCmac(keys.sMac, new Uint8Array(16), ea.subarray(0, ea.length - 8));
  expect(x(chainingAfterEa.subarray(0, 8))).toBe(x(ea.subarray(ea.length - 8)));
  const aes = (mode: string, iv: Uint8Array | null, data: Uint8Array): Uint8Array => {
    const c = createCipheriv(`aes-${keys.sEnc.length * 8}-${mode}`, keys.sEnc, iv);
    c.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
  };
  /** AES-CBC under S-ENC with the ICV of Amd D 6.2.6 (command) or 6.2.7 (response), no padding added. */
  const encrypt = (data: Uint8Array, counter: number, response: boolean): Uint8Array => {
    const block = new Uint8Array(16);
    block[15] = counter;
    if (response) block[0] = 0x80;
    return aes('cbc', aes('ecb', null, block), data);
  };
  return { keys, chainingAfterEa, encrypt };
}
