/**
 * @module cardData: what the card lets a terminal read: GET DATA by tag (ISO/IEC 7816-4 11.4.3),
 * GET BALANCE, the coin and log records (READ RECORD), and the stored response of a past transaction
 * (GET TRANSACTION PROVE).
 */
import { bcdAmount, type Coder } from '../../applet-spec/codec/fields.js';
import { u32 } from '../../applet-spec/codec/fields.js';
import { getBalance } from '../../applet-spec/commands/get-balance.js';
import { getData } from '../../applet-spec/commands/get-data.js';
import { getTransactionProve } from '../../applet-spec/commands/get-transaction-prove.js';
import { readCoinRecord } from '../../applet-spec/commands/read-coin-record.js';
import { readLogRecord } from '../../applet-spec/commands/read-log-record.js';
import { dataObjectByTag, TAG } from '../../applet-spec/data-objects.js';
import { SW } from '../../applet-spec/status-words.js';
import { PROOF_RETENTION } from '../card-memory.js';
import { check, IsoException } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';
import { type Handler, type Route, route } from './route.js';

/** DGIs whose fields GET DATA answers for the tags they carry. */
const DGIS_WITH_DATA_OBJECTS = ['cardRecord', 'ibcIdentity', 'riskDefaults', 'holderRecord', 'trustAnchors'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !(v instanceof Uint8Array);

/** The value of a data object as GET DATA answers it, undefined when the card does not have it (yet). */
function dataObjectValue(ctx: AppletContext, tag: number): Uint8Array | undefined {
  const d = dataObjectByTag(tag);
  if (!d) return undefined;
  const m = ctx.memory;
  const enc = (c: Coder<unknown>, v: unknown): Uint8Array | undefined => (v === undefined ? undefined : c.encode(v));
  const risk = m.hasRisk ? m.risk : undefined;
  const amount = bcdAmount(12);
  switch (tag) {
    case TAG.balance:
      return m.state === 'ISSUED' || m.state === 'LOCKED' ? amount.encode(m.balanceFen) : undefined;
    case TAG.balanceCap:
      return risk && amount.encode(risk.balanceCapFen);
    case TAG.singleLimit:
      return risk && amount.encode(risk.singleLimitFen);
    case TAG.offlineCountLimit:
      return risk && enc(d.coder, risk.offlineCountLimit);
    case TAG.offlineAmountLimit:
      return risk && amount.encode(risk.offlineAmountLimitFen);
    case TAG.pinThreshold:
      return risk && amount.encode(risk.pinThresholdFen);
    case TAG.maxCoins:
      return risk && enc(d.coder, risk.maxCoins);
    case TAG.transactionCounter:
      return u32.encode(m.counter);
    case TAG.pinTriesLeft:
      return m.pinReference ? Uint8Array.of(m.pinTriesLeft) : undefined;
    case TAG.cardId:
      return m.cardId;
    case TAG.appState:
      return enc(d.coder, m.state);
    case TAG.coinSummary: {
      if (m.state !== 'ISSUED' && m.state !== 'LOCKED') return undefined;
      const counts = new Map<number, number>();
      for (const c of m.coins) counts.set(c.body.denominationFen, (counts.get(c.body.denominationFen) ?? 0) + 1);
      return enc(d.coder, [...counts].sort((a, b) => b[0] - a[0]).map(([denominationFen, count]) => ({ denominationFen, count })));
    }
    case TAG.cardCertificate:
      return ctx.dgi('cardCertificate');
  }
  // Everything else comes from the stored DGIs that carry it.
  for (const name of DGIS_WITH_DATA_OBJECTS) {
    const v: unknown = ctx.dgi(name);
    if (isRecord(v) && v[d.key] !== undefined && d.getData !== 'never') return enc(d.coder, v[d.key]);
  }
  return undefined;
}

const readDataObject: Handler<typeof getData> = ({ tag }, ctx) => {
  const value = dataObjectValue(ctx, tag);
  check(value, SW.REFERENCED_DATA_NOT_FOUND, 'data object not available');
  return { tag, value };
};

const balance: Handler<typeof getBalance> = (_r, ctx) => ({ balanceFen: ctx.memory.balanceFen });

const coinRecord: Handler<typeof readCoinRecord> = ({ record }, ctx) => {
  const coins = ctx.memory.coins;
  check(record >= 1 && record <= coins.length, SW.RECORD_NOT_FOUND);
  return coins[record - 1];
};

const logRecord: Handler<typeof readLogRecord> = ({ record }, ctx) => {
  const log = ctx.memory.log;
  check(record >= 1 && record <= log.length, SW.RECORD_NOT_FOUND);
  return log[record - 1];
};

const prove: Handler<typeof getTransactionProve> = ({ transactionType, counter }, ctx) => {
  const m = ctx.memory;
  const proof = m.proof(transactionType, counter);
  if (proof) return { storedResponse: proof };
  check(!(counter < m.counter && counter + PROOF_RETENTION <= m.counter - 1), SW.RECORD_NOT_FOUND, 'proof no longer retained');
  throw new IsoException(SW.MAC_NOT_AVAILABLE, 'no such transaction');
};

export const cardData: readonly Route[] = [
  route(getData, readDataObject),
  route(getBalance, balance),
  route(readCoinRecord, coinRecord),
  route(readLogRecord, logRecord),
  route(getTransactionProve, prove),
];
