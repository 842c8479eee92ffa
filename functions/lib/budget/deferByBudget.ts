// CheckExpiry's one call into the budget: keep what the issuer's rate limits allow
// this run, record the rest as deferred (reason RateLimitBudget, with the next slot)
// on each certificate's secret, and count them. Only counts leave the step: the
// per-certificate record is the tag, so the state stays small however many wait.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ContextFor } from '../context.js';
import type { CertificateSpec } from '../inventory.js';
import { logger, metrics } from '../observability.js';
import { METRIC } from '../workflow/metrics.js';
import { runBudget, type RunBudgetInput } from './runBudget.js';

/** Tag writes in flight at once: Secrets Manager's TagResource quota is shared with every other caller. */
const TAGGING_CONCURRENCY = 4;

export interface BudgetedDue<T> {
  due: T[];
  deferredByBudget: number;
  /** The earliest time a deferred certificate gets a slot (ISO). */
  nextBudgetSlot?: string;
}

export async function deferByBudget<T extends { name: string; reason: string; exempt?: boolean }>(
  ctx: ContextFor<'store'>,
  input: { due: T[]; specs: readonly CertificateSpec[]; stored: RunBudgetInput['stored']; now: Date },
): Promise<BudgetedDue<T>> {
  const plan = runBudget({ ...input, issuers: ctx.inventory.issuers });
  metrics.addMetric(METRIC.RenewalsDeferredByBudget, MetricUnit.Count, plan.deferred.length);
  if (plan.deferred.length === 0) return { due: input.due, deferredByBudget: 0 };

  const byName = new Map(input.due.map((d) => [d.name, d]));
  const specs = new Map(input.specs.map((s) => [s.name, s]));
  // Only secrets that exist can carry the tag (a first issuance has none yet), and one already saying so is left alone.
  const toRecord = plan.deferred.filter((d) => {
    const facts = input.stored.get(d.name);
    return facts && !(facts.deferredReason === 'RateLimitBudget' && facts.deferredUntil?.getTime() === d.nextSlot.getTime());
  });
  let next = 0;
  const worker = async () => {
    while (next < toRecord.length) {
      const d = toRecord[next++]!;
      await ctx.store.recordDeferral(specs.get(d.name)!, d.nextSlot, 'RateLimitBudget');
    }
  };
  await Promise.all(Array.from({ length: Math.min(TAGGING_CONCURRENCY, toRecord.length) }, worker));

  for (const d of plan.deferred) {
    logger.info('renewal deferred by the rate-limit budget', { certificate: d.name, limit: d.limit, nextSlot: d.nextSlot.toISOString() });
  }
  logger.warn('rate-limit budget spent: some renewals wait for the next slot', {
    admitted: plan.admitted.length,
    deferredByBudget: plan.deferred.length,
    nextSlot: plan.nextSlot?.toISOString(),
  });
  return {
    // In urgency order, so the Map starts the most urgent first.
    due: plan.admitted.map((name) => byName.get(name)!),
    deferredByBudget: plan.deferred.length,
    ...(plan.nextSlot ? { nextBudgetSlot: plan.nextSlot.toISOString() } : {}),
  };
}
