/** @module Benchmark: SM2 (GB/T 32918.2) signing and verification against sm-crypto-v2, and the fixed-key precomputed verifier against plain verification. */
import { sm2 as reference } from 'sm-crypto-v2';
import { bytesToHex, randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair, sm2PrecomputeVerifier, sm2Sign, sm2Verify } from '../crypto/sm2.js';
import type { Benchmark } from './harness.js';

export const sm2Bench: Benchmark = {
  name: 'sm2',
  title: 'SM2 sign and verify against sm-crypto-v2; precomputed fixed-key verify against plain',
  async run(b) {
    const { privateKey, publicKey } = sm2GenerateKeyPair();
    const privHex = bytesToHex(privateKey);
    const pubHex = bytesToHex(publicKey);
    // A coin-sized message: denomination, serial, enciphered body.
    const msg = randomBytes(96);

    // Both sides are given the public key so neither spends a scalar multiplication deriving it for Z_A.
    await b.compare(
      'SM2 sign, 96-byte message',
      ['sign', 'crypto/sm2 sm2Sign', () => sm2Sign(privateKey, msg, { publicKey })],
      ['ref-sign', 'sm-crypto-v2 doSignature', () => reference.doSignature(msg, privHex, { hash: true, publicKey: pubHex })],
    );

    const ours = sm2Sign(privateKey, msg);
    const theirs = reference.doSignature(msg, privHex, { hash: true, publicKey: pubHex });
    await b.compare(
      'SM2 verify, 96-byte message',
      ['verify', 'crypto/sm2 sm2Verify', () => sm2Verify(publicKey, msg, ours)],
      ['ref-verify', 'sm-crypto-v2 doVerifySignature', () => reference.doVerifySignature(msg, theirs, pubHex, { hash: true })],
    );

    // The central bank's coin key is fixed: tables are built once, outside the timed loop.
    const verifier = sm2PrecomputeVerifier(publicKey);
    if (!verifier.verify(ours, msg) || !sm2Verify(publicKey, msg, ours)) throw new Error('SM2 bench: signature did not verify');
    await b.compare(
      'SM2 verify under a fixed public key: precomputed verifier vs plain verify',
      ['precomputed-verify', 'sm2PrecomputeVerifier(...).verify', () => verifier.verify(ours, msg)],
      ['plain-verify', 'sm2Verify', () => sm2Verify(publicKey, msg, ours)],
    );
  },
};
