/**
 * @module Scenario cases of the offline value moves and of the secure channel: a transfer opened and
 * verified as its payee would, a received packet with its receipt checked, idempotent import, refused
 * tampered packets, and attacks on the SCP03 channel (bad C-MAC, replay, skipped command, lower level,
 * wrong host cryptogram). Everything is checked through what the card answers and lets read back.
 */
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { SECURITY_LEVELS } from '../applet-spec/commands/external-authenticate.js';
import * as C from '../applet-spec/commands.js';
import { SW } from '../applet-spec/status-words.js';
import { exportPacketCoder } from '../applet-spec/value-formats.js';
import { equalBytes } from '../base/bytes.js';
import type { CaseContext } from './case-context.js';
import { check, type ConformanceCase } from './conformance-case.js';
import { RawScp03Session } from './raw-scp03-session.js';
import { refusalCase } from './spec-cases.js';
import { CONFORMANCE_PAYEE, CONFORMANCE_PAYER, importAndCheck, loadOneCoin, packetToCard, payeeLogId, payerLogId, transferAndCheck } from './value-moves.js';

const ISSUED = ['ISSUED'] as const;
const TRANSFER_KEYS = ['cbMaster', 'coinSigning', 'kgcEncrypt', 'trustAnchors'] as const;
const RECEIVE_KEYS = ['coinSigning', 'kgcSign', 'kgcEncrypt'] as const;
const SCP_CLAUSE = 'GlobalPlatform Card Specification 2.3 Amendment D (SCP03) 6.2.4';
const PROBE_RULE = 'SET STATUS of another AID through the session, answered 6A88 while the session is intact';

/** IMPORT COINS of packet bytes, status word never thrown. */
function sendImport(ctx: CaseContext, packet: Uint8Array) {
  return ctx.send(C.importCoins, { packet: exportPacketCoder.decode(packet) });
}

/** Offline payments: transfer out, receive in, the same packet twice, tampered packets. */
function offlineValueCases(): ConformanceCase[] {
  return [
    {
      id: 'INV-TRANSFER',
      clause: 'transfer (D-RMB INITIALIZE FOR TRANSFER / EXPORT COINS)',
      rule: "a transfer exports a packet whose body opens with the payee's SM9 key and verifies under the trust anchors, takes exactly the amount, steps the counter by one, logs it, and proves it by GET TRANSACTION PROVE",
      needs: { states: ISSUED, keys: TRANSFER_KEYS },
      async run(ctx) {
        await ctx.select();
        await loadOneCoin(ctx, 400);
        const before = await ctx.snapshot();
        await ctx.select();
        const r = await transferAndCheck(ctx, 400);
        const after = await ctx.snapshot();
        check(after.balanceFen === (before.balanceFen ?? 0) - 400, `balance ${before.balanceFen} -> ${after.balanceFen} after transferring 400 fen`);
        check(after.counter === (before.counter ?? 0) + 1 && r.counter === before.counter, `counter ${before.counter} -> ${after.counter}, the transfer used ${r.counter}`);
        const log = (await ctx.card.readLog())[0];
        check(
          log?.type === 'TRANSFER' && log.counter === r.counter && log.amountFen === 400 && log.balanceAfterFen === after.balanceFen && equalBytes(log.counterparty, payeeLogId(CONFORMANCE_PAYEE)),
          'the latest log record is not this transfer to its payee',
        );
        const proof = await ctx.card.transactionProof('TRANSFER', r.counter);
        check(!!proof && equalBytes(proof, r.packetBytes), 'GET TRANSACTION PROVE of the transfer does not answer its packet byte for byte');
      },
    },
    {
      id: 'INV-RECEIVE',
      clause: 'receive (D-RMB INITIALIZE FOR RECEIVE / IMPORT COINS)',
      rule: 'a transfer packet made for a receive nonce of the card is taken: a receipt signed by the card over the packet hash, the coins back in the settlement body, the amount added, the counter stepped by one, a log record, and the same response by GET TRANSACTION PROVE',
      needs: { states: ISSUED, keys: RECEIVE_KEYS },
      async run(ctx) {
        await ctx.select();
        const before = await ctx.snapshot();
        await ctx.select();
        const sent = await packetToCard(ctx, [300, 200]);
        const response = await importAndCheck(ctx, sent);
        const after = await ctx.snapshot();
        check(after.balanceFen === (before.balanceFen ?? 0) + 500, `balance ${before.balanceFen} -> ${after.balanceFen} after receiving 500 fen`);
        check(after.counter === (before.counter ?? 0) + 1, `counter ${before.counter} -> ${after.counter} after one import`);
        const log = (await ctx.card.readLog())[0];
        check(
          log?.type === 'RECEIVE' && log.counter === sent.receiveCounter && log.amountFen === 500 && log.balanceAfterFen === after.balanceFen && equalBytes(log.counterparty, payerLogId(CONFORMANCE_PAYER.cardId)),
          'the latest log record is not this import from its payer',
        );
        const proof = await ctx.card.transactionProof('RECEIVE', sent.receiveCounter);
        check(!!proof && equalBytes(proof, response), 'GET TRANSACTION PROVE of the import does not answer its response byte for byte');
      },
    },
    {
      id: 'INV-IMPORT-IDEMPOTENT',
      clause: 'idempotent import (D-RMB IMPORT COINS)',
      rule: 'the same packet imported again, in the same session and after a new SELECT, answers the first response byte for byte and credits nothing',
      needs: { states: ISSUED, keys: RECEIVE_KEYS },
      async run(ctx) {
        await ctx.select();
        const before = await ctx.snapshot();
        await ctx.select();
        const sent = await packetToCard(ctx, [100]);
        const first = await importAndCheck(ctx, sent);
        const again = await sendImport(ctx, sent.packet);
        ctx.expectSw('IMPORT COINS of the same packet again', again.sw, [SW.OK]);
        check(equalBytes(again.data, first), 'the second IMPORT COINS of the same packet answers other bytes than the first');
        const mid = await ctx.snapshot();
        check(mid.balanceFen === (before.balanceFen ?? 0) + 100 && mid.counter === (before.counter ?? 0) + 1, `balance ${before.balanceFen} -> ${mid.balanceFen}, counter ${before.counter} -> ${mid.counter} after importing 100 fen twice`);
        const third = await sendImport(ctx, sent.packet);
        ctx.expectSw('IMPORT COINS of the same packet after a new SELECT', third.sw, [SW.OK]);
        check(equalBytes(third.data, first), 'IMPORT COINS of the same packet after a new SELECT answers other bytes than the first');
        await ctx.expectUnchanged(mid, 'importing the same packet again');
      },
    },
    refusalCase({
      id: 'IMPORT-SW-9410-TAMPERED',
      clause: `${C.importCoins.mirrors}; coin signature`,
      rule: "a packet signed by its payer over a coin with one byte changed since the central bank signed it is refused 9410; nothing is credited",
      needs: { states: ISSUED, keys: RECEIVE_KEYS },
      what: 'IMPORT COINS',
      expected: [SW.COIN_SIGNATURE_INVALID],
      provoke: async (ctx) => {
        const sent = await packetToCard(ctx, [100, 200], (coins) =>
          coins.map((c, i) => (i === 1 ? { ...c, body: { ...c.body, serial: c.body.serial.map((b, j) => (j === 0 ? b ^ 1 : b)) } } : c)),
        );
        return sendImport(ctx, sent.packet);
      },
    }),
    refusalCase({
      id: 'IMPORT-SW-9416-BODY',
      clause: `${C.importCoins.mirrors}; packet integrity`,
      rule: 'a transfer packet with one byte of its SM9-encrypted body flipped is refused 9416; nothing is credited',
      needs: { states: ISSUED, keys: RECEIVE_KEYS },
      what: 'IMPORT COINS',
      expected: [SW.PACKET_SIGNATURE_INVALID],
      provoke: async (ctx) => {
        const sent = await packetToCard(ctx, [100]);
        const packet = sent.packet.slice();
        packet[packet.length - 1] ^= 0x01;
        return sendImport(ctx, packet);
      },
    }),
  ];
}

/**
 * The secure channel under attack. Each case first sends an intact probe (PROBE_RULE) so that a
 * refusal after the attack is the channel's, then the attack, then checks the session is closed.
 */
function secureChannelCases(): ConformanceCase[] {
  const kvn = KEY_VERSIONS.PERSONALIZATION;
  const needs = { states: ISSUED, keys: ['cbMaster'] } as const;
  const intactProbe = async (ctx: CaseContext, s: RawScp03Session) => {
    const r = await s.send(s.wrapProbe());
    ctx.expectSw(`the intact probe (${PROBE_RULE})`, r.sw, [SW.REFERENCED_DATA_NOT_FOUND]);
  };
  const refused = async (ctx: CaseContext, what: string, apdu: Uint8Array) => {
    const r = await ctx.raw(apdu);
    ctx.expectSw(what, r.sw, [SW.SECURITY_STATUS_NOT_SATISFIED], r.data);
  };
  return [
    {
      id: 'INV-SCP-BAD-CMAC',
      clause: SCP_CLAUSE,
      rule: 'a command whose C-MAC has one bit flipped is refused 6982 and closes the session: the next command is refused 6982 whichever chaining value it was wrapped with',
      needs,
      async run(ctx) {
        await ctx.select();
        const s = await RawScp03Session.openOrFail(ctx, kvn, SECURITY_LEVELS.C_MAC);
        await intactProbe(ctx, s);
        const chainBefore = s.chain;
        const bad = s.wrapProbe();
        bad[bad.length - 1] ^= 0x01;
        await refused(ctx, 'the command with a bad C-MAC', bad);
        await refused(ctx, 'the next command, chained as if the bad one had not been sent', s.wrapProbe({ from: chainBefore }));
        await refused(ctx, 'the next command, chained after the bad one', s.wrapProbe());
      },
    },
    {
      id: 'INV-SCP-REPLAY',
      clause: SCP_CLAUSE,
      rule: 'a wrapped command sent a second time, byte for byte, is refused 6982 (its C-MAC no longer chains) and closes the session',
      needs,
      async run(ctx) {
        await ctx.select();
        const s = await RawScp03Session.openOrFail(ctx, kvn, SECURITY_LEVELS.C_MAC);
        const first = s.wrapProbe();
        const r = await s.send(first);
        ctx.expectSw(`the intact probe (${PROBE_RULE})`, r.sw, [SW.REFERENCED_DATA_NOT_FOUND]);
        await refused(ctx, 'the replayed command', first);
        await refused(ctx, 'the next command after the replay', s.wrapProbe());
      },
    },
    {
      id: 'INV-SCP-SKIPPED',
      clause: SCP_CLAUSE,
      rule: 'a command chained after one the card never received (a skipped command) is refused 6982 and closes the session',
      needs,
      async run(ctx) {
        await ctx.select();
        const s = await RawScp03Session.openOrFail(ctx, kvn, SECURITY_LEVELS.C_MAC);
        await intactProbe(ctx, s);
        const chainBefore = s.chain;
        s.wrapProbe(); // wrapped, never sent
        await refused(ctx, 'the command after a skipped one', s.wrapProbe());
        await refused(ctx, 'the command chained as if nothing had been skipped, after the refusal', s.wrapProbe({ from: chainBefore }));
      },
    },
    {
      id: 'INV-SCP-LOWER-LEVEL',
      clause: `${SCP_CLAUSE}, 6.2.6`,
      rule: 'in a session opened at level 03 (C-MAC and C-DECRYPTION), a command with a right C-MAC but its data in clear (level 01) is refused 6982',
      needs,
      async run(ctx) {
        await ctx.select();
        const s = await RawScp03Session.openOrFail(ctx, kvn, SECURITY_LEVELS.C_DEC_C_MAC);
        await intactProbe(ctx, s);
        await refused(ctx, 'the command wrapped at level 01', s.wrapProbe({ level: SECURITY_LEVELS.C_MAC }));
      },
    },
    {
      id: 'EXTAUTH-SW-6300-CRYPTOGRAM',
      clause: `${C.externalAuthenticate.mirrors}; host cryptogram`,
      rule: 'EXTERNAL AUTHENTICATE with a host cryptogram not made under the session keys (its C-MAC right) is answered 6300 and opens no session (uses up an authentication try)',
      needs: { ...needs, destructive: true },
      async run(ctx) {
        await ctx.select();
        const before = await ctx.snapshot();
        await ctx.select();
        const { sw, session } = await RawScp03Session.open(ctx, kvn, SECURITY_LEVELS.C_MAC, (right) => right.map((b, i) => (i === 0 ? b ^ 0x01 : b)));
        ctx.expectSw('EXTERNAL AUTHENTICATE with a wrong host cryptogram', sw, [SW.AUTHENTICATION_FAILED]);
        await refused(ctx, 'a command wrapped as if the session had opened', session.wrapProbe());
        await ctx.expectUnchanged(before, 'the refused EXTERNAL AUTHENTICATE');
      },
    },
  ];
}

/** Every scenario case of this file. */
export function scenarioCases(): ConformanceCase[] {
  return [...offlineValueCases(), ...secureChannelCases()];
}
