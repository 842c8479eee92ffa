import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  challengeFqdn,
  dnsChallengeRecord,
  dnsChallengeValue,
  groupByFqdn,
  jwkThumbprint,
} from '../../functions/lib/acme/challenge.js';

// RFC 7638 §3.1's example RSA key and its published thumbprint.
const RFC7638_N =
  '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';

describe('jwkThumbprint', () => {
  it('matches the RFC 7638 example', () => {
    const key = { kty: 'RSA', n: RFC7638_N, e: 'AQAB' };
    const pem = createPublicPem(key);
    expect(jwkThumbprint(pem)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('works for an ECDSA P-256 account key given as a private PEM', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const jwk = privateKey.export({ format: 'jwk' });
    const expected = createHash('sha256')
      .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
      .digest('base64url');
    expect(jwkThumbprint(pem)).toBe(expected);
  });
});

describe('DNS-01 challenge records', () => {
  it('is base64url(SHA-256(token.thumbprint)) (RFC 8555 §8.4)', () => {
    const expected = createHash('sha256').update('tok.thumb').digest('base64url');
    expect(dnsChallengeValue('tok', 'thumb')).toBe(expected);
    expect(expected).toHaveLength(43);
  });

  it.each([
    ['example.com', '_acme-challenge.example.com'],
    ['*.example.com', '_acme-challenge.example.com'],
    ['WWW.Example.COM.', '_acme-challenge.www.example.com'],
  ])('names %s at %s', (name, fqdn) => {
    expect(challengeFqdn(name)).toBe(fqdn);
  });

  it('restores the wildcard the CA strips from the identifier', () => {
    const apex = dnsChallengeRecord({ value: 'example.com' }, 'a', 't');
    const wildcard = dnsChallengeRecord({ value: 'example.com', wildcard: true }, 'b', 't');
    expect(apex).toMatchObject({ identifier: 'example.com', fqdn: '_acme-challenge.example.com' });
    expect(wildcard).toMatchObject({ identifier: '*.example.com', fqdn: '_acme-challenge.example.com' });
    expect(apex.value).not.toBe(wildcard.value);
  });

  it('groups apex and wildcard into two values on one name', () => {
    const groups = groupByFqdn([
      { fqdn: '_acme-challenge.example.com', value: 'v1' },
      { fqdn: '_acme-challenge.example.com.', value: 'v2' },
      { fqdn: '_acme-challenge.example.com', value: 'v1' },
      { fqdn: '_acme-challenge.other.org', value: 'v3' },
    ]);
    expect([...groups]).toEqual([
      ['_acme-challenge.example.com', ['v1', 'v2']],
      ['_acme-challenge.other.org', ['v3']],
    ]);
  });
});

function createPublicPem(jwk: Record<string, string>): string {
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString();
}
