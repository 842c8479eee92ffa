// The metrics the functions emit (Embedded Metric Format, through Powertools) and
// the alarms and dashboard read: one list for both sides. An alarm must name the
// exact metric, namespace and dimension set a metric is published with, so every
// name here is part of the contract (infra/constructs/metrics.ts imports them).

/** Powertools' `service`: the POWERTOOLS_SERVICE_NAME of every function and a dimension on every metric. */
export const SERVICE_NAME = 'certpipe';
/** POWERTOOLS_METRICS_NAMESPACE of every function. */
export const METRICS_NAMESPACE = 'Certpipe';

export const METRIC = {
  /** Days until the soonest expiry across all certificates (CheckExpiry, every run). Dimensions: service. */
  MinDaysToExpiry: 'MinDaysToExpiry',
  /**
   * The expiry alarm's metric (CheckExpiry, every run): the fewest days left among certificates
   * at risk (under a sixth of their lifetime left), 365 when none is (expiryRisk.ts). Dimensions: service.
   */
  MinDaysToExpiryAtRisk: 'MinDaysToExpiryAtRisk',
  /** Per certificate: days until notAfter, negative once expired. Dimensions: service, Certificate. */
  DaysToExpiry: 'DaysToExpiry',
  /** Per certificate: notAfter as Unix seconds. Dimensions: service, Certificate. */
  ExpirationTimestamp: 'ExpirationTimestamp',
  /** Certificates renewed in a run (Summarize). Dimensions: service. */
  RenewalsSucceeded: 'RenewalsSucceeded',
  /** Certificates that failed in a run (Summarize). Dimensions: service. */
  RenewalsFailed: 'RenewalsFailed',
  /** Due certificates left for a later run because the issuer's rate-limit budget is spent (CheckExpiry). Not a failure. Dimensions: service. */
  RenewalsDeferredByBudget: 'RenewalsDeferredByBudget',
  /** Staging rehearsals that failed in a run, each blocking its certificate's production order (Summarize). Dimensions: service. */
  StagingGateBlocked: 'StagingGateBlocked',
  /** 1 when the canary was issued and published in a run, 0 when it failed (Summarize). Dimensions: service. */
  CanarySucceeded: 'CanarySucceeded',
  /** Seconds from the run's expiry check to the canary's end, when it succeeded (Summarize). Dimensions: service. */
  CanaryDurationSeconds: 'CanaryDurationSeconds',
  /** ACME HTTP requests. Dimensions: service, Status (the HTTP status code, or `error` when no response came back). */
  AcmeRequests: 'AcmeRequests',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export const DIMENSION = { Certificate: 'Certificate', Status: 'Status' } as const;

/**
 * The Status values the ACME error-rate alarm adds up. An alarm's math may use
 * at most 10 metrics, so these are the statuses an ACME server answers with:
 * success (200 OK, 201 Created, 204 No Content), and the failures that matter
 * (no response, 400 malformed/badNonce, 403 unauthorized, 404, 429 rate
 * limited, 500, 503 maintenance).
 */
export const ACME_OK_STATUSES = ['200', '201', '204'] as const;
export const ACME_ERROR_STATUSES = ['error', '400', '403', '404', '429', '500', '503'] as const;
