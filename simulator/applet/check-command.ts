/**
 * @module checkCommand: the checks an applet makes from a command's definition before its handler runs
 * (the one home of these rules for the D-RMB applet and the PSAM applet): the route a header selects
 * among an applet's commands, then allowed P1/P2 values, secure-messaging class, lifecycle state, secure
 * channel level, data layout (6700 / 6A80), command order, PIN and line MAC.
 */
import type { CommandApdu } from '../../applet-spec/codec/apdu.js';
import { getResponse } from '../../applet-spec/commands/get-response.js';
import { select } from '../../applet-spec/commands/select.js';
import { type Command, commandsBefore } from '../../applet-spec/define-command.js';
import { FormatError } from '../../applet-spec/errors.js';
import type { AppState } from '../../applet-spec/lifecycle.js';
import { SW } from '../../applet-spec/status-words.js';
import { type CardFaultName, skipsCheck, wrongLengthSw } from '../card-faults.js';
import { check, IsoException } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';
import { checkLineMac } from './issuer-script.js';
import type { Route } from './route.js';

/**
 * The route of the command the header selects among `commands`. SELECT and GET RESPONSE belong to the
 * card OS (reaching the applet they carry a class the OS does not take for them: 6E00); an unknown P1/P2
 * of a known instruction is 6A86, an unknown instruction of a known class 6D00, any other class 6E00.
 */
export function resolveRoute(apdu: CommandApdu, commands: readonly Command<any, any>[], routes: ReadonlyMap<Command<unknown, unknown>, Route>): Route {
  const cmd = commands.find((c) => c.matches(apdu));
  if (cmd === select || cmd === getResponse) throw new IsoException(SW.CLA_NOT_SUPPORTED);
  const route = cmd && routes.get(cmd);
  if (route) return route;
  const base = apdu.cla & ~0x1c;
  if (commands.some((c) => c.ins === apdu.ins && c.cla === base)) throw new IsoException(SW.INCORRECT_P1P2);
  if (commands.some((c) => c.cla === base)) throw new IsoException(SW.INS_NOT_SUPPORTED);
  throw new IsoException(SW.CLA_NOT_SUPPORTED);
}

export interface CheckInput {
  /** the applet's lifecycle state */
  state: AppState;
  /** the command's CLA had the secure-messaging bit on the wire */
  smOnWire: boolean;
  /** the command came through the open SCP03 session */
  viaScp: boolean;
  /** a deliberately faulty variant skips or changes one check (simulator/card-faults.ts) */
  fault?: CardFaultName;
}

/** Checks the definition's conditions and decodes the request; returns the call that runs the handler. */
export function checkCommand(route: Route, apdu: CommandApdu, ctx: AppletContext, o: CheckInput): (ctx: AppletContext) => Uint8Array {
  const cmd = route.command;
  const t = ctx.session;
  // Header parameters with a list of allowed values (tags answer 6A88, other bytes 6A86).
  for (const p of [cmd.p1, cmd.p2]) {
    if (typeof p !== 'object' || !p.allowed) continue;
    const value = cmd.p1p2 ? (apdu.p1 << 8) | apdu.p2 : p === cmd.p1 ? apdu.p1 : apdu.p2;
    if (!p.allowed.includes(value)) throw new IsoException(cmd.p1p2 ? SW.REFERENCED_DATA_NOT_FOUND : SW.INCORRECT_P1P2);
  }
  if (cmd.secureMessaging === 'never' && o.smOnWire && !o.viaScp) throw new IsoException(SW.CLA_NOT_SUPPORTED);
  if (cmd.secureMessaging === 'required' && !o.smOnWire) throw new IsoException(SW.SECURITY_STATUS_NOT_SATISFIED);
  if (!skipsCheck(o.fault, 'state')) check(cmd.states.includes(o.state), SW.CONDITIONS_OF_USE_NOT_SATISFIED, `${cmd.name} in ${o.state}`);
  const sec = cmd.security;
  // The secure channel is checked before the data is parsed (GP Amd D 6.2.4): a wrapped command
  // arriving after its session closed (bad MAC, reset) carries MAC and ciphertext the card cannot
  // read, and is answered 6982, not 6A80.
  if (sec.channel) {
    const level = t.scp?.isOpen ? t.scp.securityLevel : 0;
    const need = sec.channel === 'C-MAC' ? 0x01 : 0x03;
    check(o.viaScp && (level & need) === need, SW.SECURITY_STATUS_NOT_SATISFIED, 'secure channel required');
  }

  let run: (ctx: AppletContext) => Uint8Array;
  try {
    run = route.prepare(apdu);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    const fixed = cmd.request.size;
    throw new IsoException(fixed !== undefined && apdu.data.length !== fixed ? wrongLengthSw(o.fault) : SW.INCORRECT_DATA, e.message);
  }

  if (sec.after) check(commandsBefore(sec).includes(t.lastCommand ?? ''), SW.CONDITIONS_OF_USE_NOT_SATISFIED, `${cmd.name} must follow ${commandsBefore(sec).join(' or ')}`);
  if (sec.pin === 'always' && !skipsCheck(o.fault, 'pin')) check(t.pinVerified, SW.SECURITY_STATUS_NOT_SATISFIED, 'PIN not verified');
  if (sec.lineMac && !skipsCheck(o.fault, 'line-mac')) checkLineMac(ctx, apdu, sec.lineMac);
  return run;
}
