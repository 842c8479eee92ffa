// The canary: a dedicated certificate on a staging issuer, issued again on every
// run (or every `every`) whatever its expiry, so the whole pipeline is proven
// continuously, long before a production certificate is due. Pure.

/** The canary's name in the inventory (config names cannot take it: infra/config/gate.ts). */
export const CANARY_NAME = 'certpipe-canary';

/** A run may start a little before the interval is up (scheduler jitter): it still issues. */
export const CANARY_EARLY_SLACK_MS = 5 * 60_000;

export interface CanaryDecision {
  due: boolean;
  reason: 'CanaryDue' | 'CanaryRecent';
  message: string;
  /** When the canary is issued again (ISO); absent before its first issuance. */
  renewalTime?: string;
}

export function canaryDecision(input: { everySeconds: number; lastIssuedAt?: Date; now: Date; force?: boolean }): CanaryDecision {
  const { everySeconds, lastIssuedAt, now } = input;
  if (!lastIssuedAt) return { due: true, reason: 'CanaryDue', message: 'canary never issued' };
  if (input.force) return { due: true, reason: 'CanaryDue', message: 'canary forced' };
  const next = lastIssuedAt.getTime() + everySeconds * 1000 - CANARY_EARLY_SLACK_MS;
  const renewalTime = new Date(next).toISOString();
  return now.getTime() >= next
    ? { due: true, reason: 'CanaryDue', message: `canary last issued at ${lastIssuedAt.toISOString()}; issuing again`, renewalTime }
    : { due: false, reason: 'CanaryRecent', message: `canary issued at ${lastIssuedAt.toISOString()}; next at ${renewalTime}`, renewalTime };
}
