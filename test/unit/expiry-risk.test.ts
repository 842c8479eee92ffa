// The expiry alarm's value per certificate (expiryRisk.ts): days left once under a
// sixth of the lifetime, otherwise 365, so the alarm (fewer than alarms.daysToExpiry,
// default 14) pages for a dying certificate whatever its lifetime, and never for a
// healthy short-lived one.
import { describe, expect, it } from 'vitest';
import { alarmDaysToExpiry, NOT_AT_RISK_DAYS } from '../../functions/lib/expiryRisk.js';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const H = 3_600_000;
const D = 24 * H;
const cert = (lifetime: number, left: number) => ({ notBefore: new Date(NOW.getTime() + left - lifetime), notAfter: new Date(NOW.getTime() + left) });
const THRESHOLD = 14;

describe('alarmDaysToExpiry', () => {
  it.each([
    ['6-day certificate just issued', 6 * D, 6 * D, false],
    ['6-day certificate in its renewal window (40 h left)', 6 * D, 40 * H, false],
    ['6-day certificate that missed its renewals (20 h left)', 6 * D, 20 * H, true],
    ['90-day certificate with 30 days left', 90 * D, 30 * D, false],
    ['90-day certificate with 13 days left', 90 * D, 13 * D, true],
    ['45-day certificate with 7 days left', 45 * D, 7 * D, true],
    ['expired certificate', 90 * D, -D, true],
  ])('%s: pages = %s', (_case, lifetime, left, pages) => {
    expect(alarmDaysToExpiry(cert(lifetime, left), NOW) < THRESHOLD).toBe(pages);
  });

  it('reports the days left when at risk, 365 otherwise', () => {
    expect(alarmDaysToExpiry(cert(6 * D, 12 * H), NOW)).toBe(0.5);
    expect(alarmDaysToExpiry(cert(6 * D, 4 * D), NOW)).toBe(NOT_AT_RISK_DAYS);
  });
});
