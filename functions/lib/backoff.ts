// When a step must not ask the CA again yet: the CA's Retry-After (429 rateLimited,
// 503) and an order the CA is still working on. Pure decisions over plain data and
// `now`; the ASL does the waiting (Wait with SecondsPath), never a function.
import { AcmeUnavailable, RateLimited } from './workflow/errors.js';

/** The execution this step runs in: when it started and how long the state machine lets it run. */
export interface ExecutionWindow {
  readonly startTime: string;
  readonly timeoutSeconds: number;
}

/** Wait in the ASL, then run the same step again. */
export interface Waiting {
  readonly status: 'waiting';
  readonly waitSeconds: number;
  /** Why: `RateLimited`, `AcmeUnavailable` or `OrderNotReady`. */
  readonly cause: string;
  /** Attempts of this step so far (bounds the not-ready loop). */
  readonly attempt: number;
}

/** Not in this execution: the certificate ends `deferred` and may retry at `retryAfter`. */
export interface Deferred {
  readonly status: 'deferred';
  readonly retryAfter: string;
  readonly cause: string;
}

export type Pause = Waiting | Deferred;

/** A Wait state needs at least a second; a CA's "0" still means "not this instant". */
const MIN_WAIT_SECONDS = 1;

/**
 * Time kept back at the end of the execution for the work after the wait (propagation,
 * finalize, publish, cleanup): a quarter of the timeout, at most 15 minutes.
 */
export function reservedSeconds(timeoutSeconds: number): number {
  return Math.min(900, Math.floor(timeoutSeconds / 4));
}

/** The CA's Retry-After carried by a typed error, or undefined when the error has none. */
export function retryAfterOf(err: unknown): { seconds: number; cause: string } | undefined {
  if ((err instanceof RateLimited || err instanceof AcmeUnavailable) && err.retryAfterSeconds !== undefined) {
    return { seconds: err.retryAfterSeconds, cause: err.name };
  }
  return undefined;
}

/**
 * Wait when the retry time falls inside what is left of the execution (less the
 * reserve); otherwise defer to a later execution. Without a window (a direct
 * invocation) the default execution timeout from now is assumed.
 */
export function pauseForRetryAfter(input: {
  retryAfterSeconds: number;
  cause: string;
  now: Date;
  window?: ExecutionWindow;
  /** Waits this step already made in this execution. */
  attempt?: number;
  /** Waits allowed before deferring anyway: every loop adds history events, and Step Functions caps them at 25,000. */
  maxWaits?: number;
}): Pause {
  const seconds = Math.max(MIN_WAIT_SECONDS, Math.ceil(input.retryAfterSeconds));
  const retryAt = new Date(input.now.getTime() + seconds * 1000);
  const start = input.window ? Date.parse(input.window.startTime) : input.now.getTime();
  const timeout = input.window?.timeoutSeconds ?? DEFAULT_EXECUTION_TIMEOUT_SECONDS;
  const deadline = (Number.isNaN(start) ? input.now.getTime() : start) + (timeout - reservedSeconds(timeout)) * 1000;
  const attempt = input.attempt ?? 0;
  if (retryAt.getTime() <= deadline && attempt + 1 < (input.maxWaits ?? MAX_RETRY_AFTER_WAITS)) {
    return { status: 'waiting', waitSeconds: seconds, cause: input.cause, attempt: attempt + 1 };
  }
  return { status: 'deferred', retryAfter: retryAt.toISOString(), cause: input.cause };
}

/** The state machine's timeout when the construct is given none (CertificateRenewalPipeline's executionTimeout). */
export const DEFAULT_EXECUTION_TIMEOUT_SECONDS = 6 * 3600;

/** Retry-After waits of one step in one execution before the certificate is deferred to a later run. */
export const MAX_RETRY_AFTER_WAITS = 10;

/** Status checks of an order the CA is still validating or issuing, before FinalizeOrder gives up. */
export const MAX_ORDER_CHECKS = 20;

/** Seconds before the next order status check: 1, 2, 3, 4, 6, 8, 12, … capped at 30 (about 7 minutes over all checks). */
export function orderCheckDelay(attempt: number): number {
  return Math.min(30, Math.ceil(1.5 ** Math.max(0, attempt)));
}
