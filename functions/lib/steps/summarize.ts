// Summarize: count what happened; the ASL fails the execution when anything failed.
// A deferred certificate (the CA's Retry-After lies past this execution) is not a failure.
import type { SummarizeInput, SummarizeOutput } from '../workflow/states.js';
import { logger, recordRenewal } from '../observability.js';
import { gateRunOutcome, recordGateRun } from '../gate/runMetrics.js';

export function summarize(input: SummarizeInput, now: Date = new Date()): SummarizeOutput {
  const renewed = input.results.filter((r) => r.outcome === 'renewed');
  const failed = input.results.filter((r) => r.outcome === 'failed');
  const deferred = input.results.filter((r) => r.outcome === 'deferred');
  recordRenewal('succeeded', renewed.length);
  recordRenewal('failed', failed.length);
  for (const f of failed) logger.error('certificate renewal failed', { certificate: f.name, error: f.error, cause: f.cause });
  const gate = gateRunOutcome(input.results);
  recordGateRun(gate, (now.getTime() - Date.parse(input.check.checkedAt)) / 1000);
  for (const name of gate.blocked) logger.error('staging gate blocked production', { certificate: name });
  for (const d of deferred) logger.warn('certificate renewal deferred by the CA', { certificate: d.name, retryAfter: d.retryAfter });
  return {
    renewed: renewed.length,
    skipped: input.check.skippedCount,
    failed: failed.length,
    failedNames: failed.map((f) => f.name),
    deferred: deferred.length,
    results: input.results,
  };
}
