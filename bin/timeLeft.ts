// How long a certificate has left, as `certpipe status` shows it: days while
// there are two or more, hours under two days (a 6-day certificate renews with
// about two days left, and "1d" would hide whether it has 47 hours or 25), and
// how worried to be, relative to the certificate's own lifetime, not fixed days.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "89d", "36h", "42m" or "expired"; days and hours are rounded down (never more than is left). */
export function timeLeft(notAfterMs: number, nowMs: number): string {
  const left = notAfterMs - nowMs;
  if (left <= 0) return 'expired';
  if (left >= 2 * DAY) return `${Math.floor(left / DAY)}d`;
  if (left >= HOUR) return `${Math.floor(left / HOUR)}h`;
  return `${Math.max(1, Math.floor(left / MINUTE))}m`;
}

export type Urgency = 'ok' | 'renewing' | 'critical';

/**
 * `critical` when under a sixth of the lifetime is left (half the default renewal
 * window gone without a renewal), `renewing` under a third (the window is open),
 * otherwise `ok`: the same words for a 90-day and a 6-day certificate.
 */
export function urgency(notBeforeMs: number, notAfterMs: number, nowMs: number): Urgency {
  const lifetime = notAfterMs - notBeforeMs;
  const share = lifetime > 0 ? (notAfterMs - nowMs) / lifetime : 0;
  return share < 1 / 6 ? 'critical' : share < 1 / 3 ? 'renewing' : 'ok';
}
