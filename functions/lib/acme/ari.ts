// ACME Renewal Information (RFC 9773): the CA's suggested renewal window for a
// certificate. Pure functions over plain data and `now`: the certificate's ARI
// identifier, the window a renewalInfo answer gives, when to ask again, and the
// renewal time chosen inside the window. The fetch itself (an unauthenticated
// GET of `<renewalInfo>/<certID>`) lives with the ACME client.
import { X509Certificate } from 'node:crypto';

/** A suggested window, with the CA's explanation when it gave one (e.g. ahead of a mass revocation). */
export interface AriWindow {
  readonly start: Date;
  readonly end: Date;
  readonly explanationUrl?: string;
}

/** How long an answer may be reused when the CA sends no usable Retry-After (RFC 9773 suggests six hours). */
export const DEFAULT_ARI_RECHECK_SECONDS = 6 * 3600;
/** Bounds on the CA's Retry-After: at least a minute apart, at most a day stale (our choice; the RFC leaves it to clients). */
export const MIN_ARI_RECHECK_SECONDS = 60;
export const MAX_ARI_RECHECK_SECONDS = 24 * 3600;

const base64url = (bytes: Buffer) => bytes.toString('base64url');

/**
 * The certificate's ARI identifier (RFC 9773 §4.1): base64url of the Authority
 * Key Identifier's keyIdentifier, ".", base64url of the serial number's DER
 * content octets (a leading zero octet kept when the high bit is set).
 */
export function ariCertId(certificatePem: string): string {
  const cert = new X509Certificate(certificatePem);
  const keyIdentifier = authorityKeyIdentifier(cert.raw);
  if (!keyIdentifier) throw new Error('the certificate has no Authority Key Identifier: it has no ARI identifier');
  let serial = Buffer.from(cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber, 'hex');
  if (serial[0]! & 0x80) serial = Buffer.concat([Buffer.from([0]), serial]);
  return `${base64url(keyIdentifier)}.${base64url(serial)}`;
}

/** The window in a renewalInfo answer, or a reason it cannot be used. */
export function parseRenewalInfo(body: unknown): AriWindow | { invalid: string } {
  const window = (body as { suggestedWindow?: { start?: unknown; end?: unknown } } | undefined)?.suggestedWindow;
  const start = typeof window?.start === 'string' ? new Date(window.start) : undefined;
  const end = typeof window?.end === 'string' ? new Date(window.end) : undefined;
  if (!start || !end || Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return { invalid: 'no suggestedWindow with start and end' };
  if (end.getTime() < start.getTime()) return { invalid: 'suggestedWindow ends before it starts' };
  const explanation = (body as { explanationURL?: unknown }).explanationURL;
  return { start, end, ...(typeof explanation === 'string' && explanation ? { explanationUrl: explanation } : {}) };
}

/** When to ask again: the CA's Retry-After (seconds or an HTTP date), bounded; six hours without one. */
export function nextAriCheck(retryAfter: string | null | undefined, now: Date): Date {
  let seconds = DEFAULT_ARI_RECHECK_SECONDS;
  if (retryAfter) {
    const asSeconds = /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : (Date.parse(retryAfter) - now.getTime()) / 1000;
    if (Number.isFinite(asSeconds)) seconds = Math.min(MAX_ARI_RECHECK_SECONDS, Math.max(MIN_ARI_RECHECK_SECONDS, Math.round(asSeconds)));
  }
  return new Date(now.getTime() + seconds * 1000);
}

/**
 * The renewal time inside the window, from a number in [0, 1) the caller draws
 * once and keeps (so the time does not move between runs while the window does
 * not). A window that moved into the past gives its start: renew now.
 */
export function renewalTimeInWindow(window: Pick<AriWindow, 'start' | 'end'>, fraction: number): Date {
  const f = Math.min(Math.max(fraction, 0), 1);
  return new Date(window.start.getTime() + Math.floor((window.end.getTime() - window.start.getTime()) * f));
}

// ---------------------------------------------------------------------------
// The Authority Key Identifier, read from the DER: node exposes no accessor for it.

const AKI_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23]);

/** Reads one DER TLV at `at`: tag, the content's start and end. */
function tlv(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  return { tag, start, end: start + length };
}

/** keyIdentifier ([0] IMPLICIT OCTET STRING) of the AuthorityKeyIdentifier extension, if present. */
export function authorityKeyIdentifier(der: Buffer): Buffer | undefined {
  const oid = der.indexOf(AKI_OID);
  if (oid < 0) return undefined;
  // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  let next = oid + AKI_OID.length;
  if (der[next] === 0x01) next = tlv(der, next).end; // the critical flag
  const extnValue = tlv(der, next);
  if (extnValue.tag !== 0x04) return undefined;
  const aki = tlv(der, extnValue.start); // AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier OPTIONAL, … }
  if (aki.tag !== 0x30) return undefined;
  for (let at = aki.start; at < aki.end; ) {
    const field = tlv(der, at);
    if (field.tag === 0x80) return der.subarray(field.start, field.end);
    at = field.end;
  }
  return undefined;
}

/**
 * The `replaces` of a renewal order (RFC 9773 §5): the current certificate's
 * identifier when the new order renews it, i.e. same issuer and at least one name
 * in common (a CA refuses a replacement that shares none). The ACME layer sends it
 * only to a CA whose directory offers renewalInfo.
 */
export function replacedCertId(
  current: { certificate: string; issuer: string; dnsNames: readonly string[] } | undefined,
  next: { issuer: string; dnsNames: readonly string[] },
): string | undefined {
  if (!current || current.issuer !== next.issuer) return undefined;
  const names = new Set(current.dnsNames.map((n) => n.toLowerCase()));
  if (!next.dnsNames.some((n) => names.has(n.toLowerCase()))) return undefined;
  try {
    return ariCertId(current.certificate);
  } catch {
    return undefined;
  }
}
