/** @module The codec-level error of applet-spec: FormatError, defined in the bottom layer (base/) so that crypto throws the same class. */
export { FormatError } from '../base/format-error.js';
