/**
 * @module Key material's public API (package subpath `drmb-toolchain/keys`): the roles and the bundle
 * each party loads its keys from (`RoleKeys`), key files with their key check values, the trust anchors
 * a terminal or bank verifies coins and signatures with, and the per-card key derivation.
 */
export { type BundleManifest, OWN_SIGNING_KEYS, ROLES, ROLE_BUNDLES, type Role, RoleBundleError, RoleKeys, type RoleSpec, isRole, loadRoleKey, readBundleManifest } from './role-bundles.js';
export {
  type CbMasterKeyFile,
  CB_MASTER_KEY_NAMES,
  type CbMasterKeyName,
  type OwnSigningKeyFile,
  type IssuerMasterKeyFile,
  ISSUER_MASTER_KEY_NAMES,
  type IssuerMasterKeyName,
  type Env,
  type IssuanceMasterKeyFile,
  ISSUANCE_MASTER_KEY_NAMES,
  type IssuanceMasterKeyName,
  KEY_KINDS,
  type KeyFile,
  KeyFileError,
  type KeyFileMap,
  type KeyKind,
  type KeySummary,
  type LoadKeyOptions,
  LOAD_MASTER_KEY_NAMES,
  type LoadMasterKeyFile,
  type LoadMasterKeyName,
  type MintMasterKeyFile,
  PURCHASE_MASTER_KEY_NAMES,
  type PurchaseMasterKeyFile,
  type PurchaseMasterKeyName,
  type ResolvedKey,
  type Sm2KeyFile,
  type Sm9KeyFile,
  loadKey,
  parseKeyFile,
  publicSummary,
  readKeyFile,
  resolveKey,
  wipeKeyFile,
} from './key-files.js';
export { AUTHORIZED_BANKS_FILE, AUTHORIZED_DESKS_FILE, type AuthorizedDesk, isBankEntry, isTerminalEntry, readAuthorizedDesks } from './authorized-desks.js';
export { TRUST_ANCHORS_FILE, type TrustAnchors, parseTrustAnchors, readTrustAnchors, trustAnchorsToJson, writeTrustAnchors } from './trust-anchors.js';
export { type ApplicationMasters, cardIdFromBytes, cardIdToBytes, cardScpKeys, psamScpKeys } from './card-keys.js';
