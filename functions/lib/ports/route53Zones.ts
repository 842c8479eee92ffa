// The DNS port over Route53ChallengeProvider, in the zones the inventory allows.
import type { AwsClients } from '../aws.js';
import { challengeFqdn } from '../dnsName.js';
import { Route53ChallengeProvider, route53Client } from '../dns/route53.js';
import type { Inventory } from '../inventory.js';
import type { ChallengeDns } from './types.js';

export function route53Zones(aws: AwsClients, inventory: Inventory): ChallengeDns {
  return {
    zoneFor(spec) {
      const provider = new Route53ChallengeProvider(route53Client(aws), {
        hostedZones: inventory.hostedZones,
        hostedZoneIds: spec.hostedZoneIds,
        // Only the delegation targets the config names may be written (the IAM policy allows exactly those).
        challengeDelegations: Object.fromEntries(
          Object.entries(spec.challengeDelegations ?? {}).map(([name, target]) => [challengeFqdn(name), target]),
        ),
      });
      return {
        present: (records) => provider.present(records.map((r) => ({ fqdn: r.fqdn, value: r.value }))),
        cleanUpMatching: (names, isOurs) => provider.cleanUpMatching(names, isOurs),
        changesApplied: (changeIds) => provider.changeStatus(changeIds),
      };
    },
  };
}
