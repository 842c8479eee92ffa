// Typed errors. Each class's `name` is part of the workflow contract: the ASL's
// Retry and Catch match it (statemachines/renewal.asl.json), so never rename one
// without changing the ASL. Messages carry names, ids and URLs only, never key material.

/** Base class of every certpipe error. */
export class CertpipeError extends Error {
  /** True when the workflow may retry the same step (the ASL's Retry lists these names). */
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input or config that can never succeed; fix the config or the input. */
export class InvalidInput extends CertpipeError {}

/** The CA or an AWS API asked us to slow down (HTTP 429, rateLimited, Throttling). */
export class RateLimited extends CertpipeError {
  override readonly retryable = true;
  constructor(message: string, readonly retryAfterSeconds?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The ACME server could not be reached or answered 5xx / badNonce after the client's own retry. */
export class AcmeUnavailable extends CertpipeError {
  override readonly retryable = true;
  /** The CA's Retry-After (a 503 may carry one); the step then waits in the ASL instead of throwing. */
  readonly retryAfterSeconds?: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The ACME order or one of its authorizations became invalid; a new order is needed. */
export class AcmeOrderInvalid extends CertpipeError {}

/**
 * The order is not ready for what was asked of it. FinalizeOrder turns it into a
 * `waiting` result (a Wait loop in the ASL, not a function error); it escapes only
 * when the order stayed unfinished for all of FinalizeOrder's attempts.
 */
export class AcmeOrderNotReady extends CertpipeError {}

/** The ACME server rejected a request for a reason retrying will not fix (unauthorized, rejectedIdentifier, …). */
export class AcmeRequestRejected extends CertpipeError {}

/** The TXT records did not become visible within the configured attempts. */
export class DnsPropagationTimeout extends CertpipeError {}

/** No hosted zone in the config or the account covers a DNS name. */
export class HostedZoneNotFound extends CertpipeError {}

/** The certificate the CA returned does not match the key, the names or the chain. Never published. */
export class CertificateVerificationFailed extends CertpipeError {}

/** A publish target (Secrets Manager copy, ACM import) failed; others may have succeeded. */
export class PublishFailed extends CertpipeError {
  constructor(message: string, readonly failedTargets: string[], options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** ACM would reject the re-import (key algorithm or size changed); caught before calling ACM. */
export class AcmReimportIncompatible extends CertpipeError {}

/**
 * Another execution replaced the claim this renewal was finalizing: its renewal
 * wins, this certificate is not stored. Not retried: the other execution finishes.
 */
export class RenewalInProgress extends CertpipeError {}

/** A step returned output outside its state's contract (workflow/states.ts): a bug, never retried. */
export class StateOutputInvalid extends CertpipeError {}

/** A transient AWS failure (throttling, 5xx, PriorRequestNotComplete) that outlived the SDK's retries. */
export class AwsTransient extends CertpipeError {
  override readonly retryable = true;
}

/** Names the ASL retries with backoff. */
export const RETRYABLE_ERROR_NAMES = ['RateLimited', 'AcmeUnavailable', 'AwsTransient'] as const;
