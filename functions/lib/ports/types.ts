// The narrow seams between the steps and the outside world: what a step needs,
// not the SDK. The real implementations live beside this file (one per port, so
// a function bundles only the ones its handler names); the unit tests pass
// in-memory ones (test/unit/steps/memoryPorts.ts).
import type { RevocationRecord } from '../acme/revocation.js';
import type { OrderRecord } from '../acme.js';
import type { AriCache } from '../acme/ariCache.js';
import type { CertificateSpec, Issuer, KeyAlgorithm, Target } from '../inventory.js';
import type { DnsChallengeRecord } from '../acme/challenge.js';
import type { OfferedProfiles } from '../acme/profiles.js';
import type { PresentedRecord } from '../dns/route53.js';
import type { ChallengeTags } from '../store/challengeHolders.js';
import type { ClaimInput, ClaimOptions, ClaimOutcome } from '../store/certificateStore.js';
import type { InventoryScan, IssuedCertificate, PendingVersion } from '../store/model.js';
import type { DeferralReason } from '../store/deferral.js';
import type { VerifiedCertificate, VerifyIssuedInput } from '../x509.js';

/** The certificate's primary secret: its versions (AWSPENDING claim or verified, AWSCURRENT) and its tags. */
export interface CertificateRecords {
  scanInventory(specs: readonly Pick<CertificateSpec, 'name' | 'dnsNames' | 'secretName'>[]): Promise<InventoryScan>;
  readPending(spec: CertificateSpec): Promise<PendingVersion | undefined>;
  readCurrent(spec: CertificateSpec): Promise<{ versionId: string; issued: IssuedCertificate } | undefined>;
  /** The latest revocation `certpipe revoke` recorded (a revoked certificate's key is never reused). */
  readRevocation(spec: CertificateSpec): Promise<RevocationRecord | undefined>;
  claimPending(spec: CertificateSpec, input: ClaimInput, options?: ClaimOptions): Promise<ClaimOutcome>;
  storeIssued(spec: CertificateSpec, issued: IssuedCertificate, options: { claimVersionId: string }): Promise<string>;
  abandonPending(spec: CertificateSpec, pendingVersionId: string): Promise<void>;
  promote(spec: CertificateSpec, options: { now: Date; renewalTime?: Date; serial?: string; gateFingerprint?: string }): Promise<IssuedCertificate>;
  recordPublishPending(spec: CertificateSpec, targets: readonly string[]): Promise<void>;
  /** The CA's Retry-After past this execution, or the budget's next slot; false when the secret does not exist yet. */
  recordDeferral(spec: CertificateSpec, until: Date, reason?: DeferralReason): Promise<boolean>;
  /** The rate-limit budget's ledger: an order placed at the CA (issued or not, the CA counts it). */
  recordOrderPlaced(spec: CertificateSpec, at: Date): Promise<void>;
  /** The rate-limit budget's ledger: identifiers whose authorization the CA failed. */
  recordFailedAuthorizations(spec: CertificateSpec, identifiers: readonly string[], at: Date): Promise<void>;
}

/** The challenge tags on the primary secret (store/challengeHolders.ts): who still needs which values. */
export interface ChallengeHolds {
  read(spec: CertificateSpec): Promise<ChallengeTags>;
  hold(spec: CertificateSpec, input: { orderUrl: string; values: readonly string[]; executionId?: string; leaseEndsAt: Date }): Promise<void>;
  release(spec: CertificateSpec, executionId: string | undefined): Promise<void>;
  untag(spec: CertificateSpec, keys: readonly string[]): Promise<void>;
}

/** One issuer's ACME account: the requests the steps make, one each. */
export interface AcmeAccount {
  /** The directory's `meta.profiles`; undefined when the CA offers none. */
  offeredProfiles(): Promise<OfferedProfiles | undefined>;
  /** `profile` as checked against offeredProfiles; `replaces`: the renewed certificate's ARI identifier, sent only when the CA offers ARI. */
  createOrder(dnsNames: string[], options?: { profile?: string; replaces?: string }): Promise<OrderRecord>;
  /** One status request; throws AcmeOrderInvalid when the CA gave up on the order. */
  orderStatus(orderUrl: string): Promise<OrderRecord>;
  /** The TXT values the CA still waits for. */
  dnsChallenges(order: OrderRecord): Promise<DnsChallengeRecord[]>;
  completeChallenges(order: OrderRecord): Promise<void>;
  finalize(order: OrderRecord, csrPem: string): Promise<OrderRecord>;
  downloadCertificate(order: OrderRecord): Promise<string>;
}

/** The CA's renewal information (RFC 9773) for CheckExpiry, and where its answers are kept. */
export interface RenewalInformation {
  /** The directory's renewalInfo URL; undefined when the CA offers no ARI. */
  renewalInfoUrl(directoryUrl: string): Promise<string | undefined>;
  /** One unauthenticated GET; throws when the CA gives no usable answer. */
  fetch(renewalInfoUrl: string, certId: string): Promise<{ body: unknown; retryAfter: string | null }>;
  /** Keep the answer in the certificate's tags, for the runs until its Retry-After. */
  remember(spec: CertificateSpec, cache: AriCache): Promise<void>;
}

export interface Acme {
  account(issuer: Issuer): Promise<AcmeAccount>;
}

/** Writes and removes TXT values in the zones a certificate may use; never checks propagation. */
export interface ChallengeZone {
  /** Merge the values in; returns where each was really written (CNAME delegation followed) and the change ids. */
  present(records: readonly { fqdn: string; value: string }[]): Promise<{ records: PresentedRecord[]; changeIds: string[] }>;
  /** Remove every value `isOurs` recognises at the names; an absent record is clean. */
  cleanUpMatching(names: readonly { fqdn: string; zoneId?: string }[], isOurs: (value: string) => boolean): Promise<unknown>;
  /** True when every change is applied (Route 53 INSYNC). */
  changesApplied(changeIds: readonly string[]): Promise<boolean>;
}

export interface ChallengeDns {
  zoneFor(spec: CertificateSpec): ChallengeZone;
}

/** The check of what the CA returned (x509/verify.ts): all PublishCertificate needs. */
export interface CertificateChecks {
  /** Throws CertificateVerificationFailed listing every problem. */
  verify(input: VerifyIssuedInput): VerifiedCertificate;
}

/** Keys, CSRs and the check (x509.ts): what ordering needs. */
export interface Certificates extends CertificateChecks {
  newPrivateKey(alg: KeyAlgorithm): Promise<string>;
  csr(privateKeyPem: string, dnsNames: string[]): Promise<string>;
}

/** The targets a certificate is published to besides its primary secret. */
export interface PublishTargets {
  /** The primary secret's target id, `secretsmanager:<account>:<region>:<name>`. */
  primaryId(spec: CertificateSpec): Promise<string>;
  /** Write `issued` to `target` (a secret copy, or an ACM import); returns the target id it now holds. */
  publish(spec: CertificateSpec, target: Target, issued: IssuedCertificate): Promise<string>;
}

/** EventBridge: consumers reload on these. The detail holds public fields only. */
export interface CertificateEvents {
  put(detailType: string, detail: Record<string, unknown>): Promise<void>;
}
