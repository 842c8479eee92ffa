// Deterministic idempotency tokens. Secrets Manager treats a repeated
// ClientRequestToken with the same value as a no-op and with a different value as
// ResourceExistsException: deriving the token from what the write *means* (not
// from randomness) turns that into a compare-and-set two executions can race on.
import { createHash } from 'node:crypto';

/** A UUID-shaped (36 chars, within Secrets Manager's 32–64) token derived from `parts`. */
export function deterministicToken(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.map((p) => `${p.length}:${p}`).join('|')).digest('hex');
  // Version nibble 8 and RFC 4122 variant bits: a well-formed "custom" (v8) UUID.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Token of the claim that builds on `currentVersionId` (and replaces a dead pending
 * version, if any). `attempt` moves past tokens already spent on claims that were
 * abandoned or rolled back over: the same current version can be built on again.
 */
export function claimToken(certificateName: string, currentVersionId: string | undefined, replaces = '', attempt = 0): string {
  const parts = ['claim', certificateName, currentVersionId ?? 'none', replaces];
  return deterministicToken(...(attempt === 0 ? parts : [...parts, String(attempt)]));
}

export function issuedToken(certificateName: string, serial: string): string {
  return deterministicToken('issued', certificateName, serial);
}

export function copyToken(secretName: string, serial: string): string {
  return deterministicToken('copy', secretName, serial);
}
