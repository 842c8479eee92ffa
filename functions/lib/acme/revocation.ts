// Revocation (RFC 8555 §7.6) as plain data: the reasons certpipe offers with
// their RFC 5280 CRLReason codes, which key signs the request, and the
// `certpipe:revoked` tag that records it on the certificate secret.

/** The reasons `certpipe revoke` accepts, with their RFC 5280 §5.3.1 codes. */
export const REVOCATION_REASONS = {
  keyCompromise: 1,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export function isRevocationReason(value: string): value is RevocationReason {
  return Object.hasOwn(REVOCATION_REASONS, value);
}

/**
 * Who signs the revokeCert request. A compromised key proves itself: the CA
 * then knows the key holder, not only the account, asked (Let's Encrypt
 * blocks the key for future issuance only on such a request).
 */
export function revocationSigner(reason: RevocationReason): 'certificateKey' | 'accountKey' {
  return reason === 'keyCompromise' ? 'certificateKey' : 'accountKey';
}

/** What the `certpipe:revoked` tag records: the latest revocation of this certificate's secret. */
export interface RevocationRecord {
  serial: string;
  reason: RevocationReason;
  /** ISO time. */
  at: string;
}

/** `<ISO time> <reason> <serial>`: public facts only, well under the 256-character tag limit. */
export function formatRevocationTag(record: RevocationRecord): string {
  return `${record.at} ${record.reason} ${record.serial}`;
}

export function parseRevocationTag(value: string | undefined): RevocationRecord | undefined {
  const [at, reason, serial, ...rest] = (value ?? '').split(' ');
  if (!at || !reason || !serial || rest.length || !isRevocationReason(reason) || Number.isNaN(Date.parse(at))) return undefined;
  return { at, reason, serial };
}

/**
 * Whether the next order may keep the current key (`privateKeyRotation: never`):
 * never once the certificate holding it was revoked, whatever the reason, since
 * a revocation may be about the key and a CA may refuse it.
 */
export function mayReuseKey(current: { serial: string; keyAlgorithm: string }, wanted: { keyAlgorithm: string; rotation: 'always' | 'never' }, revoked: RevocationRecord | undefined): boolean {
  if (wanted.rotation !== 'never' || current.keyAlgorithm !== wanted.keyAlgorithm) return false;
  return revoked?.serial.toLowerCase() !== current.serial.toLowerCase();
}
