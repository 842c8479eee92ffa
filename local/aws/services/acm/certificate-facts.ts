// What ACM reports about a certificate, read from its DER: names, serial, dates,
// key algorithm, signature algorithm, key usages. Pure functions of the certificate.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { children, contextTag, decodeOid, readTlv, TAG, type DerNode } from './der.js';

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

const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';

/** The TBSCertificate fields ACM needs that node does not expose. */
export interface TbsFields {
  /** 1, 2 or 3 (X.509 v1..v3). */
  readonly version: number;
  readonly signatureOid: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: Map<string, Buffer>;
}

function decodeTime(node: DerNode): Date {
  const text = node.value.toString('ascii');
  // UTCTime (YYMMDDHHMMSSZ) years 50..99 are 19xx (RFC 5280 4.1.2.5.1).
  const m = node.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) throw new Error('DER: bad time');
  let year = Number(m[1]);
  if (node.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

export function readTbs(raw: Buffer): TbsFields {
  const [tbs] = children(readTlv(raw).node);
  if (!tbs) throw new Error('DER: no TBSCertificate');
  const fields = children(tbs);
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === contextTag(0, true)) {
    const [v] = children(fields[0]);
    version = (v?.value[v.value.length - 1] ?? 0) + 1;
    i = 1;
  }
  const signature = fields[i + 1];
  const validity = fields[i + 3];
  const oid = signature ? children(signature)[0] : undefined;
  const [from, to] = validity ? children(validity) : [];
  if (!oid || oid.tag !== TAG.OID || !from || !to) throw new Error('DER: unexpected TBSCertificate layout');

  const extensions = new Map<string, Buffer>();
  const explicit = fields.find((f) => f.tag === contextTag(3, true));
  const list = explicit ? children(explicit)[0] : undefined;
  for (const ext of list ? children(list) : []) {
    const parts = children(ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id?.tag === TAG.OID && value?.tag === TAG.OCTET_STRING) extensions.set(decodeOid(id.value), value.value);
  }
  return { version, signatureOid: decodeOid(oid.value), notBefore: decodeTime(from), notAfter: decodeTime(to), extensions };
}

function dnsNames(ext: Buffer | undefined): string[] {
  if (!ext) return [];
  const names = children(readTlv(ext).node);
  return names.filter((n) => n.tag === contextTag(2, false)).map((n) => n.value.toString('ascii'));
}

function keyUsages(ext: Buffer | undefined): string[] {
  if (!ext) return [];
  const bits = readTlv(ext).node.value.subarray(1); // first octet counts unused bits
  return KEY_USAGE_BITS.filter((_, bit) => ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

function extendedKeyUsages(ext: Buffer | undefined): ExtendedKeyUsage[] {
  if (!ext) return [];
  return children(readTlv(ext).node)
    .filter((n) => n.tag === TAG.OID)
    .map((n) => {
      const oid = decodeOid(n.value);
      return { Name: EXTENDED_KEY_USAGES[oid] ?? 'CUSTOM', OID: oid };
    });
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
  const sans = dnsNames(tbs.extensions.get(OID_SUBJECT_ALT_NAME));
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
    keyUsages: keyUsages(tbs.extensions.get(OID_KEY_USAGE)),
    extendedKeyUsages: extendedKeyUsages(tbs.extensions.get(OID_EXT_KEY_USAGE)),
  };
}
