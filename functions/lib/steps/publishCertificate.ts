// PublishCertificate: promote the verified version, then every target (../publish.ts);
// one failed target does not stop the others, and is recorded so the next run
// publishes it again without a new order.
import { requestAudit, type Audit } from '../audit/audit.js';
import { CertificateVerificationFailed, PublishFailed } from '../workflow/errors.js';
import type { PublishInput, PublishOutput } from '../workflow/states.js';
import { findCertificate, findIssuer, type CertificateSpec } from '../inventory.js';
import { logger } from '../observability.js';
import { EVENT, publish } from '../publish.js';
import type { IssuedCertificate } from '../store/model.js';
import { trustAnchors } from '../trust.js';
import type { ContextFor } from '../context.js';
import type { CertificateChecks } from '../ports/types.js';
import { promotion } from './publishPlan.js';
import { issuanceFingerprint, profileOf } from '../gate/fingerprint.js';

/** Only the check of certificates: publishing makes no key or CSR (and so bundles no ACME client). */
export type PublishCertificateContext = ContextFor<'store' | 'targets' | 'events'> & { readonly certificates: CertificateChecks };

/**
 * Check again what is about to become current: the config may have changed since
 * FinalizeOrder stored it (names, key algorithm, issuer roots), or time passed.
 * A certificate that no longer fits is dropped, so the next run orders afresh.
 */
async function reverify(ctx: PublishCertificateContext, spec: CertificateSpec, issued: IssuedCertificate, pendingVersionId: string): Promise<void> {
  try {
    ctx.certificates.verify({
      certificatePem: issued.certificate,
      chainPem: issued.chain,
      privateKeyPem: issued.privateKey,
      dnsNames: spec.dnsNames,
      keyAlgorithm: spec.keyAlgorithm,
      trustedRoots: trustAnchors(findIssuer(ctx.inventory, spec.issuer)),
      now: ctx.now(),
      certificateName: spec.name,
    });
  } catch (err) {
    if (err instanceof CertificateVerificationFailed) await ctx.store.abandonPending(spec, pendingVersionId);
    throw err;
  }
}

/** Who started this issuance: the request secret of a self-service certificate, else whoever started the run. */
function auditFor(spec: CertificateSpec, input: PublishInput): { audit?: Audit } {
  if (spec.request) return { audit: requestAudit(spec.request.arn, input.audit) };
  return input.audit ? { audit: input.audit } : {};
}

/** The fingerprint of the certificate as configured for production (a rehearsal carries its production twin's). */
function gateFingerprintOf(ctx: PublishCertificateContext, spec: CertificateSpec): string {
  const production = spec.rehearsalOf ? findCertificate(ctx.inventory, spec.rehearsalOf) : spec;
  return issuanceFingerprint({ ...production, ...profileOf(production, findIssuer(ctx.inventory, production.issuer)) });
}

export async function publishCertificate(ctx: PublishCertificateContext, input: PublishInput): Promise<PublishOutput> {
  const spec = findCertificate(ctx.inventory, input.name);
  const pending = await ctx.store.readPending(spec);
  const pendingIssued = pending?.kind === 'issued' ? pending : undefined;
  const current = pendingIssued ? undefined : await ctx.store.readCurrent(spec);
  const plan = promotion({ spec, ...(pendingIssued ? { pendingIssued: pendingIssued.issued } : {}), ...(current ? { current: current.issued } : {}) });
  if (plan.reverify && pendingIssued) await reverify(ctx, spec, pendingIssued.issued, pendingIssued.versionId);
  const issued = await ctx.store.promote(spec, {
    now: ctx.now(),
    ...(plan.renewalTime ? { renewalTime: plan.renewalTime } : {}),
    ...(plan.serial ? { serial: plan.serial } : {}),
    gateFingerprint: gateFingerprintOf(ctx, spec),
  });
  // A staging rehearsal is kept in its own secret, and goes no further: no target, no event.
  if (spec.rehearsalOf) {
    logger.info('staging rehearsal passed', { certificate: spec.rehearsalOf, issuer: spec.issuer, serial: issued.serial });
    return { serial: issued.serial, notAfter: issued.notAfter, targets: [] };
  }

  const { published, failures } = await publish(ctx, spec, issued, { event: EVENT.renewed, reason: input.reason, ...auditFor(spec, input) });
  if (failures.length) {
    throw new PublishFailed(
      `${spec.name}: published to ${published.length} of ${published.length + failures.length} targets; failed: ` +
        failures.map((f) => `${f.target} (${f.name}: ${f.error})`).join('; '),
      failures.map((f) => f.target),
    );
  }
  logger.info('certificate published', { certificate: spec.name, serial: issued.serial, targets: published });
  return { serial: issued.serial, notAfter: issued.notAfter, targets: published };
}
