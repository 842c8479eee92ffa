// `certpipe status` for short lifetimes: hours under two days, exact times in
// --json, and a colour relative to the certificate's own lifetime.
import { describe, expect, it } from 'vitest';
import { renderStatus, type StatusRow } from '../../bin/commands/status.js';
import { timeLeft, urgency } from '../../bin/timeLeft.js';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const H = 3_600_000;
const D = 24 * H;

describe('timeLeft', () => {
  it.each([
    ['90 days', 90 * D, '90d'],
    ['two days exactly', 2 * D, '2d'],
    ['just under two days: hours', 2 * D - 1, '47h'],
    ['36 hours', 36 * H, '36h'],
    ['an hour', H, '1h'],
    ['42 minutes', 42 * 60_000, '42m'],
    ['seconds', 5_000, '1m'],
    ['expired', -1, 'expired'],
  ])('%s → %s', (_case, left, expected) => {
    expect(timeLeft(NOW + left, NOW)).toBe(expected);
  });
});

describe('urgency relative to the lifetime', () => {
  it.each([
    ['6-day certificate, 4 days left', 6 * D, 4 * D, 'ok'],
    ['6-day certificate, 40 hours left (renewal window open)', 6 * D, 40 * H, 'renewing'],
    ['6-day certificate, 20 hours left', 6 * D, 20 * H, 'critical'],
    ['90-day certificate, 20 days left', 90 * D, 20 * D, 'renewing'],
    ['90-day certificate, 10 days left', 90 * D, 10 * D, 'critical'],
  ])('%s → %s', (_case, lifetime, left, expected) => {
    expect(urgency(NOW + left - lifetime, NOW + left, NOW)).toBe(expected);
  });
});

describe('renderStatus with a 6-day certificate', () => {
  const row = (left: number): StatusRow => ({
    name: 'short',
    dnsNames: ['short.example.test'],
    notBefore: new Date(NOW + left - 6 * D).toISOString(),
    notAfter: new Date(NOW + left).toISOString(),
    renewal: { due: false, reason: 'UpToDate', message: '', renewalTime: new Date(NOW + left - 2 * D).toISOString() } as StatusRow['renewal'],
    publishedTo: ['secret certpipe/short'],
  });

  it('under two days: the expiry shows the hour and the hours left', () => {
    const table = renderStatus([row(36 * H)], { width: 160, color: false }, new Date(NOW));
    expect(table).toContain('2026-12-01 00:00Z (36h)');
  });

  it('with days to go: the date and the days left', () => {
    const table = renderStatus([row(5 * D)], { width: 160, color: false }, new Date(NOW));
    expect(table).toContain('2026-12-04 (5d)');
  });

  it('--wide: a "left" column in hours', () => {
    const table = renderStatus([row(30 * H)], { color: false } as never, new Date(NOW));
    expect(table).toContain('30h');
  });
});
