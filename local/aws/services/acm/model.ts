// The persisted shape of one ACM certificate (one resource file per certificate).
import type { CertificateFacts } from './certificate-facts.js';

export interface Tag {
  readonly Key: string;
  readonly Value?: string;
}

export interface StoredCertificate {
  readonly arn: string;
  readonly certificatePem: string;
  /** Nearest issuer first, as imported. */
  readonly chainPems: string[];
  /** Kept because ACM keeps it; no API of the local endpoint ever returns it. */
  readonly privateKeyPem: string;
  readonly facts: CertificateFacts;
  /** First import (ISO); orders ListCertificates with SortBy CREATED_AT. */
  readonly createdAt: string;
  /** Latest import or re-import (ISO). */
  readonly importedAt: string;
  readonly tags: Tag[];
}
