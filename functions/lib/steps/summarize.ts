// Summarize: count what happened; the ASL fails the execution when anything failed.
import type { SummarizeInput, SummarizeOutput } from '../events.js';
import { logger, recordRenewal } from '../observability.js';

export function summarize(input: SummarizeInput): SummarizeOutput {
  const renewed = input.results.filter((r) => r.outcome === 'renewed');
  const failed = input.results.filter((r) => r.outcome === 'failed');
  recordRenewal('succeeded', renewed.length);
  recordRenewal('failed', failed.length);
  for (const f of failed) logger.error('certificate renewal failed', { certificate: f.name, error: f.error, cause: f.cause });
  return {
    renewed: renewed.length,
    skipped: input.check.skippedCount,
    failed: failed.length,
    failedNames: failed.map((f) => f.name),
    results: input.results,
  };
}
