// CleanupChallenges: remove this run's TXT values, on success and after any
// failure. What to remove comes from the state's records and from the values
// PlaceChallenges recorded in the secret's tags before writing them, so a run
// that failed halfway, or whose order the CA has since invalidated, is cleaned
// up without the ACME account or the claim's private key. Values another live
// execution still works on (the same order, resumed) are left to it. An absent
// record is already clean; a cleanup error never replaces the original failure
// (the ASL keeps `$.error` and catches this step into `$.cleanupError`).
import { challengeFqdn } from '../acme/challenge.js';
import type { CleanupInput, CleanupOutput } from '../workflow/states.js';
import { findCertificate } from '../inventory.js';
import { logger } from '../observability.js';
import { decideCleanup, matchesRecorded, VALUE_PREFIX_LENGTH } from '../store/challengeHolders.js';
import type { ContextFor } from '../context.js';

export type CleanupChallengesContext = ContextFor<'holds' | 'dns'>;

export async function cleanupChallenges(ctx: CleanupChallengesContext, input: CleanupInput): Promise<CleanupOutput> {
  const spec = findCertificate(ctx.inventory, input.name);
  const tags = ctx.holds;
  // Release first, then look: of two holders cleaning up at once, the later reader sees nobody left and removes.
  await tags.release(spec, input.execution?.id);
  const recorded = await tags.read(spec);
  const decision = decideCleanup({ holders: recorded.holders, valueTagKeys: recorded.valueTagKeys, nowMs: ctx.now().getTime() });
  const failures: string[] = [];

  const stateRecords = input.order?.records ?? [];
  const stateValues = new Set(stateRecords.flatMap((r) => (r.value ? [r.value] : [])));
  let removed = 0;
  if (decision.removeRecords) {
    // The names written per the state (zone known), and every challenge name of the certificate for recorded values.
    const covered = new Set(stateRecords.flatMap((r) => (r.identifier ? [challengeFqdn(r.identifier)] : [])));
    const names = [
      ...stateRecords.flatMap((r) => (r.fqdn ? [{ fqdn: r.fqdn, ...(r.zoneId ? { zoneId: r.zoneId } : {}) }] : [])),
      ...(recorded.valuePrefixes.size ? [...new Set(spec.dnsNames.map(challengeFqdn))].filter((f) => !covered.has(f)).map((fqdn) => ({ fqdn })) : []),
    ];
    if (names.length) {
      await ctx.dns.zoneFor(spec).cleanUpMatching(names, (v) => stateValues.has(v) || matchesRecorded(recorded.valuePrefixes, v));
    }
    // Distinct values removed or found absent (a recorded prefix stands for one value).
    removed = new Set([...[...stateValues].map((v) => v.slice(0, VALUE_PREFIX_LENGTH)), ...recorded.valuePrefixes]).size;
  } else {
    logger.info('challenge values left to the executions still using them', {
      certificate: spec.name,
      orderUrl: recorded.orderUrl,
      holders: decision.liveHolders.length,
    });
  }
  try {
    await tags.untag(spec, decision.untag);
  } catch (err) {
    // Stale tags only: the next cleanup drops them.
    failures.push(`dropping the challenge tags: ${(err as Error).message}`);
  }

  if (input.error) {
    logger.warn('cleaned up after a failed renewal', { certificate: spec.name, error: input.error.Error, removed, orderUrl: recorded.orderUrl });
  }
  for (const failure of failures) logger.error('cleanup incomplete', { certificate: spec.name, detail: failure });
  return { removed, failures };
}
