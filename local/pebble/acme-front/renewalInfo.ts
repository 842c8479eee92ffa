// What the front knows of the certificates Pebble issued through it, and the ARI
// (RFC 9773) answers and `replaces` checks built on that. Pure: front.ts feeds it
// the certificate downloads and the orders that pass through.
import { X509Certificate } from 'node:crypto';
import { ariCertId } from '../../../functions/lib/acme/ari.js';

/** Let's Encrypt's Retry-After on renewalInfo answers: six hours. */
export const RENEWAL_INFO_RETRY_AFTER_SECONDS = 6 * 3600;

export interface SuggestedWindow {
  readonly start: Date;
  readonly end: Date;
  readonly explanationURL?: string;
}

/**
 * The window Let's Encrypt suggests for a certificate nobody moved (Boulder's
 * RenewalInfoSimple): centred where a third of the lifetime is left (half, below
 * ten days' lifetime), 1% of the lifetime either side.
 */
export function defaultWindow(notBefore: Date, notAfter: Date): SuggestedWindow {
  const validity = notAfter.getTime() + 1000 - notBefore.getTime();
  const offset = validity < 10 * 86_400_000 ? validity / 2 : validity / 3;
  const ideal = notAfter.getTime() - offset;
  const margin = validity / 100;
  return { start: new Date(Math.floor((ideal - margin) / 1000) * 1000), end: new Date(Math.floor((ideal + margin) / 1000) * 1000) };
}

export interface IssuedThroughFront {
  readonly certId: string;
  /** Lower-case hex without leading zeros, as the ari knob takes it. */
  readonly serial: string;
  readonly dnsNames: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Set by the ari knob; the default window otherwise. */
  window?: SuggestedWindow;
  /** The order that replaced it reached `valid`: a second `replaces` of it is refused. */
  replaced?: boolean;
  /** The account URL (JWS `kid`) that ordered it, when the front saw the order. */
  account?: string;
}

export const normaliseSerial = (hex: string): string => hex.toLowerCase().replace(/^0+(?=.)/, '');

/** The leaf of a downloaded chain, as the front remembers it; undefined when the body is not a certificate. */
export function learnCertificate(chainPem: string): IssuedThroughFront | undefined {
  const leaf = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(chainPem)?.[0];
  if (!leaf) return undefined;
  try {
    const cert = new X509Certificate(leaf);
    const dnsNames = (cert.subjectAltName ?? '')
      .split(', ')
      .filter((n) => n.startsWith('DNS:'))
      .map((n) => n.slice(4).toLowerCase());
    return { certId: ariCertId(leaf), serial: normaliseSerial(cert.serialNumber), dnsNames, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
  } catch {
    return undefined;
  }
}

/** The renewalInfo body for a certificate (RFC 9773 §4.2). */
export function renewalInfoBody(cert: IssuedThroughFront): { suggestedWindow: { start: string; end: string }; explanationURL?: string } {
  const window = cert.window ?? defaultWindow(cert.notBefore, cert.notAfter);
  return {
    suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() },
    ...(window.explanationURL ? { explanationURL: window.explanationURL } : {}),
  };
}

/** An ACME problem the front answers with instead of forwarding. */
export interface FrontProblem {
  readonly status: number;
  readonly type: string;
  readonly detail: string;
}

const CERT_ID = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * RFC 9773 §5 checks on a newOrder's `replaces`, as Let's Encrypt makes them: a
 * well-formed certID of a certificate this CA issued (404 otherwise), ordered by
 * the requesting account (403 otherwise), not replaced already (409), and
 * sharing at least one identifier with the new order.
 */
export function checkReplaces(
  replaces: unknown,
  identifiers: readonly string[],
  account: string | undefined,
  known: (certId: string) => IssuedThroughFront | undefined,
): FrontProblem | undefined {
  if (replaces === undefined) return undefined;
  if (typeof replaces !== 'string' || !CERT_ID.test(replaces)) {
    return { status: 400, type: 'malformed', detail: 'replaces: expected a certificate identifier base64url(AKI keyIdentifier) "." base64url(serial)' };
  }
  const old = known(replaces);
  if (!old) return { status: 404, type: 'malformed', detail: `replaces: no certificate ${replaces} was issued by this CA` };
  if (old.account !== undefined && old.account !== account) {
    return { status: 403, type: 'unauthorized', detail: "Could not validate ARI 'replaces' field :: requester account did not request the certificate being replaced by this order" };
  }
  if (old.replaced) return { status: 409, type: 'alreadyReplaced', detail: `the certificate ${replaces} has already been replaced` };
  const names = new Set(old.dnsNames);
  if (!identifiers.some((i) => names.has(i.toLowerCase()))) {
    return { status: 400, type: 'malformed', detail: `replaces: the certificate ${replaces} shares no identifier with this order` };
  }
  return undefined;
}

/** The profiles Let's Encrypt offers (its directory's meta.profiles); Pebble issues with its own validity whatever is named. */
export const PROFILES: Readonly<Record<string, string>> = {
  classic: 'https://letsencrypt.org/docs/profiles#classic',
  tlsserver: 'https://letsencrypt.org/docs/profiles#tlsserver',
  shortlived: 'https://letsencrypt.org/docs/profiles#shortlived',
};

export function checkProfile(profile: unknown): FrontProblem | undefined {
  if (profile === undefined) return undefined;
  if (typeof profile === 'string' && profile in PROFILES) return undefined;
  return { status: 400, type: 'invalidProfile', detail: `profile ${JSON.stringify(profile)} is not one of ${Object.keys(PROFILES).join(', ')}` };
}
