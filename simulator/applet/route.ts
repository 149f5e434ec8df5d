/**
 * @module route: a handler registered against its command definition and typed from it. The route
 * decodes the request with the command's request coder and encodes the handler's response value with
 * the command's response coder, so handlers never see or build APDU bytes of their own.
 */
import type { CommandApdu } from '../../applet-spec/codec/apdu.js';
import type { Command, RequestOf, ResponseOf } from '../../applet-spec/define-command.js';
import type { AppletContext } from './applet-context.js';

/** A command handler: the decoded request in, the response value out (or IsoException). */
export type Handler<C> = (req: RequestOf<C>, ctx: AppletContext, apdu: CommandApdu) => ResponseOf<C>;

/** A command definition with its handler, its request and response types erased behind the coders. */
export interface Route {
  readonly command: Command<unknown, unknown>;
  /**
   * Decodes the request (throws FormatError when the data does not fit the layout) and returns the
   * call that runs the handler and encodes its response: the dispatcher checks the command's security
   * condition in between.
   */
  prepare(apdu: CommandApdu): (ctx: AppletContext) => Uint8Array;
}

/** Registers `handler` for `command`. */
export function route<Req, Res>(command: Command<Req, Res>, handler: Handler<Command<Req, Res>>): Route {
  return {
    command,
    prepare(apdu) {
      const req = command.decode(apdu);
      return (ctx) => command.encodeResponse(handler(req, ctx, apdu));
    },
  };
}
