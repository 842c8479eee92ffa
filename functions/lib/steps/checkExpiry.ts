// CheckExpiry: one paginated scan of the certificate secrets, one decision per certificate.
import { auditOf } from '../audit/audit.js';
import { adoptRequests } from '../selfService/adoption.js';
import type { RequestSecrets } from '../selfService/requestSecrets.js';
import { InvalidInput } from '../workflow/errors.js';
import type { CheckExpiryInput, CheckExpiryOutput, DecisionSummary } from '../workflow/states.js';
import { logger, metrics, recordExpiry } from '../observability.js';
import { METRIC } from '../workflow/metrics.js';
import { renewalDecision } from '../renewal.js';
import { deferByBudget } from '../budget/deferByBudget.js';
import { alarmDaysToExpiry } from '../expiryRisk.js';
import { ariExempt, asRenewalWindow } from '../acme/ariCache.js';
import { refreshAri } from './ariRefresh.js';
import { canaryDecision } from '../gate/canary.js';
import { stageDueCertificate } from '../gate/stage.js';
import type { ContextFor } from '../context.js';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { randomUUID } from 'node:crypto';

/** Skipped entries kept in the state output; the count is always complete. */
export const MAX_SKIPPED_LISTED = 100;
/** Due entries kept in the state output; RenewEach reads the whole list from the run bucket. */
export const MAX_DUE_LISTED = 100;

export async function checkExpiry(ctx: ContextFor<'store' | 'ari' | 'runObjects'> & { readonly requests?: RequestSecrets }, input: CheckExpiryInput): Promise<CheckExpiryOutput> {
  // Self-service requests join the configured certificates (selfService/adoption.ts).
  const all = [...ctx.inventory.certificates, ...(ctx.requests ? await adoptRequests(ctx.inventory, ctx.requests) : [])];
  const unknown = (input.only ?? []).filter((name) => !all.some((c) => c.name === name));
  if (unknown.length) {
    throw new InvalidInput(`Unknown certificate(s) in "only": ${unknown.join(', ')}. Known: ${all.map((c) => c.name).join(', ')}`);
  }
  const specs = input.only?.length ? all.filter((c) => input.only!.includes(c.name)) : all;
  const stored = await ctx.store.scanInventory(all);
  const now = ctx.now();
  const ari = await refreshAri(ctx, specs, stored, now);

  const due: DecisionSummary[] = [];
  const skipped: DecisionSummary[] = [];
  let minDays: number | undefined;
  let minAlarmDays: number | undefined;
  for (const spec of specs) {
    const facts = stored.get(spec.name);
    const window = ari.get(spec.name);
    const decision = spec.canary
      ? canaryDecision({ everySeconds: spec.canary.everySeconds, lastIssuedAt: facts?.issuedAt, now, force: input.force })
      : renewalDecision({ spec, stored: facts, now, force: input.force, ...(window ? { ari: asRenewalWindow(window) } : {}) });
    const summary: DecisionSummary = {
      name: spec.name,
      reason: decision.reason,
      message: decision.message,
      ...(decision.renewalTime ? { renewalTime: decision.renewalTime } : {}),
      ...(facts ? { notAfter: facts.notAfter.toISOString() } : {}),
      // The order will name the certificate it replaces; inside the window the CA exempts it from rate limits.
      ...(decision.due && window ? { replaces: window.certId, ...(ariExempt(window, now) ? { exempt: true } : {}) } : {}),
    };
    // One line per due certificate; the healthy majority only at DEBUG (10,000 lines a run otherwise).
    const log = decision.due ? logger.info.bind(logger) : logger.debug.bind(logger);
    log('renewal decision', { certificate: spec.name, due: decision.due, reason: decision.reason, detail: summary.message });
    // The canary is re-issued every run on a staging CA: its expiry says nothing about production.
    if (facts && !spec.canary) {
      recordExpiry(spec.name, facts.notAfter, now);
      const days = (facts.notAfter.getTime() - now.getTime()) / 86_400_000;
      minDays = minDays === undefined ? days : Math.min(minDays, days);
      minAlarmDays = Math.min(minAlarmDays ?? Infinity, alarmDaysToExpiry(facts, now));
    }
    if (decision.due) due.push(summary);
    else skipped.push(summary);
  }
  // One number for the "something expires soon" alarm; no data at all means the checker stopped.
  if (minDays !== undefined) metrics.addMetric(METRIC.MinDaysToExpiry, MetricUnit.Count, Math.round(minDays * 100) / 100);
  if (minAlarmDays !== undefined) metrics.addMetric(METRIC.MinDaysToExpiryAtRisk, MetricUnit.Count, Math.round(minAlarmDays * 100) / 100);

  // The most urgent first within the CA's rate limits; the rest wait for a slot (deferred, not failed).
  const budgeted = await deferByBudget(ctx, { due, specs: all, stored, now });
  // Then the staging gate: a certificate new to its production issuer (or changed since) enters
  // the workflow as its staging rehearsal, `<name>@staging` (gate/stage.ts).
  const byName = new Map(all.map((spec) => [spec.name, spec]));
  budgeted.due = budgeted.due.map((d) => {
    const staged = stageDueCertificate(ctx.inventory, byName.get(d.name)!, stored, now);
    return {
      ...d,
      name: staged.name,
      ...(staged.gate.stage === 'staging' ? { message: `${d.message}; ${staged.gate.message}` } : {}),
      ...(staged.gate.reason !== 'Ungated' ? { gate: staged.gate.reason } : {}),
    };
  });

  logger.info('expiry check', { checked: specs.length, due: budgeted.due.length, deferredByBudget: budgeted.deferredByBudget, notDue: skipped.length, minDaysToExpiry: minDays });
  const items = budgeted.due.length ? await writeDueList(ctx, budgeted.due, now) : undefined;
  return {
    checkedAt: now.toISOString(),
    total: specs.length,
    dueCount: budgeted.due.length,
    due: budgeted.due.slice(0, MAX_DUE_LISTED),
    ...(items ? { items } : {}),
    skipped: skipped.slice(0, MAX_SKIPPED_LISTED),
    skippedCount: skipped.length,
    deferredByBudget: budgeted.deferredByBudget,
    ...(budgeted.nextBudgetSlot ? { nextBudgetSlot: budgeted.nextBudgetSlot } : {}),
    audit: auditOf(input),
  };
}

/**
 * The whole due list as one object per run, for RenewEach's ItemReader: however
 * many certificates are due, the state carries only where it is.
 */
async function writeDueList(ctx: ContextFor<'runObjects'>, due: readonly DecisionSummary[], now: Date): Promise<{ bucket: string; key: string }> {
  const key = `due/${now.toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.json`;
  await ctx.runObjects.putJson(key, due.map(({ name, reason }) => ({ name, reason })));
  return { bucket: ctx.runObjects.bucket, key };
}
