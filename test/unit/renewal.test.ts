import { describe, expect, it } from 'vitest';
import type { CertificateSpec, RenewalPolicy } from '../../functions/lib/inventory.js';
import {
  describeDuration,
  emergencyThresholdMs,
  renewalDecision,
  renewalTime,
  type RenewalInput,
  type RenewalReason,
  type StoredFacts,
} from '../../functions/lib/renewal.js';

const d = (s: string) => new Date(s);

// A 90-day certificate: Jan 1 → Apr 1 2025 (90 days).
const NOT_BEFORE = d('2025-01-01T00:00:00Z');
const NOT_AFTER = d('2025-04-01T00:00:00Z');
const ninetyDays = { notBefore: NOT_BEFORE, notAfter: NOT_AFTER };

const oneThirdLeft: RenewalPolicy = { renewAtFractionLeft: 1 / 3 };
const thirtyDays: RenewalPolicy = { renewBeforeSeconds: 30 * 86400 };

describe('renewalTime', () => {
  const cases: Array<{
    name: string;
    facts: { notBefore: Date; notAfter: Date };
    policy: RenewalPolicy;
    ari?: { start: Date; end: Date };
    expected: string;
  }> = [
    {
      name: 'default policy: two thirds into the lifetime',
      facts: ninetyDays,
      policy: oneThirdLeft,
      expected: '2025-03-02T00:00:00.000Z',
    },
    {
      name: 'renewBefore 30d: thirty days before notAfter',
      facts: ninetyDays,
      policy: thirtyDays,
      expected: '2025-03-02T00:00:00.000Z',
    },
    {
      name: 'renewBefore 10% left',
      facts: ninetyDays,
      policy: { renewAtFractionLeft: 0.1 },
      expected: '2025-03-23T00:00:00.000Z',
    },
    {
      name: 'renewBefore longer than the lifetime clamps to notBefore',
      facts: ninetyDays,
      policy: { renewBeforeSeconds: 365 * 86400 },
      expected: '2025-01-01T00:00:00.000Z',
    },
    {
      name: 'ARI window inside validity: its midpoint',
      facts: ninetyDays,
      policy: oneThirdLeft,
      ari: { start: d('2025-03-10T00:00:00Z'), end: d('2025-03-12T00:00:00Z') },
      expected: '2025-03-11T00:00:00.000Z',
    },
    {
      name: 'ARI window after notAfter clamps to notAfter',
      facts: ninetyDays,
      policy: oneThirdLeft,
      ari: { start: d('2025-05-01T00:00:00Z'), end: d('2025-05-03T00:00:00Z') },
      expected: '2025-04-01T00:00:00.000Z',
    },
    {
      name: 'ARI window before notBefore (revocation) clamps to notBefore',
      facts: ninetyDays,
      policy: oneThirdLeft,
      ari: { start: d('2024-12-01T00:00:00Z'), end: d('2024-12-02T00:00:00Z') },
      expected: '2025-01-01T00:00:00.000Z',
    },
    {
      name: 'short-lived 6-day certificate, default policy',
      facts: { notBefore: d('2025-01-01T00:00:00Z'), notAfter: d('2025-01-07T00:00:00Z') },
      policy: oneThirdLeft,
      expected: '2025-01-05T00:00:00.000Z',
    },
  ];
  it.each(cases)('$name', ({ facts, policy, ari, expected }) => {
    expect(renewalTime(facts, policy, ari).toISOString()).toBe(expected);
  });
});

describe('emergencyThresholdMs', () => {
  it('is 24h for a 90-day certificate', () => {
    expect(emergencyThresholdMs(ninetyDays)).toBe(86_400_000);
  });
  it('is a tenth of the lifetime for a short one', () => {
    const fiveMinutes = { notBefore: d('2025-01-01T00:00:00Z'), notAfter: d('2025-01-01T00:05:00Z') };
    expect(emergencyThresholdMs(fiveMinutes)).toBe(30_000);
  });
});

describe('renewalDecision', () => {
  const spec: CertificateSpec = {
    name: 'web',
    dnsNames: ['example.test', '*.example.test'],
    issuer: 'pebble',
    keyAlgorithm: 'ecdsa-p256',
    privateKeyRotation: 'always',
    renewal: oneThirdLeft,
    secretName: 'certpipe/web',
    hostedZoneIds: {},
    targets: [],
  };
  const stored: StoredFacts = {
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    serial: '0a1b',
    dnsNames: ['*.example.test', 'example.test'],
    keyAlgorithm: 'ecdsa-p256',
    issuer: 'pebble',
  };
  const early = d('2025-01-15T00:00:00Z');

  const cases: Array<{
    name: string;
    input: Partial<RenewalInput> & { now: Date };
    due: boolean;
    reason: RenewalReason;
    message: RegExp;
  }> = [
    {
      name: 'nothing stored → DoesNotExist',
      input: { stored: undefined, now: early },
      due: true,
      reason: 'DoesNotExist',
      message: /No certificate/,
    },
    {
      name: 'nothing stored and forced → still DoesNotExist (it explains more)',
      input: { stored: undefined, now: early, force: true },
      due: true,
      reason: 'DoesNotExist',
      message: /No certificate/,
    },
    {
      name: 'fresh certificate but forced → Forced',
      input: { now: early, force: true },
      due: true,
      reason: 'Forced',
      message: /forced/,
    },
    {
      name: 'an order in flight → PendingOrder',
      input: { stored: { ...stored, pendingOrder: true }, now: early },
      due: true,
      reason: 'PendingOrder',
      message: /resuming/,
    },
    {
      name: 'a target missed the last publish → PublishIncomplete',
      input: { stored: { ...stored, publishPending: ['acm:000000000000:eu-west-1'] }, now: early },
      due: true,
      reason: 'PublishIncomplete',
      message: /acm:000000000000:eu-west-1/,
    },
    {
      name: 'this certificate was revoked (certpipe revoke) → Revoked, however fresh',
      input: { stored: { ...stored, revoked: true }, now: early },
      due: true,
      reason: 'Revoked',
      message: /revoked/,
    },
    {
      name: 'revoked with a publish left → Revoked (replaced, not published again)',
      input: { stored: { ...stored, revoked: true, publishPending: ['acm:000000000000:eu-west-1'] }, now: early },
      due: true,
      reason: 'Revoked',
      message: /revoked/,
    },
    {
      name: 'the CA deferred it (Retry-After) and the time has not come → DeferredByCa, even if expired',
      input: { stored: { ...stored, deferredUntil: d('2025-04-02T06:00:00Z') }, now: d('2025-04-02T00:00:00Z') },
      due: false,
      reason: 'DeferredByCa',
      message: /2025-04-02T06:00:00.000Z/,
    },
    {
      name: 'a deferral in the past no longer holds → Expired',
      input: { stored: { ...stored, deferredUntil: d('2025-04-01T12:00:00Z') }, now: d('2025-04-02T00:00:00Z') },
      due: true,
      reason: 'Expired',
      message: /expired/,
    },
    {
      name: 'deferred but forced → Forced',
      input: { stored: { ...stored, deferredUntil: d('2025-01-16T00:00:00Z') }, now: early, force: true },
      due: true,
      reason: 'Forced',
      message: /forced/,
    },
    {
      name: 'deferred with a publish left → PublishIncomplete (publishing needs no CA)',
      input: { stored: { ...stored, deferredUntil: d('2025-01-16T00:00:00Z'), publishPending: ['acm:000000000000:eu-west-1'] }, now: early },
      due: true,
      reason: 'PublishIncomplete',
      message: /acm:000000000000:eu-west-1/,
    },
    {
      name: 'past notAfter → Expired',
      input: { now: d('2025-04-02T00:00:00Z') },
      due: true,
      reason: 'Expired',
      message: /expired at 2025-04-01T00:00:00.000Z/,
    },
    {
      name: 'exactly at notAfter → Expired',
      input: { now: NOT_AFTER },
      due: true,
      reason: 'Expired',
      message: /expired/,
    },
    {
      name: '12 hours left → EmergencyRenewal even if the names also changed',
      input: { now: d('2025-03-31T12:00:00Z'), stored: { ...stored, dnsNames: ['other.test'] } },
      due: true,
      reason: 'EmergencyRenewal',
      message: /Only 12h left/,
    },
    {
      name: 'ARI says later but only 20 hours left → EmergencyRenewal',
      input: {
        now: d('2025-03-31T04:00:00Z'),
        ari: { start: d('2025-03-31T20:00:00Z'), end: d('2025-03-31T22:00:00Z') },
      },
      due: true,
      reason: 'EmergencyRenewal',
      message: /20h left/,
    },
    {
      name: 'a name was added → NamesChanged',
      input: { now: early, spec: { ...spec, dnsNames: [...spec.dnsNames, 'api.example.test'] } },
      due: true,
      reason: 'NamesChanged',
      message: /added api\.example\.test/,
    },
    {
      name: 'a name was removed → NamesChanged',
      input: { now: early, spec: { ...spec, dnsNames: ['example.test'] } },
      due: true,
      reason: 'NamesChanged',
      message: /removed \*\.example\.test/,
    },
    {
      name: 'same names in another order and case → not a change',
      input: { now: early, spec: { ...spec, dnsNames: ['*.EXAMPLE.test', 'Example.Test'] } },
      due: false,
      reason: 'UpToDate',
      message: /due for renewal at 2025-03-02/,
    },
    {
      name: 'key algorithm changed → KeyAlgorithmChanged',
      input: { now: early, spec: { ...spec, keyAlgorithm: 'rsa-2048' } },
      due: true,
      reason: 'KeyAlgorithmChanged',
      message: /ecdsa-p256 to rsa-2048/,
    },
    {
      name: 'key algorithm unknown in storage → not compared',
      input: { now: early, stored: { ...stored, keyAlgorithm: undefined }, spec: { ...spec, keyAlgorithm: 'rsa-2048' } },
      due: false,
      reason: 'UpToDate',
      message: /Valid until/,
    },
    {
      name: 'issuer changed → IssuerChanged',
      input: { now: early, spec: { ...spec, issuer: 'letsencrypt' } },
      due: true,
      reason: 'IssuerChanged',
      message: /pebble to letsencrypt/,
    },
    {
      name: 'two thirds through the lifetime → InRenewalWindow',
      input: { now: d('2025-03-05T00:00:00Z') },
      due: true,
      reason: 'InRenewalWindow',
      message: /opened at 2025-03-02T00:00:00.000Z/,
    },
    {
      name: 'exactly at the renewal time → InRenewalWindow',
      input: { now: d('2025-03-02T00:00:00Z') },
      due: true,
      reason: 'InRenewalWindow',
      message: /opened/,
    },
    {
      name: 'ARI window opened early (suspected compromise) → InRenewalWindow',
      input: { now: early, ari: { start: d('2025-01-10T00:00:00Z'), end: d('2025-01-12T00:00:00Z') } },
      due: true,
      reason: 'InRenewalWindow',
      message: /2025-01-11T00:00:00.000Z/,
    },
    {
      name: 'two weeks in → UpToDate, saying when',
      input: { now: early },
      due: false,
      reason: 'UpToDate',
      message: /Valid until 2025-04-01T00:00:00.000Z; due for renewal at 2025-03-02T00:00:00.000Z \(in 46d\)/,
    },
    {
      name: 'renewBefore 7d, 10 days left → UpToDate',
      input: { now: d('2025-03-22T00:00:00Z'), spec: { ...spec, renewal: { renewBeforeSeconds: 7 * 86400 } } },
      due: false,
      reason: 'UpToDate',
      message: /in 3d/,
    },
  ];

  it.each(cases)('$name', ({ input, due, reason, message }) => {
    const decision = renewalDecision({ spec, stored, ...input });
    expect(decision).toMatchObject({ due, reason });
    expect(decision.message).toMatch(message);
  });

  it('gives the renewal time when a certificate is stored, none otherwise', () => {
    expect(renewalDecision({ spec, stored, now: early }).renewalTime).toBe('2025-03-02T00:00:00.000Z');
    expect(renewalDecision({ spec, now: early }).renewalTime).toBeUndefined();
  });
});

describe('describeDuration', () => {
  it.each([
    [0, '0s'],
    [42_000, '42s'],
    [5 * 60_000, '5m'],
    [(5 * 60 + 12) * 60_000, '5h 12m'],
    [3 * 86_400_000 + 4 * 3_600_000, '3d 4h'],
    [-1000, '0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(describeDuration(ms)).toBe(text);
  });
});
