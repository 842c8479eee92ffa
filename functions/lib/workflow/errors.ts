// Typed errors. Each class's `name` is part of the workflow contract: the ASL's
// Retry and Catch match it (statemachines/renewal.asl.json), so never rename one
// without changing the ASL. Each class spells its name out: the bundles are
// minified, and a name taken from the class itself would be minified with it.
// Messages carry names, ids and URLs only, never key material.

/** Base class of every certpipe error. */
export class CertpipeError extends Error {
  /** True when the workflow may retry the same step (the ASL's Retry lists these names). */
  readonly retryable: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertpipeError';
  }
}

/** Input or config that can never succeed; fix the config or the input. */
export class InvalidInput extends CertpipeError {
  override readonly name: string = 'InvalidInput';
}

/** The CA or an AWS API asked us to slow down (HTTP 429, rateLimited, Throttling). */
export class RateLimited extends CertpipeError {
  override readonly name: string = 'RateLimited';
  override readonly retryable = true;
  constructor(message: string, readonly retryAfterSeconds?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The ACME server could not be reached or answered 5xx / badNonce after the client's own retry. */
export class AcmeUnavailable extends CertpipeError {
  override readonly name: string = 'AcmeUnavailable';
  override readonly retryable = true;
  /** The CA's Retry-After (a 503 may carry one); the step then waits in the ASL instead of throwing. */
  readonly retryAfterSeconds?: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The ACME order or one of its authorizations became invalid; a new order is needed. */
export class AcmeOrderInvalid extends CertpipeError {
  override readonly name: string = 'AcmeOrderInvalid';
  /** Identifiers whose authorization the CA marked invalid: what its failed-authorization limit counts. */
  readonly failedIdentifiers: readonly string[];
  constructor(message: string, options?: { cause?: unknown; failedIdentifiers?: readonly string[] }) {
    super(message, options);
    this.failedIdentifiers = options?.failedIdentifiers ?? [];
  }
}

/**
 * The order is not ready for what was asked of it. FinalizeOrder turns it into a
 * `waiting` result (a Wait loop in the ASL, not a function error); it escapes only
 * when the order stayed unfinished for all of FinalizeOrder's attempts.
 */
export class AcmeOrderNotReady extends CertpipeError {
  override readonly name: string = 'AcmeOrderNotReady';
}

/** The ACME server rejected a request for a reason retrying will not fix (unauthorized, rejectedIdentifier, …). */
export class AcmeRequestRejected extends CertpipeError {
  override readonly name: string = 'AcmeRequestRejected';
}

/** The configured ACME profile is not in the CA's directory `meta.profiles`; the message lists those offered. */
export class ProfileNotOffered extends CertpipeError {
  override readonly name: string = 'ProfileNotOffered';
}

/** The TXT records did not become visible within the configured attempts. */
export class DnsPropagationTimeout extends CertpipeError {
  override readonly name: string = 'DnsPropagationTimeout';
}

/** No hosted zone in the config or the account covers a DNS name. */
export class HostedZoneNotFound extends CertpipeError {
  override readonly name: string = 'HostedZoneNotFound';
}

/** The certificate the CA returned does not match the key, the names or the chain. Never published. */
export class CertificateVerificationFailed extends CertpipeError {
  override readonly name: string = 'CertificateVerificationFailed';
}

/** A publish target (Secrets Manager copy, ACM import) failed; others may have succeeded. */
export class PublishFailed extends CertpipeError {
  override readonly name: string = 'PublishFailed';
  constructor(message: string, readonly failedTargets: string[], options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** ACM would reject the re-import (key algorithm or size changed); caught before calling ACM. */
export class AcmReimportIncompatible extends CertpipeError {
  override readonly name: string = 'AcmReimportIncompatible';
}

/**
 * Another execution replaced the claim this renewal was finalizing: its renewal
 * wins, this certificate is not stored. Not retried: the other execution finishes.
 */
export class RenewalInProgress extends CertpipeError {
  override readonly name: string = 'RenewalInProgress';
}

/** A step returned output outside its state's contract (workflow/states.ts): a bug, never retried. */
export class StateOutputInvalid extends CertpipeError {
  override readonly name: string = 'StateOutputInvalid';
}

/** A transient AWS failure (throttling, 5xx, PriorRequestNotComplete) that outlived the SDK's retries. */
export class AwsTransient extends CertpipeError {
  override readonly name: string = 'AwsTransient';
  override readonly retryable = true;
}

/** Names the ASL retries with backoff. */
export const RETRYABLE_ERROR_NAMES = ['RateLimited', 'AcmeUnavailable', 'AwsTransient'] as const;
