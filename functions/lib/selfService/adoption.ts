// Adoption in the workflow: CheckExpiry lists the requests, answers each on
// its secret and adds the adopted ones to its candidates; every later step
// gets the spec of an adopted certificate back from its request secret, so the
// state carries only the name (the secret's name), as for configured ones.
import type { CertificateSpec, Inventory } from '../inventory.js';
import { logger } from '../observability.js';
import { decideRequest, decideRequests } from './requests.js';
import type { RequestSecrets } from './requestSecrets.js';

/** The adopted requests' specs; every request gets its answer in its status tag. */
export async function adoptRequests(inventory: Pick<Inventory, 'certificates' | 'selfService'>, requests: RequestSecrets): Promise<CertificateSpec[]> {
  if (!inventory.selfService) return [];
  const decisions = decideRequests(await requests.list(inventory.selfService.prefix), inventory);
  await Promise.all(decisions.map((d) => requests.answer(d.request, d.status)));
  for (const d of decisions) {
    if (!d.adopted) logger.warn('self-service request refused', { secret: d.request.name, reason: d.reason });
  }
  return decisions.flatMap((d) => (d.adopted ? [d.spec] : []));
}

/**
 * Makes `name` findable in `inventory` when it is an adopted request: read
 * again from its secret each time, so a step never acts on a request that was
 * withdrawn or changed. Configured certificates and other names pass untouched.
 */
export async function includeAdopted(inventory: Inventory, name: string, requests: () => RequestSecrets): Promise<void> {
  const policy = inventory.selfService;
  if (!policy || !name.startsWith(policy.prefix)) return;
  const configured = inventory.certificates.filter((c) => c.secretName !== name || c.name !== name);
  const request = await requests().read(name);
  const decision = request ? decideRequest(request, policy, new Set(configured.flatMap((c) => c.dnsNames))) : undefined;
  const at = inventory.certificates.findIndex((c) => c.name === name);
  if (at >= 0) inventory.certificates.splice(at, 1);
  if (decision?.adopted) inventory.certificates.push(decision.spec);
}
