// CheckPropagation: one look per invocation. INSYNC first (Route 53 has applied
// the change), then the authoritative answer; "not yet" is a normal result.
import { checkPropagation as lookForValues } from '../dns/propagation.js';
import { DnsPropagationTimeout } from '../workflow/errors.js';
import type { CheckPropagationInput, CheckPropagationOutput } from '../workflow/states.js';
import { findCertificate } from '../inventory.js';
import { logger } from '../observability.js';
import type { ContextFor } from '../context.js';

export async function checkPropagation(
  ctx: ContextFor<'dns'>,
  input: CheckPropagationInput,
  maxAttempts: number,
): Promise<CheckPropagationOutput> {
  const spec = findCertificate(ctx.inventory, input.name);
  const attempt = input.attempt + 1;
  const { records, changeIds } = input.order;

  let missing: string[] = [];
  const insync = await ctx.dns.zoneFor(spec).changesApplied(changeIds);
  if (!insync) {
    missing = [...new Set(records.map((r) => r.fqdn))];
  } else if (records.length) {
    const result = await lookForValues({ records, resolvers: ctx.inventory.resolvers });
    missing = result.missing;
    if (!result.ready) logger.info('TXT values not visible yet', { certificate: spec.name, attempt, details: result.details });
  }

  const ready = missing.length === 0;
  if (!ready && attempt >= maxAttempts) {
    throw new DnsPropagationTimeout(
      `TXT records for ${spec.name} not visible after ${attempt} checks (${insync ? 'INSYNC, but the nameservers do not show' : 'Route 53 change not INSYNC'}: ${missing.join(', ')})`,
    );
  }
  return { ready, attempt, missing };
}
