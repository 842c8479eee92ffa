// An issuer's rate limits: how much of each the pipeline may spend in its window.
// The names follow Let's Encrypt's documented limits; a custom CA sets its own or none.
import * as z from 'zod/mini';

const count = z.optional(z.int().check(z.positive()));

export const issuerLimitsSchema = z.object({
  /** New orders per ACME account in any 3 hours. */
  newOrdersPer3Hours: count,
  /** Certificates per registered domain (Public Suffix List) in any 7 days; renewals of the same names are exempt. */
  certificatesPerRegisteredDomainPer7Days: count,
  /** Certificates for the exact same set of names in any 7 days. */
  duplicateCertificatesPer7Days: count,
  /** Failed authorizations per identifier per account in any hour. */
  failedAuthorizationsPerIdentifierPerHour: count,
});
export type IssuerLimits = z.infer<typeof issuerLimitsSchema>;
export type LimitName = keyof IssuerLimits;

const HOUR_MS = 3_600_000;

/** The sliding window of each limit. */
export const LIMIT_WINDOW_MS: Record<LimitName, number> = {
  newOrdersPer3Hours: 3 * HOUR_MS,
  certificatesPerRegisteredDomainPer7Days: 7 * 24 * HOUR_MS,
  duplicateCertificatesPer7Days: 7 * 24 * HOUR_MS,
  failedAuthorizationsPerIdentifierPerHour: HOUR_MS,
};
