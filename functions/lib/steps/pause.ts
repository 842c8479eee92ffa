// A step that the CA told to come back later (Retry-After on a 429 or 503) returns a
// pause instead of failing: `waiting` for the ASL's Wait state, or `deferred` (recorded
// on the certificate's secret) when the retry time lies past this execution.
import { pauseForRetryAfter, retryAfterOf, type ExecutionWindow, type Pause } from '../backoff.js';
import type { CertificateSpec } from '../inventory.js';
import { logger } from '../observability.js';
import type { ContextFor } from '../context.js';

/** The pause the CA asked for, or rethrow `err` when it carries no Retry-After (the ASL's Retry handles it). */
export async function pauseOrRethrow(
  ctx: ContextFor<'store'>,
  spec: CertificateSpec,
  err: unknown,
  loop: { window?: ExecutionWindow; attempt: number; maxWaits: number },
): Promise<Pause> {
  const retry = retryAfterOf(err);
  if (!retry) throw err;
  const pause = pauseForRetryAfter({ retryAfterSeconds: retry.seconds, cause: retry.cause, now: ctx.now(), ...loop });
  if (pause.status === 'waiting') {
    logger.warn('the CA asked to wait before the next request', { certificate: spec.name, cause: retry.cause, waitSeconds: pause.waitSeconds });
  } else {
    const recorded = await ctx.store.recordDeferral(spec, new Date(pause.retryAfter));
    logger.warn('the CA asked to wait past the end of this execution; deferring', {
      certificate: spec.name,
      cause: retry.cause,
      retryAfter: pause.retryAfter,
      recorded,
    });
  }
  return pause;
}
