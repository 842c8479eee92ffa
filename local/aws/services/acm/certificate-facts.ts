// What ACM reports about a certificate: names, serial, dates, key algorithm,
// signature algorithm, key usages. Pure functions of the certificate; node reads
// what it exposes, @peculiar/x509 the rest (version, signature OID, extensions).
import type { KeyObject, X509Certificate } from 'node:crypto';
// @peculiar/x509 2.x resolves algorithms through tsyringe, which needs a Reflect polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export const KEY_ALGORITHMS = [
  'RSA_1024',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'EC_prime256v1',
  'EC_secp384r1',
  'EC_secp521r1',
] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export interface ExtendedKeyUsage {
  readonly Name: string;
  readonly OID: string;
}

/** Facts kept with each stored certificate (JSON-serialisable). */
export interface CertificateFacts {
  readonly domainName?: string;
  readonly subjectAlternativeNames: string[];
  /** Colon-separated lower-case hex bytes, as ACM shows it. */
  readonly serial: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly signatureAlgorithm: string;
  readonly keyUsages: string[];
  readonly extendedKeyUsages: ExtendedKeyUsage[];
}

/** A key's ACM algorithm name, or a description of why ACM would refuse it. */
export type KeyAlgorithmResult =
  | { readonly ok: true; readonly algorithm: KeyAlgorithm; readonly family: 'RSA' | 'EC'; readonly bits: number }
  | { readonly ok: false; readonly reason: 'unsupported-type' | 'unsupported-length'; readonly family?: string; readonly bits?: number };

const CURVES: Record<string, { algorithm: KeyAlgorithm; bits: number }> = {
  prime256v1: { algorithm: 'EC_prime256v1', bits: 256 },
  secp384r1: { algorithm: 'EC_secp384r1', bits: 384 },
  secp521r1: { algorithm: 'EC_secp521r1', bits: 521 },
};

export function keyAlgorithmOf(key: KeyObject): KeyAlgorithmResult {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    const algorithm = `RSA_${bits}`;
    return (KEY_ALGORITHMS as readonly string[]).includes(algorithm)
      ? { ok: true, algorithm: algorithm as KeyAlgorithm, family: 'RSA', bits }
      : { ok: false, reason: 'unsupported-length', family: 'RSA', bits };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''];
    return curve
      ? { ok: true, algorithm: curve.algorithm, family: 'EC', bits: curve.bits }
      : { ok: false, reason: 'unsupported-length', family: 'EC' };
  }
  return { ok: false, reason: 'unsupported-type', family: key.asymmetricKeyType };
}

const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'MD5WITHRSA',
  '1.2.840.113549.1.1.5': 'SHA1WITHRSA',
  '1.2.840.113549.1.1.10': 'SHA256WITHRSAPSS',
  '1.2.840.113549.1.1.11': 'SHA256WITHRSA',
  '1.2.840.113549.1.1.12': 'SHA384WITHRSA',
  '1.2.840.113549.1.1.13': 'SHA512WITHRSA',
  '1.2.840.10045.4.1': 'SHA1WITHECDSA',
  '1.2.840.10045.4.3.2': 'SHA256WITHECDSA',
  '1.2.840.10045.4.3.3': 'SHA384WITHECDSA',
  '1.2.840.10045.4.3.4': 'SHA512WITHECDSA',
};

const KEY_USAGE_BITS = [
  'DIGITAL_SIGNATURE',
  'NON_REPUDIATION',
  'KEY_ENCIPHERMENT',
  'DATA_ENCIPHERMENT',
  'KEY_AGREEMENT',
  'CERTIFICATE_SIGNING',
  'CRL_SIGNING',
  'ENCIPHER_ONLY',
  'DECIPHER_ONLY',
] as const;

const EXTENDED_KEY_USAGES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'TLS_WEB_SERVER_AUTHENTICATION',
  '1.3.6.1.5.5.7.3.2': 'TLS_WEB_CLIENT_AUTHENTICATION',
  '1.3.6.1.5.5.7.3.3': 'CODE_SIGNING',
  '1.3.6.1.5.5.7.3.4': 'EMAIL_PROTECTION',
  '1.3.6.1.5.5.7.3.5': 'IPSEC_END_SYSTEM',
  '1.3.6.1.5.5.7.3.6': 'IPSEC_TUNNEL',
  '1.3.6.1.5.5.7.3.7': 'IPSEC_USER',
  '1.3.6.1.5.5.7.3.8': 'TIME_STAMPING',
  '1.3.6.1.5.5.7.3.9': 'OCSP_SIGNING',
  '2.5.29.37.0': 'ANY',
};

/** The TBSCertificate fields ACM needs that node does not expose. */
export interface TbsFields {
  /** 1, 2 or 3 (X.509 v1..v3). */
  readonly version: number;
  readonly signatureOid: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly dnsNames: string[];
  readonly keyUsages: string[];
  readonly extendedKeyUsages: ExtendedKeyUsage[];
}

/** The parsed certificate, with the two TBSCertificate fields the library keeps to itself. */
class ParsedCertificate extends x509.X509Certificate {
  get version(): number {
    return (this.asn.tbsCertificate.version ?? 0) + 1;
  }
  get signatureOid(): string {
    return this.asn.signatureAlgorithm.algorithm;
  }
}

export function readTbs(raw: Buffer): TbsFields {
  const cert = new ParsedCertificate(raw);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  const extended = cert.getExtension(x509.ExtendedKeyUsageExtension);
  return {
    version: cert.version,
    signatureOid: cert.signatureOid,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames: san ? san.names.items.filter((n) => n.type === 'dns').map((n) => n.value) : [],
    // KeyUsageFlags bit i is the named bit i of RFC 5280 (digitalSignature = 1).
    keyUsages: usage ? KEY_USAGE_BITS.filter((_, bit) => (usage.usages & (1 << bit)) !== 0) : [],
    extendedKeyUsages: extended
      ? extended.usages.map((u) => {
          const oid = String(u);
          return { Name: EXTENDED_KEY_USAGES[oid] ?? 'CUSTOM', OID: oid };
        })
      : [],
  };
}

/** `CN=x\nO=y` (node's form) to attribute pairs in certificate order. */
export function nameAttributes(name: string): Array<[string, string]> {
  return name
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1)] as [string, string];
    });
}

/** RFC 4514 order (most specific first), the way ACM prints a Subject. */
export function distinguishedName(name: string): string {
  return nameAttributes(name)
    .reverse()
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function colonHexSerial(serialNumber: string): string {
  const hex = serialNumber.toLowerCase().replace(/^(?:00)+(?=..)/, '');
  const even = hex.length % 2 ? `0${hex}` : hex;
  return even.match(/../g)!.join(':');
}

export function certificateFacts(cert: X509Certificate, keyAlgorithm: KeyAlgorithm, tbs: TbsFields = readTbs(cert.raw)): CertificateFacts {
  const subject = nameAttributes(cert.subject);
  const issuer = nameAttributes(cert.issuer);
  const commonName = subject.filter(([k]) => k === 'CN').map(([, v]) => v)[0];
  const sans = tbs.dnsNames;
  const domainName = commonName ?? sans[0];
  return {
    ...(domainName ? { domainName } : {}),
    subjectAlternativeNames: sans.length ? sans : domainName ? [domainName] : [],
    serial: colonHexSerial(cert.serialNumber),
    subject: distinguishedName(cert.subject),
    // ACM names the issuing organisation, falling back to its common name.
    issuer: issuer.find(([k]) => k === 'O')?.[1] ?? issuer.find(([k]) => k === 'CN')?.[1] ?? distinguishedName(cert.issuer),
    notBefore: tbs.notBefore.toISOString(),
    notAfter: tbs.notAfter.toISOString(),
    keyAlgorithm,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[tbs.signatureOid] ?? tbs.signatureOid,
    keyUsages: tbs.keyUsages,
    extendedKeyUsages: tbs.extendedKeyUsages,
  };
}
