// Summarize: count what happened; the ASL fails the execution when anything failed.
// A deferred certificate (the CA's Retry-After lies past this execution, or the rate-limit
// budget left it for a later run) is not a failure.
import type { SummarizeInput, SummarizeOutput } from '../workflow/states.js';
import { logger, recordRenewal } from '../observability.js';

export function summarize(input: SummarizeInput): SummarizeOutput {
  const renewed = input.results.filter((r) => r.outcome === 'renewed');
  const failed = input.results.filter((r) => r.outcome === 'failed');
  const deferred = input.results.filter((r) => r.outcome === 'deferred');
  recordRenewal('succeeded', renewed.length);
  recordRenewal('failed', failed.length);
  for (const f of failed) logger.error('certificate renewal failed', { certificate: f.name, error: f.error, cause: f.cause });
  for (const d of deferred) logger.warn('certificate renewal deferred by the CA', { certificate: d.name, retryAfter: d.retryAfter });
  const byBudget = input.check.deferredByBudget ?? 0;
  return {
    renewed: renewed.length,
    skipped: input.check.skippedCount,
    failed: failed.length,
    failedNames: failed.map((f) => f.name),
    deferred: deferred.length + byBudget,
    deferredByBudget: byBudget,
    ...(input.check.nextBudgetSlot ? { nextBudgetSlot: input.check.nextBudgetSlot } : {}),
    results: input.results,
  };
}
