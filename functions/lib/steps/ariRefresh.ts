// CheckExpiry's ARI pass (RFC 9773): for each stored certificate of a CA that
// offers renewalInfo, the cached window, asking the CA again only when the cache
// is stale (its Retry-After passed, or it is for an older certificate). A CA that
// does not answer never fails the check: that certificate renews by its policy.
import { parseRenewalInfo } from '../acme/ari.js';
import { ariCacheAfter, ariNeedsFetch, type AriCache } from '../acme/ariCache.js';
import type { ContextFor } from '../context.js';
import { findIssuer, type CertificateSpec } from '../inventory.js';
import { logger } from '../observability.js';
import type { StoredCertificateFacts } from '../store/model.js';

/** Requests to the CA in flight at once: a fleet's first run asks for every certificate. */
const CONCURRENCY = 8;

/** The ARI window to decide with, by certificate name; certificates without one are absent. */
export async function refreshAri(
  ctx: ContextFor<'ari'>,
  specs: readonly CertificateSpec[],
  stored: ReadonlyMap<string, StoredCertificateFacts>,
  now: Date,
  random: () => number = Math.random,
): Promise<Map<string, AriCache>> {
  const result = new Map<string, AriCache>();
  const candidates = specs.filter((spec) => {
    const facts = stored.get(spec.name);
    // Another issuer's certificate is not renewed by this CA: its window says nothing.
    return facts?.ariCertId && facts.issuer === spec.issuer;
  });
  let fetched = 0;
  for (let i = 0; i < candidates.length; i += CONCURRENCY) {
    await Promise.all(
      candidates.slice(i, i + CONCURRENCY).map(async (spec) => {
        const facts = stored.get(spec.name)!;
        const certId = facts.ariCertId!;
        const cache = facts.ariCache?.certId === certId ? facts.ariCache : undefined;
        try {
          const url = await ctx.ari.renewalInfoUrl(findIssuer(ctx.inventory, spec.issuer).directoryUrl);
          if (!url) return;
          if (cache && !ariNeedsFetch(certId, cache, now)) return void result.set(spec.name, cache);
          fetched += 1;
          const answer = await ctx.ari.fetch(url, certId);
          const window = parseRenewalInfo(answer.body);
          if ('invalid' in window) throw new Error(`unusable renewalInfo answer: ${window.invalid}`);
          const next = ariCacheAfter(certId, cache, window, answer.retryAfter, now, random());
          await ctx.ari.remember(spec, next);
          result.set(spec.name, next);
        } catch (err) {
          // Yesterday's window is better than none; without one the policy decides.
          if (cache) result.set(spec.name, cache);
          logger.warn('ARI: no renewal information from the CA; deciding without a fresh window', {
            certificate: spec.name,
            certId,
            error: (err as Error).message,
          });
        }
      }),
    );
  }
  if (candidates.length) logger.info('ARI', { certificates: candidates.length, withWindow: result.size, askedTheCa: fetched });
  return result;
}
