/** @module Benchmarks SM2 (GB/T 32918.2) signing and verification against sm-crypto-v2, and the fixed-key precomputed verifier against plain verification. */
import { sm2 as reference } from 'sm-crypto-v2';
import { compare } from '../scripts/bench-harness.js';
import { bytesToHex, randomBytes } from './bytes.js';
import { sm2GenerateKeyPair, sm2PrecomputeVerifier, sm2Sign, sm2Verify } from './sm2.js';

export default async function (): Promise<void> {
  const { privateKey, publicKey } = sm2GenerateKeyPair();
  const privHex = bytesToHex(privateKey);
  const pubHex = bytesToHex(publicKey);
  // A coin-sized message: denomination, serial, enciphered body.
  const msg = randomBytes(96);

  // Both sides are given the public key so neither spends a scalar multiplication deriving it for Z_A.
  await compare(
    'SM2 sign, 96-byte message (no fixed goal; aim: faster than sm-crypto-v2)',
    ['crypto/sm2 sm2Sign', () => sm2Sign(privateKey, msg, { publicKey })],
    ['sm-crypto-v2 doSignature', () => reference.doSignature(msg, privHex, { hash: true, publicKey: pubHex })],
    1,
  );

  const ours = sm2Sign(privateKey, msg);
  const theirs = reference.doSignature(msg, privHex, { hash: true, publicKey: pubHex });
  await compare(
    'SM2 verify, 96-byte message (no fixed goal; aim: faster than sm-crypto-v2)',
    ['crypto/sm2 sm2Verify', () => sm2Verify(publicKey, msg, ours)],
    ['sm-crypto-v2 doVerifySignature', () => reference.doVerifySignature(msg, theirs, pubHex, { hash: true })],
    1,
  );

  // The central bank's coin key is fixed: tables are built once, outside the timed loop.
  const verifier = sm2PrecomputeVerifier(publicKey);
  if (!verifier.verify(ours, msg) || !sm2Verify(publicKey, msg, ours)) throw new Error('SM2 bench: signature did not verify');
  await compare(
    'SM2 verify under a fixed public key: precomputed verifier vs plain verify',
    ['sm2PrecomputeVerifier(...).verify', () => verifier.verify(ours, msg)],
    ['sm2Verify', () => sm2Verify(publicKey, msg, ours)],
    0.25,
  );
}
