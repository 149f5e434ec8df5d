/**
 * @module pin: the holder PIN (ISO/IEC 7816-4 11.5.6, JR/T 0025.2): VERIFY, CHANGE PIN and RELOAD PIN,
 * with the try counter decremented persistently before the comparison, as Java Card OwnerPIN.check does.
 */
import { changePin } from '../../applet-spec/commands/change-pin.js';
import { reloadPin } from '../../applet-spec/commands/reload-pin.js';
import { verify } from '../../applet-spec/commands/verify.js';
import { DGIS } from '../../applet-spec/dgis.js';
import { SW, swTriesLeft } from '../../applet-spec/status-words.js';
import { equalBytes } from '../../base/bytes.js';
import { check, IsoException } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';
import { type Handler, type Route, route } from './route.js';

/** The stored form of a PIN: the first 8 bytes of its DGI 8010 value (ISO 9564 format 2 block). */
const pinBlock = (pin: string): Uint8Array => DGIS.referencePin.coder.encode({ pinBlock: pin }).subarray(0, 8);

/** Checks a PIN, decrementing the try counter first (persistently) as OwnerPIN.check does. */
function checkPin(ctx: AppletContext, pin: string): void {
  const m = ctx.memory;
  check(m.pinTriesLeft > 0, SW.AUTHENTICATION_METHOD_BLOCKED, 'PIN blocked');
  const tries = m.pinTriesLeft - 1;
  m.setPinTriesLeft(tries);
  if (!equalBytes(pinBlock(pin), m.pinReference!)) {
    ctx.session.pinVerified = false;
    throw new IsoException(swTriesLeft(tries), 'wrong PIN');
  }
  m.setPinTriesLeft(m.pinTryLimit);
  ctx.session.pinVerified = true;
}

/** A new reference PIN and a full try counter, in one transaction. */
function setPin(ctx: AppletContext, pin: string): Record<never, never> {
  const m = ctx.memory;
  m.store.begin();
  m.setPinReference(pinBlock(pin));
  m.setPinTriesLeft(m.pinTryLimit);
  m.store.commit();
  return {};
}

const verifyPin: Handler<typeof verify> = ({ pin }, ctx) => {
  if (pin === undefined) {
    // ISO 7816-4 11.5.6: no data asks for the state: 9000 when verified, else 63Cx (6983 blocked).
    check(ctx.memory.pinTriesLeft > 0, SW.AUTHENTICATION_METHOD_BLOCKED);
    check(ctx.session.pinVerified, swTriesLeft(ctx.memory.pinTriesLeft));
    return {};
  }
  checkPin(ctx, pin);
  return {};
};

const change: Handler<typeof changePin> = ({ oldPin, newPin }, ctx) => {
  checkPin(ctx, oldPin);
  return setPin(ctx, newPin);
};

const reload: Handler<typeof reloadPin> = ({ pin }, ctx) => setPin(ctx, pin);

export const pin: readonly Route[] = [route(verify, verifyPin), route(changePin, change), route(reloadPin, reload)];
