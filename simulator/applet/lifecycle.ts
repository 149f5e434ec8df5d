/**
 * @module lifecycle: issuer scripts that move the application state: APPLICATION BLOCK and UNBLOCK
 * (EMV Book 3 6.5), and SET STATUS to TERMINATED (GP 2.3 11.10), refused while coins are held.
 */
import { applicationBlock } from '../../applet-spec/commands/application-block.js';
import { applicationUnblock } from '../../applet-spec/commands/application-unblock.js';
import { DRMB_AID } from '../../applet-spec/commands/aid.js';
import { setStatus } from '../../applet-spec/commands/set-status.js';
import { SW } from '../../applet-spec/status-words.js';
import { equalBytes } from '../../base/bytes.js';
import { check } from '../iso-exception.js';
import { type Handler, type Route, route } from './route.js';

const block: Handler<typeof applicationBlock> = (_r, ctx) => {
  ctx.memory.setState('LOCKED');
  return {};
};

const unblock: Handler<typeof applicationUnblock> = (_r, ctx) => {
  ctx.memory.setState('ISSUED');
  return {};
};

const terminate: Handler<typeof setStatus> = ({ aid }, ctx) => {
  check(equalBytes(aid, DRMB_AID), SW.REFERENCED_DATA_NOT_FOUND, 'not this application');
  check(ctx.memory.coinBytes.length === 0, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'coins still on the card: redeem first');
  ctx.memory.setState('TERMINATED');
  return {};
};

export const lifecycle: readonly Route[] = [route(applicationBlock, block), route(applicationUnblock, unblock), route(setStatus, terminate)];
