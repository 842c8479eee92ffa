// ARI (RFC 9773): the certificate identifier, the window, the recheck time and
// the renewal time in the window, table-tested at a fixed clock.
import { webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as px509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { ariCertId, nextAriCheck, parseRenewalInfo, renewalTimeInWindow } from '../../functions/lib/acme/ari.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const crypto = webcrypto;

/** A certificate with the given AKI keyIdentifier (hex) and serial (hex). */
async function certificate(akiHex: string, serialHex: string): Promise<string> {
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const cert = await px509.X509CertificateGenerator.create(
    {
      serialNumber: serialHex,
      subject: 'CN=ari.example.test',
      issuer: 'CN=ARI test CA',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-04-01T00:00:00Z'),
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new px509.AuthorityKeyIdentifierExtension(akiHex)],
    },
    crypto,
  );
  return cert.toString('pem');
}

describe('ariCertId', () => {
  let rfcExample: string;
  beforeAll(async () => {
    // RFC 9773 §4.1's example: keyIdentifier 69:88:5B:…:C8:D4, serial 0x0087654321.
    rfcExample = await certificate('69885b6b87464041e1b37b847ba0ae2cde01c8d4', '0087654321');
  });

  it("gives RFC 9773's example identifier", () => {
    expect(ariCertId(rfcExample)).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it('keeps a serial without the high bit as it is', async () => {
    expect(ariCertId(await certificate('0102030405060708090a0b0c0d0e0f1011121314', '7f01'))).toBe('AQIDBAUGBwgJCgsMDQ4PEBESExQ.fwE');
  });
});

describe('parseRenewalInfo', () => {
  it.each([
    ['a window', { suggestedWindow: { start: '2026-12-01T00:00:00Z', end: '2026-12-03T00:00:00Z' } }, { start: new Date('2026-12-01T00:00:00Z'), end: new Date('2026-12-03T00:00:00Z') }],
    [
      'a window with an explanation',
      { suggestedWindow: { start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z' }, explanationURL: 'https://ca.test/incident/1' },
      { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-02T00:00:00Z'), explanationUrl: 'https://ca.test/incident/1' },
    ],
    ['no window', {}, { invalid: 'no suggestedWindow with start and end' }],
    ['a date that is no date', { suggestedWindow: { start: 'soon', end: '2026-12-03T00:00:00Z' } }, { invalid: 'no suggestedWindow with start and end' }],
    ['an end before the start', { suggestedWindow: { start: '2026-12-03T00:00:00Z', end: '2026-12-01T00:00:00Z' } }, { invalid: 'suggestedWindow ends before it starts' }],
  ])('%s', (_case, body, expected) => {
    expect(parseRenewalInfo(body)).toEqual(expected);
  });
});

describe('nextAriCheck', () => {
  it.each([
    ['Retry-After in seconds', '3600', '2026-11-29T13:00:00.000Z'],
    ['no Retry-After: six hours', undefined, '2026-11-29T18:00:00.000Z'],
    ['an unreadable Retry-After: six hours', 'later', '2026-11-29T18:00:00.000Z'],
    ['an HTTP date', 'Sun, 29 Nov 2026 14:00:00 GMT', '2026-11-29T14:00:00.000Z'],
    ['too soon: at least a minute', '0', '2026-11-29T12:01:00.000Z'],
    ['too late: at most a day', '999999', '2026-11-30T12:00:00.000Z'],
  ])('%s', (_case, header, expected) => {
    expect(nextAriCheck(header, NOW).toISOString()).toBe(expected);
  });
});

describe('renewalTimeInWindow', () => {
  const window = { start: new Date('2026-12-01T00:00:00Z'), end: new Date('2026-12-02T00:00:00Z') };
  it.each([
    [0, '2026-12-01T00:00:00.000Z'],
    [0.5, '2026-12-01T12:00:00.000Z'],
    [0.999999, '2026-12-01T23:59:59.913Z'],
    [1.5, '2026-12-02T00:00:00.000Z'],
  ])('fraction %s gives %s', (fraction, expected) => {
    expect(renewalTimeInWindow(window, fraction).toISOString()).toBe(expected);
  });
  it('a window moved into the past gives a time in the past: due now', () => {
    const past = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-02T00:00:00Z') };
    expect(renewalTimeInWindow(past, 0.7).getTime()).toBeLessThan(NOW.getTime());
  });
});
