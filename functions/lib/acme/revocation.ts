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
  /** Who revoked it (the audit trail's startedBy, as it fits a tag); absent on tags written before it was recorded. */
  startedBy?: string;
}

/** AWS's tag value limit, and the characters a Secrets Manager tag value may hold. */
const TAG_VALUE_MAX = 256;
const TAG_VALUE_UNSAFE = /[^\p{L}\p{N}_.:/=+@-]/gu;

/**
 * `<ISO time> <reason> <serial> [<startedBy>]`: public facts only. An ARN may
 * hold characters a tag value may not (a role name's comma) and may be longer
 * than what is left of the 256: those become `_`, and a long one keeps its
 * tail (the role session or user, what history shows) after `...`.
 */
export function formatRevocationTag(record: RevocationRecord): string {
  const facts = `${record.at} ${record.reason} ${record.serial}`;
  if (!record.startedBy) return facts;
  const room = TAG_VALUE_MAX - facts.length - 1;
  const by = record.startedBy.replace(TAG_VALUE_UNSAFE, '_');
  return `${facts} ${by.length <= room ? by : `...${by.slice(by.length - room + 3)}`}`;
}

export function parseRevocationTag(value: string | undefined): RevocationRecord | undefined {
  const [at, reason, serial, startedBy, ...rest] = (value ?? '').split(' ');
  if (!at || !reason || !serial || rest.length || !isRevocationReason(reason) || Number.isNaN(Date.parse(at))) return undefined;
  return { at, reason, serial, ...(startedBy ? { startedBy } : {}) };
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
