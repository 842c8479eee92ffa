// The ARI answer CheckExpiry keeps, and the decisions built on it, at a fixed clock:
// when to ask the CA again, which renewal time a window gives and keeps, when a
// renewal is exempt, what `replaces` an order carries, and the renewal decision.
import { describe, expect, it } from 'vitest';
import { webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as px509 from '@peculiar/x509';
import { replacedCertId } from '../../functions/lib/acme/ari.js';
import { ariCacheAfter, ariExempt, ariNeedsFetch, decodeAriCache, encodeAriCache, encodeExplanation, keptWindow, type AriCache } from '../../functions/lib/acme/ariCache.js';
import type { CertificateSpec } from '../../functions/lib/inventory.js';
import { renewalDecision } from '../../functions/lib/renewal.js';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const d = (iso: string) => new Date(iso);
const cache = (over: Partial<AriCache> = {}): AriCache => ({
  certId: 'aYhb.AIdl',
  window: { start: d('2027-01-10T00:00:00.000Z'), end: d('2027-01-12T00:00:00.000Z') },
  renewalTime: d('2027-01-11T06:00:00.000Z'),
  nextCheck: d('2026-11-29T18:00:00.000Z'),
  ...over,
});

describe('ariNeedsFetch', () => {
  it.each([
    ['nothing cached', undefined, 'aYhb.AIdl', true],
    ['cached for this certificate, before its Retry-After', cache(), 'aYhb.AIdl', false],
    ['cached for the certificate it replaced', cache(), 'aYhb.NEW', true],
    ['the Retry-After has passed', cache({ nextCheck: d('2026-11-29T12:00:00.000Z') }), 'aYhb.AIdl', true],
  ])('%s → %s', (_name, cached, certId, expected) => {
    expect(ariNeedsFetch(certId, cached, NOW)).toBe(expected);
  });
});

describe('ariCacheAfter', () => {
  const window = { start: d('2027-01-10T00:00:00.000Z'), end: d('2027-01-12T00:00:00.000Z') };
  it.each([
    ['a first answer: the time at the drawn fraction, next check at Retry-After', undefined, window, 0.25, '2027-01-10T12:00:00.000Z'],
    ['the same window again: the time chosen before stays', cache(), window, 0.9, '2027-01-11T06:00:00.000Z'],
    ['a moved window: a new time in it', cache(), { start: d('2027-01-20T00:00:00.000Z'), end: d('2027-01-22T00:00:00.000Z') }, 0.5, '2027-01-21T00:00:00.000Z'],
    ['a window in the past (early renewal asked): a time in the past', cache(), { start: d('2026-11-29T09:00:00.000Z'), end: d('2026-11-29T10:00:00.000Z') }, 0.5, '2026-11-29T09:30:00.000Z'],
  ])('%s', (_name, previous, win, fraction, expected) => {
    const next = ariCacheAfter('aYhb.AIdl', previous, win, '3600', NOW, fraction);
    expect(next.renewalTime.toISOString()).toBe(expected);
    expect(next.nextCheck.toISOString()).toBe('2026-11-29T13:00:00.000Z');
  });
});

describe('ariExempt (the order names what it replaces, inside or after the window)', () => {
  it.each([
    ['before the window', cache(), false],
    ['inside the window', cache({ window: { start: d('2026-11-29T00:00:00.000Z'), end: d('2026-12-01T00:00:00.000Z') } }), true],
    ['after the window (moved into the past)', cache({ window: { start: d('2026-11-28T00:00:00.000Z'), end: d('2026-11-28T01:00:00.000Z') } }), true],
    ['no ARI', undefined, false],
  ])('%s → %s', (_name, cached, expected) => {
    expect(ariExempt(cached, NOW)).toBe(expected);
  });
});

describe('keptWindow (what status decides with)', () => {
  it.each([
    ['the answer for the current certificate, even when stale', { ariCertId: 'aYhb.AIdl', ariCache: cache({ nextCheck: d('2026-01-01T00:00:00.000Z') }) }, '2027-01-11T06:00:00.000Z'],
    ['an answer for the certificate it replaced', { ariCertId: 'aYhb.NEW', ariCache: cache() }, undefined],
    ['nothing kept', { ariCertId: 'aYhb.AIdl' }, undefined],
  ])('%s', (_name, facts, renewalTime) => {
    expect(keptWindow(facts)?.renewalTime?.toISOString()).toBe(renewalTime);
  });
});

describe('the cache tag', () => {
  it('round-trips, with the explanation kept in its own tag', () => {
    const c = cache({ window: { start: d('2027-01-10T00:00:00.000Z'), end: d('2027-01-12T00:00:00.000Z'), explanationUrl: 'https://ca.test/incident' } });
    const value = encodeAriCache(c);
    expect(value).toMatch(/^[\w.:/=+\-@ ]+$/); // Secrets Manager's tag value characters
    expect(value.length).toBeLessThanOrEqual(255);
    expect(decodeAriCache(value, encodeExplanation(c.window.explanationUrl))).toEqual(c);
  });
  it.each([
    ['absent', undefined],
    ['too few fields', 'aYhb.AIdl 2027-01-10T00:00:00.000Z'],
    ['a bad time', 'aYhb.AIdl x 2027-01-12T00:00:00.000Z 2027-01-11T06:00:00.000Z 2026-11-29T18:00:00.000Z'],
  ])('%s → no cache', (_name, value) => {
    expect(decodeAriCache(value)).toBeUndefined();
  });
  it('leaves out an explanation URL a tag cannot hold', () => {
    expect(encodeExplanation('https://ca.test/why?id=1&x=2')).toBeUndefined();
    expect(encodeExplanation(`https://ca.test/${'a'.repeat(260)}`)).toBeUndefined();
    expect(encodeExplanation('https://ca.test/incident/42')).toBe('https://ca.test/incident/42');
  });
});

describe('renewalDecision with an ARI window', () => {
  const spec = { name: 'web', issuer: 'le', dnsNames: ['example.test'], keyAlgorithm: 'ecdsa-p256', renewal: { renewAtFractionLeft: 1 / 3 } } as unknown as CertificateSpec;
  const stored = { notBefore: d('2026-11-01T00:00:00.000Z'), notAfter: d('2027-01-30T00:00:00.000Z'), serial: '01', dnsNames: ['example.test'], keyAlgorithm: 'ecdsa-p256' as const, issuer: 'le' };
  it.each([
    {
      name: 'a window ahead: UpToDate until the chosen time (not the policy, not the midpoint)',
      ari: { start: d('2027-01-09T00:00:00.000Z'), end: d('2027-01-11T00:00:00.000Z'), renewalTime: d('2027-01-09T03:00:00.000Z') },
      due: false,
      reason: 'UpToDate',
      renewalTime: '2027-01-09T03:00:00.000Z',
    },
    {
      name: 'a window moved into the past with an explanation: due now, 62 days before expiry',
      ari: { start: d('2026-11-29T09:00:00.000Z'), end: d('2026-11-29T10:00:00.000Z'), renewalTime: d('2026-11-29T09:30:00.000Z'), explanationUrl: 'https://ca.test/incident/42' },
      due: true,
      reason: 'InRenewalWindow',
      renewalTime: '2026-11-29T09:30:00.000Z',
      message: /suggested renewal window \(ARI\) is 2026-11-29T09:00:00.000Z to 2026-11-29T10:00:00.000Z.*https:\/\/ca.test\/incident\/42/,
    },
  ])('$name', ({ ari, due, reason, renewalTime, message }) => {
    const decision = renewalDecision({ spec, stored, now: NOW, ...(ari ? { ari } : {}) });
    expect(decision).toMatchObject({ due, reason, renewalTime });
    if (message) expect(decision.message).toMatch(message);
  });
  it('no ARI: the 1/3-of-lifetime rule', () => {
    // 90 days from 2026-11-01: two thirds in is day 60, 2026-12-31.
    expect(renewalDecision({ spec, stored, now: NOW })).toMatchObject({ due: false, reason: 'UpToDate', renewalTime: '2026-12-31T00:00:00.000Z' });
  });
});

describe("replacedCertId (the order's replaces)", () => {
  it('is the current certificate\'s identifier when the order renews it, and nothing otherwise', async () => {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const pem = (
      await px509.X509CertificateGenerator.create(
        {
          serialNumber: '0087654321',
          subject: 'CN=example.test',
          issuer: 'CN=ARI test CA',
          notBefore: d('2026-11-01T00:00:00Z'),
          notAfter: d('2027-01-30T00:00:00Z'),
          publicKey: keys.publicKey,
          signingKey: keys.privateKey,
          signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
          extensions: [new px509.AuthorityKeyIdentifierExtension('69885b6b87464041e1b37b847ba0ae2cde01c8d4')],
        },
        webcrypto,
      )
    ).toString('pem');
    const current = { certificate: pem, issuer: 'le', dnsNames: ['example.test', '*.example.test'] };
    expect(replacedCertId(current, { issuer: 'le', dnsNames: ['EXAMPLE.test'] })).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
    expect(replacedCertId(current, { issuer: 'zerossl', dnsNames: ['example.test'] })).toBeUndefined();
    expect(replacedCertId(current, { issuer: 'le', dnsNames: ['other.test'] })).toBeUndefined();
    expect(replacedCertId(undefined, { issuer: 'le', dnsNames: ['example.test'] })).toBeUndefined();
  });
});
