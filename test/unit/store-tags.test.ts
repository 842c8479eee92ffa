import { describe, expect, it } from 'vitest';
import {
  acmTagKey,
  certificateTags,
  claimToken,
  copyToken,
  decodeDnsNamesTag,
  dnsNamesDigest,
  encodeDnsNamesTag,
  factsFromTags,
  issuedToken,
  type IssuedCertificate,
} from '../../functions/lib/store/certificateStore.js';
import { deterministicToken } from '../../functions/lib/store/tokens.js';

const issued: IssuedCertificate = {
  certificate: 'LEAF',
  chain: 'CHAIN',
  fullchain: 'LEAFCHAIN',
  privateKey: 'KEY',
  notBefore: '2025-01-01T00:00:00.000Z',
  notAfter: '2025-04-01T00:00:00.000Z',
  serial: '0a1b2c',
  dnsNames: ['example.com', '*.example.com'],
  issuer: 'pebble',
  keyAlgorithm: 'ecdsa-p256',
  certificateName: 'web',
  orderUrl: 'https://ca.example/order/1',
};

describe('idempotency tokens', () => {
  it('are deterministic, UUID-shaped and within Secrets Manager limits', () => {
    const a = claimToken('web', 'v1');
    expect(a).toBe(claimToken('web', 'v1'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(a.length).toBeLessThanOrEqual(64);
  });

  it('differ by what they build on', () => {
    const tokens = new Set([
      claimToken('web', 'v1'),
      claimToken('web', 'v2'),
      claimToken('web', undefined),
      claimToken('web', 'v1', 'dead-pending'),
      claimToken('api', 'v1'),
      issuedToken('web', '0a'),
      copyToken('web', '0a'),
    ]);
    expect(tokens.size).toBe(7);
  });

  it('cannot be confused by separators inside the parts', () => {
    expect(deterministicToken('a|b', 'c')).not.toBe(deterministicToken('a', 'b|c'));
  });
});

describe('dns-names tag', () => {
  it('is the comma list when it fits', () => {
    expect(encodeDnsNamesTag(['example.com', '*.example.com'])).toBe('example.com,*.example.com');
    expect(decodeDnsNamesTag('example.com,*.example.com')).toEqual({ names: ['example.com', '*.example.com'] });
  });

  it('is truncated at a name boundary with a digest of the full list when too long', () => {
    const names = Array.from({ length: 40 }, (_, i) => `host-${i}.long-subdomain.example.com`);
    const tag = encodeDnsNamesTag(names);
    expect(tag.length).toBeLessThanOrEqual(255);
    expect(tag.endsWith(`~${dnsNamesDigest(names)}`)).toBe(true);
    const decoded = decodeDnsNamesTag(tag);
    expect(decoded.digest).toBe(dnsNamesDigest(names));
    expect(names.slice(0, decoded.names.length)).toEqual(decoded.names);
  });

  it('digest ignores order and case', () => {
    expect(dnsNamesDigest(['B.example.com', 'a.example.com'])).toBe(dnsNamesDigest(['a.example.com', 'b.example.com']));
  });
});

describe('tags ↔ facts', () => {
  const issuedAt = new Date('2025-01-01T00:05:00Z');
  const renewalTime = new Date('2025-03-02T00:00:00Z');

  it('round-trips through a ListSecrets entry', () => {
    const tags = [
      ...certificateTags(issued, { issuedAt, renewalTime }),
      { Key: acmTagKey('111111111111', 'eu-west-1'), Value: 'arn:aws:acm:eu-west-1:111111111111:certificate/x' },
    ];
    const facts = factsFromTags({
      Name: 'certpipe/web',
      ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:certpipe/web-abc',
      Tags: tags,
      SecretVersionsToStages: { v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] },
    });
    expect(facts).toEqual({
      certificateName: 'web',
      secretName: 'certpipe/web',
      secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:certpipe/web-abc',
      notBefore: new Date(issued.notBefore),
      notAfter: new Date(issued.notAfter),
      serial: '0a1b2c',
      dnsNames: ['example.com', '*.example.com'],
      issuer: 'pebble',
      keyAlgorithm: 'ecdsa-p256',
      currentVersionId: 'v2',
      issuedAt,
      renewalTime,
      acmCertificateArns: { '111111111111:eu-west-1': 'arn:aws:acm:eu-west-1:111111111111:certificate/x' },
    });
  });

  it('flags a pending order', () => {
    const facts = factsFromTags({
      Tags: [...certificateTags(issued, { issuedAt }), { Key: 'certpipe:pending-order', Value: 'https://ca/order/2' }],
    });
    expect(facts).toMatchObject({ pendingOrder: true, pendingOrderUrl: 'https://ca/order/2' });
  });

  it('flags the current certificate as revoked only when the revoked serial is its own', () => {
    const revokedTag = (serial: string) => ({ Key: 'certpipe:revoked', Value: `2025-02-01T00:00:00.000Z superseded ${serial}` });
    expect(factsFromTags({ Tags: [...certificateTags(issued, { issuedAt }), revokedTag('0A1B2C')] })?.revoked).toBe(true);
    // The tag outlives the certificate it names: once replaced, the new one is not revoked.
    expect(factsFromTags({ Tags: [...certificateTags(issued, { issuedAt }), revokedTag('99')] })?.revoked).toBeUndefined();
  });

  it('restores a truncated name list from the spec when the digest matches', () => {
    const names = Array.from({ length: 40 }, (_, i) => `host-${i}.long-subdomain.example.com`);
    const tags = certificateTags({ ...issued, dnsNames: names }, { issuedAt });
    expect(factsFromTags({ Tags: tags }, names)?.dnsNames).toEqual(names);
    expect(factsFromTags({ Tags: tags }, [...names, 'new.example.com'])?.dnsNames.length).toBeLessThan(names.length);
  });

  it('skips secrets with nothing issued yet, and copies', () => {
    expect(factsFromTags({ Tags: [{ Key: 'certpipe:managed', Value: 'true' }, { Key: 'certpipe:certificate', Value: 'web' }] })).toBeUndefined();
    expect(factsFromTags({ Tags: [...certificateTags(issued, { issuedAt }), { Key: 'certpipe:copy-of', Value: 'web' }] })).toBeUndefined();
  });

  it('never puts key material in a tag', () => {
    const values = certificateTags(issued, { issuedAt, renewalTime }).map((t) => t.Value);
    expect(values).not.toContain('KEY');
  });
});
