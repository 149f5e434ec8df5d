/** @module The D-RMB applet's AID and the fixed example values shared by command examples. */
import { fromHex } from '../../base/hex.js';

/**
 * Application identifier of the D-RMB applet: F0 (ISO 7816-5 unregistered proprietary RID category)
 * || "DRMB" || 01. A registered RID replaces it once one is assigned.
 */
export const DRMB_AID = fromHex('F0 44 52 4D 42 01');

/**
 * Application identifier of the D-RMB PSAM applet (the POS terminal's purchase secure access module,
 * applet-spec/psam-commands.ts): F0 || "DRMB" || "P" || 01, beside the card's DRMB_AID in the same
 * unregistered proprietary range until a registered RID is assigned.
 */
export const PSAM_AID = fromHex('F0 44 52 4D 42 50 01');
