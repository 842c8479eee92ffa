// How a stored certificate looks on the wire: DescribeCertificate's CertificateDetail
// and ListCertificates' CertificateSummary. Neither ever carries the private key.
import { epochSeconds } from '../../protocol.js';
import type { StoredCertificate } from './model.js';

export type CertificateStatus = 'ISSUED' | 'EXPIRED';

/** Imported certificates are ISSUED until their NotAfter passes. */
export function statusAt(cert: StoredCertificate, now: Date): CertificateStatus {
  return now.getTime() > Date.parse(cert.facts.notAfter) ? 'EXPIRED' : 'ISSUED';
}

/** ListCertificates shows the first 100 names and says whether there are more. */
const SUMMARY_NAMES = 100;

export function certificateDetail(cert: StoredCertificate, now: Date): Record<string, unknown> {
  const f = cert.facts;
  return {
    CertificateArn: cert.arn,
    ...(f.domainName ? { DomainName: f.domainName } : {}),
    SubjectAlternativeNames: f.subjectAlternativeNames,
    Serial: f.serial,
    Subject: f.subject,
    Issuer: f.issuer,
    ImportedAt: epochSeconds(cert.importedAt),
    Status: statusAt(cert, now),
    NotBefore: epochSeconds(f.notBefore),
    NotAfter: epochSeconds(f.notAfter),
    KeyAlgorithm: f.keyAlgorithm,
    SignatureAlgorithm: f.signatureAlgorithm,
    InUseBy: [],
    Type: 'IMPORTED',
    KeyUsages: f.keyUsages.map((Name) => ({ Name })),
    ExtendedKeyUsages: f.extendedKeyUsages,
    RenewalEligibility: 'INELIGIBLE',
  };
}

export function certificateSummary(cert: StoredCertificate, now: Date): Record<string, unknown> {
  const f = cert.facts;
  return {
    CertificateArn: cert.arn,
    ...(f.domainName ? { DomainName: f.domainName } : {}),
    SubjectAlternativeNameSummaries: f.subjectAlternativeNames.slice(0, SUMMARY_NAMES),
    HasAdditionalSubjectAlternativeNames: f.subjectAlternativeNames.length > SUMMARY_NAMES,
    Status: statusAt(cert, now),
    Type: 'IMPORTED',
    KeyAlgorithm: f.keyAlgorithm,
    KeyUsages: f.keyUsages,
    ExtendedKeyUsages: f.extendedKeyUsages.map((e) => e.Name),
    InUse: false,
    RenewalEligibility: 'INELIGIBLE',
    NotBefore: epochSeconds(f.notBefore),
    NotAfter: epochSeconds(f.notAfter),
    ImportedAt: epochSeconds(cert.importedAt),
  };
}
