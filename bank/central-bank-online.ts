/**
 * @module The central bank's side of an online payment (the seed's online transfer): it takes the
 * payee's bank's forward, checks that the payer owns every coin, changes the owner and records the
 * withdrawal code's hash in one registry transaction with its signed confirmation to that bank.
 */
import { fromHex, hex } from '../base/hex.js';
import { sm3 } from '../crypto/sm3.js';
import { type Confirmation, type ConfirmationBody, confirmationsOf, CONFIRMATIONS_SQL, makeConfirmation, recordConfirmation } from './online-confirmation.js';
import { CENTRAL_BANK, DoubleSpendError, type Registry, RegistryError, withdrawalCodeOwner } from './registry.js';

/** The message the payee's bank sends the central bank (seed: commercial bank to central bank), bytes as hex. */
export interface OnlineTransferForward {
  /** the forwarding bank, 'bank:<12-digit code>' */
  from: string;
  /** the export packet as the payer card made it */
  packet: string;
  /** the coin list and the payer's signature, opened by the payee (value-formats settlementBodyCoder) */
  settlementBody: string;
  /** the withdrawal seal the payee opened, when the transfer carries a code */
  withdrawal?: { code: string; salt: string };
  payeeIdentity: string;
  /** the coins' new owner: the payee card, the bank's vault for a payee's account, or the withdrawal code */
  newOwner: string;
  /** ISO 8601, when the payee's bank sent it */
  time: string;
}

/** The central bank's online desk over the registry. Open with CentralBankOnline.open. */
export class CentralBankOnline {
  private constructor(
    readonly registry: Registry,
    readonly signingKey: { privateKey: Uint8Array; keyIndex: number },
    readonly now: () => Date,
  ) {}

  /**
   * The desk on a registry opened with trust anchors and the mint master; `signingKey` is the coin-signing
   * key, which signs confirmations under their own SM2 signer ID (online-confirmation.ts).
   */
  static async open(registry: Registry, signingKey: { privateKey: Uint8Array; keyIndex: number }, now: () => Date = () => new Date()): Promise<CentralBankOnline> {
    await registry.db.exec(CONFIRMATIONS_SQL);
    return new CentralBankOnline(registry, signingKey, now);
  }

  /**
   * Settles one forwarded transfer online and answers the signed confirmation to the forwarding bank.
   * The same packet again answers the confirmation recorded the first time. A packet the registry
   * refuses (a coin not the payer's, a coin the payer spent already, which records a double-spend proof
   * and blacklists the card, a signature that does not verify) answers a signed refusal, and nothing moves.
   * Security: the forwarding bank has checked the payee; the registry checks the packet again itself.
   */
  async transfer(f: OnlineTransferForward): Promise<Confirmation> {
    const packet = fromHex(f.packet);
    const packetHash = hex(sm3(packet));
    const done = (await confirmationsOf(this.registry.db, packetHash, f.from)).find((c) => c.outcome === 'owner-changed');
    if (done) return done;
    const base = { from: CENTRAL_BANK, to: f.from, packetHash, time: this.now().toISOString() };
    const sign = (b: ConfirmationBody) => makeConfirmation(b, this.signingKey);
    let confirmation: Confirmation | undefined;
    try {
      const s = await this.registry.settle(packet, {
        payeeIdentity: f.payeeIdentity,
        payeeOwner: f.newOwner,
        settlementBody: fromHex(f.settlementBody),
        ...(f.withdrawal ? { withdrawal: { code: f.withdrawal.code, salt: fromHex(f.withdrawal.salt) } } : {}),
        online: {
          record: async (tx, settled) => {
            confirmation = sign({
              ...base,
              outcome: 'owner-changed',
              detail: `${settled.serials.length} coins of card ${settled.payerCardId} now owned by ${settled.payeeOwner}`,
              newOwner: settled.payeeOwner,
              amountFen: settled.amountFen,
              // The code as the registry knows it, by its hash (withdrawalCodeOwner): never the code itself.
              ...(f.withdrawal ? { withdrawalCodeHash: withdrawalCodeOwner(f.withdrawal.code).slice('code:'.length) } : {}),
            });
            await recordConfirmation(tx, confirmation);
          },
        },
      });
      if (!confirmation) {
        // A concurrent submission of the same packet confirmed it first: the same confirmation.
        const raced = (await confirmationsOf(this.registry.db, packetHash, f.from)).find((c) => c.outcome === 'owner-changed');
        if (raced) return raced;
        // Settled before without an online confirmation (an offline deposit of the same packet).
        confirmation =
          s.payeeOwner === f.newOwner
            ? sign({ ...base, outcome: 'owner-changed', detail: `settled earlier: coins owned by ${s.payeeOwner}`, newOwner: s.payeeOwner, amountFen: s.amountFen })
            : sign({ ...base, outcome: 'refused', reason: 'already-settled', detail: `the packet was settled earlier to ${s.payeeOwner}` });
        await recordConfirmation(this.registry.db, confirmation);
      }
      return confirmation;
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
      const refusal = sign({ ...base, outcome: 'refused', reason: e instanceof DoubleSpendError ? 'double-spend' : e.reason, detail: e.message });
      await recordConfirmation(this.registry.db, refusal);
      return refusal;
    }
  }

  /** The central bank's confirmations of a packet (hex SM3), oldest first. */
  confirmations(packetHash: string): Promise<Confirmation[]> {
    return confirmationsOf(this.registry.db, packetHash);
  }
}
