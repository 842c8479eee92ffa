// DNS-01 challenge values (RFC 8555 §8.1, §8.4): pure functions of the
// account's public key and the CA's tokens, so they are unit-tested without a CA.
import { createHash, createPublicKey } from 'node:crypto';
import { challengeFqdn, normaliseDnsName } from '../dnsName.js';
import type { ChallengeRecord } from '../workflow/states.js';

/**
 * One TXT value the CA expects to find, before it is written anywhere: the
 * challenge record without its zone. `fqdn` is `_acme-challenge.<name without *.>`
 * (apex and wildcard share it); `value` is base64url(SHA-256(keyAuthorization)).
 */
export type DnsChallengeRecord = Omit<ChallengeRecord, 'zoneId'>;

/** RFC 7638 thumbprint: SHA-256 over the key's required JWK members in lexicographic order. */
export function jwkThumbprint(keyPem: string): string {
  const jwk = createPublicKey(keyPem).export({ format: 'jwk' }) as Record<string, string>;
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'RSA'
        ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
        : undefined;
  if (!members) throw new Error(`Unsupported ACME account key type ${jwk.kty}`);
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

export function keyAuthorization(token: string, thumbprint: string): string {
  return `${token}.${thumbprint}`;
}

export function dnsChallengeValue(token: string, thumbprint: string): string {
  return createHash('sha256').update(keyAuthorization(token, thumbprint)).digest('base64url');
}

export { challengeFqdn } from '../dnsName.js';

export function dnsChallengeRecord(
  identifier: { value: string; wildcard?: boolean },
  token: string,
  thumbprint: string,
): DnsChallengeRecord {
  // CAs strip `*.` from a wildcard authorization's identifier and set `wildcard`.
  const base = normaliseDnsName(identifier.value);
  const name = identifier.wildcard && !base.startsWith('*.') ? `*.${base}` : base;
  return { identifier: name, fqdn: challengeFqdn(name), value: dnsChallengeValue(token, thumbprint) };
}

/** Records grouped by the name they are written at (apex + wildcard give two values on one name). */
export function groupByFqdn<T extends { fqdn: string; value: string }>(records: readonly T[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const r of records) {
    const fqdn = normaliseDnsName(r.fqdn);
    const values = groups.get(fqdn) ?? [];
    if (!values.includes(r.value)) values.push(r.value);
    groups.set(fqdn, values);
  }
  return groups;
}
