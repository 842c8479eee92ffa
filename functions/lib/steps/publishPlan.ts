// Where PublishCertificate (and `certpipe rollback`) publish, and what they report.
// Pure: the promotion from what is stored, the outcome from each target's result,
// and the event's public detail; the I/O lives in ../publish.ts.
import { auditDetail, type Audit } from '../audit/audit.js';
import type { CertificateSpec, Target } from '../inventory.js';
import { renewalTime } from '../renewal.js';
import type { IssuedCertificate } from '../store/model.js';
import { targetLabel } from '../targetIds.js';

/** The public facts of a stored certificate (never its key). */
export interface CertificateFacts {
  serial: string;
  notBefore: string;
  notAfter: string;
  dnsNames: readonly string[];
  issuer: string;
}

export interface Promotion {
  /** A verified certificate waits in AWSPENDING: check it again against today's config before it becomes current. */
  reverify: boolean;
  /** The serial that must become current (absent: AWSCURRENT stays, only its tags are refreshed). */
  serial?: string;
  renewalTime?: Date;
}

/** What to promote: the verified pending certificate when there is one, else the current one again. */
export function promotion(input: {
  spec: Pick<CertificateSpec, 'renewal'>;
  pendingIssued?: Pick<CertificateFacts, 'serial' | 'notBefore' | 'notAfter'>;
  current?: Pick<CertificateFacts, 'notBefore' | 'notAfter'>;
}): Promotion {
  const facts = input.pendingIssued ?? input.current;
  const at = facts ? renewalTime({ notBefore: new Date(facts.notBefore), notAfter: new Date(facts.notAfter) }, input.spec.renewal) : undefined;
  return {
    reverify: Boolean(input.pendingIssued),
    ...(input.pendingIssued ? { serial: input.pendingIssued.serial } : {}),
    ...(at ? { renewalTime: at } : {}),
  };
}

export interface TargetFailure {
  /** targetLabel(): what the publish-pending tag keeps. */
  target: string;
  name: string;
  error: string;
}

export interface PublishOutcome {
  /** Target ids now holding the certificate, the primary secret first. */
  published: string[];
  failures: TargetFailure[];
  /** Each configured target that now holds it, with its id. */
  delivered: { target: Target; id: string }[];
}

/** Each target's settled publish, in the order of `targets`. */
export function publishOutcome(primaryId: string, targets: readonly Target[], settled: readonly PromiseSettledResult<string>[]): PublishOutcome {
  const published = [primaryId];
  const failures: TargetFailure[] = [];
  const delivered: PublishOutcome['delivered'] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      published.push(result.value);
      delivered.push({ target: targets[i]!, id: result.value });
    } else {
      const err = result.reason as Error;
      failures.push({ target: targetLabel(targets[i]!), name: err?.name ?? 'Error', error: err?.message ?? String(err) });
    }
  });
  return { published, failures, delivered };
}

/** The public detail of `Certificate Renewed` / `Certificate Rolled Back`: consumers reload on it. */
export function certificateEventDetail(
  spec: Pick<CertificateSpec, 'name' | 'secretName'>,
  issued: CertificateFacts,
  outcome: PublishOutcome,
  reason: string,
  audit?: Audit,
): Record<string, unknown> {
  return {
    certificate: spec.name,
    dnsNames: [...issued.dnsNames],
    serial: issued.serial,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    issuer: issued.issuer,
    secretName: spec.secretName,
    targets: outcome.published,
    failedTargets: outcome.failures.map((f) => f.target),
    reason,
    ...(audit ? auditDetail(audit) : {}),
  };
}

/** The public facts of an issued certificate. */
export const factsOf = (issued: IssuedCertificate): CertificateFacts => ({
  serial: issued.serial,
  notBefore: issued.notBefore,
  notAfter: issued.notAfter,
  dnsNames: issued.dnsNames,
  issuer: issued.issuer,
});
