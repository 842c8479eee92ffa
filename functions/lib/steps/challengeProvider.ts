// The DNS provider of a certificate's challenges: Route 53, in the zones the inventory allows.
// Its own module so CheckPropagation, which needs no ACME, does not bundle the ACME client.
import { Route53ChallengeProvider, route53Client } from '../dns/route53.js';
import type { CertificateSpec } from '../inventory.js';
import type { StepContext } from '../context.js';

export function challengeProvider(ctx: StepContext, spec: CertificateSpec): Route53ChallengeProvider {
  return new Route53ChallengeProvider(route53Client(ctx.aws), {
    hostedZones: ctx.inventory.hostedZones,
    hostedZoneIds: spec.hostedZoneIds,
    challengeDelegations: Object.fromEntries(
      Object.entries(spec.challengeDelegations ?? {}).map(([name, target]) => [`_acme-challenge.${name}`, target]),
    ),
  });
}
