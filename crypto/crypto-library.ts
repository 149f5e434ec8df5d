/**
 * @module The cryptography's public API (package subpath `drmb-toolchain/crypto`): the Chinese national
 * algorithms SM3 (GB/T 32905), SM4 (GB/T 32907) with its MACs, SM2 (GB/T 32918) and SM9 (GB/T 38635);
 * GlobalPlatform SCP03 (Amendment D) key derivation, cryptograms and secure messaging; key
 * diversification and key check values; PBOC purse session keys, MAC and TAC (JR/T 0025).
 */
export { Sm3, hmacSm3, sm3, sm3Kdf } from './sm3.js';
export { SM4_BLOCK_BYTES, SM4_KEY_BYTES, type Sm4Cipher, type Sm4ModeOptions, type Sm4Padding, sm4Cbc, sm4DecryptBlock, sm4Ecb, sm4EncryptBlock } from './sm4.js';
export { type Sm4CmacOptions, type Sm4MacOptions, sm4Cmac, sm4Mac, sm4RetailMac, verifySm4Cmac, verifySm4Mac, verifySm4RetailMac } from './sm4-mac.js';
export {
  SM2_DEFAULT_ID,
  type Sm2DecryptOptions,
  type Sm2EncryptOptions,
  type Sm2Id,
  type Sm2KeyPair,
  type Sm2PrecomputeOptions,
  type Sm2SignatureFormat,
  type Sm2SignOptions,
  type Sm2VerifyOptions,
  type Sm2Verifier,
  sm2Decrypt,
  sm2Encrypt,
  sm2GenerateKeyPair,
  sm2GetPublicKey,
  sm2PrecomputeVerifier,
  sm2Sign,
  sm2Verify,
} from './sm2.js';
export { type Sm2CiphertextOrder, sm2CiphertextFromDer, sm2CiphertextToDer, sm2SignatureFromDer, sm2SignatureToDer } from './sm2-der.js';
export {
  SM9_HID_ENCRYPT,
  SM9_HID_SIGN,
  type Sm9C1Format,
  type Sm9DecryptOptions,
  type Sm9EncryptMode,
  type Sm9EncryptMasterKey,
  type Sm9EncryptOptions,
  Sm9MasterKeyError,
  type Sm9SignMasterKey,
  type Sm9SignOptions,
  type Sm9VerifyOptions,
  sm9Decrypt,
  sm9Encrypt,
  sm9ExtractEncryptKey,
  sm9ExtractSignKey,
  sm9GenerateEncryptMasterKey,
  sm9GenerateSignMasterKey,
  sm9Sign,
  sm9Verify,
} from './sm9/sm9.js';
export {
  type Sm9KeyExchangeEphemeral,
  type Sm9KeyExchangeFinishArgs,
  type Sm9KeyExchangeRespondArgs,
  type Sm9KeyExchangeResponse,
  type Sm9KeyExchangeResult,
  type Sm9KeyExchangeStartOptions,
  sm9KeyExchangeFinish,
  sm9KeyExchangeRespond,
  sm9KeyExchangeStart,
} from './sm9/key-exchange.js';
export {
  SECURITY_LEVEL,
  type Scp03SessionKeys,
  type Scp03StaticKeys,
  SecureChannelError,
  type SecureChannelReason,
  computeCardCryptogram,
  computeHostCryptogram,
  deriveSessionKeys,
  dekDecrypt,
  dekEncrypt,
  scp03Kdf,
} from './scp03.js';
export { type DiversifiedKeys, type KcvAlgorithm, diversifyEmv, diversifyKdf3, emvDiversificationBlock, kdf3DiversifyKey, keyCheckValue } from './key-diversification.js';
export { pbocLoadSessionKey, pbocMac, pbocPurchaseSessionKey, pbocTac, verifyPbocMac, verifyPbocTac } from './pboc.js';
