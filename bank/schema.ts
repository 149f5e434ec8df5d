/** @module Registry schema (PostgreSQL dialect, run unchanged on PGlite and on a PostgreSQL server): coins, flows, packets, double-spend proofs, blacklist. */

/**
 * Flow kinds, one row per coin moved. 'taken-on-card': coins waiting under a withdrawal code that the
 * payee's card imported (shown by its receipt or by its spending them), so the code can no longer be redeemed.
 */
export const FLOW_KINDS = ['mint', 'transfer', 'withdraw', 'deposit', 'redeem', 'taken-on-card'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

/**
 * Double-spend proof reasons. 'code-and-card': the payee of a transfer with a withdrawal code had the
 * code redeemed and also took the coins onto its card (packet A: the transfer with the code commitment
 * the redeemer opened; packet B: the payee card's signed receipt for it, or a packet the payee card
 * signed spending its coins).
 */
export const PROOF_REASONS = ['serial-reused', 'counter-reused', 'chain-fork', 'code-and-card'] as const;
export type ProofReason = (typeof PROOF_REASONS)[number];

export interface SchemaOptions {
  /**
   * Hash partitions of the coins table by serial (PostgreSQL declarative partitioning,
   * PARTITION BY HASH (serial)); 0 or omitted = one plain table. Serials are uniformly random, so
   * hash partitions stay balanced; every registry statement addresses coins by serial or by owner.
   * Works on PGlite too, where it brings nothing.
   */
  coinPartitions?: number;
}

/**
 * The DDL, idempotent (CREATE ... IF NOT EXISTS). Owners are text:
 *   'central-bank' | 'bank:<12-digit bank code>' | 'card:<20-digit card ID>' | 'code:<hex SM3 of withdrawal code>'.
 * Cards are owners by card ID, named or anonymous alike: the card ID is what every export packet
 * carries and what the blacklist holds, and it reveals no holder identity.
 */
export function schemaSql(opts: SchemaOptions = {}): string {
  const parts = opts.coinPartitions ?? 0;
  if (!Number.isInteger(parts) || parts < 0 || parts > 1024) throw new RangeError('coinPartitions must be 0..1024');
  const coins = `
CREATE TABLE IF NOT EXISTS coins (
  serial bytea NOT NULL CHECK (octet_length(serial) = 16),
  denomination_fen bigint NOT NULL CHECK (denomination_fen > 0),
  key_index smallint NOT NULL,
  issue_date char(8) NOT NULL,
  expiry_date char(8) NOT NULL,
  coin bytea NOT NULL,
  owner text NOT NULL,
  owner_since timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (serial)
)${parts > 0 ? ' PARTITION BY HASH (serial)' : ''};`;
  const partitions = Array.from(
    { length: parts },
    (_, i) => `CREATE TABLE IF NOT EXISTS coins_p${i} PARTITION OF coins FOR VALUES WITH (MODULUS ${parts}, REMAINDER ${i});`,
  ).join('\n');
  return `${coins}
${partitions}
CREATE INDEX IF NOT EXISTS coins_owner ON coins (owner);

CREATE TABLE IF NOT EXISTS flows (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN (${FLOW_KINDS.map((k) => `'${k}'`).join(', ')})),
  serial bytea NOT NULL,
  from_owner text,
  to_owner text NOT NULL,
  payer_card_id text,
  payer_counter bigint,
  packet_hash bytea,
  withdrawal_code text,
  at timestamptz NOT NULL DEFAULT now()
);
-- Registries created before a kind was added keep their old CHECK: replace it (idempotent).
ALTER TABLE flows DROP CONSTRAINT IF EXISTS flows_kind_check;
ALTER TABLE flows ADD CONSTRAINT flows_kind_check CHECK (kind IN (${FLOW_KINDS.map((k) => `'${k}'`).join(', ')}));
CREATE INDEX IF NOT EXISTS flows_serial ON flows (serial);
CREATE INDEX IF NOT EXISTS flows_packet ON flows (packet_hash);

CREATE TABLE IF NOT EXISTS packets (
  packet_hash bytea PRIMARY KEY,
  type text NOT NULL,
  payer_card_id text NOT NULL,
  payer_counter bigint NOT NULL,
  payer_identity text NOT NULL,
  payee_owner text NOT NULL,
  amount_fen bigint NOT NULL,
  packet bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (payer_card_id, payer_counter)
);
-- The card's export hash chain (value-formats previousExportHash): an honest card never has two packets
-- chained to one previous export.
ALTER TABLE packets ADD COLUMN IF NOT EXISTS previous_export_hash bytea;
CREATE INDEX IF NOT EXISTS packets_chain ON packets (payer_card_id, previous_export_hash);

CREATE TABLE IF NOT EXISTS double_spend_proofs (
  id bigserial PRIMARY KEY,
  payer_card_id text NOT NULL,
  payer_identity text NOT NULL,
  reason text NOT NULL CHECK (reason IN (${PROOF_REASONS.map((k) => `'${k}'`).join(', ')})),
  serial bytea,
  packet_a bytea NOT NULL,
  packet_b bytea NOT NULL,
  detected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS proofs_card ON double_spend_proofs (payer_card_id);
ALTER TABLE double_spend_proofs DROP CONSTRAINT IF EXISTS double_spend_proofs_reason_check;
ALTER TABLE double_spend_proofs ADD CONSTRAINT double_spend_proofs_reason_check CHECK (reason IN (${PROOF_REASONS.map((k) => `'${k}'`).join(', ')}));

-- Packets refused with CustodyPendingError wait here with what is needed to settle them again; every
-- settlement that moves coins retries them, so none waits for a deposit that has already come in.
CREATE TABLE IF NOT EXISTS pending_packets (
  packet_hash bytea PRIMARY KEY,
  packet bytea NOT NULL,
  payee_identity text NOT NULL,
  payee_owner text,
  payer_owner text,
  evidence bytea,
  evidence_kind text,
  -- the owners the packet moves its coins between, and the payer's counter (for loops settled late)
  from_owner text NOT NULL,
  to_owner text NOT NULL,
  payer_counter bigint NOT NULL,
  reason text NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS pending_coins (
  packet_hash bytea NOT NULL,
  serial bytea NOT NULL,
  PRIMARY KEY (packet_hash, serial)
);
CREATE INDEX IF NOT EXISTS pending_coins_serial ON pending_coins (serial);

CREATE TABLE IF NOT EXISTS blacklist (
  card_id text PRIMARY KEY,
  reason text NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
`;
}
