/**
 * @module Personalization's public API (package subpath `drmb-toolchain/personalization`): the key
 * ceremony and the export of one key bundle per role, card profiles, central-bank card prep and
 * commercial-bank issuance over any transport, PSAM personalization, the KGC (in process, as an HTTP
 * service, and its clients), issuance manifests, the audit log and batch runs.
 */
export { type CeremonyFile, type GenerateKeyOptions, type InitKeyDirectoryResult, generateKey, initKeyDirectory } from './key-ceremony.js';
export { type BundleFile, type ExportResult, exportRoleBundle } from './role-bundle-export.js';
export {
  type HolderData,
  type IssueProfile,
  type LoadedProfile,
  type PinPolicy,
  type PrepareProfile,
  type Problem,
  type Profile,
  ProfileError,
  type RiskDefaults,
  type TierCaps,
  type Validation,
  checkCapsFitDefaults,
  loadProfile,
  profileHash,
  loadIssueProfile,
  loadPrepareProfile,
  validateIssueProfile,
  validatePrepareProfile,
} from './profiles.js';
export { type IssueKeys, PersoError, type PersoContext, type PersoResult, type PrepareKeys, issueCard, prepareCard } from './card-prep.js';
export { type IssuePlanInput, type PersoCrypto, PersoCryptoError, type PlanOptions, type StagePlan, inThreadPersoCrypto, issuePlan, preparePlan } from './perso-crypto.js';
export { PersoCryptoPool, type PersoCryptoPoolOptions } from './perso-crypto-pool.js';
export { type StoreDataStep } from './store-data-script.js';
export { type PsamPersoData, PsamPersoError, personalizePsam } from './personalize-psam.js';
export { type EncryptedUserKeys, type InProcessKgc, type KeyExtractionRequest, type KgcComputer, type KgcMasterKeys, type UserKeySource, inProcessKgc } from './kgc.js';
export { KgcError, type TerminalUserKeys, remoteKgc, terminalKeysFromKgc } from './kgc-client.js';
export { type KgcService, type KgcServiceOptions, startKgcService } from './kgc-service.js';
export { type LocalService } from '../io/local-service.js';
export { type DeskOperation, Manifest, type ManifestEntry, type Stage } from './manifest.js';
export { type AuditEvent, appendAudit, verifyAuditLog } from './audit-log.js';
export { type BatchItem, type BatchJob, type BatchOptions, type BatchProgress, type BatchSummary, type CardSlot, runBatch } from './batch.js';
export { type ScriptKeys, runScript } from './run-script.js';
