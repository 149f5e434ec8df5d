/**
 * @module The D-RMB PSAM applet of the simulator (applet-spec/psam-commands.ts): the POS terminal's
 * purchase secure access module. Dispatches and checks every PSAM command from its definition (class,
 * P1/P2, length, state, secure channel, command order: applet/check-command.ts, as the card's), shares the card's SCP03 handlers for its
 * personalization, and answers MAC1 and MAC2 with the purchase key it derives per card from its
 * purchase master. The terminal sequence number is committed before any answer that carries it.
 */
import type { CommandApdu } from '../applet-spec/codec/apdu.js';
import { u32 } from '../applet-spec/codec/fields.js';
import { PSAM_AID } from '../applet-spec/commands/aid.js';
import { getResponse } from '../applet-spec/commands/get-response.js';
import { ALGORITHM_SM4, APPLICATION_KEY_VERSION } from '../applet-spec/commands/initialize-for-load.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { fciCoder, select } from '../applet-spec/commands/select.js';
import { cardIdCoder } from '../applet-spec/data-objects.js';
import { CLA_SECURE_MESSAGING, type Command } from '../applet-spec/define-command.js';
import { STORE_DATA_P1, storeDataEncryptionBits } from '../applet-spec/dgis.js';
import { purchaseMac1Data, purchaseMac2Data } from '../applet-spec/mac-data.js';
import {
  creditSamForPurchase,
  initSamForPurchase,
  nextTerminalSequence,
  PSAM_COMMANDS,
  psamCommandForHeader,
  psamStoreData,
  readBinary,
  verifyPurchaseMac2,
} from '../applet-spec/psam-commands.js';
import { PSAM_DGIS, psamDgiByNumber, type PsamDgiName } from '../applet-spec/psam/psam-dgis.js';
import { PSAM_FILES } from '../applet-spec/psam/read-binary.js';
import { SW } from '../applet-spec/status-words.js';
import { TRANSACTION_TYPES } from '../applet-spec/value-formats.js';
import { equalBytes, randomBytes, wipe } from '../base/bytes.js';
import { pbocMac, pbocPurchaseSessionKey } from '../crypto/pboc.js';
import { dekDecrypt } from '../crypto/scp03.js';
import { sm4EncryptBlock, sm4KeySchedule } from '../crypto/sm4.js';
import { applicationDiversificationBlock, cardIdToBytes } from '../keys/card-keys.js';
import { AppletContext } from './applet/applet-context.js';
import { checkCommand, resolveRoute } from './applet/check-command.js';
import { type Route, route } from './applet/route.js';
import { secureChannel, unwrapSecureCommand, wrapSecureResponse } from './applet/secure-channel.js';
import type { Applet } from './card-os.js';
import { check, IsoException } from './iso-exception.js';
import type { PsamMemory } from './psam-memory.js';

/** Options of the PSAM applet: its source of randomness. */
export interface PsamAppletOptions {
  /** source of randomness (SCP03 card challenges); the CSPRNG by default */
  random?: (n: number) => Uint8Array;
}

/** The inputs of a purchase session key and MAC1, as INIT SAM FOR PURCHASE and VERIFY PURCHASE MAC2 carry them. */
interface PurchaseInputs {
  cardRandom: Uint8Array;
  counter: number;
  amountFen: number;
  transactionType: number;
  keyVersion: number;
  algorithmId: number;
  cardId: string;
}

/** The session of an INIT SAM FOR PURCHASE, kept for the CREDIT SAM FOR PURCHASE directly after it (transient). */
interface PurchaseSession {
  sessionKey: Uint8Array;
  amountFen: number;
}

/** The largest sequence number; the PSAM never wraps to 0 (JR/T 0025 terminal sequence numbers only grow). */
const MAX_SEQUENCE = 0xffffffff;

/**
 * The simulator's PSAM applet: dispatches every PSAM command, derives each card's purchase key from
 * its purchase master, answers MAC1 and checks MAC2.
 */
export class PsamApplet implements Applet {
  readonly aid = PSAM_AID;
  private readonly ctx: AppletContext;
  private readonly routes: ReadonlyMap<Command<unknown, unknown>, Route>;
  /** the purchase session of the previous command, if it was INIT SAM FOR PURCHASE */
  private purchase: PurchaseSession | undefined;
  /** the session taken by the command being processed */
  private taken: PurchaseSession | undefined;

  constructor(
    readonly memory: PsamMemory,
    options: PsamAppletOptions = {},
  ) {
    this.ctx = new AppletContext(memory.gp, options.random ?? randomBytes);
    const own: Route[] = [
      route(psamStoreData, (req) => this.store(req)),
      route(readBinary, (req) => this.readFile(req.file)),
      route(initSamForPurchase, (req) => this.initSam(req)),
      route(creditSamForPurchase, (req) => this.creditSam(req.mac2)),
      route(verifyPurchaseMac2, (req) => this.verifyMac2(req)),
      route(nextTerminalSequence, () => ({ terminalSequence: this.takeSequence() })),
    ];
    this.routes = new Map([...secureChannel, ...own].map((r) => [r.command, r]));
    for (const c of PSAM_COMMANDS) {
      if (c !== select && c !== getResponse && !this.routes.has(c)) throw new Error(`PsamApplet: no handler for ${c.name}`);
    }
  }

  // ---- card OS interface ---------------------------------------------------------------------

  select(): { data: Uint8Array; sw: number } {
    this.ctx.session.scp?.close();
    this.ctx.resetSession();
    this.forgetPurchase();
    const data = fciCoder.encode({ aid: PSAM_AID, proprietary: { issuerData: { cardId: cardIdCoder.decode(this.memory.gp.cardId), appState: this.memory.state } } });
    return { data, sw: SW.OK };
  }

  deselect(): void {
    this.ctx.session.scp?.close();
    this.ctx.resetSession();
    this.forgetPurchase();
  }

  hasPersistentEffect(apdu: CommandApdu): boolean {
    return psamCommandForHeader(apdu)?.persistent !== undefined;
  }

  unwrapCommand(command: Uint8Array, apdu: CommandApdu): Uint8Array {
    return unwrapSecureCommand(this.ctx, command, apdu);
  }

  wrapResponse(response: Uint8Array): Uint8Array {
    return wrapSecureResponse(this.ctx, response);
  }

  process(apdu: CommandApdu): Uint8Array {
    const store = this.memory.store;
    const t = this.ctx.session;
    const smOnWire = t.smOnWire || (apdu.cla & CLA_SECURE_MESSAGING) !== 0;
    const viaScp = t.viaScp;
    t.smOnWire = false;
    // A purchase session serves only the command directly after INIT SAM FOR PURCHASE.
    this.taken = this.purchase;
    this.purchase = undefined;
    try {
      const r = resolveRoute(apdu, PSAM_COMMANDS, this.routes);
      const run = checkCommand(r, apdu, this.ctx, { state: this.memory.state, smOnWire, viaScp });
      const out = run(this.ctx);
      t.lastCommand = r.command.id;
      return out;
    } catch (e) {
      // ISO 7816-4: a failing command leaves persistent memory as it was.
      if (store.powered && store.inTransaction) store.abort();
      t.lastCommand = undefined;
      this.forgetPurchase();
      throw e;
    } finally {
      if (this.taken) wipe(this.taken.sessionKey);
      this.taken = undefined;
    }
  }

  // ---- handlers -------------------------------------------------------------------------------

  /** STORE DATA: block order and format as the card's (GP 2.3 11.11.2.1), PSAM_DGIS only, completion moves BLANK -> ISSUED. */
  private store(req: { flags: number; block: number; dgis: { dgi: number; value: Uint8Array }[] }): Record<never, never> {
    const t = this.ctx.session;
    check(t.scpKvn === KEY_VERSIONS.PERSONALIZATION, SW.SECURITY_STATUS_NOT_SATISFIED, 'personalization key set required');
    check(!t.lastBlockSeen, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'last block already received');
    check(req.block === t.nextBlock, SW.INCORRECT_P1P2, 'block out of order');
    check((req.flags & 0x18) === STORE_DATA_P1.DGI_FORMAT, SW.INCORRECT_P1P2, 'DGI format required');
    const encBits = req.flags & 0x60;
    check(encBits === 0 || encBits === STORE_DATA_P1.ENC_DEK, SW.INCORRECT_P1P2, 'encryption indicator the PSAM does not take');
    check(req.dgis.length > 0, SW.INCORRECT_DATA);
    check(encBits === 0 || req.dgis.length === 1, SW.INCORRECT_DATA, 'one DGI per encrypted block');

    const writes: [PsamDgiName, Uint8Array][] = [];
    let completion = false;
    for (const d of req.dgis) {
      const def = psamDgiByNumber(d.dgi);
      check(def, SW.REFERENCED_DATA_NOT_FOUND, 'unknown DGI');
      check(storeDataEncryptionBits(def.protection) === encBits, SW.INCORRECT_DATA, 'wrong protection');
      let clear: Uint8Array;
      try {
        clear = def.protection === 'dek' ? dekDecrypt(this.memory.gp.scpKeys(KEY_VERSIONS.PERSONALIZATION)!.dek, d.value) : d.value;
        def.coder.decode(clear);
      } catch {
        throw new IsoException(SW.INCORRECT_DATA, `DGI ${def.dgi.toString(16)} layout`);
      }
      if (def.key === 'completion') completion = true;
      else writes.push([def.key, clear]);
    }
    const has = (name: PsamDgiName) => writes.some(([n]) => n === name);
    if (completion) {
      check(has('terminalNumber') || this.memory.terminalNumber, SW.CONDITIONS_OF_USE_NOT_SATISFIED, `DGI ${PSAM_DGIS.terminalNumber.dgi.toString(16)} missing`);
      check(has('purchaseMaster') || this.memory.purchaseMaster, SW.CONDITIONS_OF_USE_NOT_SATISFIED, `DGI ${PSAM_DGIS.purchaseMaster.dgi.toString(16)} missing`);
    }
    const store = this.memory.store;
    store.begin();
    for (const [name, clear] of writes) {
      if (name === 'terminalNumber') this.memory.setTerminalNumber(clear);
      else if (name === 'purchaseMaster') this.memory.setPurchaseMaster(clear);
    }
    if (completion) this.memory.gp.setState('ISSUED');
    store.commit();
    t.nextBlock++;
    if (req.flags & STORE_DATA_P1.LAST_BLOCK) t.lastBlockSeen = true;
    return {};
  }

  /** READ BINARY by SFI: the terminal number or the last sequence number; nothing else has a file. */
  private readFile(file: number): { contents: Uint8Array } {
    if (file === PSAM_FILES.terminalNumber) return { contents: this.memory.terminalNumber! };
    return { contents: u32.encode(this.memory.sequence) };
  }

  /** INIT SAM FOR PURCHASE: sequence number committed first, then MAC1; the session key stays for MAC2. */
  private initSam(req: PurchaseInputs & { date: string; time: string }): { terminalSequence: number; mac1: Uint8Array } {
    this.checkInputs(req);
    const terminalSequence = this.takeSequence();
    const sessionKey = this.sessionKey(req, terminalSequence);
    const mac1 = pbocMac(
      sessionKey,
      purchaseMac1Data({ amountFen: req.amountFen, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId: this.memory.terminalNumber!, date: req.date, time: req.time }),
    );
    this.purchase = { sessionKey, amountFen: req.amountFen };
    return { terminalSequence, mac1 };
  }

  /** CREDIT SAM FOR PURCHASE: MAC2 over the amount under the session key of the INIT SAM just before (9302 when not the card's). */
  private creditSam(mac2: Uint8Array): Record<never, never> {
    const s = this.taken!;
    check(equalBytes(pbocMac(s.sessionKey, purchaseMac2Data({ amountFen: s.amountFen })), mac2), SW.MAC_INVALID, 'MAC2');
    return {};
  }

  /** VERIFY PURCHASE MAC2: the session key of an earlier purchase, from its inputs and sequence number; nothing persistent changes. */
  private verifyMac2(req: PurchaseInputs & { terminalSequence: number; mac2: Uint8Array }): Record<never, never> {
    this.checkInputs(req);
    const sessionKey = this.sessionKey(req, req.terminalSequence);
    try {
      check(equalBytes(pbocMac(sessionKey, purchaseMac2Data({ amountFen: req.amountFen })), req.mac2), SW.MAC_INVALID, 'MAC2');
    } finally {
      wipe(sessionKey);
    }
    return {};
  }

  /** What the PSAM computes MACs for: purchases (type 06) under SM4 key version 01. */
  private checkInputs(req: PurchaseInputs): void {
    check(req.transactionType === TRANSACTION_TYPES.PURCHASE, SW.INCORRECT_DATA, 'not a purchase');
    check(req.algorithmId === ALGORITHM_SM4, SW.INCORRECT_DATA, 'algorithm');
    check(req.keyVersion === APPLICATION_KEY_VERSION, SW.KEY_INDEX_NOT_SUPPORTED, 'key version');
  }

  /** The next sequence number, committed before it is used: a power cut after this never gives it again. */
  private takeSequence(): number {
    const next = this.memory.sequence + 1;
    check(next <= MAX_SEQUENCE, SW.TRANSACTION_COUNTER_MAX, 'sequence number exhausted');
    const store = this.memory.store;
    store.begin();
    this.memory.setSequence(next);
    store.commit();
    return next;
  }

  /**
   * JR/T 0025.2 purchase session key: SM4(DPK, card random || counter || last 2 bytes of the sequence
   * number), DPK = SM4-ECB(purchase master, cardId || FF*5 || 02) (keys/card-keys.ts, the key the card
   * holds in DGI 8000). Security: DPK is wiped here; the caller wipes the session key.
   */
  private sessionKey(req: PurchaseInputs, terminalSequence: number): Uint8Array {
    const rk = sm4KeySchedule(this.memory.purchaseMaster!);
    const dpk = sm4EncryptBlock(rk, applicationDiversificationBlock(cardIdToBytes(req.cardId), 'purchase'));
    rk.fill(0);
    try {
      return pbocPurchaseSessionKey(dpk, req.cardRandom, u32.encode(req.counter), u32.encode(terminalSequence));
    } finally {
      wipe(dpk);
    }
  }

  private forgetPurchase(): void {
    if (this.purchase) wipe(this.purchase.sessionKey);
    this.purchase = undefined;
  }
}
