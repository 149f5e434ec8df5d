/**
 * @module Key material's public API (package subpath `drmb-toolchain/keys`): the roles and the bundle
 * each party loads its keys from (`RoleKeys`), key files with their key check values, the trust anchors
 * a terminal or bank verifies coins and signatures with, and the per-card key derivation.
 */
export { type BundleManifest, ROLES, ROLE_BUNDLES, type Role, RoleBundleError, RoleKeys, type RoleSpec, isRole, loadRoleKey, readBundleManifest } from './role-bundles.js';
export { KEY_KINDS, type KeyFile, KeyFileError, type KeyKind, type KeySummary, loadKey, publicSummary, readKeyFile, wipeKeyFile } from './key-files.js';
export { TRUST_ANCHORS_FILE, type TrustAnchors, parseTrustAnchors, readTrustAnchors, trustAnchorsToJson, writeTrustAnchors } from './trust-anchors.js';
export { cardIdFromBytes, cardIdToBytes, cardScpKeys, psamScpKeys } from './card-keys.js';
