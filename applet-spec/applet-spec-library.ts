/**
 * @module The D-RMB command set as code, public API (package subpath `drmb-toolchain/applet-spec`):
 * every card command's definition (`COMMANDS`, each encoding its request and decoding its response) and
 * the PSAM's (`PSAM_COMMANDS`), the status-word table, the application lifecycle, the data objects and
 * DGIs, the value formats (coin, export packet, receipt, log record, card certificate) and the ISO 7816-4
 * APDU, BER-TLV and DGI codecs they are built from.
 */
export * as commands from './commands.js';
export { COMMANDS, type CommandId, commandById, commandForHeader } from './commands.js';
export * as psamCommands from './psam-commands.js';
export { PSAM_COMMANDS, psamCommandForHeader } from './psam-commands.js';
export { type Command, type CommandExample, type CommandSpec, type HeaderByte, type ParamDefinition, type ParamFields, type RequestOf, type ResponseOf, type SecurityCondition, defineCommand } from './define-command.js';
export { type StatusWordInfo, SW, type SwName, type SwOrigin, describeSw, formatSw, isSuccess, statusWordTable } from './status-words.js';
export { APP_STATES, APP_STATE_NAMES, type AppState, appStateFromByte } from './lifecycle.js';
export { type Access, DATA_OBJECTS, type DataObject, type DataObjectName, TAG, dataObjectByTag } from './data-objects.js';
export { APPLICATION_KEY_NAMES, type ApplicationKeyName, DGIS, type DgiDefinition, type DgiProtection, type DgiName, type DgiValue, dgiByNumber } from './dgis.js';
export {
  CNY,
  type CardCertificate,
  type Coin,
  type ExportBody,
  type ExportHeader,
  type ExportPacket,
  type ImportResponse,
  type LogRecord,
  MAX_COINS_PER_TRANSFER,
  MAX_SINGLE_LIMIT_FEN,
  NO_WITHDRAWAL_CODE,
  type Receipt,
  TRANSACTION_TYPES,
  type TransactionType,
  cardCertificateCoder,
  coinCoder,
  exportBodyCoder,
  exportHeaderCoder,
  exportPacketCoder,
  importResponseCoder,
  logRecordCoder,
  receiptCoder,
} from './value-formats.js';
export { type Coder, type Infer, type LayoutRow, type Reader, type StructValue, type TlvTemplateValue } from './codec/fields.js';
export { type CommandApdu, type ResponseApdu, decodeCommandApdu, decodeResponseApdu, encodeCommandApdu, encodeResponseApdu, swToHex } from './codec/apdu.js';
export { type ParseTlvOptions, type Tlv, encodeTlv, encodeTlvList, findTlv, parseTlv } from './codec/tlv.js';
export { type Dgi, type ParseDgiOptions, encodeDgi, encodeDgiList, parseDgiList } from './codec/dgi.js';
