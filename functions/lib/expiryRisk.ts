// What the expiry alarm pages on. A fixed "fewer than 14 days left" pages forever
// for a healthy 6-day certificate, and a fraction alone ignores what the operator
// set; so a certificate counts with its days left only once it is at risk: under a
// sixth of its lifetime left, half the default renewal window (a third) gone with
// no renewal. A healthy certificate, short-lived or not, never gets there.

/** Share of the lifetime left under which a certificate is at risk. */
export const AT_RISK_SHARE_LEFT = 1 / 6;
/** What a certificate not at risk reports: at or above every threshold the config allows (1–365 days). */
export const NOT_AT_RISK_DAYS = 365;

/** Days left when the certificate is at risk, else NOT_AT_RISK_DAYS; the alarm pages when the minimum is under `alarms.daysToExpiry`. */
export function alarmDaysToExpiry(facts: { notBefore: Date; notAfter: Date }, now: Date): number {
  const left = facts.notAfter.getTime() - now.getTime();
  const lifetime = facts.notAfter.getTime() - facts.notBefore.getTime();
  const atRisk = lifetime <= 0 || left < lifetime * AT_RISK_SHARE_LEFT;
  return atRisk ? Math.min(left / 86_400_000, NOT_AT_RISK_DAYS) : NOT_AT_RISK_DAYS;
}
