/**
 * @module Card certificates (tag 7F21, applet-spec value-formats): the central bank certifies the card's
 * SM2 device key; the issuing bank and terminals verify it before trusting the card key.
 */
import { cardCertificateBodyCoder, cardCertificateCoder, type CardCertificate, cardCertificateSignedPart } from '../applet-spec/value-formats.js';
import { FormatError } from '../applet-spec/errors.js';
import { sm2Sign, sm2Verify } from '../crypto/sm2.js';

/**
 * Signs a certificate over the card's public key. Security: the certificate-signing private key; the
 * signature's nonce comes from the CSPRNG unless `nonce` is given (known-answer tests only: sm2Sign's k).
 */
export function issueCardCertificate(
  signer: { privateKey: Uint8Array; keyIndex: number },
  cardId: string,
  expiryYYMMDD: string,
  cardPublicKey: Uint8Array,
  nonce?: Uint8Array,
): Uint8Array {
  const body = { cardId, expiryDate: expiryYYMMDD, certKeyIndex: signer.keyIndex, cardPublicKey };
  const signature = sm2Sign(signer.privateKey, cardCertificateBodyCoder.encode(body), nonce ? { k: nonce } : undefined);
  return cardCertificateCoder.encode({ ...body, signature });
}

/**
 * Decodes and verifies a certificate value against the central bank's certificate keys (by index);
 * throws FormatError when it does not decode, names an unknown key index, or the signature fails.
 */
export function verifyCardCertificate(value: Uint8Array, keys: { keyIndex: number; publicKey: Uint8Array }[], expectCardId?: string): CardCertificate {
  const cert = cardCertificateCoder.decode(value, 'card certificate');
  const key = keys.find((k) => k.keyIndex === cert.certKeyIndex);
  if (!key) throw new FormatError('card certificate', `signed by unknown key index ${cert.certKeyIndex}`);
  if (!sm2Verify(key.publicKey, cardCertificateSignedPart(cert), cert.signature)) throw new FormatError('card certificate', 'signature does not verify');
  if (expectCardId !== undefined && cert.cardId !== expectCardId) throw new FormatError('card certificate', `is for card ${cert.cardId}, not ${expectCardId}`);
  return cert;
}
