// PublishCertificate: promote the verified version, then every target; one
// failed target does not stop the others, and is recorded so the next run
// publishes it again without a new order.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { asAwsError } from '../aws.js';
import { CertificateVerificationFailed, PublishFailed } from '../workflow/errors.js';
import type { PublishInput, PublishOutput } from '../workflow/states.js';
import { findCertificate, findIssuer, type CertificateSpec, type Target } from '../inventory.js';
import { assertNoKeyMaterial, logger } from '../observability.js';
import { renewalTime } from '../renewal.js';
import { publishToAcm } from '../store/acm.js';
import { publishSecretCopy, type IssuedCertificate, type PendingVersion } from '../store/certificateStore.js';
import { trustAnchors } from '../trust.js';
import { verifyIssued } from '../x509.js';
import type { StepContext } from '../context.js';
import { callerAccountId, clientsFor } from '../targets.js';

export async function publishTarget(ctx: StepContext, spec: CertificateSpec, target: Target, issued: IssuedCertificate): Promise<string> {
  const clients = await clientsFor(ctx.aws, target, ctx.now);
  if (target.type === 'secretsmanager') {
    await publishSecretCopy(clients.secretsManager, target, issued);
    return `secretsmanager:${clients.accountId}:${target.region}:${target.name}`;
  }
  const result = await publishToAcm({ store: ctx.store, spec, acm: clients.acm, accountId: clients.accountId, region: target.region, issued });
  return `acm:${clients.accountId}:${target.region}:${result.certificateArn}`;
}

function targetLabel(target: Target): string {
  const where = target.roleArn ? `${target.roleArn.split(':')[4]}:${target.region}` : target.region;
  return target.type === 'secretsmanager' ? `secretsmanager:${where}:${target.name}` : `acm:${where}`;
}

/**
 * Check again what is about to become current: the config may have changed since
 * FinalizeOrder stored it (names, key algorithm, issuer roots), or time passed.
 * A certificate that no longer fits is dropped, so the next run orders afresh.
 */
async function reverify(ctx: StepContext, spec: CertificateSpec, pending: Extract<PendingVersion, { kind: 'issued' }>): Promise<void> {
  const { issued } = pending;
  try {
    verifyIssued({
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
    if (err instanceof CertificateVerificationFailed) await ctx.store.abandonPending(spec, pending.versionId);
    throw err;
  }
}

export async function publishCertificate(ctx: StepContext, input: PublishInput): Promise<PublishOutput> {
  const spec = findCertificate(ctx.inventory, input.name);
  const now = ctx.now();
  const pendingOrCurrent = await ctx.store.readPending(spec);
  if (pendingOrCurrent?.kind === 'issued') await reverify(ctx, spec, pendingOrCurrent);
  const serial = pendingOrCurrent?.kind === 'issued' ? pendingOrCurrent.issued.serial : undefined;
  const facts = pendingOrCurrent?.kind === 'issued' ? pendingOrCurrent.issued : (await ctx.store.readCurrent(spec))?.issued;
  const at = facts ? renewalTime({ notBefore: new Date(facts.notBefore), notAfter: new Date(facts.notAfter) }, spec.renewal) : undefined;
  const issued = await ctx.store.promote(spec, { now, renewalTime: at, ...(serial ? { serial } : {}) });

  const primary = `secretsmanager:${await callerAccountId(ctx.aws)}:${ctx.aws.defaultRegion}:${spec.secretName}`;
  const settled = await Promise.allSettled(spec.targets.map((t) => publishTarget(ctx, spec, t, issued)));
  const published = [primary];
  const failures: { target: string; error: string; name: string }[] = [];
  settled.forEach((result, i) => {
    const target = spec.targets[i]!;
    if (result.status === 'fulfilled') published.push(result.value);
    else {
      const err = result.reason as Error;
      failures.push({ target: targetLabel(target), error: err.message, name: err.name });
      logger.error('publishing to a target failed', { certificate: spec.name, target: targetLabel(target), error: err.name, detail: err.message });
    }
  });

  await ctx.store.recordPublishPending(spec, failures.map((f) => f.target));

  // Consumers reload on this event: without it they keep serving the old certificate.
  const detail = {
    certificate: spec.name,
    dnsNames: issued.dnsNames,
    serial: issued.serial,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    issuer: issued.issuer,
    secretName: spec.secretName,
    targets: published,
    failedTargets: failures.map((f) => f.target),
    reason: input.reason,
  };
  assertNoKeyMaterial(detail, 'the Certificate Renewed event');
  try {
    await ctx.aws.client(EventBridgeClient).send(
      new PutEventsCommand({
        Entries: [{ Source: 'certpipe', DetailType: 'Certificate Renewed', Detail: JSON.stringify(detail), EventBusName: ctx.inventory.eventBusName }],
      }),
    );
  } catch (err) {
    throw asAwsError(err, 'EventBridge PutEvents');
  }

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
