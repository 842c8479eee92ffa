// Revoking the certificate in use (`certpipe revoke`): ask the CA, signed with
// the key the reason calls for (acme/revocation.ts), then record it where
// operators and consumers look: the `certpipe:revoked` tag (status, history,
// and no reuse of the key) and a `Certificate Revoked` event, both naming who
// asked (audit/audit.ts). Replacing the certificate is the workflow's job; the
// caller starts it.
import { AcmeProblem } from './acme/problems.js';
import { auditDetail, type Audit } from './audit/audit.js';
import { REVOCATION_REASONS, revocationSigner, type RevocationReason, type RevocationRecord } from './acme/revocation.js';
import type { CertificateSpec, Issuer } from './inventory.js';
import { assertNoKeyMaterial } from './observability.js';
import type { CertificateEvents } from './ports/types.js';
import { EVENT } from './publish.js';
import type { IssuedCertificate } from './store/model.js';

export interface RevocationPorts {
  readonly store: {
    readCurrent(spec: CertificateSpec): Promise<{ issued: IssuedCertificate } | undefined>;
    recordRevocation(spec: CertificateSpec, record: RevocationRecord): Promise<void>;
  };
  readonly ca: {
    /** revokeCert signed by the issuer's account. */
    withAccountKey(issuer: Issuer, certificatePem: string, reasonCode: number): Promise<void>;
    /** revokeCert signed by the certificate's own key (a `jwk` JWS). */
    withCertificateKey(issuer: Issuer, certificatePem: string, keyPem: string, reasonCode: number): Promise<void>;
  };
  readonly events: CertificateEvents;
}

export interface RevocationOutcome extends RevocationRecord {
  certificate: string;
  signedWith: 'certificateKey' | 'accountKey';
  /** The CA had revoked it already (a retry after a crash before the record): recorded now. */
  alreadyRevoked: boolean;
}

export class NothingToRevoke extends Error {
  override readonly name = 'NothingToRevoke';
}

export async function revokeCurrentCertificate(
  ports: RevocationPorts,
  spec: CertificateSpec,
  issuer: Issuer,
  reason: RevocationReason,
  audit: Audit,
  now: Date,
): Promise<RevocationOutcome> {
  const current = await ports.store.readCurrent(spec);
  if (!current) throw new NothingToRevoke(`${spec.name} has no issued certificate in ${spec.secretName}`);
  const { issued } = current;
  const signedWith = revocationSigner(reason);
  const code = REVOCATION_REASONS[reason];
  let alreadyRevoked = false;
  try {
    if (signedWith === 'certificateKey') await ports.ca.withCertificateKey(issuer, issued.certificate, issued.privateKey, code);
    else await ports.ca.withAccountKey(issuer, issued.certificate, code);
  } catch (err) {
    if (!isAlreadyRevoked(err)) throw err;
    alreadyRevoked = true;
  }
  const record: RevocationRecord = { serial: issued.serial, reason, at: now.toISOString(), startedBy: audit.startedBy };
  await ports.store.recordRevocation(spec, record);
  const detail = {
    certificate: spec.name,
    dnsNames: issued.dnsNames,
    serial: issued.serial,
    notAfter: issued.notAfter,
    issuer: spec.issuer,
    secretName: spec.secretName,
    reason,
    revokedAt: record.at,
    signedWith,
    ...auditDetail(audit),
  };
  assertNoKeyMaterial(detail, `the ${EVENT.revoked} event`);
  await ports.events.put(EVENT.revoked, detail);
  return { ...record, certificate: spec.name, signedWith, alreadyRevoked };
}

function isAlreadyRevoked(err: unknown): boolean {
  const problem = err instanceof AcmeProblem ? err : (err as { cause?: unknown } | undefined)?.cause;
  return problem instanceof AcmeProblem && problem.shortType === 'alreadyRevoked';
}
