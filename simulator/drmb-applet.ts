/**
 * @module The D-RMB applet of the simulator: every command of applet-spec, dispatched and checked
 * (class, P1/P2, length, state, secure messaging, PIN, line MAC, command order) from the definitions,
 * then handed to its handler in `simulator/applet/`: SCP03 on the card side, both personalization
 * stages, PIN management, coin load, purse debit with SM9-signed export, peer transfer, idempotent
 * import, cyclic log and transaction proofs. Value-moving commands commit coins, counter, log and the
 * full response in one transaction before answering.
 */
import type { CommandApdu } from '../applet-spec/codec/apdu.js';
import { COMMANDS, commandForHeader } from '../applet-spec/commands.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { getChallenge } from '../applet-spec/commands/get-challenge.js';
import { getResponse } from '../applet-spec/commands/get-response.js';
import { fciCoder, select } from '../applet-spec/commands/select.js';
import { cardIdCoder } from '../applet-spec/data-objects.js';
import { CLA_SECURE_MESSAGING, type Command } from '../applet-spec/define-command.js';
import { SW } from '../applet-spec/status-words.js';
import { randomBytes } from '../base/bytes.js';
import { AppletContext } from './applet/applet-context.js';
import { cardData } from './applet/card-data.js';
import { checkCommand, resolveRoute } from './applet/check-command.js';
import { issuerScript } from './applet/issuer-script.js';
import { lifecycle } from './applet/lifecycle.js';
import { load } from './applet/load.js';
import { personalization } from './applet/personalization.js';
import { pin } from './applet/pin.js';
import { purchase } from './applet/purchase.js';
import { receive } from './applet/receive.js';
import type { Route } from './applet/route.js';
import { secureChannel, unwrapSecureCommand, wrapSecureResponse } from './applet/secure-channel.js';
import { transfer } from './applet/transfer.js';
import type { Applet } from './card-os.js';
import type { CardMemory } from './card-memory.js';
import { type CardFaultName, keepsSessionState, runWithFault } from './card-faults.js';

export { SCP03_I_PARAMETER } from './applet/secure-channel.js';

/** Every command's route, by its definition; SELECT and GET RESPONSE belong to the card OS. */
const ROUTES: ReadonlyMap<Command<unknown, unknown>, Route> = new Map(
  [...secureChannel, ...personalization, ...pin, ...load, ...purchase, ...transfer, ...receive, ...cardData, ...issuerScript, ...lifecycle].map((r) => [r.command, r]),
);

export interface DrmbAppletOptions {
  /** source of card randomness (challenges, card random, nonces); the CSPRNG by default */
  random?: (n: number) => Uint8Array;
  /** a deliberately faulty variant (card-faults.ts), for showing that a conformance suite catches it; none by default */
  fault?: CardFaultName;
}

/**
 * The simulator's D-RMB applet: dispatches every command of the command set to its handler after
 * checking what its definition declares.
 */
export class DrmbApplet implements Applet {
  readonly aid = DRMB_AID;
  private readonly ctx: AppletContext;
  private readonly fault: CardFaultName | undefined;
  /** the command process() resolved for the APDU it was given, for hasPersistentEffect on the same APDU */
  private resolved?: { apdu: CommandApdu; command: Command<unknown, unknown> };

  constructor(
    readonly memory: CardMemory,
    options: DrmbAppletOptions = {},
  ) {
    this.ctx = new AppletContext(memory, options.random ?? randomBytes);
    this.fault = options.fault;
    for (const c of COMMANDS) {
      if (c !== select && c !== getResponse && !ROUTES.has(c)) throw new Error(`DrmbApplet: no handler for ${c.name}`);
    }
  }

  // ---- card OS interface ---------------------------------------------------------------------

  select(): { data: Uint8Array; sw: number } {
    this.resetSession();
    const state = this.memory.state;
    if (state === 'TERMINATED') return { data: new Uint8Array(0), sw: SW.FUNCTION_NOT_SUPPORTED };
    const cardId = this.memory.dgi('cardRecord') ? cardIdCoder.decode(this.memory.cardId) : undefined;
    const label = this.ctx.dgi('fci')?.applicationLabel;
    const data = fciCoder.encode({
      aid: DRMB_AID,
      proprietary: { applicationLabel: label, issuerData: { cardId, appState: state } },
    });
    return { data, sw: state === 'LOCKED' ? SW.SELECTED_FILE_INVALIDATED : SW.OK };
  }

  deselect(): void {
    this.ctx.session.scp?.close();
    this.resetSession();
  }

  /** A new session: nothing verified, no channel, no last command (the pin-survives-select fault keeps the PIN verified). */
  private resetSession(): void {
    const keepPin = this.fault === 'pin-survives-select' && this.ctx.session.pinVerified;
    this.ctx.resetSession();
    if (keepPin) this.ctx.session.pinVerified = true;
  }

  hasPersistentEffect(apdu: CommandApdu): boolean {
    const command = this.resolved?.apdu === apdu ? this.resolved.command : commandForHeader(apdu);
    return command?.persistent !== undefined;
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
    this.resolved = undefined;
    try {
      const route = this.resolve(apdu);
      this.resolved = { apdu, command: route.command };
      const run = this.checkAndDecode(route, apdu, smOnWire, viaScp);
      const out = this.fault ? runWithFault(this.fault, route.command, this.memory, this.ctx.random, () => run(this.ctx)) : run(this.ctx);
      if (!keepsSessionState(this.fault, route.command)) {
        t.lastCommand = route.command.id;
        if (route.command !== getChallenge) t.challenge = undefined;
      }
      return out;
    } catch (e) {
      // ISO 7816-4 / JCRE: a failing command leaves persistent memory as it was (counters aside,
      // which are written outside any transaction before the check that can fail).
      if (store.powered && store.inTransaction) store.abort();
      this.ctx.session.lastCommand = undefined;
      this.ctx.session.challenge = undefined;
      throw e;
    }
  }

  /** The route of the command the header selects; the one lookup of the command per APDU. */
  private resolve(apdu: CommandApdu): Route {
    return resolveRoute(apdu, COMMANDS, ROUTES);
  }

  /** Checks the definition's conditions (applet/check-command.ts) and decodes the request. */
  private checkAndDecode(route: Route, apdu: CommandApdu, smOnWire: boolean, viaScp: boolean): (ctx: AppletContext) => Uint8Array {
    return checkCommand(route, apdu, this.ctx, { state: this.memory.state, smOnWire, viaScp, fault: this.fault });
  }
}
