/**
 * @module The performance goals, in one table: which figure of which benchmark each one judges, against
 * which baseline measured in the same run, and the target. The benchmarks only measure; this table says
 * MET or NOT MET.
 */
import { type BenchResult, type Figure } from './harness.js';

export interface Goal {
  id: string;
  /** the benchmark (its `name`) that records the figures */
  benchmark: string;
  description: string;
  /** the figure judged, by its id in the benchmark */
  figure: string;
  /** the baseline figure measured in the same run; the ratio is figure / baseline */
  baseline?: string;
  /** what the target bounds: the ratio figure / baseline, or the figure itself */
  judged: 'ratio' | 'figure';
  target: { atMost: number } | { atLeast: number };
  /** how the figure (and ratio) is computed, for the reader of the table */
  computed: string;
}

export const GOALS: readonly Goal[] = [
  {
    id: 'sm3-64',
    benchmark: 'sm3',
    description: 'SM3 of a 64-byte message at most 1.3x node:crypto (OpenSSL)',
    figure: 'sm3-64',
    baseline: 'node-sm3-64',
    judged: 'ratio',
    target: { atMost: 1.3 },
    computed: "median time of one sm3(msg) / of createHash('sm3').update(msg).digest()",
  },
  {
    id: 'sm4-cbc-1k',
    benchmark: 'sm4',
    description: 'SM4-CBC encryption of 1 KiB (key setup included) at most 2x node:crypto (OpenSSL)',
    figure: 'cbc-1k',
    baseline: 'node-cbc-1k',
    judged: 'ratio',
    target: { atMost: 2 },
    computed: "median time of sm4Cbc(key, iv).encrypt / of createCipheriv('sm4-cbc')",
  },
  {
    id: 'sm2-sign',
    benchmark: 'sm2',
    description: 'SM2 sign at most 1x sm-crypto-v2',
    figure: 'sign',
    baseline: 'ref-sign',
    judged: 'ratio',
    target: { atMost: 1 },
    computed: 'median time of sm2Sign / of sm-crypto-v2 doSignature, 96-byte message, public key given to both',
  },
  {
    id: 'sm2-verify',
    benchmark: 'sm2',
    description: 'SM2 verify at most 1x sm-crypto-v2',
    figure: 'verify',
    baseline: 'ref-verify',
    judged: 'ratio',
    target: { atMost: 1 },
    computed: 'median time of sm2Verify / of sm-crypto-v2 doVerifySignature, 96-byte message',
  },
  {
    id: 'sm2-precomputed-verify',
    benchmark: 'sm2',
    description: 'SM2 verify under a fixed key with precomputed tables at least 4x faster than plain verify',
    figure: 'precomputed-verify',
    baseline: 'plain-verify',
    judged: 'ratio',
    target: { atMost: 0.25 },
    computed: 'median time of sm2PrecomputeVerifier(key).verify / of sm2Verify (tables built outside the loop)',
  },
  {
    id: 'sm9-pairing',
    benchmark: 'sm9',
    description: 'SM9 R-ate pairing at least 1.25x faster than noble bn254 optimal-ate pairing',
    figure: 'pairing',
    baseline: 'bn254-pairing',
    judged: 'ratio',
    target: { atMost: 0.8 },
    computed: 'median time of pairing(P, Q) / of bn254.pairing(P, Q), non-generator points, Miller loop + final exponentiation',
  },
  {
    id: 'scp03-wrap',
    benchmark: 'scp03',
    description: 'SCP03 level 33 wrap + unwrap of a 255-byte command at most 100x one AES-128-CBC of 256 bytes (a sanity bound; no issue sets a target)',
    figure: 'wrap-unwrap',
    baseline: 'aes-cbc-for-wrap',
    judged: 'ratio',
    target: { atMost: 100 },
    computed: "median time of host.wrap + card.unwrapCommand / of node:crypto createCipheriv('aes-128-cbc') of 256 bytes",
  },
  {
    id: 'scp03-exchange',
    benchmark: 'scp03',
    description: 'SCP03 level 33 full exchange (command and 255-byte response) at most 200x one AES-128-CBC of 256 bytes (a sanity bound)',
    figure: 'exchange',
    baseline: 'aes-cbc-for-exchange',
    judged: 'ratio',
    target: { atMost: 200 },
    computed: 'median time of wrap, unwrapCommand, wrapResponse, unwrap / of the same AES-128-CBC',
  },
  {
    id: 'registry-deposit-rate',
    benchmark: 'registry',
    description: 'registry deposits at least 4000 coins/s over all cores, PGlite (issue 15)',
    figure: 'coins-per-s-all-cores',
    baseline: 'coins-per-s-1-core',
    judged: 'figure',
    target: { atLeast: 4000 },
    computed: 'coins / wall time of Registry.settleMany over 10^5 coins in 64-coin packets, signature checks in one worker thread per core, one transaction per packet (baseline: one worker thread)',
  },
  {
    id: 'registry-precomputed-deposit',
    benchmark: 'registry',
    description: 'registry deposit with precomputed fixed-key SM2 verification at least 2x faster than with plain verification',
    figure: 'deposit-precomputed',
    baseline: 'deposit-plain',
    judged: 'ratio',
    target: { atMost: 0.5 },
    computed: 'median time of one settle() of a 64-coin packet, precomputed / plain verification',
  },
  {
    id: 'pos-host-time',
    benchmark: 'pos',
    description: 'POS purchase of 5 coins: host time at most 60 ms (issue 7)',
    figure: 'host-ms',
    judged: 'figure',
    target: { atMost: 60 },
    computed: 'median over payments of the wall time of PosTerminal.pay minus the time inside the simulated card (queue fsyncs included)',
  },
  {
    id: 'pos-apdus',
    benchmark: 'pos',
    description: 'POS purchase of 5 coins in at most 5 APDUs (issue 7)',
    figure: 'apdus',
    judged: 'figure',
    target: { atMost: 5 },
    computed: 'APDUs the simulated card receives during one PosTerminal.pay',
  },
  {
    id: 'pos-coin-verify',
    benchmark: 'pos',
    description: "the payment's five coin signatures: fixed-key verifier at least 1.25x faster than plain SM2 verify",
    figure: 'verify-precomputed-x5',
    baseline: 'verify-plain-x5',
    judged: 'ratio',
    target: { atMost: 0.8 },
    computed: 'median time of five sm2PrecomputeVerifier.verify / of five sm2Verify',
  },
  {
    id: 'perso-apdus',
    benchmark: 'perso',
    description: 'card prep plus issuance of one card in at most 25 APDUs',
    figure: 'apdus-per-card',
    judged: 'figure',
    target: { atMost: 25 },
    computed: 'APDUs of prepareCard + issueCard on a blank simulated card (in-process)',
  },
  {
    id: 'pcsc-host-overhead',
    benchmark: 'pcsc',
    description: 'host overhead through pcscd: typed send at most 1.05x the raw smartcard binding (issue 5)',
    figure: 'send',
    baseline: 'raw-transmit',
    judged: 'ratio',
    target: { atMost: 1.05 },
    computed: "median time of CardSession.send(GET DATA) over openReader / of the binding's card.transmit of the same bytes on openReader's own connection (its handle), interleaved batches, after a warm-up of both",
  },
  {
    id: 'pcsc-round-trip',
    benchmark: 'pcsc',
    description: 'PC/SC round trip through pcscd and vpcd at most 1 ms median (issue 5)',
    figure: 'round-trip',
    judged: 'figure',
    target: { atMost: 1 },
    computed: 'median time of the raw binding transmit of GET DATA to a simulated card in vpcd',
  },
  {
    id: 'perso-pcsc-batch',
    benchmark: 'perso-pcsc',
    description: 'batch card prep over 2 PC/SC readers at least 1.6x one reader (0.8 N for N readers)',
    figure: 'two-readers',
    baseline: 'one-reader',
    judged: 'ratio',
    target: { atLeast: 1.6 },
    computed: 'cards/s of runBatch over both vpcd readers / over one, card insertion and removal included',
  },
  {
    id: 'conformance-commands',
    benchmark: 'conformance',
    description: 'one run of the conformance suite sends every command of the set (issue 12)',
    figure: 'commands-covered',
    judged: 'figure',
    target: { atLeast: 100 },
    computed: '100 x commands answered at least once / commands defined in applet-spec, counted from the exchanges on the wire',
  },
];

export interface GoalVerdict {
  goal: Goal;
  figure?: Figure;
  baseline?: Figure;
  /** figure / baseline, when the goal has a baseline */
  ratio?: number;
  /** NOT RUN: the benchmark was not run, skipped, failed, or did not record the figures */
  verdict: 'MET' | 'NOT MET' | 'NOT RUN';
}

/** The target as printed: "ratio <= 1.3x", "figure >= 4000 coins/s". */
export function formatTarget(goal: Goal, unit = ''): string {
  const [op, bound] = 'atMost' in goal.target ? ['<=', goal.target.atMost] : ['>=', goal.target.atLeast];
  return goal.judged === 'ratio' ? `ratio ${op} ${bound}x` : `${op} ${bound}${unit && ` ${unit}`}`;
}

/** Judges every goal on the results of one run. */
export function judgeGoals(results: readonly BenchResult[], goals: readonly Goal[] = GOALS): GoalVerdict[] {
  return goals.map((goal) => {
    const result = results.find((r) => r.name === goal.benchmark && r.status === 'done');
    const figure = result?.figures.find((f) => f.id === goal.figure);
    const baseline = goal.baseline === undefined ? undefined : result?.figures.find((f) => f.id === goal.baseline);
    if (!figure || (goal.baseline !== undefined && !baseline)) return { goal, verdict: 'NOT RUN' };
    const ratio = baseline ? figure.value / baseline.value : undefined;
    const judged = goal.judged === 'ratio' ? ratio! : figure.value;
    const met = 'atMost' in goal.target ? judged <= goal.target.atMost : judged >= goal.target.atLeast;
    const v: GoalVerdict = { goal, figure, verdict: met ? 'MET' : 'NOT MET' };
    if (baseline) Object.assign(v, { baseline, ratio });
    return v;
  });
}
