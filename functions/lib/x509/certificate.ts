// The public facts of a certificate, read with node:crypto alone: no X.509
// library is bundled into the functions that only read or verify certificates.
import { X509Certificate } from 'node:crypto';
import { CertificateVerificationFailed } from '../workflow/errors.js';
import type { KeyAlgorithm } from '../inventory.js';
import { keyAlgorithmOf } from './keys.js';

/** What anyone may know about a certificate: no key material. */
export interface CertificateFacts {
  /** RFC 4514-style, attributes in certificate order: `C=US, O=Example, CN=example.com`. */
  subject: string;
  issuer: string;
  /** Lower-case hex, as the CA encoded it. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** dNSName SANs in certificate order. */
  dnsNames: string[];
  /** Undefined when the key is not one certpipe issues (e.g. Ed25519, RSA-1024). */
  keyAlgorithm?: KeyAlgorithm;
  /** SHA-256 of the DER, lower-case hex without separators. */
  fingerprintSha256: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates in a PEM bundle, in order, each normalised to LF line ends and a final newline. */
export function splitPemChain(pem: string): string[] {
  return (pem.match(PEM_CERTIFICATE) ?? []).map((block) => block.replace(/\r\n?/g, '\n') + '\n');
}

/** The first certificate of `pem`; `what` names it in the error when there is none or it is unreadable. */
export function readCertificate(pem: string, what: string): X509Certificate {
  const [first] = splitPemChain(pem);
  if (!first) throw new CertificateVerificationFailed(`${what} is not a PEM certificate`);
  try {
    return new X509Certificate(first);
  } catch (error) {
    throw new CertificateVerificationFailed(`${what} could not be parsed as X.509`, { cause: error });
  }
}

/** Public facts of the first certificate in `pem`. */
export function parseCertificate(pem: string): CertificateFacts {
  return factsOf(readCertificate(pem, 'The certificate'));
}

export function factsOf(cert: X509Certificate): CertificateFacts {
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: notBefore(cert),
    notAfter: notAfter(cert),
    dnsNames: dnsNamesOf(cert),
    keyAlgorithm: keyAlgorithmOf(cert.publicKey),
    fingerprintSha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** Node lists a name's attributes one per line; certpipe shows them on one, comma-separated. */
export function distinguishedName(nodeName: string): string {
  return nodeName.split('\n').join(', ');
}

// Node 20 has only the text form (`Jun  4 11:04:38 2035 GMT`, second precision, always GMT).
export const notBefore = (cert: X509Certificate): Date => new Date(cert.validFrom);
export const notAfter = (cert: X509Certificate): Date => new Date(cert.validTo);

// One subjectAltName entry: `TYPE:value`, the value JSON-quoted when it holds a
// comma, quote or control character (Node ≥ 17.3.1, CVE-2021-44532).
const SAN_ENTRY = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;

/** dNSName SANs in certificate order. */
export function dnsNamesOf(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const [, type, raw] of (cert.subjectAltName ?? '').matchAll(SAN_ENTRY)) {
    if (type !== 'DNS' || raw === undefined) continue;
    names.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return names;
}
