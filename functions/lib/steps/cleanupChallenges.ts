// CleanupChallenges: remove this run's TXT values, on success and after any
// failure. An absent record is already clean; a cleanup error is reported in the
// result and logged, never allowed to replace the original failure.
import { AcmeSession } from '../acme.js';
import type { CleanupInput, CleanupOutput } from '../events.js';
import { findCertificate, findIssuer, type CertificateSpec } from '../inventory.js';
import { logger } from '../observability.js';
import type { StepContext } from '../context.js';
import { challengeProvider } from './challengeProvider.js';

/** When the run failed before its records reached the state, find them from the recorded order. */
async function recordsOfPendingOrder(ctx: StepContext, spec: CertificateSpec): Promise<{ fqdn: string; value: string }[]> {
  const pending = await ctx.store.readPending(spec);
  if (pending?.kind !== 'claim') return [];
  const session = await AcmeSession.open(findIssuer(ctx.inventory, spec.issuer), ctx.aws.secretsManager());
  const order = await session.resumeOrder(pending.claim.orderUrl);
  return (await session.dnsChallenges(order)).map((c) => ({ fqdn: c.fqdn, value: c.value }));
}

export async function cleanupChallenges(ctx: StepContext, input: CleanupInput): Promise<CleanupOutput> {
  const spec = findCertificate(ctx.inventory, input.name);
  const failures: string[] = [];
  let records: { fqdn: string; value: string; zoneId?: string }[] = input.order?.records ?? [];
  if (!input.order) {
    try {
      records = await recordsOfPendingOrder(ctx, spec);
    } catch (err) {
      failures.push(`finding the order's records: ${(err as Error).message}`);
    }
  }
  if (records.length) {
    await challengeProvider(ctx, spec).cleanUp(records.map((r) => ({ fqdn: r.fqdn, value: r.value, ...(r.zoneId ? { zoneId: r.zoneId } : {}) })));
  }
  if (input.error) {
    logger.warn('cleaned up after a failed renewal', { certificate: spec.name, error: input.error.Error, removed: records.length });
  }
  for (const failure of failures) logger.error('cleanup incomplete', { certificate: spec.name, detail: failure });
  return { removed: records.length, failures };
}
