// Every tag key certpipe writes, in one place: on the certificate secrets (the
// inventory scan reads them), on secret copies, on ACM certificates and on the
// ACME account secrets. The IAM policies allow `certpipe:*` keys only.

/** The prefix of every certpipe tag key (IAM conditions allow only these). */
export const TAG_PREFIX = 'certpipe:';

export const TAG = {
  managed: 'certpipe:managed',
  certificate: 'certpipe:certificate',
  notBefore: 'certpipe:not-before',
  notAfter: 'certpipe:not-after',
  serial: 'certpipe:serial',
  issuedAt: 'certpipe:issued-at',
  renewalTime: 'certpipe:renewal-time',
  issuer: 'certpipe:issuer',
  dnsNames: 'certpipe:dns-names',
  keyAlgorithm: 'certpipe:key-algorithm',
  /** What the current certificate was issued for (gate/fingerprint.ts): the staging gate compares it with the config. */
  gateFingerprint: 'certpipe:gate-fingerprint',
  pendingOrder: 'certpipe:pending-order',
  /** Targets the last publish could not reach (comma list); the next run publishes them without a new order. */
  publishPending: 'certpipe:publish-pending',
  copyOf: 'certpipe:copy-of',
  /** The CA's Retry-After past an execution's end (ISO time): CheckExpiry does not ask before it. */
  deferredUntil: 'certpipe:deferred-until',
  /** Why: `DeferredByCa` (Retry-After; absent on older secrets) or `RateLimitBudget` (budget/). */
  deferredReason: 'certpipe:deferred-reason',
  /** The certificate's ARI identifier (RFC 9773 §4.1), written with the certificate: CheckExpiry reads no PEM. */
  ariCertId: 'certpipe:ari-cert-id',
  /** CheckExpiry's cached renewalInfo answer (acme/ariCache.ts): certID, window, renewal time, next check. */
  ariCache: 'certpipe:ari',
  /** The CA's explanationURL with that answer, when it gave one. */
  ariExplanation: 'certpipe:ari-explanation',
  acmPrefix: 'certpipe:acm:',
  /** The TXT values PlaceChallenges is about to write for one order (store/challengeHolders.ts). */
  challengeValuesPrefix: 'certpipe:challenge-values:',
  /** An execution working on those values, with the end of its lease. */
  challengeHolderPrefix: 'certpipe:challenge-holder:',
  /** On an issuer's ACME account secret: the issuer's name and its directory. */
  acmeAccount: 'certpipe:acme-account',
  directoryUrl: 'certpipe:directory-url',
  /** The budget's ledger (budget/ledger.ts): the times of the orders placed for this certificate in the last 3 hours. */
  orders: 'certpipe:orders',
  /** The budget's ledger: authorizations that failed in the last hour, `<time>:<identifier digest>` each. */
  failedAuthz: 'certpipe:failed-authz',
  /** On a certificate secret: its latest revocation, `<ISO time> <reason> <serial>` (acme/revocation.ts). */
  revoked: 'certpipe:revoked',
} as const;
