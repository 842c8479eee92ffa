// Whether a certificate is due for renewal, and why. Pure: the caller passes
// `now`, and renewalTime() takes no clock at all, so every case is a table row.
import { normaliseDnsName } from './dnsName.js';
import type { CertificateSpec, KeyAlgorithm, RenewalPolicy } from './inventory.js';

/** What the stored certificate (read from its secret's tags) tells us. */
export interface StoredFacts {
  notBefore: Date;
  notAfter: Date;
  serial: string;
  dnsNames: string[];
  /** Unknown for certificates written before the tag existed: then it is not compared. */
  keyAlgorithm?: KeyAlgorithm;
  /** Issuer name from the config (not the CA's distinguished name). */
  issuer: string;
  /** An ACME order was recorded but never finished: resume it rather than order again. */
  pendingOrder?: boolean;
  /** Targets a previous run could not publish to: publish the stored certificate again, no new order. */
  publishPending?: string[];
  /** The CA's Retry-After lay past an execution's end: no request to the CA before this time. */
  deferredUntil?: Date;
  /** Who deferred it: the CA (absent or `DeferredByCa`), or the pipeline's own rate-limit budget (`RateLimitBudget`). */
  deferredReason?: string;
  /** `certpipe revoke` revoked this very certificate (its serial): replace it, whatever its dates. */
  revoked?: boolean;
}

/** ACME Renewal Information (RFC 9773) suggested window. */
export interface RenewalWindow {
  start: Date;
  end: Date;
  /** The time chosen inside the window (acme/ariCache.ts keeps it across runs); the midpoint when absent. */
  renewalTime?: Date;
  /** The CA's explanation (e.g. ahead of a mass revocation): it goes into the reason's message. */
  explanationUrl?: string;
}

export const RENEWAL_REASONS = [
  'DoesNotExist',
  'Forced',
  'PendingOrder',
  'Revoked',
  'PublishIncomplete',
  'DeferredByCa',
  'RateLimitBudget',
  'Expired',
  'EmergencyRenewal',
  'NamesChanged',
  'KeyAlgorithmChanged',
  'IssuerChanged',
  'InRenewalWindow',
  'UpToDate',
] as const;
export type RenewalReason = (typeof RENEWAL_REASONS)[number];

export interface RenewalDecision {
  due: boolean;
  reason: RenewalReason;
  message: string;
  /** ISO time the certificate is (or was) due; absent when nothing is stored. */
  renewalTime?: string;
}

export interface RenewalInput {
  spec: CertificateSpec;
  stored?: StoredFacts;
  now: Date;
  force?: boolean;
  ari?: RenewalWindow;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * When the certificate should be renewed. The ARI window, when the CA gives one,
 * wins (its midpoint, so every run picks the same instant); otherwise the policy.
 * The result always lies within [notBefore, notAfter]: a renewBefore longer than
 * the lifetime means "renew at every run", not "renew before it was issued".
 */
export function renewalTime(
  facts: { notBefore: Date; notAfter: Date },
  policy: RenewalPolicy,
  ari?: RenewalWindow,
): Date {
  const start = facts.notBefore.getTime();
  const end = facts.notAfter.getTime();
  let at: number;
  if (ari) {
    at = ari.renewalTime?.getTime() ?? (ari.start.getTime() + ari.end.getTime()) / 2;
  } else if ('renewBeforeSeconds' in policy) {
    at = end - policy.renewBeforeSeconds * 1000;
  } else {
    at = start + (1 - policy.renewAtFractionLeft) * (end - start);
  }
  return new Date(Math.round(Math.min(Math.max(at, start), end)));
}

/**
 * Time left under which a renewal is an emergency: the smaller of 1/10 of the
 * lifetime and 24 hours. Small enough never to pre-empt a sane policy (a 90-day
 * certificate is normally renewed weeks earlier; a 5-minute test certificate is
 * not "always urgent"), large enough to leave a day of retries for long
 * certificates when an ARI window or a short renewBefore would wait longer.
 */
export function emergencyThresholdMs(facts: { notBefore: Date; notAfter: Date }): number {
  const lifetime = facts.notAfter.getTime() - facts.notBefore.getTime();
  return Math.min(lifetime / 10, DAY_MS);
}

interface CheckContext extends RenewalInput {
  renewalAt?: Date;
}
type Verdict = { due: boolean; reason: RenewalReason; message: string };
type Check = (ctx: CheckContext) => Verdict | undefined;

// The chain is ordered: the first check that speaks explains the decision.
const CHECKS: Check[] = [
  ({ stored }) =>
    stored ? undefined : { due: true, reason: 'DoesNotExist', message: 'No certificate is stored yet' },
  ({ force }) => (force ? { due: true, reason: 'Forced', message: 'Renewal was forced' } : undefined),
  // The CA said when it will take requests again; publishing the stored certificate needs no CA.
  // A budget deferral does not hold here: every run recounts the budget (budget/).
  ({ stored, now }) =>
    stored?.deferredUntil &&
    stored.deferredReason !== 'RateLimitBudget' &&
    now.getTime() < stored.deferredUntil.getTime() &&
    !stored.publishPending?.length
      ? {
          due: false,
          reason: 'DeferredByCa',
          message: `The CA asked not to be asked again before ${iso(stored.deferredUntil)} (Retry-After); force a run to ask anyway`,
        }
      : undefined,
  ({ stored }) =>
    stored?.pendingOrder
      ? { due: true, reason: 'PendingOrder', message: 'An ACME order is in flight; resuming it' }
      : undefined,
  // Before PublishIncomplete: a revoked certificate is replaced, not published again.
  ({ stored }) =>
    stored?.revoked ? { due: true, reason: 'Revoked', message: `The certificate (serial ${stored.serial}) was revoked; ordering a new one` } : undefined,
  ({ stored }) =>
    stored?.publishPending?.length
      ? {
          due: true,
          reason: 'PublishIncomplete',
          message: `Not yet published to ${stored.publishPending.join(', ')}; publishing the stored certificate again`,
        }
      : undefined,
  ({ stored, now }) =>
    stored && now.getTime() >= stored.notAfter.getTime()
      ? { due: true, reason: 'Expired', message: `The certificate expired at ${iso(stored.notAfter)}` }
      : undefined,
  ({ stored, now }) => {
    if (!stored) return undefined;
    const left = stored.notAfter.getTime() - now.getTime();
    return left < emergencyThresholdMs(stored)
      ? {
          due: true,
          reason: 'EmergencyRenewal',
          message: `Only ${describeDuration(left)} left before expiry at ${iso(stored.notAfter)}`,
        }
      : undefined;
  },
  ({ stored, spec }) => {
    if (!stored) return undefined;
    const wanted = new Set(spec.dnsNames.map(normaliseDnsName));
    const have = new Set(stored.dnsNames.map(normaliseDnsName));
    const added = [...wanted].filter((n) => !have.has(n));
    const removed = [...have].filter((n) => !wanted.has(n));
    if (added.length === 0 && removed.length === 0) return undefined;
    const parts = [
      added.length ? `added ${added.join(', ')}` : '',
      removed.length ? `removed ${removed.join(', ')}` : '',
    ].filter(Boolean);
    return { due: true, reason: 'NamesChanged', message: `DNS names changed: ${parts.join('; ')}` };
  },
  ({ stored, spec }) =>
    stored?.keyAlgorithm && stored.keyAlgorithm !== spec.keyAlgorithm
      ? {
          due: true,
          reason: 'KeyAlgorithmChanged',
          message: `Key algorithm changed from ${stored.keyAlgorithm} to ${spec.keyAlgorithm}`,
        }
      : undefined,
  ({ stored, spec }) =>
    stored && stored.issuer !== spec.issuer
      ? { due: true, reason: 'IssuerChanged', message: `Issuer changed from ${stored.issuer} to ${spec.issuer}` }
      : undefined,
  ({ renewalAt, now, ari }) =>
    renewalAt && now.getTime() >= renewalAt.getTime()
      ? {
          due: true,
          reason: 'InRenewalWindow',
          message: ari
            ? `The CA's suggested renewal window (ARI) is ${iso(ari.start)} to ${iso(ari.end)}; the renewal time ${iso(renewalAt)} has passed` +
              (ari.explanationUrl ? `; the CA explains: ${ari.explanationUrl}` : '')
            : `The renewal window opened at ${iso(renewalAt)}`,
        }
      : undefined,
];

/** Decide whether to renew: the first check that applies wins; otherwise UpToDate. */
export function renewalDecision(input: RenewalInput): RenewalDecision {
  const renewalAt = input.stored ? renewalTime(input.stored, input.spec.renewal, input.ari) : undefined;
  const withTime = (v: Verdict): RenewalDecision => (renewalAt ? { ...v, renewalTime: iso(renewalAt) } : v);
  const ctx: CheckContext = { ...input, renewalAt };
  for (const check of CHECKS) {
    const verdict = check(ctx);
    if (verdict) return withTime(verdict);
  }
  // Every check passed, so stored and renewalAt exist here.
  const at = renewalAt!;
  return withTime({
    due: false,
    reason: 'UpToDate',
    message: `Valid until ${iso(input.stored!.notAfter)}; due for renewal at ${iso(at)} (in ${describeDuration(
      at.getTime() - input.now.getTime(),
    )})`,
  });
}

function iso(d: Date): string {
  return d.toISOString();
}

/** "3d 4h", "5h 12m", "42s": enough precision for a human reading a status line. */
export function describeDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}
