// What is valid but broader than it needs to be. Printed by `certpipe validate`
// and added to the pipeline stack as a synth warning, once each.
import type { Inventory } from '../../functions/lib/inventory.js';
import type { ConfigProblem } from './problems.js';
import { rateIntervalSeconds } from './lifetimes.js';

/**
 * Zones without an id are found by name at run time, so the Route 53 write grant
 * falls back to hostedzone/* (see knownHostedZoneIds in infra/constructs/permissions.ts).
 */
export function configWarnings(inventory: Inventory): ConfigProblem[] {
  const unnamed = inventory.hostedZones.filter((z) => !z.id).map((z) => `"${z.name}"`);
  if (unnamed.length === 0) return [];
  const one = unnamed.length === 1;
  return [
    {
      path: 'hostedZones',
      message:
        `${one ? 'zone' : 'zones'} ${unnamed.join(', ')} ${one ? 'has' : 'have'} no id, so PlaceChallenges and CleanupChallenges may change ` +
        '_acme-challenge TXT records in every hosted zone of the account (route53:ChangeResourceRecordSets on hostedzone/*) — ' +
        `add ${one ? 'its' : "each zone's"} id (aws route53 list-hosted-zones-by-name --dns-name <zone>) to limit the grant to ${one ? 'that zone' : 'those zones'}`,
    },
  ];
}

/**
 * A renewal window shorter than two schedule intervals leaves no second chance:
 * one failed or late run and the certificate expires before the next. Only
 * `rate()` schedules and fixed `renewBefore` durations can be compared at synth.
 */
export function scheduleWarnings(schedule: string, inventory: Inventory): ConfigProblem[] {
  const interval = rateIntervalSeconds(schedule);
  if (interval === undefined) return [];
  const tight = inventory.certificates.filter((c) => 'renewBeforeSeconds' in c.renewal && c.renewal.renewBeforeSeconds < 2 * interval);
  if (tight.length === 0) return [];
  const hours = (s: number) => `${Math.round(s / 360) / 10} h`;
  return [
    {
      path: 'pipeline.schedule',
      message:
        `${schedule} runs every ${hours(interval)}, but ${tight.map((c) => `"${c.name}" renews ${hours((c.renewal as { renewBeforeSeconds: number }).renewBeforeSeconds)} before expiry`).join(', ')}: ` +
        'one failed run and it expires before the next — run the schedule more often or renew earlier (renewBefore at least two intervals)',
    },
  ];
}
