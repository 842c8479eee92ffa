// CheckExpiry: one paginated scan of the certificate secrets, one decision per certificate.
import { InvalidInput } from '../workflow/errors.js';
import type { CheckExpiryInput, CheckExpiryOutput, DecisionSummary } from '../workflow/states.js';
import { logger, metrics, recordExpiry } from '../observability.js';
import { METRIC } from '../workflow/metrics.js';
import { renewalDecision } from '../renewal.js';
import { canaryDecision } from '../gate/canary.js';
import { stageDueCertificate } from '../gate/stage.js';
import type { ContextFor } from '../context.js';
import { MetricUnit } from '@aws-lambda-powertools/metrics';

/** Skipped entries kept in the state output; the count is always complete. */
export const MAX_SKIPPED_LISTED = 100;

export async function checkExpiry(ctx: ContextFor<'store'>, input: CheckExpiryInput): Promise<CheckExpiryOutput> {
  const all = ctx.inventory.certificates;
  const unknown = (input.only ?? []).filter((name) => !all.some((c) => c.name === name));
  if (unknown.length) {
    throw new InvalidInput(`Unknown certificate(s) in "only": ${unknown.join(', ')}. Known: ${all.map((c) => c.name).join(', ')}`);
  }
  const specs = input.only?.length ? all.filter((c) => input.only!.includes(c.name)) : all;
  const stored = await ctx.store.scanInventory(all);
  const now = ctx.now();

  const due: DecisionSummary[] = [];
  const skipped: DecisionSummary[] = [];
  let minDays: number | undefined;
  for (const spec of specs) {
    const facts = stored.get(spec.name);
    const decision = spec.canary
      ? canaryDecision({ everySeconds: spec.canary.everySeconds, lastIssuedAt: facts?.issuedAt, now, force: input.force })
      : renewalDecision({ spec, stored: facts, now, force: input.force });
    const staged = decision.due ? stageDueCertificate(ctx.inventory, spec, stored, now) : undefined;
    const summary: DecisionSummary = {
      name: staged?.name ?? spec.name,
      reason: decision.reason,
      message: staged?.gate.stage === 'staging' ? `${decision.message}; ${staged.gate.message}` : decision.message,
      ...(staged?.gate.reason !== 'Ungated' && staged ? { gate: staged.gate.reason } : {}),
      ...(decision.renewalTime ? { renewalTime: decision.renewalTime } : {}),
      ...(facts ? { notAfter: facts.notAfter.toISOString() } : {}),
    };
    // One line per due certificate; the healthy majority only at DEBUG (10,000 lines a run otherwise).
    const log = decision.due ? logger.info.bind(logger) : logger.debug.bind(logger);
    log('renewal decision', { certificate: spec.name, due: decision.due, reason: decision.reason, detail: summary.message });
    // The canary is re-issued every run on a staging CA: its expiry says nothing about production.
    if (facts && !spec.canary) {
      recordExpiry(spec.name, facts.notAfter, now);
      const days = (facts.notAfter.getTime() - now.getTime()) / 86_400_000;
      minDays = minDays === undefined ? days : Math.min(minDays, days);
    }
    if (decision.due) due.push(summary);
    else skipped.push(summary);
  }
  // One number for the "something expires soon" alarm; no data at all means the checker stopped.
  if (minDays !== undefined) metrics.addMetric(METRIC.MinDaysToExpiry, MetricUnit.Count, Math.round(minDays * 100) / 100);

  logger.info('expiry check', { checked: specs.length, due: due.length, notDue: skipped.length, minDaysToExpiry: minDays });
  return {
    checkedAt: now.toISOString(),
    total: specs.length,
    dueCount: due.length,
    due,
    skipped: skipped.slice(0, MAX_SKIPPED_LISTED),
    skippedCount: skipped.length,
  };
}
