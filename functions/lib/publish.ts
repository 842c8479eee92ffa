// Publishing a certificate that is now current in its primary secret: every
// target (secret copies and ACM re-imports, in other accounts through their
// roles), the targets that failed recorded for the next run, and the event
// consumers reload on. One path for PublishCertificate and `certpipe rollback`.
import type { Audit } from './audit/audit.js';
import type { CertificateSpec } from './inventory.js';
import { assertNoKeyMaterial, logger } from './observability.js';
import type { CertificateEvents, CertificateRecords, PublishTargets } from './ports/types.js';
import type { IssuedCertificate } from './store/model.js';
import { certificateEventDetail, factsOf, publishOutcome, type PublishOutcome } from './steps/publishPlan.js';

export const EVENT = { renewed: 'Certificate Renewed', rolledBack: 'Certificate Rolled Back', revoked: 'Certificate Revoked' } as const;
export type CertificateEventType = (typeof EVENT)[keyof typeof EVENT];

export interface PublishPorts {
  readonly store: Pick<CertificateRecords, 'recordPublishPending'>;
  readonly targets: PublishTargets;
  readonly events: CertificateEvents;
}

/** Publish `issued` (already AWSCURRENT) everywhere; one failed target does not stop the others. */
export async function publish(
  ports: PublishPorts,
  spec: CertificateSpec,
  issued: IssuedCertificate,
  occasion: { event: CertificateEventType; reason: string; audit?: Audit },
): Promise<PublishOutcome> {
  const primary = await ports.targets.primaryId(spec);
  const settled = await Promise.allSettled(spec.targets.map((t) => ports.targets.publish(spec, t, issued)));
  const outcome = publishOutcome(primary, spec.targets, settled);
  for (const f of outcome.failures) {
    logger.error('publishing to a target failed', { certificate: spec.name, target: f.target, error: f.name, detail: f.error });
  }
  await ports.store.recordPublishPending(spec, outcome.failures.map((f) => f.target));

  // Consumers reload on this event: without it they keep serving the old certificate.
  const detail = certificateEventDetail(spec, factsOf(issued), outcome, occasion.reason, occasion.audit);
  assertNoKeyMaterial(detail, `the ${occasion.event} event`);
  await ports.events.put(occasion.event, detail);
  return outcome;
}
