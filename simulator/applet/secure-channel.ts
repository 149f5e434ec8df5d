/**
 * @module secureChannel: the card side of SCP03 in the applet: INITIALIZE UPDATE and EXTERNAL
 * AUTHENTICATE (GP 2.3 11.7-11.8, Amendment D 7.1), unwrapping commands and wrapping responses of an
 * open session, and closing it.
 */
import type { CommandApdu } from '../../applet-spec/codec/apdu.js';
import { externalAuthenticate } from '../../applet-spec/commands/external-authenticate.js';
import { initializeUpdate, KEY_VERSIONS } from '../../applet-spec/commands/initialize-update.js';
import { CLA_SECURE_MESSAGING } from '../../applet-spec/define-command.js';
import { FormatError } from '../../applet-spec/errors.js';
import { SW } from '../../applet-spec/status-words.js';
import { SecureChannelError } from '../../crypto/scp03.js';
import { Scp03CardSession } from '../scp03-card-session.js';
import { MAX_AUTH_FAILURES } from '../card-memory.js';
import { check, IsoException } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';
import { type Handler, type Route, route } from './route.js';

/** SCP03 "i" parameter: S8 mode, random card challenge, R-MAC and R-ENC supported (Amd D 5.1). */
export const SCP03_I_PARAMETER = 0x60;

/** Ends the secure channel session, if any. */
export function closeChannel(ctx: AppletContext): void {
  ctx.session.scp?.close();
  ctx.session.scp = undefined;
  ctx.session.scpKvn = undefined;
}

/**
 * Secure messaging on the wire: returns the command in clear and records whether it came through the
 * open session. A plain INITIALIZE UPDATE in an open session reaches its handler, which closes the
 * session and starts a new one (GP Amd D 7.1.1); any other command must carry the session's C-MAC.
 */
export function unwrapSecureCommand(ctx: AppletContext, command: Uint8Array, apdu: CommandApdu): Uint8Array {
  const t = ctx.session;
  t.smOnWire = (apdu.cla & CLA_SECURE_MESSAGING) !== 0;
  t.viaScp = false;
  const scp = t.scp;
  if (!scp || !scp.isOpen) return command;
  if (!t.smOnWire && initializeUpdate.matches(apdu)) {
    closeChannel(ctx);
    return command;
  }
  try {
    const plain = scp.unwrapCommand(command);
    t.viaScp = true;
    return plain;
  } catch (e) {
    closeChannel(ctx);
    if (e instanceof SecureChannelError) throw new IsoException(e.sw ?? SW.SECURITY_STATUS_NOT_SATISFIED, e.reason);
    if (e instanceof FormatError) throw new IsoException(SW.WRONG_LENGTH);
    throw e;
  }
}

/** Secure messaging of a response (data + SW) to a command that came through the open session. */
export function wrapSecureResponse(ctx: AppletContext, response: Uint8Array): Uint8Array {
  const scp = ctx.session.scp;
  if (!ctx.session.viaScp || !scp?.isOpen) return response;
  return scp.wrapResponse(response);
}

const openSession: Handler<typeof initializeUpdate> = (_req, ctx, apdu) => {
  closeChannel(ctx);
  const kvn = apdu.p1 === 0 ? KEY_VERSIONS.PERSONALIZATION : apdu.p1;
  const keys = ctx.memory.scpKeys(kvn);
  check(keys, SW.REFERENCED_DATA_NOT_FOUND, 'unknown key version');
  check(ctx.memory.authFailures < MAX_AUTH_FAILURES, SW.AUTHENTICATION_METHOD_BLOCKED, 'too many failed authentications');
  try {
    const { session, response } = Scp03CardSession.initializeUpdate(apdu, {
      keys,
      kvn,
      kdd: ctx.memory.cardId,
      iParameter: SCP03_I_PARAMETER,
      cardChallenge: ctx.random(8),
    });
    ctx.session.scp = session;
    ctx.session.scpKvn = kvn;
    return response;
  } catch (e) {
    if (e instanceof SecureChannelError) throw new IsoException(e.sw ?? SW.INCORRECT_DATA, e.reason);
    throw e;
  }
};

const authenticate: Handler<typeof externalAuthenticate> = (_req, ctx, apdu) => {
  const scp = ctx.session.scp;
  check(scp, SW.CONDITIONS_OF_USE_NOT_SATISFIED);
  try {
    scp.processExternalAuthenticate(apdu);
  } catch (e) {
    closeChannel(ctx);
    // GP 2.3 11.8.2: failed authentications are counted persistently, outside any transaction.
    ctx.memory.setAuthFailures(ctx.memory.authFailures + 1);
    if (e instanceof SecureChannelError) throw new IsoException(SW.AUTHENTICATION_FAILED, e.reason);
    throw e;
  }
  ctx.memory.setAuthFailures(0);
  ctx.session.nextBlock = 0;
  ctx.session.lastBlockSeen = false;
  return {};
};

export const secureChannel: readonly Route[] = [route(initializeUpdate, openSession), route(externalAuthenticate, authenticate)];
